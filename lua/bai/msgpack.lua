--- bai.msgpack — MessagePack for the callosum RPC and Redis payloads.
---
--- Value mapping (encode / decode):
---
--- * str <-> string.
--- * bin <-> `M.bin(s)` wrapper; decode gives a plain string unless `opts.wrap_bin`.
--- * nil <-> `M.null` (lightuserdata NULL, the same value as `cjson.null`); Lua nil encodes as
---   nil too.
--- * int / float <-> number; integral values in int64 range encode as the smallest int
---   (non-negative as uint), everything else as float64.
--- * array <-> table with `M.array_mt` (decode); on encode also any non-empty sequence 1..n.
--- * map <-> plain table. An empty plain table encodes as a MAP. A metatable with a `__keys`
---   list (see `M.ordered`) fixes the key order.
--- * ext <-> `M.ext(code, data)` wrapper `{code=, data=}`; `M.unpack` applies registered
---   decoders.
---
--- Nesting is limited to 32 levels both ways. Encoding raises on cycles, functions, userdata
--- and too-deep nesting (misuse); decoding returns `nil, err` (code "EPROTO") on malformed,
--- truncated or trailing input.
---
--- Backend.AI ext codes (reference §1.3): 1 UUID (16 raw bytes; decoded here to the canonical
--- lower-case hyphenated string), 6 pickled enum, 7 pickled ImageRef, 8 ResourceSlot,
--- 9 SlotName, 3 Decimal, ... The pickle-based codes are registered by their own modules later;
--- until then they stay ext wrappers.
local core = require("bai.core.msgpack")
local errors = require("bai.errors")

local M = {}

M.null = core.null
M.array_mt = core.array_mt
M.bin_mt = core.bin_mt
M.ext_mt = core.ext_mt

--- Encode a Lua value. Raises on values that cannot be encoded.
---@param value any
---@return string
function M.encode(value)
  return core.encode(value)
end
M.pack = M.encode

--- Decode exactly one msgpack value (no ext decoders applied).
---@param s string
---@param opts? { wrap_bin?: boolean }  wrap_bin: bin values become M.bin wrappers
---@return any value, bai.Error|nil err
function M.decode(s, opts)
  return core.decode(s, opts)
end

--- Wrap a string so it encodes as msgpack bin.
---@param s string
---@return table wrapper `{data=s}`
M.bin = core.bin

--- Whether v is a bin wrapper.
---@param v any
---@return boolean
M.is_bin = core.is_bin

--- An ext value `{code=, data=}`.
---@param code integer -128..127
---@param data string
---@return table
M.ext = core.ext

--- Whether v is an ext wrapper.
---@param v any
---@return boolean
M.is_ext = core.is_ext

--- Mark t (or a new table) as an array, so it encodes as an array even when empty.
---@param t? table
---@return table t
M.array = core.array

--- Whether t carries the array metatable.
---@param t any
---@return boolean
M.is_array = core.is_array

--- A map whose keys encode in exactly the given order (others follow in any order).
---@param t table
---@param keys string[]
---@return table t
function M.ordered(t, keys)
  return setmetatable(t, { __keys = keys })
end

local ext_decoders = {}

--- Register a decoder for an ext type code. fn(data) returns the value, or nil, err.
---@param code integer
---@param fn fun(data: string): any, bai.Error?
function M.register_ext(code, fn)
  if type(code) ~= "number" or code ~= math.floor(code) or code < -128 or code > 127 then
    error("bai.msgpack.register_ext: code must be an integer in -128..127", 2)
  end
  if type(fn) ~= "function" then
    error("bai.msgpack.register_ext: fn must be a function", 2)
  end
  ext_decoders[code] = fn
end

-- Replace ext wrappers (values and map keys) by their decoded values, in place.
local function apply(v)
  if type(v) ~= "table" then
    return v
  end
  local mt = getmetatable(v)
  if mt == M.ext_mt then
    local fn = ext_decoders[v.code]
    if not fn then
      return v
    end
    local r, err = fn(v.data)
    if r == nil then
      return nil, err or errors.new("EPROTO", "msgpack: ext " .. v.code .. " decoder failed")
    end
    return r
  end
  if mt == M.bin_mt then
    return v
  end
  local rekeyed
  for k, x in pairs(v) do
    local nk, kerr = apply(k)
    if nk == nil then
      return nil, kerr
    end
    local nx, xerr = apply(x)
    if nx == nil then
      return nil, xerr
    end
    if nk ~= k then
      rekeyed = rekeyed or {}
      rekeyed[#rekeyed + 1] = { k, nk, nx }
    elseif nx ~= x then
      v[k] = nx -- assigning an existing field is allowed during traversal
    end
  end
  if rekeyed then
    for _, r in ipairs(rekeyed) do
      v[r[1]] = nil
    end
    for _, r in ipairs(rekeyed) do
      v[r[2]] = r[3]
    end
  end
  return v
end

--- Decode and apply the registered ext decoders recursively (unknown codes stay wrappers).
---@param s string
---@param opts? { wrap_bin?: boolean }
---@return any value, bai.Error|nil err
function M.unpack(s, opts)
  local v, err = core.decode(s, opts)
  if v == nil then
    return nil, err
  end
  return apply(v)
end

--- Format 16 raw bytes as a canonical UUID string.
---@param data string
---@return string|nil uuid, bai.Error|nil err
function M.uuid_from_bytes(data)
  if type(data) ~= "string" or #data ~= 16 then
    return nil, errors.new("EPROTO", "msgpack: UUID ext payload must be 16 bytes")
  end
  local hex = data:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end)
  return hex:sub(1, 8)
    .. "-"
    .. hex:sub(9, 12)
    .. "-"
    .. hex:sub(13, 16)
    .. "-"
    .. hex:sub(17, 20)
    .. "-"
    .. hex:sub(21, 32)
end

--- Encode a UUID string (hyphens optional) as an ext 1 wrapper, as Python's uuid.UUID packs.
---@param s string
---@return table|nil ext, bai.Error|nil err
function M.uuid_ext(s)
  local hex = type(s) == "string" and s:gsub("-", ""):lower() or ""
  if #hex ~= 32 or hex:find("[^0-9a-f]") then
    return nil, errors.new("EINVAL", "msgpack: not a UUID: " .. tostring(s))
  end
  local raw = hex:gsub("%x%x", function(h)
    return string.char(tonumber(h, 16))
  end)
  return core.ext(1, raw)
end

M.EXT_UUID = 1
M.EXT_ENUM = 6
M.EXT_IMAGE_REF = 7

M.register_ext(M.EXT_UUID, M.uuid_from_bytes)

return M
