--- RPC handlers: the agent itself (ping, health, gather_hwinfo, gather_hwinfo_v2,
--- get_local_config).
local mp = require("bai.msgpack")
local sched = require("bai.sched")
local sys = require("bai.core.sys")
local docker = require("bai.docker")

return function(agent, server_stats)
  local H = {}

  H.ping = {
    params = { { "msg" } },
    run = function(_, p)
      return p.msg
    end,
  }

  -- Hardware metadata of the intrinsic devices (Backend.AI HardwareMetadata shape:
  -- {status, status_info, metadata: {str: str}}).
  local function hwinfo()
    local cores = sys.cpu_list()
    return {
      cpu = {
        status = "healthy",
        status_info = mp.null,
        metadata = {
          model_name = sys.cpu_model(),
          core_count = tostring(#cores),
          cores = table.concat(cores, ","),
          architecture = sys.arch(),
        },
      },
      mem = {
        status = "healthy",
        status_info = mp.null,
        metadata = {
          total_bytes = string.format("%.0f", sys.mem_total()),
          allocated_bytes = string.format("%.0f", agent.resources.mem_used),
        },
      },
    }
  end

  H.gather_hwinfo = {
    params = {},
    run = function()
      return hwinfo()
    end,
  }

  H.gather_hwinfo_v2 = {
    params = { { "req", optional = true } },
    run = function()
      local devices = mp.array({})
      for _, name in ipairs({ "cpu", "mem" }) do
        local d = hwinfo()[name]
        devices[#devices + 1] = { device_name = name, status = d.status,
          status_info = d.status_info, metadata = d.metadata }
      end
      return { devices = devices }
    end,
  }

  local function health()
    local ok = docker.ping()
    local now = sys.time()
    return {
      status = ok and "healthy" or "degraded",
      version = require("bai.main").VERSION,
      component = "agent",
      connectivity = {
        overall_healthy = ok == true,
        connectivity_checks = mp.array({
          { service_name = "docker", connection_type = "unix-socket", is_healthy = ok == true,
            last_checked_at = now, error_message = ok and mp.null or "docker did not answer" },
        }),
        timestamp = now,
      },
    }
  end

  H.health = { params = {}, run = health }
  H.health_v2 = { params = { { "req", optional = true } }, run = health }

  H.get_local_config = {
    params = {},
    run = function()
      return {
        agent = { ["abuse-report-path"] = agent.cfg.agent["abuse-report-path"] or mp.null },
        watcher = {},
      }
    end,
  }

  -- bai-agent's own counters (not part of the Backend.AI RPC surface)
  H.bai_stats = {
    params = {},
    run = function()
      local kernels = 0
      for _ in pairs(agent.kernels) do
        kernels = kernels + 1
      end
      local avail = agent.resources:available()
      return {
        rpc = server_stats,
        sched = sched.stats(),
        kernels = kernels,
        ports_in_use = agent.ports:in_use(),
        free = { cpu = avail.cpu, mem = avail.mem },
      }
    end,
  }

  return H
end
