--- bai.agent.runner_client — the agent's side of the in-container kernel runner
--- protocol (reference §4): PUSH to the runner's port 2000, PULL from its port 2001.
---
--- Replies to control messages go to bounded side queues; everything else is console
--- output for the current run. Runs are queued by run id (§4.4): one run owns the output
--- at a time; another run id waits until the current one finishes.
local zmq = require("bai.zmq")
local sched = require("bai.sched")
local mp = require("bai.msgpack")
local json = require("bai.json")
local errors = require("bai.errors")
local sys = require("bai.core.sys")
local log = require("bai.log").get("bai.runner")

local M = {}

local SIDE = { status = true, completion = true, ["service-result"] = true,
  ["model-service-result"] = true, ["apps-result"] = true }
local CONSOLE = { stdout = true, stderr = true, media = true, html = true, log = true }
local MAX_RECORD = 10 * 1024 * 1024
local CLOSED = {} -- queue marker: the connection closed under a waiting run

---@class bai.RunnerClient
local Runner = {}
Runner.__index = Runner

--- Connect to a runner published on host ports. Connecting never blocks: ZeroMQ keeps
--- retrying until the runner listens.
---@param host string
---@param repl_in_port integer host port of the runner's PULL (2000)
---@param repl_out_port integer host port of the runner's PUSH (2001)
---@return bai.RunnerClient|nil runner, bai.Error|nil err
function M.connect(host, repl_in_port, repl_out_port)
  -- a container's runner comes up within a fraction of a second: retry the connection
  -- every 20 ms (ZeroMQ's default is 100 ms) so that the first status gets through early
  local input, err = zmq.socket("PUSH", { linger = 50, reconnect_ivl = 20 })
  if not input then
    return nil, err
  end
  local output
  output, err = zmq.socket("PULL", { linger = 50, reconnect_ivl = 20 })
  if not output then
    input:close()
    return nil, err
  end
  local ok
  ok, err = input:connect(string.format("tcp://%s:%d", host, repl_in_port))
  if ok then
    ok, err = output:connect(string.format("tcp://%s:%d", host, repl_out_port))
  end
  if not ok then
    input:close()
    output:close()
    return nil, err
  end
  local r = setmetatable({
    input = input,
    output = output,
    side = {},
    runs = {}, -- run_id -> { queue, event }
    order = {}, -- pending run ids, oldest first
    current = nil,
    closed = false,
  }, Runner)
  for k in pairs(SIDE) do
    r.side[k] = sched.queue(128)
  end
  r.reader = sched.spawn(function()
    r:_read()
  end, "runner.reader")
  return r
end

-- The reader task (cancelled by close()).
function Runner:_read()
  self.output:each(function(frames)
    if #frames ~= 2 then
      log:debug("dropped a runner message with %d frames", #frames)
      return
    end
    local kind, payload = frames[1], frames[2]
    if SIDE[kind] then
      self.side[kind]:put(payload)
      return
    end
    if #payload > MAX_RECORD then
      payload = payload:sub(1, MAX_RECORD)
    end
    local run = self.current and self.runs[self.current]
    if run then
      run.queue:put({ kind, payload })
      if kind == "finished" or kind == "exec-timeout" then
        run.ended = true -- its end is queued, even if nobody collects it
        self:_drop_if_abandoned()
      end
    end
    -- no current run: the record has nobody to go to and is discarded (as upstream)
  end, function(err)
    log:warn("runner receive failed: %s", tostring(err))
  end)
end

--- Send one message to the runner.
---@async
---@param kind string
---@param payload? string
---@return true|nil ok, bai.Error|nil err
function Runner:send(kind, payload)
  if self.closed then
    return nil, errors.new("ECLOSED", "runner connection is closed")
  end
  return self.input:send({ kind, payload or "" }, 10)
end

--- Ask the runner for its status: {started_at=...} or nil, err.
---@async
---@param timeout number
function Runner:status(timeout)
  local ok, err = self:send("status", "")
  if not ok then
    return nil, err
  end
  local payload, werr = self.side.status:get(timeout)
  if not payload then
    return nil, werr
  end
  return mp.decode(payload)
end

--- Wait until the runner answers `status`, re-asking every `interval` seconds (the
--- first messages can be lost while the container is still starting).
---@async
---@param deadline_s number total seconds
---@param interval? number
---@return table|nil status, bai.Error|nil err
function Runner:wait_ready(deadline_s, interval)
  local give_up = sched.now() + deadline_s
  local last
  while sched.now() < give_up do
    local st, err = self:status(math.min(interval or 0.5, math.max(0.05, give_up - sched.now())))
    if st then
      -- drop answers to earlier attempts that arrive late
      while self.side.status:get_nowait() do
      end
      return st
    end
    last = err
    if err and err.code ~= "ETIMEDOUT" then
      return nil, err
    end
  end
  return nil, errors.new("ETIMEDOUT", string.format("the kernel runner did not answer within "
    .. "%g s", deadline_s), { cause = last })
end

-- Send a control message and wait for its JSON reply on the side queue `reply`.
function Runner:_ask(kind, payload, reply, timeout)
  local ok, err = self:send(kind, payload)
  if not ok then
    return nil, err
  end
  local data, werr = self.side[reply]:get(timeout)
  if not data then
    return nil, werr
  end
  local v = json.decode(data)
  if type(v) ~= "table" then
    return nil, errors.new("EPROTO", "the runner sent an invalid " .. reply .. " reply")
  end
  return v
end

--- The runner's service apps (`get-apps`): {status="done", data=[...]}, or, as upstream,
--- {status="failed", error=...} when the runner does not answer properly.
---@async
---@param timeout? number seconds (default 10)
---@return table result
function Runner:get_apps(timeout)
  local v, err = self:_ask("get-apps", "", "apps-result", timeout or 10)
  if not v then
    return { status = "failed", error = err.code == "ETIMEDOUT" and "timeout" or err.message }
  end
  return v
end

--- Code completion (`complete`): {suggestions=[...]}, or nil, err.
---@async
---@param text string
---@param opts? table
---@param timeout? number seconds (default 10)
---@return table|nil result, bai.Error|nil err
function Runner:complete(text, opts, timeout)
  local body = { code = text }
  for k, v in pairs(opts or {}) do
    body[k] = v
  end
  return self:_ask("complete", assert(json.encode(body)), "completion", timeout or 10)
end

--- Send SIGINT to the running user process (no reply).
---@async
function Runner:interrupt()
  return self:send("interrupt", "")
end

-- Run queues ----------------------------------------------------------------------

function Runner:_attach(run_id)
  if self.current == nil then
    self.current = run_id
    self.runs[run_id] = self.runs[run_id] or { queue = sched.queue(4096) }
    return true
  end
  if self.current == run_id then
    return true
  end
  local run = self.runs[run_id]
  if not run then
    run = { queue = sched.queue(4096), event = sched.event() }
    self.runs[run_id] = run
    self.order[#self.order + 1] = run_id
  end
  run.busy = true
  self:_drop_if_abandoned()
  if self.current == run_id then
    return true
  end
  local ok, err = run.event:wait()
  if not ok and self.current ~= run_id then
    -- the waiting caller went away (cancelled): leave the queue of runs as it was
    self:_end_run(run_id)
  end
  return ok, err
end

function Runner:_end_run(run_id)
  self.runs[run_id] = nil
  for i, id in ipairs(self.order) do
    if id == run_id then
      table.remove(self.order, i)
      break
    end
  end
  if self.current == run_id then
    self.current = nil
    local next_id = table.remove(self.order, 1)
    if next_id then
      self.current = next_id
      self.runs[next_id].event:set()
    end
  end
end

-- The current run has finished but nobody is collecting its output (a `continued` run
-- left alone): when other runs wait, drop it rather than make them wait for a caller
-- that may never come back.
function Runner:_drop_if_abandoned()
  local cur = self.current and self.runs[self.current]
  if cur and cur.ended and not cur.busy and #self.order > 0 then
    log:info("dropping the uncollected output of finished run %s", self.current)
    self:_end_run(self.current)
  end
end

local TERMINAL = { finished = "finished", ["build-finished"] = "build-finished",
  ["clean-finished"] = "clean-finished", ["exec-timeout"] = "exec-timeout",
  ["waiting-input"] = "waiting-input" }

--- Collect output of the current run until a terminal record or flush_timeout.
---@async
function Runner:_next_result(run_id, api_version, flush_timeout)
  local run = self.runs[run_id]
  local records = {}
  local status, exit_code, options = "continued", nil, nil
  local give_up = flush_timeout and (sched.now() + flush_timeout)
  while true do
    local left = give_up and math.max(0, give_up - sched.now())
    local rec, err = run.queue:get(left)
    if not rec then
      if err and err.code ~= "ETIMEDOUT" then
        return nil, err
      end
      break
    end
    local kind, payload = rec[1], rec[2]
    if kind == CLOSED then
      self:_end_run(run_id)
      return nil, errors.new("ECLOSED", "the kernel runner connection was closed")
    elseif TERMINAL[kind] then
      status = TERMINAL[kind]
      if kind == "waiting-input" then
        options = payload ~= "" and json.decode(payload) or nil
      elseif kind ~= "exec-timeout" then
        local doc = payload ~= "" and json.decode(payload) or nil
        exit_code = type(doc) == "table" and doc.exitCode or nil
      end
      break
    elseif CONSOLE[kind] then
      records[#records + 1] = { kind, payload }
    end
  end
  if status == "finished" or status == "exec-timeout" then
    self:_end_run(run_id)
  end
  return M.format_result(run_id, status, exit_code, options, records, api_version)
end

--- Shape console records into the execute result (reference §4.5).
---@param run_id string
---@param status string
---@param exit_code integer|nil
---@param options table|nil
---@param records table[] {kind, payload}
---@param api_version integer
---@return table
function M.format_result(run_id, status, exit_code, options, records, api_version)
  local res = {
    runId = run_id,
    status = status,
    exitCode = exit_code == nil and mp.null or exit_code,
    options = options == nil and mp.null or options,
    files = mp.array({}),
  }
  if (api_version or 2) >= 2 then
    -- consecutive stdout (or stderr) records become one item; chunks are joined once,
    -- at the end of a run of them (joining as they come is quadratic in the output)
    local console = mp.array({})
    local run_kind, run_parts = nil, nil
    local function flush()
      if run_kind then
        console[#console + 1] = mp.array({ run_kind, table.concat(run_parts) })
        run_kind, run_parts = nil, nil
      end
    end
    for _, rec in ipairs(records) do
      local kind, data = rec[1], rec[2]
      if kind == "stdout" or kind == "stderr" then
        if kind ~= run_kind then
          flush()
          run_kind, run_parts = kind, {}
        end
        run_parts[#run_parts + 1] = data
      else
        flush()
        if kind == "media" then
          local m = json.decode(data)
          if type(m) == "table" then
            console[#console + 1] = mp.array({ "media", mp.array({ m.type, m.data }) })
          else
            console[#console + 1] = mp.array({ "html", data })
          end
        else
          console[#console + 1] = mp.array({ kind, data })
        end
      end
    end
    flush()
    res.console = console
  else
    local out, err, media, html = {}, {}, mp.array({}), mp.array({})
    for _, rec in ipairs(records) do
      if rec[1] == "stdout" then
        out[#out + 1] = rec[2]
      elseif rec[1] == "stderr" then
        err[#err + 1] = rec[2]
      elseif rec[1] == "media" then
        local m = json.decode(rec[2])
        if type(m) == "table" then
          media[#media + 1] = mp.array({ m.type, m.data })
        end
      elseif rec[1] == "html" then
        html[#html + 1] = rec[2]
      end
    end
    res.stdout, res.stderr, res.media, res.html = table.concat(out), table.concat(err), media,
      html
  end
  return res
end

--- Execute: attach to the run queue, feed the runner per mode, and return the next
--- result (reference §4.4-4.5).
---@async
---@param run_id string|nil
---@param mode "query"|"batch"|"input"|"continue"
---@param code string
---@param opts table
---@param api_version integer
---@param flush_timeout number|nil
---@return table|nil result, bai.Error|nil err
function Runner:execute(run_id, mode, code, opts, api_version, flush_timeout)
  if self.closed then
    return nil, errors.new("ECLOSED", "the kernel runner connection is closed")
  end
  run_id = run_id or sys.random_hex(16)
  if (mode == "continue" or mode == "input") and run_id ~= self.current
      and not self.runs[run_id] then
    return nil, errors.new("VALUE_ERROR", string.format(
      "there is no run %q to %s", run_id, mode))
  end
  local existing = self.runs[run_id]
  if existing and existing.busy then
    -- one caller per run at a time: a second one would steal the first one's output
    return nil, errors.new("VALUE_ERROR", string.format(
      "run %q already has a call waiting for its output", run_id))
  end
  local ok, err = self:_attach(run_id)
  if not ok then
    return nil, err
  end
  local run = self.runs[run_id]
  if self.closed or not run then
    self:_end_run(run_id)
    return nil, errors.new("ECLOSED", "the kernel runner connection is closed")
  end
  run.busy = true
  -- from here on the run owns the output: whatever happens, it must not stay attached
  -- when this call ends without a result
  local pok, res, rerr = pcall(function()
    local sent, serr
    if mode == "query" then
      sent, serr = self:send("code", code)
    elseif mode == "batch" then
      sent, serr = self:send("clean", opts.clean or "")
      if sent then
        sent, serr = self:send("build", opts.build or "")
      end
      if sent then
        sent, serr = self:send("exec", opts.exec or "")
      end
    elseif mode == "input" then
      sent, serr = self:send("input", code)
    elseif mode == "continue" then
      sent = true
    else
      return nil, errors.new("VALUE_ERROR", "unknown execution mode: " .. tostring(mode))
    end
    if not sent then
      return nil, serr
    end
    return self:_next_result(run_id, api_version, flush_timeout)
  end)
  run.busy = false
  if not pok or res == nil then
    self:_end_run(run_id)
    if not pok then
      error(res, 0)
    end
  elseif self.current == run_id then
    -- a run that returned `continued` (or clean/build-finished) may already have ended
    -- while others wait
    if run.ended then
      self:_drop_if_abandoned()
    end
  end
  return res, rerr
end

--- Close the sockets; pending waits end with errors.
function Runner:close()
  if self.closed then
    return
  end
  self.closed = true
  if self.reader then
    self.reader:cancel()
  end
  for _, run in pairs(self.runs) do
    if run.event then
      run.event:set()
    end
    run.queue:put({ CLOSED, "" })
  end
  self.input:close()
  self.output:close()
end

return M
