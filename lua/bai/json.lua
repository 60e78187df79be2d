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

-- Replace every empty array `[ ]` outside string literals with the EMPTY marker string,
-- so that it can be told apart from `{}` after cjson has decoded both as empty tables.
local function mark_empty_arrays(text)
  local out, pos, n = {}, 1, #text
  local i = 1
  while true do
    local j = text:find('[%["]', i)
    if not j then
      break
    end
    if text:sub(j, j) == '"' then
      -- skip the string literal, honouring backslash escapes
      local k = j + 1
      while true do
        local q = text:find('["\\]', k)
        if not q then
          return text -- unterminated: let cjson report it
        end
        if text:sub(q, q) == "\\" then
          k = q + 2
        else
          i = q + 1
          break
        end
      end
    else
      local close = text:match("^%[%s*()%]", j)
      if close then
        out[#out + 1] = text:sub(pos, j - 1)
        out[#out + 1] = '"\\u0000bai-empty-array\\u0000"'
        pos = close + 1
        i = close + 1
      else
        i = j + 1
      end
    end
    if i > n then
      break
    end
  end
  if pos == 1 then
    return text
  end
  out[#out + 1] = text:sub(pos)
  return table.concat(out)
end

-- Give decoded arrays the array metatable (cjson builds them as 1..n tables).
local function mark_arrays(v)
  if type(v) ~= "table" then
    return v == EMPTY and mp.array({}) or v
  end
  local count, max = 0, 0
  for k, x in pairs(v) do
    count = count + 1
    if type(k) == "number" and k > max then
      max = k
    end
    if type(x) == "table" or x == EMPTY then
      v[k] = mark_arrays(x)
    end
  end
  if count > 0 and max == count and #v == count then
    mp.array(v)
  end
  return v
end

--- Decode JSON text. Arrays come back with the array metatable, empty ones included, so
--- they re-encode as arrays.
---@param s string
---@return any|nil value, bai.Error|nil err
function M.decode(s)
  local text = s:find("%[%s*%]") and mark_empty_arrays(s) or s
  local v, err = cjson.decode(text)
  if v == nil and err then
    return nil, errors.new("VALUE_ERROR", "invalid JSON: " .. tostring(err))
  end
  return mark_arrays(v)
end

return M
