--- bai.sched — coroutine tasks over the C event loop. The ONLY module that yields.
---
--- C primitives never yield: they hand back a completion token (a number). A task calls
--- `sched.await(token, timeout, on_cancel)`; the scheduler resumes it when the loop
--- reports the token complete, when the deadline passes (`nil, ETIMEDOUT`), or when the
--- task is cancelled (`nil, ECANCELED`). Lua-level primitives (events, queues,
--- semaphores, task joins) use the same token space through `sched.complete`.
local loop = require("bai.core.loop")
local errors = require("bai.errors")

local M = {}

local AWAIT = setmetatable({}, { __tostring = function() return "bai.sched.AWAIT" end })

---@class bai.Task
---@field name string
---@field co thread
---@field status "ready"|"waiting"|"done"|"failed"
---@field result table|nil   packed return values when done
---@field err any            error when failed
local Task = {}
Task.__index = Task

local tasks = setmetatable({}, { __mode = "k" }) -- coroutine -> task
local waiting = {} -- token -> task
local done = {} -- token -> true: completed before anyone awaited it
local abandoned = {} -- token -> true: its waiter gave up; drop the completion
local ready = {} -- FIFO of { task, ... resume args }
local ready_head, ready_tail = 1, 0
local timed = {} -- task -> true for waiting tasks with a deadline
local on_error_hook = nil
local abandon_wait -- defined below

local function push_ready(task, ...)
  ready_tail = ready_tail + 1
  ready[ready_tail] = { task, select("#", ...), ... }
end

--- Complete a token from Lua (events, queues, task joins).
---@param token number
function M.complete(token)
  local t = waiting[token]
  if t then
    waiting[token] = nil
    timed[t] = nil
    t.token, t.deadline, t.on_cancel = nil, nil, nil
    t.status = "ready"
    push_ready(t, true)
  elseif abandoned[token] then
    abandoned[token] = nil
  else
    done[token] = true
  end
end

--- Declare that nobody will ever await `token`: its completion (past or future) is
--- dropped instead of being kept for a waiter that never comes.
---@param token number
function M.forget(token)
  if done[token] then
    done[token] = nil
  elseif not waiting[token] then
    abandoned[token] = true
  end
end

--- Bookkeeping sizes, for tests and diagnostics: live tasks, tasks waiting on a token,
--- completions nobody awaited yet, abandoned tokens.
---@return { tasks: integer, waiting: integer, done: integer, abandoned: integer }
function M.stats()
  local function count(t)
    local n = 0
    for _ in pairs(t) do
      n = n + 1
    end
    return n
  end
  return { tasks = count(tasks), waiting = count(waiting), done = count(done),
    abandoned = count(abandoned) }
end

--- Monotonic time in seconds.
---@return number
function M.now()
  return loop.now()
end

--- A fresh token for Lua-level primitives.
---@return number
function M.token()
  return loop.token()
end

local function finish(task, ok, ...)
  -- the coroutine is done with: forget it (the weak-keyed map alone cannot collect an
  -- entry whose value points back at its key, so it must be removed explicitly)
  tasks[task.co] = nil
  if ok then
    task.status = "done"
    task.result = { n = select("#", ...), ... }
  else
    task.status = "failed"
    task.err = ...
    if on_error_hook then
      on_error_hook(task, task.err)
    end
  end
  for _, tok in ipairs(task.joiners) do
    M.complete(tok)
  end
  task.joiners = {}
end

local function step_task(task, ...)
  if task.status == "done" or task.status == "failed" then
    return
  end
  local co = task.co
  local res = { coroutine.resume(co, ...) }
  local ok = res[1]
  if coroutine.status(co) == "dead" then
    if ok and res[2] then
      finish(task, true, unpack(res, 3, table.maxn(res)))
    elseif ok then
      finish(task, false, res[3])
    else
      finish(task, false, res[2])
    end
    return
  end
  -- suspended: must be our marker
  if res[2] ~= AWAIT then
    -- the coroutine is abandoned suspended: it fails like a raised error
    finish(task, false, "bai.sched: unexpected yield inside task " .. task.name)
    return
  end
  local token, timeout, on_cancel = res[3], res[4], res[5]
  task.status = "waiting"
  task.token = token
  task.on_cancel = on_cancel
  waiting[token] = task
  if timeout then
    task.deadline = loop.now() + timeout
    timed[task] = true
  else
    task.deadline = nil
  end
end

local function traceback_handler(e)
  if errors.is(e) then
    return e
  end
  return debug.traceback(tostring(e), 2)
end

--- Spawn a task running fn(...). Errors inside are caught, passed to the error hook
--- and reported to joiners; they never escape the scheduler.
---@param fn function
---@param name? string
---@return bai.Task
function M.spawn(fn, name, ...)
  local args = { n = select("#", ...), ... }
  local co = coroutine.create(function()
    return xpcall(function()
      return fn(unpack(args, 1, args.n))
    end, traceback_handler)
  end)
  local task = setmetatable({
    name = name or "task",
    co = co,
    status = "ready",
    joiners = {},
  }, Task)
  tasks[co] = task
  push_ready(task)
  return task
end

--- The task running now, or nil outside tasks.
---@return bai.Task|nil
function M.current()
  local co = coroutine.running()
  return co and tasks[co] or nil
end

--- Wait for a token. Returns true, or nil and an ETIMEDOUT / ECANCELED bai.Error.
--- on_cancel (if given) runs when the wait is abandoned, to cancel the C operation.
---@async
---@param token number
---@param timeout? number seconds; nil waits without a deadline
---@param on_cancel? fun()
---@return true|nil ok, bai.Error|nil err
function M.await(token, timeout, on_cancel)
  local co = coroutine.running()
  local task = co and tasks[co]
  if not task then
    error("bai.sched.await: not called directly from a task's coroutine", 2)
  end
  if task.cancel_requested then
    if on_cancel then
      on_cancel()
    end
    return nil, errors.new("ECANCELED", "task cancelled", { op = task.name })
  end
  if done[token] then
    done[token] = nil
    return true
  end
  if waiting[token] then
    error("bai.sched.await: token " .. tostring(token) .. " already has a waiter", 2)
  end
  return coroutine.yield(AWAIT, token, timeout, on_cancel)
end

--- Sleep for `seconds` (yields).
---@async
---@param seconds number
---@return true|nil ok, bai.Error|nil err  ECANCELED if the task was cancelled
function M.sleep(seconds)
  local tok = loop.token()
  local ok, err = M.await(tok, seconds)
  abandoned[tok] = nil -- nothing ever completes a sleep token: do not keep it
  if not ok and err.code == "ECANCELED" then
    return nil, err
  end
  return true
end

--- Let other ready tasks run before continuing.
---@async
function M.yield()
  return M.sleep(0)
end

-- End a task's current wait with err: forget its token (a late completion is dropped),
-- run its on_cancel (which cancels the C operation) and queue it to resume.
abandon_wait = function(task, err)
  local tok = task.token
  waiting[tok] = nil
  abandoned[tok] = true
  timed[task] = nil
  local cb = task.on_cancel
  task.token, task.deadline, task.on_cancel = nil, nil, nil
  if cb then
    cb()
  end
  task.status = "ready"
  push_ready(task, nil, err)
end

--- Wait for the task to end. Returns its return values, or nil, err when it failed
--- (err is the raised error or a traceback string), timed out or was cancelled.
---@async
---@param timeout? number
function Task:join(timeout)
  if self.status ~= "done" and self.status ~= "failed" then
    local tok = loop.token()
    table.insert(self.joiners, tok)
    local ok, err = M.await(tok, timeout)
    if not ok then
      return nil, err
    end
  end
  if self.status == "done" then
    return unpack(self.result, 1, self.result.n)
  end
  return nil, self.err
end

--- Cancel the task: its current wait ends with ECANCELED (running on_cancel), and
--- every later await fails at once. The task still runs its cleanup code.
function Task:cancel()
  if self.status == "done" or self.status == "failed" then
    return
  end
  self.cancel_requested = true
  if self.status == "waiting" then
    abandon_wait(self, errors.new("ECANCELED", "task cancelled", { op = self.name }))
  end
end

function Task:__tostring()
  return "bai.Task(" .. self.name .. ", " .. self.status .. ")"
end

--- Join tasks within one shared grace period; those still running after it are
--- cancelled (their cleanup still runs).
---@async
---@param list bai.Task[]
---@param grace number seconds
function M.join_all(list, grace)
  local give_up = loop.now() + grace
  for _, t in ipairs(list) do
    t:join(math.max(0, give_up - loop.now()))
    if t.status ~= "done" and t.status ~= "failed" then
      t:cancel()
    end
  end
end

--- Install a function called as fn(task, err) when a task fails (logging).
---@param fn fun(task: bai.Task, err: any)|nil
function M.on_error(fn)
  on_error_hook = fn
end

local function expire_deadlines(now)
  for task in pairs(timed) do
    if task.deadline and task.deadline <= now then
      abandon_wait(task, errors.new("ETIMEDOUT", "timed out", { op = task.name }))
    end
  end
end

local function run_ready()
  while ready_head <= ready_tail do
    local item = ready[ready_head]
    ready[ready_head] = nil
    ready_head = ready_head + 1
    step_task(item[1], unpack(item, 3, 2 + item[2]))
  end
  ready_head, ready_tail = 1, 0
end

local stopping = false

--- Ask `run` to return after the current iteration.
function M.stop()
  stopping = true
end

--- Run the loop until `until_task` ends (or forever / until stop() without one).
---@param until_task? bai.Task
---@param max_seconds? number give up after this long (tests)
---@return boolean finished whether until_task ended
function M.run(until_task, max_seconds)
  stopping = false
  local give_up = max_seconds and (loop.now() + max_seconds) or nil
  while true do
    run_ready()
    if until_task and (until_task.status == "done" or until_task.status == "failed") then
      return true
    end
    if stopping then
      return false
    end
    local now = loop.now()
    if give_up and now >= give_up then
      return false
    end
    -- nil = no deadline; a deadline already past is negative and must not read as "none"
    local timeout = nil
    for task in pairs(timed) do
      local d = task.deadline - now
      if timeout == nil or d < timeout then
        timeout = d
      end
    end
    if give_up then
      local g = give_up - now
      if timeout == nil or g < timeout then
        timeout = g
      end
    end
    if timeout == nil then
      timeout = -1
    elseif timeout < 0 then
      timeout = 0
    end
    local toks, err = loop.step(timeout)
    if not toks then
      error("bai.sched: loop step failed: " .. tostring(err))
    end
    for i = 1, #toks do
      M.complete(toks[i])
    end
    expire_deadlines(loop.now())
  end
end

--- Convenience for tests and CLIs: spawn fn as a task and run the loop until it ends.
--- Returns the task's results, or nil, err.
---@param fn function
---@param max_seconds? number
function M.block_on(fn, max_seconds, ...)
  local t = M.spawn(fn, "main", ...)
  if not M.run(t, max_seconds) then
    t:cancel()
    M.run(t, 5)
    return nil, errors.new("ETIMEDOUT", "block_on: gave up after " .. tostring(max_seconds) .. " s")
  end
  return t:join()
end

-- Lua-level synchronisation -------------------------------------------------------

---@class bai.Event
local Event = {}
Event.__index = Event

--- A one-shot-or-reset event: wait() blocks until set().
---@return bai.Event
function M.event()
  return setmetatable({ is_set = false, waiters = {} }, Event)
end

--- Set the event, waking every waiter.
function Event:set()
  self.is_set = true
  local w = self.waiters
  self.waiters = {}
  for _, tok in ipairs(w) do
    M.complete(tok)
  end
end

--- Clear the event so that later waits block again.
function Event:clear()
  self.is_set = false
end

--- Wait until the event is set; true, or nil and ETIMEDOUT / ECANCELED.
---@async
---@param timeout? number
---@return true|nil ok, bai.Error|nil err
function Event:wait(timeout)
  if self.is_set then
    return true
  end
  local tok = loop.token()
  table.insert(self.waiters, tok)
  local ok, err = M.await(tok, timeout)
  if not ok then
    for i, t in ipairs(self.waiters) do
      if t == tok then
        table.remove(self.waiters, i)
        abandoned[tok] = nil -- no longer listed: nothing will complete it
        break
      end
    end
  end
  return ok, err
end

---@class bai.Queue
local Queue = {}
Queue.__index = Queue

--- A FIFO queue with an optional bound (items beyond it are dropped, oldest first).
---@param maxlen? integer
---@return bai.Queue
function M.queue(maxlen)
  return setmetatable({ items = {}, head = 1, tail = 0, maxlen = maxlen, waiters = {} }, Queue)
end

---@return integer count of queued items
function Queue:len()
  return self.tail - self.head + 1
end

--- Append an item (dropping the oldest beyond maxlen) and wake one getter.
---@param v any
function Queue:put(v)
  self.tail = self.tail + 1
  self.items[self.tail] = v
  if self.maxlen and self:len() > self.maxlen then
    self.items[self.head] = nil
    self.head = self.head + 1
  end
  local tok = table.remove(self.waiters, 1)
  if tok then
    M.complete(tok)
  end
end

--- Take the oldest item, or nil if empty (never yields).
function Queue:get_nowait()
  if self.head > self.tail then
    return nil
  end
  local v = self.items[self.head]
  self.items[self.head] = nil
  self.head = self.head + 1
  return v
end

--- Take the oldest item, waiting up to timeout. Returns item or nil, err.
---@async
---@param timeout? number
function Queue:get(timeout)
  local give_up = timeout and (loop.now() + timeout)
  while self.head > self.tail do
    local tok = loop.token()
    table.insert(self.waiters, tok)
    local left = give_up and math.max(0, give_up - loop.now())
    local ok, err = M.await(tok, left)
    if not ok then
      local listed = false
      for i, t in ipairs(self.waiters) do
        if t == tok then
          table.remove(self.waiters, i)
          abandoned[tok] = nil -- no longer listed: nothing will complete it
          listed = true
          break
        end
      end
      if not listed and self.head <= self.tail then
        -- a put woke us just as we gave up: pass the wakeup on so no item is stranded
        local nxt = table.remove(self.waiters, 1)
        if nxt then
          M.complete(nxt)
        end
      end
      return nil, err
    end
  end
  return self:get_nowait()
end

---@class bai.Semaphore
local Semaphore = {}
Semaphore.__index = Semaphore

--- A counting semaphore.
---@param n integer
---@return bai.Semaphore
function M.semaphore(n)
  return setmetatable({ free = n, waiters = {} }, Semaphore)
end

--- Take a slot, waiting up to timeout; true, or nil and an error (no slot taken).
---@async
---@param timeout? number
---@return true|nil ok, bai.Error|nil err
function Semaphore:acquire(timeout)
  if self.free > 0 and #self.waiters == 0 then
    self.free = self.free - 1
    return true
  end
  local tok = loop.token()
  table.insert(self.waiters, tok)
  local ok, err = M.await(tok, timeout)
  if not ok then
    for i, t in ipairs(self.waiters) do
      if t == tok then
        table.remove(self.waiters, i)
        abandoned[tok] = nil -- no longer listed: nothing will complete it
        return nil, err
      end
    end
    -- we were handed the slot just as we gave up: give it back
    self:release()
    return nil, err
  end
  return true
end

--- Give a slot back (to the oldest waiter, if any).
function Semaphore:release()
  local tok = table.remove(self.waiters, 1)
  if tok then
    M.complete(tok)
  else
    self.free = self.free + 1
  end
end

M.Task = Task
return M
