--- `bai-agent serve [-f agent.toml] [--log-level LEVEL]`: run the agent until SIGTERM/SIGINT.
local config = require("bai.config")
local sched = require("bai.sched")
local loop = require("bai.core.loop")
local sys = require("bai.core.sys")
local logm = require("bai.log")
local log = logm.get("bai.agent")

local M = {}

local function die(msg, code)
  io.stderr:write("bai-agent: ", msg, "\n")
  return code or 1
end

--- Parse serve's options.
---@param args string[] argv after "serve"
---@return table|nil opts, string|nil err
function M.parse_args(args)
  local o = {}
  local i = 2
  while i <= #args do
    local a = args[i]
    if a == "-f" or a == "--config" then
      o.config = args[i + 1]
      if not o.config then
        return nil, a .. " needs a file name"
      end
      i = i + 2
    elseif a == "--log-level" then
      o.log_level = args[i + 1]
      if not o.log_level or not logm.is_level(o.log_level) then
        return nil, "--log-level needs one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET"
      end
      i = i + 2
    else
      return nil, "unknown option for serve: " .. a
    end
  end
  return o
end

--- Load the configuration, reporting settings that are accepted but not used yet once.
---@param path string|nil
---@return table|nil cfg, string|nil err
function M.load_config(path)
  if not path then
    return config.defaults()
  end
  local cfg, info = config.load(path)
  if not cfg then
    return nil, tostring(info.message or info)
  end
  if info.unused and #info.unused > 0 then
    log:info("%s: %d setting(s) accepted but not used by this agent yet: %s", path,
      #info.unused, table.concat(info.unused, ", "))
  end
  if info.unknown and #info.unknown > 0 then
    log:warn("%s: unknown setting(s) ignored: %s", path, table.concat(info.unknown, ", "))
  end
  return cfg
end

---@param args string[]
---@return integer exit status
function M.run(args)
  local opts, perr = M.parse_args(args)
  if not opts then
    return die(perr, 2)
  end
  local cfg, cerr = M.load_config(opts.config)
  if not cfg then
    return die(cerr, 78)
  end
  logm.set_level(opts.log_level or (cfg.logging and cfg.logging.level) or "INFO")
  local host_override = sys.getenv("BACKEND_AGENT_HOST_OVERRIDE")
  local port_override = tonumber(sys.getenv("BACKEND_AGENT_PORT") or "")
  if host_override and host_override ~= "" then
    cfg.agent["rpc-listen-addr"].host = host_override
  end
  if port_override then
    cfg.agent["rpc-listen-addr"].port = port_override
  end
  local agent, aerr = require("bai.agent").new(cfg)
  if not agent then
    return die(tostring(aerr), 1)
  end
  sched.on_error(function(task, err)
    log:error("task %s failed: %s", task.name, tostring(err))
  end)
  local status = 0
  local main = sched.spawn(function()
    -- from here on SIGTERM/SIGINT arrive through the loop (queued until we wait for them)
    for _, s in ipairs({ "TERM", "INT" }) do
      loop.signal_watch(s)
    end
    local ok, err = agent:prepare()
    if not ok then
      status = die(tostring(err), 1)
      return
    end
    local rpc = cfg.agent["rpc-listen-addr"]
    local server = require("bai.rpc.server").new({
      addr = string.format("tcp://%s:%d", rpc.host, rpc.port),
      agent_id = agent.id,
    })
    server.handlers = require("bai.rpc.handlers").build(agent, server.stats)
    -- take the port first, so that a second agent started by mistake fails here before
    -- touching any container; requests wait in the socket until recovery is done
    ok, err = server:bind()
    if not ok then
      status = die(tostring(err), 1)
      return
    end
    local report, rerr = require("bai.agent.kernel").recover(agent)
    if not report then
      server:stop(0)
      status = die("cannot scan this agent's containers: " .. tostring(rerr), 1)
      return
    end
    if #report.adopted + #report.cleaned + #report.kept > 0 then
      log:info("recovery: %d kernel(s) adopted, %d stopped or half-made kernel(s) cleaned up, "
        .. "%d unrecognised container(s) or directories kept", #report.adopted,
        #report.cleaned, #report.kept)
    end
    local lifecycles = cfg.agent["sync-container-lifecycles"]
    local monitor = require("bai.agent.monitor").start(agent, lifecycles.interval,
      lifecycles.enabled)
    server:serve()
    io.stdout:write(string.format("bai-agent %s serving on %s (agent id %s)\n",
      require("bai.main").VERSION, server.endpoint, agent.id))
    io.stdout:flush()
    local sig
    repeat
      sched.await(loop.SIGNAL_TOKEN)
      sig = loop.signal_pop()
    until sig == "TERM" or sig == "INT"
    log:info("received SIG%s: shutting down", sig)
    server:stop_accepting()
    monitor:stop()
    -- as the Python agent does on SIGTERM; a crash (SIGKILL) instead leaves the kernels
    -- running, and the next start adopts them (bai.agent.kernel.recover). Destroying
    -- first also ends in-flight executions, which then reply before the socket closes.
    -- creates still under way finish first, so that their kernels are destroyed too
    for _, ev in pairs(agent.creating) do
      ev:wait(120)
    end
    agent:destroy_all("agent-termination")
    server:stop(5)
    log:info("stopped")
  end, "agent.main")
  sched.run(main)
  if main.status == "failed" then
    return die(tostring(main.err), 1)
  end
  return status
end

return M
