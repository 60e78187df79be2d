-- Running async test code: spawn fn as a task, step the loop until it ends, return its
-- values; a failure or a time-out is raised so that busted reports it.
local sched = require("bai.sched")

local M = {}

--- Run fn as a task for at most `timeout` seconds (default 60).
function M.run(fn, timeout)
  timeout = timeout or 60
  local t = sched.spawn(fn, "spec")
  if not sched.run(t, timeout) then
    t:cancel()
    sched.run(t, 5)
    error("spec task timed out after " .. tostring(timeout) .. " s", 2)
  end
  if t.status == "failed" then
    error(t.err, 0)
  end
  return unpack(t.result, 1, t.result.n)
end

return M
