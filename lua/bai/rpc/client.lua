--- bai.rpc.client — a manager-side RPC client (DEALER) speaking callosum framing, for
--- the `bai-agent call` CLI and for tests. Calls may run concurrently; replies are
--- matched by (method, okey, seq).
local zmq = require("bai.zmq")
local sched = require("bai.sched")
local codec = require("bai.rpc.codec")
local errors = require("bai.errors")

local M = {}

---@class bai.rpc.Client
local Client = {}
Client.__index = Client

--- Connect and complete the PING/PONG handshake.
---@async
---@param addr string e.g. "tcp://127.0.0.1:6001"
---@param opts? { handshake_timeout?: number, socket_opts?: table }
---@return bai.rpc.Client|nil client, bai.Error|nil err
function M.connect(addr, opts)
  opts = opts or {}
  local sock, err = zmq.socket("DEALER", { linger = 0 })
  if not sock then
    return nil, err
  end
  for _, kv in ipairs(opts.socket_opts or {}) do
    sock:setopt(kv[1], kv[2])
  end
  local ok, cerr = sock:connect(addr)
  if not ok then
    sock:close()
    return nil, cerr
  end
  local c = setmetatable({ sock = sock, addr = addr, seq = 0, pending = {} }, Client)
  sock:send(codec.ping_frames(), 5)
  local timeout = opts.handshake_timeout or 5
  local deadline = sched.now() + timeout
  while true do
    local frames, rerr = sock:recv(math.max(0, deadline - sched.now()))
    if not frames then
      sock:close()
      return nil, errors.new("ETIMEDOUT", "no PONG from " .. addr .. " within "
        .. timeout .. " s", { op = "rpc.connect", cause = rerr })
    end
    if frames[1] == "PONG" then
      break
    end
  end
  c.reader = sched.spawn(function()
    c:_read()
  end, "rpc.client.reader")
  return c
end

function Client:_read()
  self.sock:each(function(frames)
    local reply = codec.parse_reply(frames)
    if reply and reply.seq then
      local w = self.pending[reply.seq]
      if w and w.meth == reply.meth then
        self.pending[reply.seq] = nil
        w.reply = reply
        w.event:set()
      end
    end
  end)
end

--- Call a method. Returns the result value (msgpack nil comes back as bai.msgpack.null),
--- or nil and an error. A remote exception gives code "RPC_FAILURE" with fields
--- name, repr and traceback.
---@async
---@param meth string
---@param args? table
---@param kwargs? table
---@param timeout? number seconds (default 60)
---@return any value, bai.Error|nil err
function Client:call(meth, args, kwargs, timeout)
  local seq = self.seq
  self.seq = (self.seq + 1) % 4294967296
  local w = { meth = meth, event = sched.event() }
  self.pending[seq] = w
  local ok, err = self.sock:send(codec.request(meth, args or {}, kwargs or {}, seq), 5)
  if not ok then
    self.pending[seq] = nil
    return nil, err
  end
  local got, werr = w.event:wait(timeout or 60)
  if not got then
    self.pending[seq] = nil
    -- callosum would send a CANCEL here; agents ignore it, so this client does not
    return nil, errors.at(werr, "rpc.call " .. meth)
  end
  local reply = w.reply
  if reply.kind == "result" then
    return reply.value
  end
  return nil, errors.new("RPC_FAILURE", string.format("%s: %s", reply.name, reply.repr),
    { name = reply.name, repr = reply.repr, traceback = reply.traceback, op = meth })
end

--- Stop the reader and close the socket; pending calls time out.
function Client:close()
  if self.reader then
    self.reader:cancel()
    self.reader = nil
  end
  self.sock:close()
end

return M
