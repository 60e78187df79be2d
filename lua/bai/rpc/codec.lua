--- bai.rpc.codec — callosum framing (reference §1.2-1.7), as pure functions over frame lists.
---
--- Server side (the agent's ROUTER, identity frame first):
---   `[identity, "PING", x, y]`             -> answered by `M.pong` with `[identity, "PONG", x, y]`
---   `[identity, "UPPER", header, data]`    -> `M.parse` -> request / cancel
--- header is a msgpack map {type, meth, okey, seq, zip} (in that order on the wire); data is a
--- map {meta=<bin>, body=<bin|nil>}; body holds the application msgpack of the payload.
---
--- Client side (a DEALER, no identity frame): `M.request`, `M.parse_reply`, `M.ping_frames`.
local mp = require("bai.msgpack")
local errors = require("bai.errors")

local M = {}

-- RPCMessageTypes (callosum/rpc/message.py)
M.NULL = 0
M.FUNCTION = 1
M.RESULT = 2
M.FAILURE = 3
M.ERROR = 4
M.CANCEL = 5
M.CANCELLED = 6

local HEADER_MT = { __keys = { "type", "meth", "okey", "seq", "zip" } }
local DATA_MT = { __keys = { "meta", "body" } }
local BODY_MT = { __keys = { "args", "kwargs" } }
local EMPTY_TUPLE = "\144" -- msgpack [] (0x90): RESULT / CANCEL metadata
local UINT32_MAX = 4294967295

---@class bai.rpc.Message
---@field kind "ping"|"request"|"cancel"
---@field identity string      ROUTER identity frame
---@field frames? string[]     the raw frames (ping)
---@field type? integer
---@field meth? string
---@field okey? string|table   str or bin wrapper, echoed with its msgpack type
---@field seq? integer
---@field zip? boolean
---@field args? table          array
---@field kwargs? table        map

local function proto(message)
  return nil, errors.new("EPROTO", "callosum: " .. message)
end

local function is_int(v, lo, hi)
  return type(v) == "number" and v == math.floor(v) and v >= lo and v <= hi
end

local function is_map(v)
  return type(v) == "table" and getmetatable(v) == nil
end

local function check_frames(frames, who)
  if type(frames) ~= "table" then
    error(who .. ": frames must be an array of strings", 3)
  end
  for i = 1, #frames do
    if type(frames[i]) ~= "string" then
      error(who .. ": frame " .. i .. " is not a string", 3)
    end
  end
end

-- Decode header + data frames. Returns a message table with type/meth/okey/seq/zip and the
-- data map's meta (string) and body (string or nil).
local function parse_upper(hframe, dframe)
  local h, herr = mp.decode(hframe, { wrap_bin = true })
  if h == nil then
    return proto("header: " .. tostring(herr and herr.message))
  end
  if not is_map(h) then
    return proto("header is not a msgpack map")
  end
  if not is_int(h.type, 0, 255) then
    return proto("header field `type` missing or not an integer")
  end
  if type(h.meth) ~= "string" then
    return proto("header field `meth` missing or not a string")
  end
  if type(h.okey) ~= "string" and not mp.is_bin(h.okey) then
    return proto("header field `okey` missing or not str/bin")
  end
  if not is_int(h.seq, 0, UINT32_MAX) then
    return proto("header field `seq` missing or not a uint32")
  end
  if type(h.zip) ~= "boolean" then
    return proto("header field `zip` missing or not a boolean")
  end
  if h.zip then
    return proto("compressed (zip=true) messages are not supported")
  end
  local d, derr = mp.decode(dframe, { wrap_bin = true })
  if d == nil then
    return proto("data frame: " .. tostring(derr and derr.message))
  end
  if not is_map(d) then
    return proto("data frame is not a msgpack map")
  end
  if not mp.is_bin(d.meta) then
    return proto("data field `meta` missing or not bin")
  end
  local body = d.body
  if body == nil or body == mp.null then
    body = nil
  elseif mp.is_bin(body) then
    body = body.data
  else
    return proto("data field `body` is neither bin nor nil")
  end
  return {
    type = h.type,
    meth = h.meth,
    okey = h.okey,
    seq = h.seq,
    zip = false,
    meta = d.meta.data,
    body = body,
  }
end

--- Parse frames received on the ROUTER (identity first).
---@param frames string[]
---@return bai.rpc.Message|nil msg, bai.Error|nil err  err.code is "EPROTO"
function M.parse(frames)
  check_frames(frames, "bai.rpc.codec.parse")
  if #frames ~= 4 then
    return proto("expected 4 frames, got " .. #frames)
  end
  local identity, ftype = frames[1], frames[2]
  if ftype == "PING" then
    return { kind = "ping", identity = identity, frames = frames }
  end
  if ftype ~= "UPPER" then
    return proto("unknown frame type " .. string.format("%q", ftype:sub(1, 32)))
  end
  local m, err = parse_upper(frames[3], frames[4])
  if not m then
    return nil, err
  end
  m.identity = identity
  if m.type == M.CANCEL then
    m.kind = "cancel"
    m.meta, m.body = nil, nil
    return m
  end
  if m.type ~= M.FUNCTION then
    return proto("unexpected message type " .. m.type .. " for a server")
  end
  m.kind = "request"
  local body = m.body
  m.meta, m.body = nil, nil
  if body == nil then
    m.args, m.kwargs = mp.array(), {}
    return m
  end
  local b, berr = mp.unpack(body)
  if b == nil then
    return proto("request body: " .. tostring(berr and berr.message))
  end
  if not is_map(b) then
    return proto("request body is not a map")
  end
  if not mp.is_array(b.args) then
    return proto("request body field `args` missing or not an array")
  end
  if not is_map(b.kwargs) then
    return proto("request body field `kwargs` missing or not a map")
  end
  m.args, m.kwargs = b.args, b.kwargs
  return m
end

--- Frames answering a PING: the same identity, "PONG", and frames 3-4 echoed.
---@param msg bai.rpc.Message  a kind="ping" message from M.parse
---@return string[]
function M.pong(msg)
  return { msg.identity, "PONG", msg.frames[3], msg.frames[4] }
end

local function reply(req, mtype, meta, body)
  local header = setmetatable({
    type = mtype,
    meth = req.meth,
    okey = req.okey,
    seq = req.seq,
    zip = false,
  }, HEADER_MT)
  local data = setmetatable({ meta = mp.bin(meta), body = body }, DATA_MT)
  local h, d = mp.encode(header), mp.encode(data)
  if req.identity == nil then
    return { "UPPER", h, d }
  end
  return { req.identity, "UPPER", h, d }
end

--- Frames of a RESULT (type 2) for req. Raises if value cannot be msgpack-encoded.
---@param req bai.rpc.Message  the request (identity, meth, okey, seq are echoed)
---@param value any            the return value; nil encodes as msgpack nil
---@return string[]
function M.result(req, value)
  return reply(req, M.RESULT, EMPTY_TUPLE, mp.bin(mp.encode(value)))
end

--- Frames of a FAILURE (type 3): meta is msgpack [name, repr, traceback], body nil.
---@param req bai.rpc.Message
---@param name string        exception class name, e.g. "KeyError"
---@param repr string        e.g. "KeyError('x')"
---@param traceback? string  defaults to ""
---@return string[]
function M.failure(req, name, repr, traceback)
  if type(name) ~= "string" or type(repr) ~= "string" then
    error("bai.rpc.codec.failure: name and repr must be strings", 2)
  end
  local meta = mp.encode(mp.array({ name, repr, traceback or "" }))
  return reply(req, M.FAILURE, meta, mp.null)
end

--- Frames of a FUNCTION request as a DEALER sends them (no identity frame).
---@param meth string
---@param args? any[]         positional arguments (array)
---@param kwargs? table       keyword arguments (map; may carry a `__keys` order)
---@param seq? integer        default 0
---@param okey? string|table  default bin "" (as the manager's pool sends)
---@return string[]
function M.request(meth, args, kwargs, seq, okey)
  if type(meth) ~= "string" then
    error("bai.rpc.codec.request: meth must be a string", 2)
  end
  local a = mp.array()
  for i = 1, #(args or {}) do
    a[i] = args[i]
  end
  local body = setmetatable({ args = a, kwargs = kwargs or {} }, BODY_MT)
  local req = {
    meth = meth,
    okey = okey == nil and mp.bin("") or okey,
    seq = seq or 0,
  }
  local header = setmetatable({
    type = M.FUNCTION,
    meth = req.meth,
    okey = req.okey,
    seq = req.seq,
    zip = false,
  }, HEADER_MT)
  local data = setmetatable({ meta = mp.bin(""), body = mp.bin(mp.encode(body)) }, DATA_MT)
  return { "UPPER", mp.encode(header), mp.encode(data) }
end

--- The DEALER's handshake frames.
---@return string[]
function M.ping_frames()
  return { "PING", "", "" }
end

---@class bai.rpc.Reply
---@field kind "pong"|"result"|"failure"|"cancelled"
---@field type? integer
---@field meth? string
---@field okey? string|table
---@field seq? integer
---@field value? any          RESULT: decoded return value (ext decoders applied; None is M.null)
---@field name? string        FAILURE/ERROR
---@field repr? string
---@field traceback? string

--- Parse frames received on a DEALER (no identity frame).
---@param frames string[]
---@return bai.rpc.Reply|nil reply, bai.Error|nil err
function M.parse_reply(frames)
  check_frames(frames, "bai.rpc.codec.parse_reply")
  if #frames ~= 3 then
    return proto("expected 3 frames, got " .. #frames)
  end
  if frames[1] == "PONG" then
    return { kind = "pong" }
  end
  if frames[1] ~= "UPPER" then
    return proto("unknown frame type " .. string.format("%q", frames[1]:sub(1, 32)))
  end
  local m, err = parse_upper(frames[2], frames[3])
  if not m then
    return nil, err
  end
  local r = { type = m.type, meth = m.meth, okey = m.okey, seq = m.seq }
  if m.type == M.RESULT then
    if m.body == nil then
      return proto("RESULT without a body")
    end
    local v, verr = mp.unpack(m.body)
    if v == nil then
      return proto("result body: " .. tostring(verr and verr.message))
    end
    r.kind, r.value = "result", v
    return r
  end
  if m.type == M.FAILURE or m.type == M.ERROR then
    local t = m.meta ~= "" and mp.decode(m.meta) or nil
    if
      not mp.is_array(t)
      or #t ~= 3
      or type(t[1]) ~= "string"
      or type(t[2]) ~= "string"
      or type(t[3]) ~= "string"
    then
      return proto("failure metadata is not [name, repr, traceback]")
    end
    r.kind, r.name, r.repr, r.traceback = "failure", t[1], t[2], t[3]
    return r
  end
  if m.type == M.CANCELLED then
    r.kind = "cancelled"
    return r
  end
  return proto("unexpected message type " .. m.type .. " for a client")
end

return M
