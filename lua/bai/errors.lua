--- bai.errors — the one structured error type (bai.Error) and its mapping to the
--- exception names the Backend.AI manager expects on the wire.
---
--- Expected failures are returned as `nil, err`; `err` is a table with a stable `code`
--- and a human `message`. C bindings build the same objects (one shared metatable).
local core = require("bai.core.err")

local M = {}

---@class bai.Error
---@field code string       stable UPPER_SNAKE or errno-style code ("ETIMEDOUT", "KEY_ERROR")
---@field message string    human-readable text
---@field op? string        operation, e.g. "docker.container_create"
---@field errno? integer
---@field status? integer   HTTP status for Docker errors
---@field fields? table     per-field messages for SCHEMA_VIOLATION / CONFIG_INVALID
---@field cause? bai.Error  wrapped error
---@field wire? string      exception name to use on the RPC wire (overrides the table)

local mt = core.metatable()
M.metatable = mt

--- Create an error.
---@param code string
---@param message string
---@param extra? table  more fields (op, status, fields, cause, wire, ...)
---@return bai.Error
function M.new(code, message, extra)
  local e = { code = code, message = message }
  if extra then
    for k, v in pairs(extra) do
      e[k] = v
    end
  end
  return setmetatable(e, mt)
end

--- Whether v is a bai.Error (optionally with the given code).
---@param v any
---@param code? string
---@return boolean
function M.is(v, code)
  if type(v) ~= "table" or getmetatable(v) ~= mt then
    return false
  end
  return code == nil or v.code == code
end

--- Set `op` on err if it has none; returns err (for `return nil, errors.at(err, "x")`).
---@param err bai.Error
---@param op string
---@return bai.Error
function M.at(err, op)
  if type(err) == "table" and err.op == nil then
    err.op = op
  end
  return err
end

--- Wrap an error with context: a new error of `code` whose cause is `err`.
---@param code string
---@param message string
---@param cause any
---@param extra? table
---@return bai.Error
function M.wrap(code, message, cause, extra)
  local e = M.new(code, message .. ": " .. tostring(cause), extra)
  e.cause = cause
  return e
end

-- Exception names by code. Anything not listed surfaces as RuntimeError.
M.WIRE_NAMES = {
  KEY_ERROR = "KeyError",
  KERNEL_NOT_FOUND = "KeyError",
  PERMISSION_ERROR = "PermissionError",
  EPERM = "PermissionError",
  VALUE_ERROR = "ValueError",
  INVALID_ARGUMENT = "ValueError",
  SCHEMA_VIOLATION = "ValueError",
  TYPE_ERROR = "TypeError",
  INSUFFICIENT_RESOURCE = "InsufficientResource",
  INVALID_RESOURCE = "InvalidResourceArgument",
  IMAGE_NOT_AVAILABLE = "ImageNotAvailable",
  UNSUPPORTED_ARCH = "UnsupportedArchitectureError",
  ETIMEDOUT = "TimeoutError",
  ECANCELED = "CancelledError",
  UNKNOWN_METHOD = "AttributeError",
  NOT_IMPLEMENTED = "NotImplementedError",
  AGENT_ID_NOT_FOUND = "AgentIdNotFoundError",
}

--- The Python exception name this error travels as.
---@param err any
---@return string
function M.wire_name(err)
  if M.is(err) then
    return err.wire or M.WIRE_NAMES[err.code] or "RuntimeError"
  end
  return "RuntimeError"
end

--- Python's repr() of a str: single quotes unless the text has ' and no ".
---@param s string
---@return string
function M.py_repr_str(s)
  local q = "'"
  if s:find("'", 1, true) and not s:find('"', 1, true) then
    q = '"'
  end
  local out = s:gsub("[%c\\" .. q .. "]", function(c)
    if c == "\\" then
      return "\\\\"
    elseif c == q then
      return "\\" .. q
    elseif c == "\n" then
      return "\\n"
    elseif c == "\r" then
      return "\\r"
    elseif c == "\t" then
      return "\\t"
    end
    return string.format("\\x%02x", c:byte())
  end)
  return q .. out .. q
end

--- (name, repr) of an error as a Python exception, e.g. "KeyError", "KeyError('x')".
---@param err any
---@return string name, string repr
function M.as_exception(err)
  local name = M.wire_name(err)
  local msg
  if M.is(err) then
    msg = err.message or err.code
  else
    msg = tostring(err)
  end
  return name, name .. "(" .. M.py_repr_str(msg) .. ")"
end

return M
