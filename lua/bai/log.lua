--- bai.log — leveled logging to stderr: "2026-12-03T17:00:00.123Z INFO bai.rpc: message".
local M = {}

-- Python logging's levels (TRACE and NOTSET, which Backend.AI configs may name, log
-- everything from DEBUG up)
local LEVELS = { NOTSET = 0, TRACE = 5, DEBUG = 10, INFO = 20, WARNING = 30, WARN = 30,
  ERROR = 40, CRITICAL = 50 }

--- Whether a level name is known.
---@param level string
---@return boolean
function M.is_level(level)
  return LEVELS[tostring(level):upper()] ~= nil
end
local threshold = LEVELS.INFO
local sink = io.stderr

--- Set the minimum level ("DEBUG", "INFO", "WARNING", "ERROR").
---@param level string
function M.set_level(level)
  threshold = LEVELS[tostring(level):upper()] or LEVELS.INFO
end

--- Redirect output (tests); f must have :write and :flush.
function M.set_sink(f)
  sink = f or io.stderr
end

local function stamp()
  local t = os.time()
  local ok, loop = pcall(require, "bai.core.loop")
  local frac = 0
  if ok then
    local now = loop.time()
    t = math.floor(now)
    frac = math.floor((now - t) * 1000)
  end
  return os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%03dZ", frac)
end

local function emit(level, name, fmt, ...)
  if LEVELS[level] < threshold then
    return
  end
  local ok, msg = pcall(string.format, fmt, ...)
  if not ok then
    msg = tostring(fmt)
  end
  sink:write(stamp(), " ", level, " ", name, ": ", msg, "\n")
  sink:flush()
end

---@class bai.Logger
---@field name string
local Logger = {}
Logger.__index = Logger

--- Log at DEBUG (fmt as string.format). Likewise info, warn, error.
---@param fmt string
function Logger:debug(fmt, ...)
  emit("DEBUG", self.name, fmt, ...)
end
function Logger:info(fmt, ...)
  emit("INFO", self.name, fmt, ...)
end
function Logger:warn(fmt, ...)
  emit("WARNING", self.name, fmt, ...)
end
function Logger:error(fmt, ...)
  emit("ERROR", self.name, fmt, ...)
end

--- A named logger.
---@param name string
---@return bai.Logger
function M.get(name)
  return setmetatable({ name = name }, Logger)
end

return M
