--- RPC handlers: kernel lifecycle (create_kernels, destroy_kernel, ping_kernel, get_logs,
--- interrupt_kernel, get_completions, check_creating, check_running).
local sched = require("bai.sched")
local errors = require("bai.errors")
local docker = require("bai.docker")
local mp = require("bai.msgpack")
local kconfig = require("bai.agent.kconfig")
local kernel = require("bai.agent.kernel")

return function(agent)
  local H = {}

  local function is_str(v)
    return type(v) == "string" and v ~= ""
  end

  -- A handler body for one existing kernel: fn(kernel, params); unknown ids -> KeyError.
  -- With needs_runner, a kernel whose runner connection is gone fails cleanly.
  local function on_kernel(fn, needs_runner)
    return function(ctx, p)
      local k, err = agent:get_kernel(p.kernel_id)
      if not k then
        return nil, err
      end
      if needs_runner and not k.runner then
        return nil, errors.new("ECLOSED", "kernel " .. p.kernel_id .. " has no runner connection")
      end
      return fn(k, p, ctx)
    end
  end

  H.create_kernels = {
    params = {
      { "session_id", type = "string" },
      { "kernel_ids", type = "list" },
      { "configs", type = "list" },
      { "cluster_info", optional = true },
      { "kernel_image_refs", optional = true },
    },
    run = function(ctx, p)
      -- validate everything before taking anything
      if #p.kernel_ids == 0 or #p.kernel_ids ~= #p.configs then
        return nil, errors.new("VALUE_ERROR", string.format(
          "kernel_ids (%d) and configs (%d) must be non-empty lists of the same length",
          #p.kernel_ids, #p.configs))
      end
      local refs = type(p.kernel_image_refs) == "table" and p.kernel_image_refs or {}
      local specs, seen = {}, {}
      for i, kid in ipairs(p.kernel_ids) do
        if not is_str(kid) or not kid:match("^[%w%-_]+$") then
          return nil, errors.new("VALUE_ERROR", "invalid kernel id: " .. tostring(kid))
        end
        if seen[kid] or agent.kernels[kid] or agent.creating[kid] then
          return nil, errors.new("VALUE_ERROR", "kernel " .. kid .. " already exists")
        end
        seen[kid] = true
        local cfg = p.configs[i]
        local digest, err = kconfig.validate_config(cfg)
        if not digest then
          err.message = "kernel " .. kid .. ": " .. err.message
          return nil, err
        end
        local ref
        if refs[kid] ~= nil and refs[kid] ~= mp.null then
          ref, err = kconfig.image_ref(refs[kid])
        else
          ref, err = kconfig.image_ref_from_config(cfg.image)
        end
        if not ref then
          return nil, err
        end
        specs[i] = { kernel_id = kid, session_id = p.session_id, config = cfg, digest = digest,
          image_ref = ref }
      end
      for _, s in ipairs(specs) do
        agent.creating[s.kernel_id] = sched.event() -- set when this create ends
      end
      local tasks = {}
      for i, s in ipairs(specs) do
        tasks[i] = sched.spawn(function()
          local ok, aerr = agent.create_sem:acquire()
          if not ok then
            return nil, aerr
          end
          local res, err = kernel.create(agent, s)
          agent.create_sem:release()
          return res, err
        end, "create:" .. s.kernel_id)
      end
      local results, failures = mp.array({}), {}
      for i, t in ipairs(tasks) do
        local res, err = t:join()
        agent.creating[specs[i].kernel_id]:set()
        agent.creating[specs[i].kernel_id] = nil
        if res then
          results[#results + 1] = res
        else
          failures[#failures + 1] = err
        end
      end
      if #failures > 0 then
        -- all or nothing: kernels of this call that did start are destroyed again
        for _, res in ipairs(results) do
          kernel.destroy(agent, res.id, p.session_id, "failed-to-create")
        end
        local first = failures[1]
        if not errors.is(first) then
          first = errors.new("INTERNAL", tostring(first))
        end
        if #failures > 1 then
          local msgs = {}
          for _, f in ipairs(failures) do
            msgs[#msgs + 1] = tostring(f)
          end
          return nil, errors.new(first.code, table.concat(msgs, "; "),
            { wire = "TaskGroupError" })
        end
        return nil, first
      end
      ctx.log:info("session %s: created %d kernel(s)", p.session_id, #results)
      return results
    end,
  }

  H.destroy_kernel = {
    params = {
      { "kernel_id", type = "string" },
      { "session_id", optional = true },
      { "reason", optional = true },
      { "suppress_events", default = false },
    },
    run = function(_, p)
      local creating = agent.creating[p.kernel_id]
      if creating then
        -- being created: let the create finish (or fail), then destroy what it made
        creating:wait(600)
        if not agent.kernels[p.kernel_id] then
          return nil
        end
      end
      local ok, err = kernel.destroy(agent, p.kernel_id, p.session_id,
        type(p.reason) == "string" and p.reason or nil)
      if not ok then
        return nil, err
      end
      return nil
    end,
  }

  H.ping_kernel = {
    params = { { "kernel_id", type = "string" } },
    run = on_kernel(function(k, p)
      local st = k.runner and k.runner:status(5)
      if type(st) ~= "table" then
        return mp.null
      end
      return st
    end),
  }

  H.get_logs = {
    params = { { "kernel_id", type = "string" } },
    run = on_kernel(function(k, p)
      local logs, lerr = docker.container_logs(k.container_id, { tty = true })
      if not logs then
        return nil, lerr
      end
      return { logs = logs }
    end),
  }

  H.interrupt_kernel = {
    params = { { "kernel_id", type = "string" } },
    run = on_kernel(function(k, p)
      local ok, ierr = k.runner:interrupt()
      if not ok then
        return nil, ierr
      end
      return { status = "finished" }
    end, true),
  }

  H.get_completions = {
    params = { { "kernel_id", type = "string" }, { "text", type = "string" },
      { "opts", optional = true } },
    run = on_kernel(function(k, p)
      local res, err = k.runner:complete(p.text, type(p.opts) == "table" and p.opts or {}, 10)
      if not res then
        return { result = { status = "failed", suggestions = mp.array({}),
          error = err.code == "ETIMEDOUT" and "timeout" or err.message } }
      end
      return { result = { status = "finished", error = mp.null,
        suggestions = mp.array(res.suggestions or {}) } }
    end, true),
  }

  H.check_creating = {
    params = { { "kernel_id", type = "string" } },
    run = function(_, p)
      return agent.creating[p.kernel_id] ~= nil or agent.kernels[p.kernel_id] ~= nil
    end,
  }

  H.check_running = {
    params = { { "kernel_id", type = "string" } },
    run = function(_, p)
      local k = agent.kernels[p.kernel_id]
      return k ~= nil and k.status == "RUNNING"
    end,
  }

  return H
end
