--- bai.json — JSON with lua-cjson, plus empty-array support.
---
--- cjson 2.1.0 encodes every empty table as `{}`. Tables carrying the shared array
--- metatable (bai.msgpack's `array_mt`, set by `json.array(t)` or by decoding) encode as
--- arrays, so `[]` survives a round trip.
local cjson = require("cjson.safe")
local cjson_raw = require("cjson")
local errors = require("bai.errors")
local mp = require("bai.core.msgpack")

local M = {}

M.null = cjson_raw.null
cjson.encode_number_precision(14)
cjson_raw.encode_number_precision(14)
cjson.encode_sparse_array(true)
cjson_raw.encode_sparse_array(true)

local EMPTY = "\0bai-empty-array\0"
-- as a Lua pattern: how cjson writes EMPTY ("\u0000" escapes, "-" escaped for gsub)
local EMPTY_PATTERN = '"\\u0000bai%-empty%-array\\u0000"'

--- Mark t as an array (so it encodes as [] when empty); returns t.
---@generic T
---@param t T
---@return T
function M.array(t)
  return mp.array(t or {})
end

local function has_empty_arrays(v, depth)
  if type(v) ~= "table" or depth > 100 then
    return false
  end
  if next(v) == nil then
    return mp.is_array(v)
  end
  for _, x in pairs(v) do
    if has_empty_arrays(x, depth + 1) then
      return true
    end
  end
  return false
end

local function replace_empty(v)
  if type(v) ~= "table" then
    return v
  end
  if next(v) == nil then
    return mp.is_array(v) and EMPTY or v
  end
  local out = {}
  for k, x in pairs(v) do
    out[k] = replace_empty(x)
  end
  return out
end

--- Encode a value as JSON text, or nil, err.
---@param v any
---@return string|nil text, bai.Error|nil err
function M.encode(v)
  local marked = has_empty_arrays(v, 0)
  local s, err = cjson.encode(marked and replace_empty(v) or v)
  if not s then
    return nil, errors.new("VALUE_ERROR", "cannot encode JSON: " .. tostring(err))
  end
  if marked then
    s = s:gsub(EMPTY_PATTERN, "[]")
  end
  -- cjson escapes "/" as "\/"; both are valid JSON, the plain form is easier to read.
  -- A literal backslash is written "\\", so this never touches one.
  return (s:gsub("\\/", "/"))
end

--- Decode JSON text; arrays come back marked (so they re-encode as arrays).
---@param s string
---@return any|nil value, bai.Error|nil err
function M.decode(s)
  local v, err = cjson.decode(s)
  if v == nil and err then
    return nil, errors.new("VALUE_ERROR", "invalid JSON: " .. tostring(err))
  end
  return v
end

return M
