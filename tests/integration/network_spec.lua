-- create_local_network / destroy_local_network against real Docker (spec scenarios).
local helpers = require("helpers.agent")
local docker = require("bai.docker")
local sys = require("bai.core.sys")

describe("local networks #docker", function()
  local agent = helpers.use_agent()
  local suffix = sys.random_hex(3)
  local made = {}

  local function name(base)
    local n = "bai-it-" .. base .. "-" .. suffix
    made[#made + 1] = n
    return n
  end

  lazy_teardown(function()
    helpers.run(function()
      for _, n in ipairs(made) do
        docker.network_remove(n)
      end
    end)
  end)

  it("creates a bridge network labelled as a cluster network", function()
    helpers.run(function()
      local n = name("new-01")
      assert.equal(require("bai.msgpack").null, agent.call("create_local_network", { n }))
      local info = assert(docker.network_inspect(n))
      assert.equal(n, info.Name)
      assert.equal("bridge", info.Driver)
      assert.equal("1", info.Labels["ai.backend.cluster-network"])
    end)
  end)

  it("refuses to create a network that already exists and leaves it unchanged", function()
    helpers.run(function()
      local n = name("existing-02")
      assert(docker.network_create({ Name = n, Driver = "bridge", Labels = { keep = "me" } }))
      local before = assert(docker.network_inspect(n))
      local v, err = agent.call("create_local_network", { n })
      assert.is_nil(v)
      assert.equal("RPC_FAILURE", err.code)
      local after = assert(docker.network_inspect(n))
      assert.equal(before.Id, after.Id)
      assert.equal("me", after.Labels.keep)
      assert.is_nil(after.Labels["ai.backend.cluster-network"])
    end)
  end)

  it("refuses an invalid network name and creates nothing", function()
    helpers.run(function()
      local bad = "invalid@name#for_net"
      local v, err = agent.call("create_local_network", { bad })
      assert.is_nil(v)
      assert.equal("ValueError", err.name)
      local list = assert(docker.networks_list({ name = { bad } }))
      for _, net in ipairs(list) do
        assert.are_not.equal(bad, net.Name)
      end
    end)
  end)

  it("destroys an existing unused network", function()
    helpers.run(function()
      local n = name("delete-me-a")
      assert(agent.call("create_local_network", { n }))
      assert.equal(require("bai.msgpack").null, agent.call("destroy_local_network", { n }))
      local _, err = docker.network_inspect(n)
      assert.equal("DOCKER_NOT_FOUND", err.code)
    end)
  end)

  it("raises when destroying a network that does not exist", function()
    helpers.run(function()
      local v, err = agent.call("destroy_local_network", { "bai-it-non-existent-b-" .. suffix })
      assert.is_nil(v)
      assert.equal("RPC_FAILURE", err.code)
    end)
  end)

  it("raises when destroying a network in use, which stays with its container", function()
    helpers.run(function()
      local n = name("busy-c")
      assert(agent.call("create_local_network", { n }))
      local c = assert(docker.container_create({
        Image = helpers.IMAGE,
        Cmd = { "sleep", "300" },
        Labels = { ["bai-it"] = suffix },
        HostConfig = { NetworkMode = n },
      }, "bai-it-busy-" .. suffix))
      local ok, err = pcall(function()
        assert(docker.container_start(c.Id))
        local v, derr = agent.call("destroy_local_network", { n })
        assert.is_nil(v)
        assert.equal("RPC_FAILURE", derr.code)
        local info = assert(docker.network_inspect(n))
        assert.equal(n, info.Name)
        local ci = assert(docker.container_inspect(c.Id))
        assert.is_true(ci.State.Running)
        assert.is_table(ci.NetworkSettings.Networks[n])
      end)
      docker.container_remove(c.Id, { force = true })
      assert(ok, err)
    end)
  end)
end)
