#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs the Debian packages,
# builds, starts dockerd if no daemon answers, builds the busybox test image, then runs
#   lint (clang-format, luacheck), C tests (TAP), unit specs (LuaJIT), core specs and
#   integration specs (inside the host binary, against real Docker), and the C tests,
#   core specs and integration specs (agents built with ASan/UBSan) again.
# Ends with one line "N passed, N failed" summing every tier; exits non-zero on failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BAI_ROOT"

trap bai_stop_dockerd EXIT
bai_setup || { echo "set-up failed"; echo "0 passed, 1 failed"; exit 1; }

# containers of test agents ("i-test-*") that an earlier, interrupted run left behind
# would be counted as this run's leftovers: remove them first
test_containers() {
  docker ps -a --filter label=ai.backend.owner \
    --format '{{.ID}} {{.Label "ai.backend.owner"}} {{.Names}}' | awk '$2 ~ /^i-test-/'
}
stale=$(test_containers | awk '{print $1}')
if [ -n "$stale" ]; then
  say "removing $(echo "$stale" | wc -l) container(s) left by an earlier interrupted test run"
  echo "$stale" | xargs docker rm -f >/dev/null
fi

LOGDIR="$BAI_VAR/test-logs"
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
PASSED=0
FAILED=0
TIERS_FAILED=()

# run NAME CMD...: run one tier, show its output, add its "N passed, N failed" line
run() {
  local name=$1
  shift
  say "$name: $*"
  local log="$LOGDIR/$name.log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    local p f
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then FAILED=$((FAILED + 1)); fi
  elif [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
  fi
  [ "$rc" -eq 0 ] || TIERS_FAILED+=("$name")
}

run format make -s fmt-check
run luacheck make -s lint
run c make -s test-c
run unit luajit /usr/bin/busted --run=unit
run core build/bai-agent --test --run=core
run integration build/bai-agent --test --run=integration

say "ASan/UBSan build (make asan)"
if make -s asan >"$LOGDIR/asan-build.log" 2>&1; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1
  run asan-c tests/run-c.sh build-asan/tests/test_*
  run asan-core build-asan/bai-agent --test --run=core
  # the agents under test run as the ASan build; a sanitizer report makes an agent exit
  # non-zero, which the specs check when they stop it
  BAI_AGENT_BIN="$BAI_ROOT/build-asan/bai-agent" run asan-integration \
    build/bai-agent --test --run=integration
else
  cat "$LOGDIR/asan-build.log"
  FAILED=$((FAILED + 1))
  TIERS_FAILED+=(asan-build)
fi

# containers of the agents these tests started (ids "i-test-*"; other agents on a shared
# daemon are not ours to count)
left=$(test_containers)
if [ -n "$left" ]; then
  say "containers left behind by the tests: $(echo "$left" | wc -l)"
  echo "$left"
  FAILED=$((FAILED + 1))
  TIERS_FAILED+=(leftovers)
fi

echo
if [ ${#TIERS_FAILED[@]} -gt 0 ]; then
  say "failed tiers: ${TIERS_FAILED[*]} (logs in $LOGDIR)"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
