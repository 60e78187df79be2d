#!/bin/sh
# run-c.sh — run TAP test binaries (tests/c/test_*), echo their output, and end with one
# summary line "N passed, N failed". Skips count as passed. A binary that is missing,
# crashes, prints no plan, or exits non-zero without a "not ok" line counts as one more
# failure. Exits 1 if anything failed.
# usage: tests/run-c.sh build/tests/test_err build/tests/test_fs ...
passed=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/bai-run-c.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

for t in "$@"; do
    echo "# $t"
    if [ ! -x "$t" ]; then
        echo "not ok - $t: not found or not executable"
        failed=$((failed + 1))
        continue
    fi
    "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    ok=$(grep -c '^ok ' "$out")
    bad=$(grep -c '^not ok ' "$out")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if ! grep -q '^1\.\.[0-9]' "$out"; then
        echo "not ok - $t: no TAP plan (exit status $rc)"
        failed=$((failed + 1))
    elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "not ok - $t: exited with status $rc"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
