--- bai.proc — child processes with awaitable output and exit.
local core = require("bai.core.proc")
local sched = require("bai.sched")
local errors = require("bai.errors")

local M = {}

---@class bai.Process
---@field handle userdata
local Process = {}
Process.__index = Process

--- Spawn a process. opts: env (map or "K=V" list), cwd, stdin (bool), stdout/stderr
--- ("pipe"|"null"|"inherit"; stderr also "stdout"), new_session, uid, gid.
---@param argv string[]
---@param opts? table
---@return bai.Process|nil proc, bai.Error|nil err
function M.spawn(argv, opts)
  local h, err = core.spawn(argv, opts or {})
  if not h then
    return nil, errors.at(err, "proc.spawn")
  end
  return setmetatable({ handle = h, argv = argv }, Process)
end

--- Next chunk of output. Returns data, or nil at the end of the stream, or nil, err.
---@async
---@param which? "stdout"|"stderr"
---@param timeout? number
---@return string|nil data, bai.Error|nil err
function Process:read(which, timeout)
  which = which or "stdout"
  -- one reader per stream: the core keeps a single wake-up per stream
  self.reading = self.reading or {}
  if self.reading[which] then
    return nil, errors.new("EBUSY", which .. " already has a reader", { op = "proc.read" })
  end
  self.reading[which] = true
  while true do
    local r = self.handle:read(which)
    if type(r) == "string" then
      self.reading[which] = nil
      return r
    elseif r == false then
      self.reading[which] = nil
      return nil
    end
    local ok, err = sched.await(r, timeout)
    if not ok then
      self.reading[which] = nil
      return nil, err
    end
  end
end

--- Wait for exit. Returns exit code (-1 if killed) and the signal number (0 if none).
---@async
---@param timeout? number
---@return integer|nil code, integer|bai.Error signal_or_err
function Process:wait(timeout)
  while true do
    local code, sig = self.handle:status()
    if code then
      return code, sig
    end
    local ok, err = sched.await(self.handle:exit_token(), timeout)
    if not ok then
      return nil, err
    end
  end
end

--- Queue data for the child's stdin (spawned with stdin = true).
---@param data string
---@return true|nil ok, bai.Error|nil err
function Process:write(data)
  return self.handle:write(data)
end

--- Close the child's stdin once queued data is written.
function Process:close_stdin()
  return self.handle:close_stdin()
end

--- Send a signal; group = true signals the whole process group (new_session).
---@param sig? string|integer  "TERM" (default), "INT", "KILL", ... or a number
---@param group? boolean
---@return true|nil ok, bai.Error|nil err
function Process:kill(sig, group)
  return self.handle:kill(sig or "TERM", group)
end

---@return integer pid
function Process:pid()
  return self.handle:pid()
end

--- Release fds; a child still running is killed (with its group) and reaped.
function Process:close()
  self.handle:close()
end

--- Run a command to completion, collecting its output.
---@async
---@param argv string[]
---@param opts? table spawn options plus `timeout` (seconds, default 60) and `input`
---@return table|nil res {code, signal, stdout, stderr}, bai.Error|nil err
function M.run(argv, opts)
  opts = opts or {}
  local sopts = {}
  for k, v in pairs(opts) do
    sopts[k] = v
  end
  -- its own process group, so that a timeout can kill whatever the command started
  if sopts.new_session == nil then
    sopts.new_session = true
  end
  sopts.stdin = opts.input ~= nil
  sopts.stdout, sopts.stderr = "pipe", "pipe"
  local p, err = M.spawn(argv, sopts)
  if not p then
    return nil, err
  end
  local timeout = opts.timeout or 60
  if opts.input then
    p:write(opts.input)
    p:close_stdin()
  end
  local out, errb = {}, {}
  local readers = {}
  for _, pair in ipairs({ { "stdout", out }, { "stderr", errb } }) do
    readers[#readers + 1] = sched.spawn(function()
      while true do
        local d = p:read(pair[1], timeout)
        if not d then
          return
        end
        pair[2][#pair[2] + 1] = d
      end
    end, "proc.run.read")
  end
  local code, sig = p:wait(timeout)
  if not code then
    p:kill("KILL", true)
    for _, r in ipairs(readers) do
      r:cancel()
    end
    p:close()
    return nil, errors.new("ETIMEDOUT", "command timed out: " .. argv[1], { op = "proc.run" })
  end
  -- output still buffered arrives quickly; a descendant that keeps the pipes open is
  -- not waited for: after a grace period its group is killed and the readers stop
  sched.join_all(readers, 2)
  if sopts.new_session then
    p:kill("KILL", true)
  end
  p:close()
  return { code = code, signal = sig, stdout = table.concat(out), stderr = table.concat(errb) }
end

return M
