--- bai.rpc.server — the agent's RPC endpoint: a ZeroMQ ROUTER speaking callosum framing.
---
--- Every request runs in its own task; replies go out in completion order. Malformed
--- messages are dropped and counted, CANCEL is ignored (as the Python agent's scheduler
--- effectively does), unknown methods get a FAILURE reply.
local zmq = require("bai.zmq")
local sched = require("bai.sched")
local codec = require("bai.rpc.codec")
local errors = require("bai.errors")
local mp = require("bai.msgpack")
local log = require("bai.log").get("bai.rpc")

local M = {}

---@class bai.rpc.Handler
---@field params table[]   positional parameters: { name, type?, optional?, default? }
---@field run fun(ctx: table, p: table): any, bai.Error|nil

---@class bai.rpc.Server
local Server = {}
Server.__index = Server

--- Create a server. opts: addr ("tcp://127.0.0.1:6001"), handlers (method -> handler),
--- agent_id (accepted in the `agent_id` kwarg besides nil), socket_opts (e.g. CURVE).
---@param opts table
---@return bai.rpc.Server
function M.new(opts)
  return setmetatable({
    addr = opts.addr,
    handlers = opts.handlers or {},
    agent_id = opts.agent_id,
    socket_opts = opts.socket_opts,
    max_message_size = opts.max_message_size or 256 * 1024 * 1024,
    stats = { requests = 0, replies = 0, failures = 0, malformed = 0, cancels = 0, pings = 0 },
    inflight = {},
  }, Server)
end

local function python_type(v)
  local t = type(v)
  if t == "string" then
    return "str"
  elseif t == "number" then
    return math.floor(v) == v and "int" or "float"
  elseif t == "boolean" then
    return "bool"
  elseif t == "table" then
    return mp.is_array(v) and "list" or "dict"
  elseif v == mp.null then
    return "NoneType"
  end
  return t
end

local TYPE_OK = {
  string = function(v)
    return type(v) == "string"
  end,
  number = function(v)
    return type(v) == "number"
  end,
  integer = function(v)
    return type(v) == "number" and math.floor(v) == v
  end,
  boolean = function(v)
    return type(v) == "boolean"
  end,
  table = function(v)
    return type(v) == "table"
  end,
  list = function(v)
    return type(v) == "table"
  end,
  map = function(v)
    return type(v) == "table" and not mp.is_array(v)
  end,
}

--- Bind positional args and kwargs to the handler's named parameters, Python style.
---@param meth string
---@param handler bai.rpc.Handler
---@param args table
---@param kwargs table
---@return table|nil params, bai.Error|nil err
function M.bind_params(meth, handler, args, kwargs)
  local p = {}
  local specs = handler.params or {}
  if #args > #specs then
    return nil, errors.new("TYPE_ERROR", string.format(
      "%s() takes %d positional arguments but %d were given", meth, #specs, #args))
  end
  local by_name = {}
  for i, spec in ipairs(specs) do
    by_name[spec[1]] = spec
    local v = args[i]
    if v ~= nil then
      p[spec[1]] = v
    end
  end
  for k, v in pairs(kwargs) do
    if k ~= "agent_id" then
      if not by_name[k] then
        return nil, errors.new("TYPE_ERROR",
          string.format("%s() got an unexpected keyword argument '%s'", meth, tostring(k)))
      end
      if p[k] ~= nil then
        return nil, errors.new("TYPE_ERROR",
          string.format("%s() got multiple values for argument '%s'", meth, k))
      end
      p[k] = v
    end
  end
  for _, spec in ipairs(specs) do
    local name = spec[1]
    local v = p[name]
    if v == mp.null then
      v = nil
      p[name] = nil
    end
    if v == nil then
      if spec.default ~= nil then
        p[name] = spec.default
      elseif not spec.optional then
        return nil, errors.new("TYPE_ERROR", string.format(
          "%s() missing required argument: '%s'", meth, name))
      end
    elseif spec.type and not TYPE_OK[spec.type](v) then
      return nil, errors.new("TYPE_ERROR", string.format(
        "%s(): argument '%s' must be %s, not %s", meth, name, spec.type, python_type(v)))
    end
  end
  return p
end

local function traceback_text(name, msg, where)
  return "Traceback (most recent call last):\n  " .. (where or "bai-agent") .. "\n"
    .. name .. ": " .. msg .. "\n"
end

function Server:_reply(frames)
  if not self.sock then
    log:debug("dropping a reply: the server is closed")
    return
  end
  local ok, err = self.sock:send(frames, 10)
  if not ok then
    log:warn("could not send a reply: %s", tostring(err))
    return
  end
  self.stats.replies = self.stats.replies + 1
end

function Server:_fail(req, err)
  self.stats.failures = self.stats.failures + 1
  local name, repr = errors.as_exception(err)
  local msg = errors.is(err) and err.message or tostring(err)
  self:_reply(codec.failure(req, name, repr, traceback_text(name, msg, "in " .. req.meth)))
end

function Server:_handle(req)
  local handler = self.handlers[req.meth]
  if not handler then
    log:warn("unknown method %q", req.meth)
    return self:_fail(req, errors.new("UNKNOWN_METHOD",
      string.format("'%s' is not an RPC method of this agent", req.meth)))
  end
  local aid = req.kwargs.agent_id
  if aid ~= nil and aid ~= mp.null and aid ~= self.agent_id then
    return self:_fail(req, errors.new("AGENT_ID_NOT_FOUND", tostring(aid)))
  end
  local p, perr = M.bind_params(req.meth, handler, req.args, req.kwargs)
  if not p then
    return self:_fail(req, perr)
  end
  local ctx = { meth = req.meth, log = log }
  local ok, value, err = xpcall(function()
    return handler.run(ctx, p)
  end, function(e)
    if errors.is(e) then
      return e
    end
    return debug.traceback(tostring(e), 2)
  end)
  if not ok then
    -- a raised error: a bug or misuse. Log the traceback, send the caller a short form.
    if errors.is(value) then
      return self:_fail(req, value)
    end
    log:error("%s raised: %s", req.meth, tostring(value))
    local first = tostring(value):match("^[^\n]*")
    return self:_fail(req, errors.new("INTERNAL", first))
  end
  if value == nil and err ~= nil then
    return self:_fail(req, err)
  end
  local frames_ok, frames = pcall(codec.result, req, value)
  if not frames_ok then
    log:error("%s: cannot encode the result: %s", req.meth, tostring(frames))
    return self:_fail(req, errors.new("INTERNAL", "cannot encode the result"))
  end
  self:_reply(frames)
end

--- Bind the socket and start serving in a background task.
---@return true|nil ok, bai.Error|nil err
function Server:start()
  local ok, err = self:bind()
  if not ok then
    return nil, err
  end
  self:serve()
  return true
end

--- Bind the socket without serving yet (requests queue in the socket).
---@return true|nil ok, bai.Error|nil err
function Server:bind()
  -- maxmsgsize: a peer sending a larger message is disconnected instead of making the
  -- agent buffer it (upload_file data travels in one frame; 256 MiB is far above it)
  local sock, err = zmq.socket("ROUTER", { linger = 100, maxmsgsize = self.max_message_size })
  if not sock then
    return nil, err
  end
  for _, kv in ipairs(self.socket_opts or {}) do
    local ok, serr = sock:setopt(kv[1], kv[2])
    if not ok then
      sock:close()
      return nil, serr
    end
  end
  local ok, berr = sock:bind(self.addr)
  if not ok then
    sock:close()
    return nil, errors.new("EADDR", "cannot listen on " .. self.addr .. ": " .. berr.message,
      { op = "rpc.listen", cause = berr })
  end
  self.sock = sock
  self.endpoint = sock:getopt("last_endpoint")
  return true
end

--- Start serving requests in a background task (after bind()).
function Server:serve()
  self.task = sched.spawn(function()
    self:_serve()
  end, "rpc.server")
  log:info("listening on %s", self.endpoint)
end

function Server:_serve()
  self.sock:each(function(frames)
    local msg, perr = codec.parse(frames)
    if not msg then
      self.stats.malformed = self.stats.malformed + 1
      log:warn("dropped a malformed message (%d frames): %s", #frames, perr.message)
    elseif msg.kind == "ping" then
      self.stats.pings = self.stats.pings + 1
      self:_reply(codec.pong(msg))
    elseif msg.kind == "cancel" then
      self.stats.cancels = self.stats.cancels + 1
      log:debug("ignoring CANCEL for %s seq %d", msg.meth, msg.seq)
    else
      self.stats.requests = self.stats.requests + 1
      local t
      t = sched.spawn(function()
        self:_handle(msg)
        self.inflight[t] = nil
      end, "rpc:" .. msg.meth)
      self.inflight[t] = true
    end
  end, function(err)
    log:error("receive failed: %s", tostring(err))
  end)
end

--- Stop taking new requests (in-flight ones go on and can still reply).
---@async
function Server:stop_accepting()
  if self.task then
    self.task:cancel()
    self.task:join(1)
    self.task = nil
  end
end

--- Stop: no new requests; wait up to `grace` seconds for in-flight ones to reply, cancel
--- what is left, and close the socket.
---@async
---@param grace? number
function Server:stop(grace)
  self:stop_accepting()
  local deadline = sched.now() + (grace or 5)
  for t in pairs(self.inflight) do
    t:join(math.max(0, deadline - sched.now()))
  end
  for t in pairs(self.inflight) do
    t:cancel()
  end
  if self.sock then
    self.sock:close()
    self.sock = nil
  end
end

return M
