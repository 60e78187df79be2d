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

  local function check(name)
    if not valid_name(name) then
      return nil, errors.new("VALUE_ERROR", string.format(
        "invalid network name %q: use letters, digits, '_', '.', '-'", name))
    end
    return true
  end

  H.create_local_network = {
    params = { { "network_name", type = "string" } },
    run = function(_, p)
      local ok, err = check(p.network_name)
      if not ok then
        return nil, err
      end
      local res
      res, err = docker.network_create({
        Name = p.network_name,
        Driver = "bridge",
        CheckDuplicate = true,
        Labels = { ["ai.backend.cluster-network"] = "1" },
      })
      if not res then
        if err.code == "DOCKER_CONFLICT" then
          err.wire = "RuntimeError"
          err.message = "network " .. p.network_name .. " already exists: " .. err.message
        end
        return nil, err
      end
      return nil
    end,
  }

  H.destroy_local_network = {
    params = { { "network_name", type = "string" } },
    run = function(_, p)
      local ok, err = check(p.network_name)
      if not ok then
        return nil, err
      end
      ok, err = docker.network_remove(p.network_name)
      if not ok then
        return nil, err
      end
      return nil
    end,
  }

  return H
end
