--- bai.runner.log — runner log lines on stderr, which is the container's log.
---
--- Lines look like `2024-05-01T12:00:00Z bai-krunner INFO message`. Debug lines appear
--- only with `--debug`. Unlike the Python runner, logs are never forwarded to the agent as
--- `stderr` frames, so they cannot mix with a user program's output.
local M = {}

M.debug_enabled = false

local function emit(level, fmt, ...)
  local ok, msg = pcall(string.format, fmt, ...)
  if not ok then
    msg = tostring(fmt)
  end
  io.stderr:write(os.date("!%Y-%m-%dT%H:%M:%SZ"), " bai-krunner ", level, " ", msg, "\n")
end

---@param fmt string
function M.debug(fmt, ...)
  if M.debug_enabled then
    emit("DEBUG", fmt, ...)
  end
end

---@param fmt string
function M.info(fmt, ...)
  emit("INFO", fmt, ...)
end

---@param fmt string
function M.warn(fmt, ...)
  emit("WARN", fmt, ...)
end

---@param fmt string
function M.error(fmt, ...)
  emit("ERROR", fmt, ...)
end

return M
