--- bai.zmq — awaitable ZeroMQ sockets over bai.core.zmq.
local core = require("bai.core.zmq")
local sched = require("bai.sched")
local errors = require("bai.errors")

local M = {}

---@class bai.ZmqSocket
---@field handle userdata
---@field type string
local Socket = {}
Socket.__index = Socket

--- Create a socket ("ROUTER", "DEALER", "PUSH", "PULL", ...). opts are socket options
--- applied in order of the `opts` table's keys (e.g. { linger = 50 }).
---@param type string
---@param opts? table<string, any>
---@return bai.ZmqSocket|nil sock, bai.Error|nil err
function M.socket(type, opts)
  local h, err = core.socket(type)
  if not h then
    return nil, errors.at(err, "zmq.socket")
  end
  local s = setmetatable({ handle = h, type = type }, Socket)
  for k, v in pairs(opts or {}) do
    local ok, serr = h:setopt(k, v)
    if not ok then
      h:close()
      return nil, errors.at(serr, "zmq.setopt " .. k)
    end
  end
  return s
end

---@return true|nil ok, bai.Error|nil err
function Socket:bind(endpoint)
  local ok, err = self.handle:bind(endpoint)
  if not ok then
    return nil, errors.at(err, "zmq.bind")
  end
  return true
end

---@return true|nil ok, bai.Error|nil err
function Socket:connect(endpoint)
  local ok, err = self.handle:connect(endpoint)
  if not ok then
    return nil, errors.at(err, "zmq.connect")
  end
  return true
end

--- Set a socket option by name (see core/zmq_lua.c for the names).
---@param name string
---@param value any
---@return true|nil ok, bai.Error|nil err
function Socket:setopt(name, value)
  return self.handle:setopt(name, value)
end

--- Read a socket option by name ("last_endpoint", "events", ...).
---@param name string
---@return any value, bai.Error|nil err
function Socket:getopt(name)
  return self.handle:getopt(name)
end

--- Receive one multipart message (array of frames). One reader at a time: a second
--- concurrent reader gets EBUSY.
---@async
---@param timeout? number
---@return string[]|nil frames, bai.Error|nil err
function Socket:recv(timeout)
  if self.reading then
    return nil, errors.new("EBUSY", "socket already has a reader", { op = "zmq.recv" })
  end
  self.reading = true
  local deadline = timeout and (sched.now() + timeout)
  while true do
    local frames, err = self.handle:recv()
    if frames then
      self.reading = false
      return frames
    end
    if err.code ~= "EAGAIN" then
      self.reading = false
      return nil, errors.at(err, "zmq.recv")
    end
    local left = deadline and math.max(0, deadline - sched.now())
    local ok, werr = sched.await(self.handle:recv_token(), left)
    if not ok then
      self.reading = false
      return nil, werr
    end
  end
end

--- Send frames as one message, waiting while the socket is at its high-water mark.
---@async
---@param frames string[]
---@param timeout? number
---@return true|nil ok, bai.Error|nil err
function Socket:send(frames, timeout)
  local deadline = timeout and (sched.now() + timeout)
  while true do
    local ok, err = self.handle:send(frames)
    if ok then
      return true
    end
    if err.code ~= "EAGAIN" then
      return nil, errors.at(err, "zmq.send")
    end
    local left = deadline and math.max(0, deadline - sched.now())
    local wok, werr = sched.await(self.handle:send_token(), left)
    if not wok then
      return nil, werr
    end
  end
end

--- Receive messages until the calling task is cancelled, calling fn(frames) for each.
--- Any other receive error goes to on_error (if given) and is retried after 0.1 s, so a
--- broken socket never makes the task spin.
---@async
---@param fn fun(frames: string[])
---@param on_error? fun(err: bai.Error)
function Socket:each(fn, on_error)
  while true do
    local frames, err = self:recv()
    if frames then
      fn(frames)
    elseif err.code == "ECANCELED" then
      return
    else
      if on_error then
        on_error(err)
      end
      sched.sleep(0.1)
    end
  end
end

--- Close the socket (pending messages linger as set by the linger option).
function Socket:close()
  self.handle:close()
end

M.curve_keypair = core.curve_keypair
M.z85_encode = core.z85_encode
M.z85_decode = core.z85_decode
M.has = core.has
M.version = core.version

return M
