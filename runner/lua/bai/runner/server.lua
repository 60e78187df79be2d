--- bai.runner.server — the runner side of the agent ↔ kernel-runner protocol (reference §4).
---
--- Sockets: PULL bound on tcp://*:<replin> (agent → runner) and PUSH bound on
--- tcp://*:<replout> (runner → agent); every message is exactly [type, payload].
---
--- Tasks:
---   * receiver: reads the PULL socket and dispatches. Control messages (status, input,
---     interrupt, complete, get-apps, services, event) are answered at once, even while a
---     user process runs; work messages (code, clean, build, exec) go to the work queue.
---   * worker: runs the work queue in order, one user process at a time.
---   * sender: the only writer of the PUSH socket, so replies keep their order.
---   * signals: SIGTERM/SIGINT stop the runner.
---
--- Protocol decisions:
---   * exit codes: a process killed by signal N reports 128+N (SIGINT → 130, SIGKILL → 137),
---     as a shell would; a command that cannot be started reports 127.
---   * query mode (`code`) runs `/bin/sh -c <text>` with stdin on a pipe that stays open:
---     each `input` frame is written to it, with a "\n" added unless it ends with one. Batch
---     commands get /dev/null as stdin (non-interactive, as in the Python runner).
---   * after the shell exits, output still arriving is read for up to OUTPUT_GRACE seconds;
---     background jobs holding the pipes are not waited for (nor killed).
---   * `interrupt` sends SIGINT to the running process group (its own session); no reply.
local errors = require("bai.errors")
local fs = require("bai.fs")
local json = require("bai.json")
local loop = require("bai.core.loop")
local msgpack = require("bai.msgpack")
local proc = require("bai.proc")
local sched = require("bai.sched")
local zmq = require("bai.zmq")
local log = require("bai.runner.log")

local M = {}

M.OUTPUT_GRACE = 1.0 -- seconds to keep reading output after the shell exited
M.MAX_QUEUED = 8 * 1024 * 1024 -- output bytes queued for the agent before readers pause
M.STOP_GRACE = 3.0 -- seconds between SIGTERM and SIGKILL for the user process at shutdown
M.LINGER_MS = 50

local FINISH_TYPE = { code = "finished", clean = "clean-finished", build = "build-finished",
  exec = "finished" }

---@class bai.runner.ServerOpts
---@field env table<string, string>  environment for user processes
---@field uid? integer               run user processes as this uid (nil: as ourselves)
---@field gid? integer
---@field workdir string             cwd of user processes (/home/work)
---@field replin integer
---@field replout integer
---@field bind_host? string          default "*"

---@class bai.runner.Server
---@field opts bai.runner.ServerOpts
---@field started_at number         monotonic seconds, reported by `status`
---@field work bai.Queue             queued {kind=, text=}
---@field proc bai.Process|nil      the running user process
---@field envlist string[]        environment for user processes as "K=V"
---@field proc_interactive boolean  whether proc's stdin is a pipe we feed from `input`
---@field build_failed boolean
---@field stop_requested boolean  SIGTERM/SIGINT arrived
---@field wake bai.Event
local Server = {}
Server.__index = Server

--- Create a server (nothing is bound until serve()).
---@param opts bai.runner.ServerOpts
---@return bai.runner.Server
function M.new(opts)
  -- bai.proc takes the environment as "K=V" strings (a list; sorted for reproducibility)
  local envlist = {}
  for k, v in pairs(opts.env) do
    envlist[#envlist + 1] = k .. "=" .. v
  end
  table.sort(envlist)
  return setmetatable({
    envlist = envlist,
    opts = opts,
    started_at = sched.now(),
    work = sched.queue(),
    outq = sched.queue(),
    out_bytes = 0,
    out_drained = sched.event(),
    proc = nil,
    proc_interactive = false,
    build_failed = false,
    stop_requested = false,
    wake = sched.event(), -- set on a stop request and when bootstrap.sh is done
    booted = false,
    stopping = false,
  }, Server)
end

-- Output --------------------------------------------------------------------------

--- Queue a message for the agent (never yields).
---@param typ string
---@param payload string
function Server:send(typ, payload)
  self.out_bytes = self.out_bytes + #payload
  self.outq:put({ typ, payload })
end

--- Queue user output, first waiting while too much output is queued (the agent is slow
--- or not connected: a PUSH socket without a peer blocks).
---@async
---@param typ string
---@param payload string
function Server:send_output(typ, payload)
  while self.out_bytes > M.MAX_QUEUED and not self.stopping do
    self.out_drained:clear()
    self.out_drained:wait(1)
  end
  self:send(typ, payload)
end

---@param typ string
---@param value table
function Server:send_json(typ, value)
  self:send(typ, assert(json.encode(value)))
end

---@async
function Server:_sender()
  while true do
    local msg, err = self.outq:get()
    if not msg then
      return err
    end
    local ok, serr = self.out:send(msg)
    self.out_bytes = self.out_bytes - #msg[2]
    if self.out_bytes <= M.MAX_QUEUED then
      self.out_drained:set()
    end
    if not ok then
      if serr.code == "ECANCELED" then
        return
      end
      log.warn("dropping %s message: %s", msg[1], tostring(serr))
    end
  end
end

-- User processes ---------------------------------------------------------------------

--- Run `/bin/sh -c cmdline` in the work directory (see run_argv).
---@async
---@param cmdline string
---@param interactive boolean
---@return integer code
function Server:run_shell(cmdline, interactive)
  return self:run_argv({ "/bin/sh", "-c", cmdline }, interactive)
end

--- Run argv in the work directory, streaming its output as stdout/stderr messages.
--- Returns the exit code (128+signal if killed, 127 if it cannot start).
---@async
---@param argv string[]
---@param interactive boolean  stdin is a pipe fed by `input` messages (else /dev/null)
---@return integer code
function Server:run_argv(argv, interactive)
  local cmdline = table.concat(argv, " ")
  local o = self.opts
  local p, err = proc.spawn(argv, {
    env = self.envlist,
    cwd = o.workdir,
    stdin = interactive,
    stdout = "pipe",
    stderr = "pipe",
    new_session = true,
    uid = o.uid,
    gid = o.gid,
  })
  if not p then
    log.warn("cannot start %s: %s", argv[1], tostring(err))
    self:send("stderr", "bai-krunner: cannot start " .. argv[1] .. ": "
      .. tostring(err and err.message) .. "\n")
    return 127
  end
  self.proc, self.proc_interactive = p, interactive
  log.debug("started pid %d: %s", p:pid(), cmdline)
  local readers = {}
  for _, which in ipairs({ "stdout", "stderr" }) do
    readers[#readers + 1] = sched.spawn(function()
      while true do
        local data = p:read(which)
        if not data then
          return
        end
        self:send_output(which, data)
      end
    end, "runner.read-" .. which)
  end
  local code, sig
  while true do
    -- a bounded wait: without pidfd the core notices an exit only when asked again
    code, sig = p:wait(0.5)
    if code or (errors.is(sig) and sig.code ~= "ETIMEDOUT") then
      break
    end
  end
  if not code then -- cancelled (shutdown): do not leave the group running
    p:kill("KILL", true)
    code, sig = -1, 9
  end
  sched.join_all(readers, M.OUTPUT_GRACE)
  self.proc = nil
  p:close()
  if type(sig) == "number" and sig > 0 then
    code = 128 + sig
  end
  log.debug("pid exited with %d", code)
  return code
end

local function batch_command(kind, text, workdir)
  if text == "" then
    return nil
  end
  if text ~= "*" then
    return text
  end
  local has_makefile = fs.exists(workdir .. "/Makefile")
  if kind == "clean" then
    return has_makefile and "make clean" or nil
  elseif kind == "build" then
    return has_makefile and "make" or nil
  end
  if fs.exists(workdir .. "/main.sh") then
    return "/bin/sh ./main.sh"
  end
  return false, "bai-krunner: exec \"*\": there is no main.sh in " .. workdir .. " to run\n"
end

--- Run one queued work item and send its finished-family message.
---@async
---@param item {kind: string, text: string}
function Server:do_work(item)
  local kind, code = item.kind, 0
  if kind == "code" then
    if self.opts.query_runner == "python" then
      code = self:run_argv({ self.opts.runtime_path or "python3", "-c", item.text }, true)
    else
      code = self:run_shell(item.text, true)
    end
  elseif kind == "exec" and self.build_failed then
    self.build_failed = false
    log.info("exec skipped: the build failed")
    code = 127
  else
    if kind == "clean" then
      self.build_failed = false
    end
    local cmd, why = batch_command(kind, item.text, self.opts.workdir)
    if cmd then
      code = self:run_shell(cmd, false)
    elseif cmd == false then
      self:send("stderr", why)
      code = 127
    end
    if kind == "build" then
      self.build_failed = code ~= 0
    elseif kind == "exec" then
      self.build_failed = false
    end
  end
  self:send_json(FINISH_TYPE[kind], { exitCode = code })
end

---@async
function Server:_worker()
  while not self.stopping do
    local item = self.work:get()
    if not item or self.stopping then
      return
    end
    self:do_work(item)
  end
end

-- Dispatch ---------------------------------------------------------------------------

local handlers = {}

function handlers.status(self)
  self:send("status", msgpack.encode({ started_at = self.started_at }))
end

for kind in pairs(FINISH_TYPE) do
  handlers[kind] = function(self, payload)
    self.work:put({ kind = kind, text = payload })
  end
end

handlers.input = function(self, payload)
  local p = self.proc
  if not p or not self.proc_interactive then
    log.warn("input with no interactive process running: dropped")
    return
  end
  if payload:sub(-1) ~= "\n" then
    payload = payload .. "\n"
  end
  local ok, err = p:write(payload)
  if not ok then
    log.warn("cannot write input: %s", tostring(err))
  end
end

handlers.interrupt = function(self)
  if self.proc then
    log.info("interrupt: SIGINT to process group %d", self.proc:pid())
    self.proc:kill("INT", true)
  end
end

handlers.complete = function(self)
  self:send_json("completion", { suggestions = json.array({}) })
end

handlers["get-apps"] = function(self)
  self:send_json("apps-result", { status = "done", data = json.array({}) })
end

handlers["start-service"] = function(self, payload)
  local req = json.decode(payload)
  log.info("start-service %s: not available", type(req) == "table" and tostring(req.name) or "?")
  self:send_json("service-result",
    { status = "failed", error = "service not available in this runner" })
end

handlers["start-model-service"] = function(self)
  self:send_json("model-service-result",
    { status = "failed", error = "model service not available in this runner" })
end

handlers["shutdown-service"] = function() end

handlers.event = function(_, payload)
  local ev = json.decode(payload)
  if type(ev) == "table" and ev.type == "oom" then
    log.warn("the kernel container hit its memory limit (OOM-killed process)")
  else
    log.info("event: %s", payload)
  end
end

--- Handle one message from the agent.
---@param typ string
---@param payload string
function Server:dispatch(typ, payload)
  local h = handlers[typ]
  if not h then
    log.warn("ignoring unknown message type %q", typ)
    return
  end
  log.debug("<- %s (%d bytes)", typ, #payload)
  h(self, payload)
end

---@async
function Server:_receiver()
  self.inp:each(function(frames)
    if #frames ~= 2 then
      log.warn("dropping a message of %d frames", #frames)
    else
      self:dispatch(frames[1], frames[2])
    end
  end, function(err)
    log.error("receive failed: %s", tostring(err))
  end)
end

-- Lifecycle --------------------------------------------------------------------------

---@async
function Server:_signals()
  -- (SIGPIPE needs nothing here: the host ignores it, so a write to a closed stdin pipe
  -- is an EPIPE error)
  for _, sig in ipairs({ "TERM", "INT" }) do
    assert(loop.signal_watch(sig))
  end
  while true do
    local ok = sched.await(loop.SIGNAL_TOKEN)
    if not ok then
      return
    end
    while true do
      local sig = loop.signal_pop()
      if not sig then
        break
      end
      if sig == "TERM" or sig == "INT" then
        log.info("SIG%s: stopping", sig)
        self.stop_requested = true
        self.wake:set()
      end
    end
  end
end

---@async
function Server:_bootstrap()
  local path = self.opts.workdir .. "/bootstrap.sh"
  if not fs.exists(path) then
    return
  end
  log.info("running %s", path)
  local p, err = proc.spawn({ "/bin/sh", path }, {
    env = self.envlist,
    cwd = self.opts.workdir,
    stdout = "inherit",
    stderr = "inherit",
    new_session = true,
    uid = self.opts.uid,
    gid = self.opts.gid,
  })
  if not p then
    log.error("cannot run bootstrap.sh: %s", tostring(err))
    return
  end
  self.proc = p
  local code, sig
  repeat
    code, sig = p:wait(0.5)
  until code or (errors.is(sig) and sig.code ~= "ETIMEDOUT")
  if not code then
    p:kill("KILL", true)
  end
  self.proc = nil
  p:close()
  log.info("bootstrap.sh exited with %s", tostring(code and (sig > 0 and 128 + sig or code) or sig))
end

local function bind(sock_type, host, port)
  local s, err = zmq.socket(sock_type, { linger = M.LINGER_MS })
  if not s then
    return nil, err
  end
  local ok, berr = s:bind(string.format("tcp://%s:%d", host, port))
  if not ok then
    s:close()
    return nil, berr
  end
  return s
end

--- Bind, run bootstrap.sh, serve until SIGTERM/SIGINT, then shut down. Returns 0, or 1
--- when a socket cannot be bound.
---@async
---@return integer status
function Server:serve()
  local o = self.opts
  local host = o.bind_host or "*"
  local sig_task = sched.spawn(function()
    return self:_signals()
  end, "runner.signals")
  local err
  self.inp, err = bind("PULL", host, o.replin)
  if self.inp then
    self.out, err = bind("PUSH", host, o.replout)
  end
  if not self.out then
    log.error("cannot bind: %s", tostring(err))
    if self.inp then
      self.inp:close()
    end
    sig_task:cancel()
    return 1
  end
  log.info("listening: PULL tcp://%s:%d, PUSH tcp://%s:%d", host, o.replin, host, o.replout)

  local boot = sched.spawn(function()
    self:_bootstrap()
    self.booted = true
    self.wake:set()
  end, "runner.bootstrap")
  while not (self.booted or self.stop_requested) do
    self.wake:clear()
    self.wake:wait()
  end
  local tasks = { sig_task }
  if not self.stop_requested then
    tasks[#tasks + 1] = sched.spawn(function()
      return self:_sender()
    end, "runner.sender")
    tasks[#tasks + 1] = sched.spawn(function()
      return self:_receiver()
    end, "runner.receiver")
    self.worker = sched.spawn(function()
      return self:_worker()
    end, "runner.worker")
    log.info("serving")
    while not self.stop_requested do
      self.wake:clear()
      self.wake:wait()
    end
  end
  self:_shutdown(boot, tasks)
  return 0
end

---@async
function Server:_shutdown(boot, tasks)
  self.stopping = true
  self.work:put(false) -- wake an idle worker
  if self.proc then
    self.proc:kill("TERM", true)
  end
  local deadline = sched.now() + M.STOP_GRACE
  for _, t in ipairs({ boot, self.worker }) do
    if t then
      t:join(math.max(0, deadline - sched.now()))
      t:cancel() -- no-op when it ended; otherwise kills what it runs (run_shell)
      t:join(1)
    end
  end
  if self.proc then -- bootstrap.sh cancelled while running
    self.proc:kill("KILL", true)
    self.proc:close()
    self.proc = nil
  end
  -- give queued replies (e.g. the interrupted run's `finished`) a moment to leave
  local flush_until = sched.now() + 0.5
  while self.outq:len() > 0 and sched.now() < flush_until do
    sched.sleep(0.02)
  end
  for _, t in ipairs(tasks) do
    t:cancel()
  end
  sched.yield()
  self.inp:close()
  self.out:close()
  log.info("stopped")
end

return M
