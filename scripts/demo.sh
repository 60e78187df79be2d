#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine: install the Debian packages,
# build, start dockerd if no daemon answers, build the busybox test image, start the
# agent, and drive one kernel through its lifecycle over the RPC interface:
# create_kernels -> execute `echo hello` -> destroy_kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BAI_ROOT"

PORT=${BAI_DEMO_PORT:-6001}
ADDR="tcp://127.0.0.1:$PORT"
AGENT_PID=""

cleanup() {
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  bai_stop_dockerd
}
trap cleanup EXIT

bai_setup

call() { build/bai-agent call "$@" --addr "$ADDR"; }
# field JSON PATH...: print one value of a JSON document (luajit + lua-cjson)
field() { luajit scripts/jsonfield.lua "$@"; }

mkdir -p var/demo
cat >var/demo/agent.toml <<TOML
[agent]
id = "i-demo"
rpc-listen-addr = { host = "127.0.0.1", port = $PORT }
var-base-path = "./var/demo/lib"

[container]
scratch-root = "./var/demo/scratches"
port-range = [30000, 30099]
TOML

say "starting the agent: build/bai-agent serve -f var/demo/agent.toml (log: var/demo/agent.log)"
build/bai-agent serve -f var/demo/agent.toml >var/demo/agent.log 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 50); do
  if [ "$(call ping '["ready?"]' 2>/dev/null)" = '"ready?"' ]; then break; fi
  kill -0 "$AGENT_PID" 2>/dev/null || { cat var/demo/agent.log >&2; exit 1; }
  sleep 0.2
done
say "ping -> $(call ping '["hello agent"]')"

SID=$(cat /proc/sys/kernel/random/uuid)
KID=$(cat /proc/sys/kernel/random/uuid)
IMAGE_REF='{"name": "busybox", "project": "bai-test", "tag": "latest", "registry": "local", "architecture": "x86_64", "is_local": true}'
CONFIG=$(cat <<JSON
{"image": {"canonical": "bai-test/busybox:latest", "is_local": true, "architecture": "x86_64"},
 "kernel_id": "$KID", "session_id": "$SID", "session_type": "interactive",
 "cluster_mode": "single-node", "cluster_role": "main", "cluster_idx": 1, "cluster_hostname": "main1",
 "resource_slots": {"cpu": "1", "mem": "268435456"}, "resource_opts": {},
 "environ": {"BACKENDAI_KERNEL_ID": "$KID"}, "preopen_ports": [], "internal_data": null}
JSON
)

say "create_kernels: session $SID, kernel $KID, image bai-test/busybox:latest, 1 core, 256 MiB"
CREATED=$(call create_kernels "[\"$SID\", [\"$KID\"], [$CONFIG], {\"mode\": \"single-node\", \"size\": 1}, {\"$KID\": $IMAGE_REF}]")
echo "    container $(field "$CREATED" 1 container_id | cut -c1-12), runner ports" \
  "$(field "$CREATED" 1 repl_in_port)/$(field "$CREATED" 1 repl_out_port) on $(field "$CREATED" 1 kernel_host)"
docker ps --filter "label=ai.backend.kernel-id=$KID" --format 'docker ps: {{.Names}}  {{.Status}}' | sed 's/^/    /'

say "execute (query mode): echo hello"
RESULT=$(call execute "[\"$SID\", \"$KID\", 2, \"demo-run\", \"query\", \"echo hello\", {}, 30]")
echo "    status: $(field "$RESULT" status), exit code: $(field "$RESULT" exitCode)"
echo "    kernel output:"
field "$RESULT" console 1 2 | sed 's/^/    | /'

say "destroy_kernel"
call destroy_kernel "[\"$KID\", \"$SID\"]" >/dev/null
left=$(docker ps -a -q --filter "label=ai.backend.kernel-id=$KID" | wc -l)
echo "    containers left for the kernel: $left; scratch dir left: $([ -e "var/demo/scratches/$KID" ] && echo yes || echo no)"

say "stopping the agent"
kill "$AGENT_PID"
wait "$AGENT_PID" || true
AGENT_PID=""
say "done"
