--- RPC handlers: code execution in kernels (execute).
local errors = require("bai.errors")
local mp = require("bai.msgpack")
local kernel = require("bai.agent.kernel")

return function(agent)
  local H = {}

  local MODES = { query = true, batch = true, input = true, continue = true }

  H.execute = {
    params = {
      { "session_id", optional = true },
      { "kernel_id", type = "string" },
      { "api_version", type = "integer" },
      { "run_id", optional = true },
      { "mode", type = "string" },
      { "code", type = "string" },
      { "opts", optional = true },
      { "flush_timeout", optional = true },
    },
    run = function(_, p)
      if not MODES[p.mode] then
        return nil, errors.new("VALUE_ERROR", "unknown execution mode: " .. p.mode)
      end
      local k, err = agent:get_kernel(p.kernel_id)
      if not k then
        return nil, err
      end
      if not k.runner then
        return nil, errors.new("ECLOSED", "kernel " .. p.kernel_id .. " has no runner connection")
      end
      local flush = p.flush_timeout
      if flush ~= nil and (type(flush) ~= "number" or flush ~= flush or flush < 0) then
        return nil, errors.new("VALUE_ERROR", "flush_timeout must be a number >= 0 or None")
      end
      local run_id = type(p.run_id) == "string" and p.run_id or nil
      local opts = type(p.opts) == "table" and p.opts or {}
      if p.mode == "batch" then
        for _, key in ipairs({ "clean", "build", "exec" }) do
          local v = opts[key]
          if v ~= nil and v ~= mp.null and type(v) ~= "string" then
            return nil, errors.new("VALUE_ERROR", "opts." .. key .. " must be a string")
          end
          if v == mp.null then
            opts[key] = nil
          end
        end
      end
      local res, xerr = k.runner:execute(run_id, p.mode, p.code, opts, p.api_version, flush)
      if not res then
        return nil, xerr
      end
      if res.status == "exec-timeout" then
        -- as upstream: a kernel whose run timed out is destroyed
        kernel.destroy(agent, p.kernel_id, p.session_id, "exec-timeout")
      end
      if res.exitCode == nil then
        res.exitCode = mp.null
      end
      return res
    end,
  }

  return H
end
