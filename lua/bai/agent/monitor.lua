--- bai.agent.monitor — notices kernels whose container stopped on its own (the user's
--- code killed the runner, the OOM killer, `docker stop` from outside) and cleans them up
--- as upstream does on a Docker `die` event: the container and scratch directory are
--- removed and the kernel's cores, memory and ports are given back.
---
--- Two sources, so that nothing is missed: the Docker event stream (filtered to this
--- agent's containers) reacts at once; a periodic sync (every `interval` seconds) checks
--- every registered kernel's container and catches events lost while the stream was down.
local sched = require("bai.sched")
local docker = require("bai.docker")
local json = require("bai.json")
local kernel = require("bai.agent.kernel")
local log = require("bai.log").get("bai.monitor")

local M = {}

---@class bai.Monitor
local Monitor = {}
Monitor.__index = Monitor

local function clean(agent, kid, why)
  local k = agent.kernels[kid]
  if not k or k.status ~= "RUNNING" or agent.destroying[kid] then
    return
  end
  log:info("kernel %s: its container stopped (%s); cleaning up", kid, why)
  kernel.destroy(agent, kid, k.session_id, "self-terminated")
end

function Monitor:_events()
  local filters = { type = { "container" }, event = { "die" },
    label = { "ai.backend.owner=" .. self.agent.id } }
  local backoff = 1
  while not self.stopped do
    local stream, err = docker.stream("GET", "/events", { query = { filters = filters } })
    if not stream then
      log:warn("cannot watch Docker events: %s", tostring(err))
    else
      local started = sched.now()
      self.stream = stream
      local buf = ""
      while true do
        local chunk = stream:read()
        if not chunk then
          break
        end
        buf = buf .. chunk
        while true do
          local line, rest = buf:match("^([^\n]*)\n(.*)$")
          if not line then
            break
          end
          buf = rest
          local ev = json.decode(line)
          local attrs = type(ev) == "table" and ev.Actor and ev.Actor.Attributes
          local kid = type(attrs) == "table" and attrs["ai.backend.kernel-id"]
          if kid then
            sched.spawn(function()
              clean(self.agent, kid, "exit code " .. tostring(attrs.exitCode))
            end, "monitor.clean:" .. kid)
          end
        end
      end
      stream:close()
      self.stream = nil
      if sched.now() - started > 60 then
        backoff = 1 -- it was healthy for a while: reconnect quickly
      end
    end
    if not self.stopped then
      -- the stream ended or never started (daemon restarting?): reconnect, backing off
      -- up to 30 s while the daemon stays away
      sched.sleep(backoff)
      backoff = math.min(backoff * 2, 30)
    end
  end
end

function Monitor:_sync()
  while not self.stopped do
    local ok = sched.sleep(self.interval)
    if not ok or self.stopped then
      return
    end
    for kid, k in pairs(self.agent.kernels) do
      if k.status == "RUNNING" and not self.agent.destroying[kid] then
        local info, err = docker.container_inspect(k.container_id)
        if not info and err.code == "DOCKER_NOT_FOUND" then
          clean(self.agent, kid, "container not found")
        elseif info and info.State and not info.State.Running then
          clean(self.agent, kid, "exit code " .. tostring(info.State.ExitCode))
        end
      end
    end
  end
end

--- Start watching. interval: seconds between syncs (default 10); with sync = false
--- (agent.sync-container-lifecycles.enabled) only the event stream is watched.
---@param agent bai.Agent
---@param interval? number
---@param sync? boolean
---@return bai.Monitor
function M.start(agent, interval, sync)
  local m = setmetatable({ agent = agent, interval = interval or 10, stopped = false }, Monitor)
  m.events_task = sched.spawn(function()
    m:_events()
  end, "monitor.events")
  if sync ~= false then
    m.sync_task = sched.spawn(function()
      m:_sync()
    end, "monitor.sync")
  end
  return m
end

--- Stop watching (the event stream is closed).
function Monitor:stop()
  self.stopped = true
  if self.stream then
    self.stream:close()
    self.stream = nil
  end
  self.events_task:cancel()
  if self.sync_task then
    self.sync_task:cancel()
  end
end

return M
