-- bai-agent benchmarks: each operation measured against its floor in the same run, and
-- reported as a ratio (never asserted: numbers on a shared 2-core VM are noisy).
--
--   bai-agent script bench/bench.lua [ROUNDS]
--
-- 1. RPC round trip: `ping` through the agent (callosum codec, dispatch, task per
--    request) vs a bare ZeroMQ ROUTER echo server in another process (the floor).
-- 2. Kernel lifecycle: create_kernels + destroy_kernel through the agent vs the raw
--    Docker API doing create + start + stop + remove of a container of the same image.
-- 3. Memory: the agent's resident set idle and with kernels running.
local sched = require("bai.sched")
local proc = require("bai.proc")
local fs = require("bai.fs")
local sys = require("bai.core.sys")
local docker = require("bai.docker")
local zmq = require("bai.zmq")
local mp = require("bai.msgpack")
local json = require("bai.json")
local codec = require("bai.rpc.codec")
local helpers = dofile("tests/helpers/agent.lua")

local ROUNDS = tonumber((...)) or 2000
local KERNEL_ROUNDS = 5

local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end

local function rss_kib(pid)
  local status = fs.read_file("/proc/" .. pid .. "/status") or ""
  return tonumber(status:match("VmRSS:%s*(%d+)")) or 0
end

-- sequential request/reply round trips over a DEALER
local function round_trips(endpoint, frames, n)
  local s = assert(zmq.socket("DEALER", { linger = 0 }))
  assert(s:connect(endpoint))
  local times = {}
  for i = 1, n + 50 do
    local t0 = sys.monotonic()
    assert(s:send(frames))
    assert(s:recv(10))
    if i > 50 then -- warm-up excluded
      times[#times + 1] = sys.monotonic() - t0
    end
  end
  s:close()
  return times
end

local results = {}

local ok, err = sched.block_on(function()
  -- 1. RPC round trip ---------------------------------------------------------------
  local port = 23000 + sys.pid() % 500
  local echo_ep = "tcp://127.0.0.1:" .. port
  local echo = assert(proc.spawn({ sys.exe_path(), "script", "bench/echo_server.lua", echo_ep },
    { stdout = "inherit", stderr = "inherit" }))
  sched.sleep(0.3)
  local ping = codec.request("ping", mp.array({ "ping" }), {}, 0, mp.bin(""))
  local floor = median(round_trips(echo_ep, ping, ROUNDS))
  echo:kill("TERM")
  echo:wait(5)
  echo:close()

  local agent = helpers.start_agent()
  local idle_rss = rss_kib(agent.proc:pid())
  local rpc = median(round_trips(agent.addr, ping, ROUNDS))
  results.rpc = { floor_us = floor * 1e6, agent_us = rpc * 1e6, ratio = rpc / floor }

  -- 2. Kernel lifecycle ---------------------------------------------------------------
  local raw, via = {}, {}
  for i = 1, KERNEL_ROUNDS do
    local t0 = sys.monotonic()
    local c = assert(docker.container_create({ Image = helpers.IMAGE, Cmd = { "sleep", "60" },
      Labels = { ["bai-bench"] = "1" }, HostConfig = { Init = true } }))
    assert(docker.container_start(c.Id))
    assert(docker.container_stop(c.Id, 0))
    assert(docker.container_remove(c.Id, { force = true }))
    raw[i] = sys.monotonic() - t0

    local sid, kid = helpers.uuid(), helpers.uuid()
    t0 = sys.monotonic()
    assert(helpers.create(agent, sid, { kid }))
    assert(agent.call("destroy_kernel", { kid, sid }))
    via[i] = sys.monotonic() - t0
  end
  results.kernel = { floor_ms = median(raw) * 1e3, agent_ms = median(via) * 1e3,
    ratio = median(via) / median(raw) }

  -- 3. Memory -------------------------------------------------------------------------
  local sid, k1, k2 = helpers.uuid(), helpers.uuid(), helpers.uuid()
  assert(helpers.create(agent, sid, { k1, k2 }))
  local busy_rss = rss_kib(agent.proc:pid())
  assert(agent.call("destroy_kernel", { k1, sid }))
  assert(agent.call("destroy_kernel", { k2, sid }))
  results.memory = { idle_rss_kib = idle_rss, two_kernels_rss_kib = busy_rss }
  agent.stop()
  fs.rmtree(agent.dir)
  return true
end, 600)
if not ok then
  io.stderr:write("benchmark failed: ", tostring(err), "\n")
  return 1
end

print(string.format("%-28s %12s %12s %8s", "benchmark", "floor", "bai-agent", "ratio"))
print(string.format("%-28s %10.1f us %10.1f us %8.2f", "RPC round trip (median)",
  results.rpc.floor_us, results.rpc.agent_us, results.rpc.ratio))
print(string.format("%-28s %10.1f ms %10.1f ms %8.2f", "kernel create+destroy",
  results.kernel.floor_ms, results.kernel.agent_ms, results.kernel.ratio))
print(string.format("%-28s %12s %9d KiB", "agent RSS idle", "", results.memory.idle_rss_kib))
print(string.format("%-28s %12s %9d KiB", "agent RSS, 2 kernels", "",
  results.memory.two_kernels_rss_kib))
fs.mkdir_p("var/bench")
fs.write_file("var/bench/results.json", assert(json.encode(results)) .. "\n")
return 0
