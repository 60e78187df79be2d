-- Crash safety: an agent killed with SIGKILL and started again adopts its running
-- kernels from their containers and state files, re-taking their cores and ports.
local helpers = require("helpers.agent")
local fs = require("bai.fs")
local docker = require("bai.docker")

describe("recovery after a crash #docker", function()
  local agent = helpers.use_agent()

  it("adopts a running kernel after kill -9 and can still run and destroy it", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local res = assert(helpers.create(agent, sid, { kid }))
      local before = assert(agent.call("bai_stats", {}))
      agent.crash_and_restart()
      assert.truthy(agent.read_log():find("adopted its running container", 1, true))
      local after = assert(agent.call("bai_stats", {}))
      assert.equal(1, after.kernels)
      assert.equal(before.ports_in_use, after.ports_in_use)
      assert.equal(before.free.cpu, after.free.cpu)
      assert.is_true(agent.call("check_running", { kid }))
      local r = assert(helpers.query(agent, sid, kid, "echo still here"))
      assert.equal("still here\n", helpers.console_text(r, "stdout"))
      assert(agent.call("destroy_kernel", { kid, sid }))
      local _, err = docker.container_inspect(res[1].container_id)
      assert.equal("DOCKER_NOT_FOUND", err.code)
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. kid))
    end)
  end)

  it("cleans up a kernel whose container stopped while the agent was down", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local res = assert(helpers.create(agent, sid, { kid }))
      agent.proc:kill("KILL")
      agent.proc:wait(10)
      assert(docker.container_kill(res[1].container_id, "KILL"))
      agent.client:close()
      agent.client = nil
      agent.proc:close()
      helpers.launch(agent)
      assert.is_false(agent.call("check_running", { kid }))
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. kid))
      local _, err = docker.container_inspect(res[1].container_id)
      assert.equal("DOCKER_NOT_FOUND", err.code)
      assert.equal(0, assert(agent.call("bai_stats", {})).ports_in_use)
    end)
  end)

  it("finishes the rollback of creates a crash interrupted", function()
    helpers.run(function()
      -- what a SIGKILL in the middle of create_kernels leaves: a scratch directory whose
      -- state says "creating", with or without the container made for it
      local with_c, without_c, skeleton = helpers.uuid(), helpers.uuid(), helpers.uuid()
      -- killed between mkdir and the state file: just the empty skeleton
      assert(fs.mkdir_p(agent.scratch_root .. "/" .. skeleton .. "/config"))
      assert(fs.mkdir_p(agent.scratch_root .. "/" .. skeleton .. "/work"))
      for _, kid in ipairs({ with_c, without_c }) do
        local dir = agent.scratch_root .. "/" .. kid
        assert(fs.mkdir_p(dir .. "/config"))
        assert(fs.write_json(dir .. "/config/bai-kernel.json",
          { status = "creating", id = kid, agent_id = agent.id }))
      end
      local c = assert(docker.container_create({
        Image = helpers.IMAGE,
        Cmd = { "sleep", "300" },
        Labels = { ["ai.backend.owner"] = agent.id, ["ai.backend.kernel-id"] = with_c },
      }, "kernel.busybox." .. with_c))
      agent.crash_and_restart()
      local _, err = docker.container_inspect(c.Id)
      assert.equal("DOCKER_NOT_FOUND", err.code)
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. with_c))
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. without_c))
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. skeleton))
      -- the ids are usable again
      local sid = helpers.uuid()
      assert(helpers.create(agent, sid, { with_c }))
      assert(agent.call("destroy_kernel", { with_c, sid }))
    end)
  end)

  it("keeps an owned container it cannot classify, and reports it", function()
    helpers.run(function()
      local c = assert(docker.container_create({
        Image = helpers.IMAGE,
        Cmd = { "sleep", "300" },
        Labels = { ["ai.backend.owner"] = agent.id, ["ai.backend.kernel-id"] = helpers.uuid() },
      }, "bai-it-stray-" .. agent.id))
      assert(docker.container_start(c.Id))
      local ok, err = pcall(function()
        agent.crash_and_restart()
        assert.truthy(agent.read_log():find("kept as is", 1, true))
        local info = assert(docker.container_inspect(c.Id))
        assert.is_true(info.State.Running)
      end)
      docker.container_remove(c.Id, { force = true })
      assert(ok, err)
    end)
  end)
end)
