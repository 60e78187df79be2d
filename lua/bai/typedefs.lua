--- bai.typedefs — reusable field definitions for bai.schema, plus parsers for the
--- string forms they accept (bytes "512m", durations "30s", CPU sets "0-3,8").
---
--- Each typedef is a field table usable as is (`t.port`) or called with overrides
--- (`t.port({ default = 6001 })`), which returns a fresh merged copy.
local M = {}

local function typedef(def)
  return setmetatable(def, {
    __call = function(self, overrides)
      local out = {}
      for k, v in pairs(self) do
        out[k] = v
      end
      for k, v in pairs(overrides or {}) do
        out[k] = v
      end
      return out
    end,
  })
end

local function describe(v)
  return require("bai.schema").describe(v)
end

local BYTE_UNITS = {
  [""] = 1,
  b = 1,
  k = 2 ^ 10,
  m = 2 ^ 20,
  g = 2 ^ 30,
  t = 2 ^ 40,
  p = 2 ^ 50,
  e = 2 ^ 60,
}

--- Parse a binary size: a non-negative integer, or a string "<n>[kmgtpe][i][b]" with
--- binary (1024-based) units, case-insensitive, as Backend.AI's BinarySize does
--- ("512m", "1G", "1.5g", "64KiB", "1024").
---@param v string|number
---@return number|nil bytes, string|nil err
function M.parse_bytes(v)
  if type(v) == "number" then
    if v >= 0 and math.floor(v) == v then
      return v
    end
    return nil, "expected a non-negative integer number of bytes, got " .. describe(v)
  end
  if type(v) ~= "string" then
    return nil, "expected a size such as \"512m\" or \"1G\", got " .. describe(v)
  end
  local num, unit = v:lower():match("^%s*(%d+%.?%d*)%s*([kmgtpe]?)i?b?%s*$")
  if not num then
    return nil, "expected a size such as \"512m\" or \"1G\", got " .. describe(v)
  end
  return math.floor(tonumber(num) * BYTE_UNITS[unit])
end

local DURATION_UNITS = {
  [""] = 1,
  ms = 0.001,
  s = 1,
  m = 60,
  h = 3600,
  d = 86400,
  w = 604800,
}

--- Parse a duration to seconds: a non-negative number of seconds or a string such as
--- "30s", "1.5m", "100ms", "2h", "1d" (a bare number string means seconds).
---@param v string|number
---@return number|nil seconds, string|nil err
function M.parse_duration(v)
  if type(v) == "number" then
    if v >= 0 and v == v and v ~= math.huge then
      return v
    end
    return nil, "expected a non-negative duration, got " .. describe(v)
  end
  if type(v) ~= "string" then
    return nil, "expected a duration such as \"30s\", got " .. describe(v)
  end
  local num, unit = v:lower():match("^%s*(%d+%.?%d*)%s*(%a*)%s*$")
  if not num or not DURATION_UNITS[unit] then
    return nil, "expected a duration such as \"30s\", got " .. describe(v)
  end
  return tonumber(num) * DURATION_UNITS[unit]
end

--- Parse a CPU set such as "0-3,8,10-11" to a sorted list of unique CPU indices.
---@param v string
---@return integer[]|nil cpus, string|nil err
function M.parse_cpu_set(v)
  local bad = "expected a CPU set such as \"0-3,8\", got " .. describe(v)
  if type(v) ~= "string" or v:match("^%s*$") then
    return nil, bad
  end
  local seen, out = {}, {}
  for part in (v .. ","):gmatch("([^,]*),") do
    local a, b = part:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
    if not a then
      a = part:match("^%s*(%d+)%s*$")
      b = a
    end
    if not a then
      return nil, bad
    end
    a, b = tonumber(a), tonumber(b)
    if a > b or b > 65535 then
      return nil, bad
    end
    for i = a, b do
      if not seen[i] then
        seen[i] = true
        out[#out + 1] = i
      end
    end
  end
  table.sort(out)
  return out
end

local function validator(parse)
  return function(v)
    local ok, err = parse(v)
    if ok == nil then
      return nil, err
    end
    return true
  end
end

--- TCP/UDP port number 1..65535.
M.port = typedef({ type = "integer", between = { 1, 65535 } })

--- A host name or IP address (v4, or v6 optionally in brackets). Empty is not allowed.
M.host = typedef({
  type = "string",
  custom_validator = function(v)
    if v ~= "" and #v <= 255 and v:match("^[%w%.%-_:%[%]%%]+$") then
      return true
    end
    return nil, "expected a host name or IP address, got " .. describe(v)
  end,
})

--- An absolute filesystem path.
M.path = typedef({
  type = "string",
  custom_validator = function(v)
    if v:sub(1, 1) == "/" and not v:find("\0", 1, true) then
      return true
    end
    return nil, "expected an absolute path, got " .. describe(v)
  end,
})

--- A filesystem path, relative (to the working directory) or absolute.
M.any_path = typedef({
  type = "string",
  custom_validator = function(v)
    if v ~= "" and not v:find("\0", 1, true) then
      return true
    end
    return nil, "expected a path, got " .. describe(v)
  end,
})

--- A binary size: "512m", "1G" or an integer number of bytes (see parse_bytes). The value
--- is kept as written; convert it with typedefs.parse_bytes.
M.bytes = typedef({ type = "any", custom_validator = validator(M.parse_bytes) })

--- A duration: "30s", "100ms" or a number of seconds (see parse_duration). Kept as written.
M.duration = typedef({ type = "any", custom_validator = validator(M.parse_duration) })

--- A CPU set string: "0-3,8" (see parse_cpu_set).
M.cpu_set = typedef({ type = "string", custom_validator = validator(M.parse_cpu_set) })

--- A non-negative device index.
M.device_index = typedef({ type = "integer", between = { 0, 65535 } })

--- A UUID string (any version, lower or upper case hex).
M.uuid = typedef({
  type = "string",
  match = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$",
})

return M
