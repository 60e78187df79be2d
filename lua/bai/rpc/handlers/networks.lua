--- RPC handlers: per-session bridge networks (create_local_network,
--- destroy_local_network).
local errors = require("bai.errors")
local docker = require("bai.docker")

return function(_)
  local H = {}

  -- Docker's own rule for object names
  local function valid_name(name)
    return #name <= 255 and name:match("^[%w][%w_.%-]*$") ~= nil
  end

  -- A handler body run only for a valid network name.
  local function on_valid_name(fn)
    return function(_, p)
      if not valid_name(p.network_name) then
        return nil, errors.new("VALUE_ERROR", string.format(
          "invalid network name %q: use letters, digits, '_', '.', '-'", p.network_name))
      end
      local ok, err = fn(p.network_name)
      if not ok then
        return nil, err
      end
      return nil
    end
  end

  H.create_local_network = {
    params = { { "network_name", type = "string" } },
    run = on_valid_name(function(name)
      local res, err = docker.network_create({
        Name = name,
        Driver = "bridge",
        CheckDuplicate = true,
        Labels = { ["ai.backend.cluster-network"] = "1" },
      })
      if not res and err.code == "DOCKER_CONFLICT" then
        err.wire = "RuntimeError"
        err.message = "network " .. name .. " already exists: " .. err.message
      end
      return res, err
    end),
  }

  H.destroy_local_network = {
    params = { { "network_name", type = "string" } },
    run = on_valid_name(function(name)
      return docker.network_remove(name)
    end),
  }

  return H
end
