-- Integration helpers: start a real bai-agent process on loopback with its own temp
-- config, scratch root and port range; talk to it over ZeroMQ; inspect Docker.
local sched = require("bai.sched")
local proc = require("bai.proc")
local fs = require("bai.fs")
local sys = require("bai.core.sys")
local docker = require("bai.docker")
local client = require("bai.rpc.client")
local mp = require("bai.msgpack")

local M = {}

M.IMAGE = "bai-test/busybox:latest"
M.IMAGE_REF = { name = "busybox", project = "bai-test", tag = "latest", registry = "local",
  architecture = "x86_64", is_local = true }

--- Run fn as a task until it finishes (default 120 s); re-raise its error.
function M.run(fn, timeout)
  return require("helpers.async").run(fn, timeout or 120)
end

local function repo_root()
  return fs.realpath(".")
end

--- A UUID-shaped random id.
function M.uuid()
  local h = sys.random_hex(16)
  return string.format("%s-%s-4%s-8%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(14, 16),
    h:sub(18, 20), h:sub(21, 32))
end

local next_slot = 0

--- Start an agent. opts.toml: extra TOML text appended to the generated config.
--- Returns a handle {addr, id, dir, scratch_root, port_lo, port_hi, stop()}.
function M.start_agent(opts)
  opts = opts or {}
  next_slot = next_slot + 1
  -- ports below Linux's ephemeral range (32768+), so that outgoing connections and
  -- docker-proxy never sit on them; spread by pid so parallel runs rarely meet
  local h = {
    id = "i-test-" .. sys.random_hex(4),
    rpc_port = 20000 + (sys.pid() % 200) * 20 + next_slot,
    port_lo = 24100 + (sys.pid() % 100) * 80 + (next_slot % 4) * 20,
  }
  h.port_hi = h.port_lo + 19
  h.dir = assert(fs.mkdtemp("/tmp/bai-it-XXXXXX"))
  h.scratch_root = h.dir .. "/scratches"
  h.addr = "tcp://127.0.0.1:" .. h.rpc_port
  h.config = h.dir .. "/agent.toml"
  h.log = h.dir .. "/agent.log"
  local toml = string.format([[
[agent]
id = "%s"
rpc-listen-addr = { host = "127.0.0.1", port = %d }
var-base-path = "%s/var"

[container]
scratch-root = "%s"
port-range = [%d, %d]
bind-host = "127.0.0.1"
krunner-path = "%s/build/krunner"

[logging]
level = "DEBUG"
%s
]], h.id, h.rpc_port, h.dir, h.scratch_root, h.port_lo, h.port_hi, repo_root(),
    opts.toml or "")
  assert(fs.write_file(h.config, toml))
  h.exe = sys.getenv("BAI_AGENT_BIN") or (repo_root() .. "/build/bai-agent")
  -- an agent that does not come up must not leave its temp dir behind
  local ok, err = pcall(M.launch, h)
  if not ok then
    fs.rmtree(h.dir)
    error(err, 0)
  end
  function h.call(meth, args, kwargs, timeout)
    return h.client:call(meth, mp.array(args or {}), kwargs or {}, timeout or 120)
  end
  function h.stop()
    if h.client then
      h.client:close()
      h.client = nil
    end
    h.proc:kill("TERM")
    local code = h.proc:wait(60)
    h.proc:close()
    return code
  end
  --- Kill the agent with SIGKILL (a crash) and start a new one on the same config.
  function h.crash_and_restart()
    h.client:close()
    h.client = nil
    h.proc:kill("KILL")
    h.proc:wait(10)
    h.proc:close()
    M.launch(h)
  end
  function h.read_log()
    return fs.read_file(h.log) or ""
  end
  return h
end

--- Start (or restart) the agent process of handle h and wait for its RPC handshake.
function M.launch(h)
  h.proc = assert(proc.spawn({ "/bin/sh", "-c", "exec " .. h.exe .. " serve -f " .. h.config
    .. " >>" .. h.log .. " 2>&1" }, { stdout = "null", stderr = "null" }))
  local give_up = sched.now() + 15
  while true do
    local c = client.connect(h.addr, { handshake_timeout = 0.5 })
    if c then
      h.client = c
      return
    end
    local code = h.proc.handle:status()
    if code or sched.now() > give_up then
      error("the agent did not start; log:\n" .. (fs.read_file(h.log) or ""))
    end
  end
end

--- Call inside a describe block: one agent for the block, started in lazy_setup and
--- stopped in lazy_teardown, which also checks that it left no container behind and
--- removes its temp dir. Returns a proxy that forwards to the agent handle once started.
function M.use_agent(opts)
  -- busted puts lazy_setup & co. in the spec's environment, not in _G
  local env = getfenv(2)
  local box = {}
  env.lazy_setup(function()
    M.run(function()
      box.agent = M.start_agent(opts)
    end)
  end)
  env.lazy_teardown(function()
    M.run(function()
      local a = box.agent
      env.assert.equal(0, a.stop())
      env.assert.same({}, M.owned_containers(a.id), "containers were left behind")
      fs.rmtree(a.dir)
    end)
  end)
  return setmetatable({}, {
    __index = function(_, k)
      return box.agent[k]
    end,
    __newindex = function(_, k, v)
      box.agent[k] = v
    end,
  })
end

--- Containers Docker knows that this agent owns (running or not).
function M.owned_containers(agent_id)
  local list = assert(docker.containers_list({ all = true,
    filters = { label = { "ai.backend.owner=" .. agent_id } } }))
  return list
end

--- A KernelCreationConfig as the manager sends it (enums as plain strings).
function M.kernel_config(kid, sid, over)
  local cfg = {
    image = { canonical = M.IMAGE, project = "bai-test", architecture = "x86_64",
      digest = "", registry = { name = "local", url = "" }, labels = {}, is_local = true,
      auto_pull = "digest" },
    kernel_id = kid,
    session_id = sid,
    owner_user_id = "f38dea23-50fa-42a0-b5ae-338f5f4693f4",
    owner_project_id = mp.null,
    network_id = sid,
    auto_pull = "digest",
    session_type = "interactive",
    cluster_mode = "single-node",
    cluster_role = "main",
    cluster_idx = 1,
    local_rank = 0,
    cluster_hostname = "main1",
    uid = mp.null,
    main_gid = mp.null,
    supplementary_gids = mp.array({}),
    resource_slots = { cpu = "1", mem = "268435456" },
    resource_opts = {},
    environ = { BACKENDAI_KERNEL_ID = kid, BACKENDAI_SESSION_ID = sid, FOO = "bar" },
    mounts = mp.array({}),
    package_directory = mp.array({}),
    idle_timeout = 600,
    bootstrap_script = mp.null,
    startup_command = mp.null,
    internal_data = mp.null,
    preopen_ports = mp.array({}),
    allocated_host_ports = mp.array({}),
    scaling_group = "default",
    agent_addr = "tcp://127.0.0.1:6001",
    endpoint_id = mp.null,
  }
  for k, v in pairs(over or {}) do
    cfg[k] = v
  end
  return cfg
end

M.CLUSTER_INFO = { mode = "single-node", size = 1, replicas = { main = 1 },
  network_config = {}, ssh_keypair = mp.null, cluster_ssh_port_mapping = mp.null }

--- create_kernels for the given kernel ids (one config each, `over` applied to all).
function M.create(h, sid, kids, over)
  local configs, refs = mp.array({}), {}
  for _, kid in ipairs(kids) do
    configs[#configs + 1] = M.kernel_config(kid, sid, over)
    refs[kid] = M.IMAGE_REF
  end
  return h.call("create_kernels", { sid, mp.array(kids), configs, M.CLUSTER_INFO, refs })
end

--- execute in query mode with api_version 2; returns the result table.
function M.query(h, sid, kid, code, run_id, flush)
  return h.call("execute", { sid, kid, 2, run_id or sys.random_hex(8), "query", code, {},
    flush or 30 })
end

--- Join console records of a type.
function M.console_text(res, kind)
  local out = {}
  for _, rec in ipairs(res.console or {}) do
    if rec[1] == kind then
      out[#out + 1] = rec[2]
    end
  end
  return table.concat(out)
end

return M
