-- Kernel lifecycle against real Docker: create_kernels, execute, ping_kernel, get_logs,
-- destroy_kernel, and the failures that must leave nothing behind.
local helpers = require("helpers.agent")
local docker = require("bai.docker")
local fs = require("bai.fs")
local zmq = require("bai.zmq")
local sched = require("bai.sched")
local mp = require("bai.msgpack")

describe("kernels #docker", function()
  local agent = helpers.use_agent()

  local function nothing_left(kids)
    for _, kid in ipairs(kids) do
      assert.is_false(fs.exists(agent.scratch_root .. "/" .. kid),
        "scratch dir of " .. kid .. " was left behind")
    end
    local left = helpers.owned_containers(agent.id)
    assert.same({}, left, "containers were left behind")
    local st = assert(agent.call("bai_stats", {}))
    assert.equal(0, st.kernels)
    assert.equal(0, st.ports_in_use)
  end

  describe("a running kernel", function()
    local sid, kid, result
    lazy_setup(function()
      sid, kid = helpers.uuid(), helpers.uuid()
      helpers.run(function()
        local res = assert(helpers.create(agent, sid, { kid }))
        result = res[1]
      end)
    end)
    lazy_teardown(function()
      helpers.run(function()
        agent.call("destroy_kernel", { kid, sid })
      end)
    end)

    it("returns the creation result dict", function()
      assert.equal(kid, result.id)
      assert.equal("127.0.0.1", result.kernel_host)
      assert.truthy(result.repl_in_port >= agent.port_lo and result.repl_in_port <= agent.port_hi)
      assert.truthy(result.repl_out_port >= agent.port_lo and result.repl_out_port <= agent.port_hi)
      assert.equal(0, result.stdin_port)
      assert.equal(0, result.stdout_port)
      assert.equal(64, #result.container_id)
      assert.equal("default", result.scaling_group)
      assert.equal("1", result.resource_spec.slots.cpu)
      assert.equal("268435456", result.resource_spec.slots.mem)
      assert.truthy(mp.is_array(result.service_ports))
      assert.equal(1, #result.attached_devices.cpu)
    end)

    it("runs a container with the labels, name, limits and ports of the spec", function()
      helpers.run(function()
        local info = assert(docker.container_inspect(result.container_id))
        assert.equal("/kernel.busybox." .. kid, info.Name)
        assert.is_true(info.State.Running)
        local labels = info.Config.Labels
        assert.equal(agent.id, labels["ai.backend.owner"])
        assert.equal(kid, labels["ai.backend.kernel-id"])
        assert.equal(sid, labels["ai.backend.session-id"])
        assert.equal(268435456, info.HostConfig.Memory)
        assert.equal(268435456, info.HostConfig.MemorySwap)
        assert.truthy(info.HostConfig.CpusetCpus:match("^%d+$"))
        local pb = info.HostConfig.PortBindings
        assert.equal("127.0.0.1", pb["2000/tcp"][1].HostIp)
        assert.equal(tostring(result.repl_in_port), pb["2000/tcp"][1].HostPort)
        assert.equal("127.0.0.1", pb["2001/tcp"][1].HostIp)
        assert.equal(tostring(result.repl_out_port), pb["2001/tcp"][1].HostPort)
        assert.same({ "no-new-privileges" }, info.HostConfig.SecurityOpt)
        assert.same({ "NET_RAW", "MKNOD" }, info.HostConfig.CapDrop)
        local binds = table.concat(info.HostConfig.Binds, " ")
        assert.truthy(binds:find(":/opt/backend.ai:ro", 1, true))
        assert.truthy(binds:find(":/home/work:rw", 1, true))
      end)
    end)

    it("prepares the scratch directory and its config files", function()
      local dir = agent.scratch_root .. "/" .. kid
      assert.equal("dir", fs.stat(dir .. "/config").type)
      assert.equal("dir", fs.stat(dir .. "/work").type)
      assert.equal(tonumber("755", 8), fs.stat(dir .. "/config").mode % 4096)
      local environ = assert(fs.read_file(dir .. "/config/environ.txt"))
      assert.truthy(environ:find("\nFOO=bar\n", 1, true) or environ:find("^FOO=bar\n"))
      assert.truthy(environ:find("BACKENDAI_KERNEL_ID=" .. kid, 1, true))
      assert.truthy(environ:find("LOCAL_USER_ID=", 1, true))
      local rtxt = assert(fs.read_file(dir .. "/config/resource.txt"))
      assert.truthy(rtxt:find("^SCRATCH_SIZE=0m\n"))
      assert.truthy(rtxt:find('\nSLOTS={"cpu":"1","mem":"268435456"}\n', 1, true))
      assert.truthy(rtxt:find("\nMEM_SHARES=root:256m\n", 1, true))
      assert.truthy(rtxt:find("\nCPU_SHARES=%d+:1\n"))
      assert.truthy(rtxt:find("\nCID=" .. result.container_id .. "\n", 1, true))
      assert.is_nil(fs.read_file(dir .. "/config/resource_base.txt"):find("CID=", 1, true))
      assert.truthy(fs.exists(dir .. "/config/environ_base.txt"))
    end)

    it("executes query-mode code as a shell script in /home/work", function()
      helpers.run(function()
        local res = assert(helpers.query(agent, sid, kid, "echo hello; pwd; echo $FOO"))
        assert.equal("finished", res.status)
        assert.equal(0, res.exitCode)
        assert.equal("hello\n/home/work\nbar\n", helpers.console_text(res, "stdout"))
        assert.same({}, res.files)
      end)
    end)

    it("reports the real exit code and stderr of a failing command", function()
      helpers.run(function()
        local res = assert(helpers.query(agent, sid, kid, "echo oops >&2; exit 3"))
        assert.equal("finished", res.status)
        assert.equal(3, res.exitCode)
        assert.equal("oops\n", helpers.console_text(res, "stderr"))
      end)
    end)

    it("returns `continued` at the flush timeout and the rest on `continue`", function()
      helpers.run(function()
        local res = assert(helpers.query(agent, sid, kid, "echo one; sleep 2; echo two", "r-cont",
          0.5))
        assert.equal("continued", res.status)
        assert.equal(mp.null, res.exitCode)
        local out = helpers.console_text(res, "stdout")
        for _ = 1, 20 do
          res = assert(agent.call("execute", { sid, kid, 2, "r-cont", "continue", "", {}, 1 }))
          out = out .. helpers.console_text(res, "stdout")
          if res.status == "finished" then
            break
          end
        end
        assert.equal("finished", res.status)
        assert.equal("one\ntwo\n", out)
      end)
    end)

    it("runs batch mode as clean, build, exec with their results", function()
      helpers.run(function()
        local opts = { clean = "rm -f built.txt", build = "echo built > built.txt",
          exec = "cat built.txt; exit 5" }
        local res = assert(agent.call("execute", { sid, kid, 2, "r-batch", "batch", "", opts, 30 }))
        local statuses = { res.status }
        local out = helpers.console_text(res, "stdout")
        while res.status ~= "finished" do
          res = assert(agent.call("execute", { sid, kid, 2, "r-batch", "continue", "", {}, 30 }))
          statuses[#statuses + 1] = res.status
          out = out .. helpers.console_text(res, "stdout")
        end
        assert.same({ "clean-finished", "build-finished", "finished" }, statuses)
        assert.equal(5, res.exitCode)
        assert.equal("built\n", out)
      end)
    end)

    it("keeps a second run id waiting until the first finishes", function()
      helpers.run(function()
        local first = sched.spawn(function()
          return agent.call("execute", { sid, kid, 2, "run-a", "query", "sleep 1; echo a", {}, 30 })
        end)
        sched.sleep(0.2)
        local t0 = sched.now()
        local b = assert(agent.call("execute", { sid, kid, 2, "run-b", "query", "echo b", {}, 30 }))
        local a = assert(first:join(30))
        assert.equal("a\n", helpers.console_text(a, "stdout"))
        assert.equal("b\n", helpers.console_text(b, "stdout"))
        assert.truthy(sched.now() - t0 >= 0.5)
      end)
    end)

    it("interrupts a running command", function()
      helpers.run(function()
        local run = sched.spawn(function()
          return agent.call("execute", { sid, kid, 2, "r-int", "query", "sleep 30", {}, 60 })
        end)
        sched.sleep(0.5)
        assert.same({ status = "finished" }, assert(agent.call("interrupt_kernel", { kid })))
        local res = assert(run:join(20))
        assert.equal("finished", res.status)
        assert.are_not.equal(0, res.exitCode)
      end)
    end)

    it("answers a ping while a long execution runs (replies in completion order)", function()
      helpers.run(function()
        local slow = sched.spawn(function()
          return agent.call("execute", { sid, kid, 2, "r-slow", "query", "sleep 1.5", {}, 30 })
        end)
        sched.sleep(0.2)
        local t0 = sched.now()
        assert.equal("quick", agent.call("ping", { "quick" }))
        assert.truthy(sched.now() - t0 < 1)
        assert.equal("finished", assert(slow:join(30)).status)
      end)
    end)

    it("rejects bad batch options and unknown runs without blocking the kernel", function()
      helpers.run(function()
        local _, err = agent.call("execute", { sid, kid, 2, "bad-b", "batch", "",
          { clean = mp.array({}) }, 5 })
        assert.equal("ValueError", err.name)
        _, err = agent.call("execute", { sid, kid, 2, "ghost", "continue", "", {}, 1 })
        assert.equal("ValueError", err.name)
        _, err = agent.call("execute", { sid, kid, 2, "x", "query", "true", {}, -1 })
        assert.equal("ValueError", err.name)
        local res = assert(helpers.query(agent, sid, kid, "echo fine", nil, 10))
        assert.equal("fine\n", helpers.console_text(res, "stdout"))
      end)
    end)

    it("does not let a finished but uncollected run block the next one", function()
      helpers.run(function()
        local res = assert(helpers.query(agent, sid, kid, "echo first; sleep 0.5", "left-alone",
          0.1))
        assert.equal("continued", res.status)
        sched.sleep(1)
        res = assert(helpers.query(agent, sid, kid, "echo second", "next-run", 10))
        assert.equal("finished", res.status)
        assert.equal("second\n", helpers.console_text(res, "stdout"))
      end)
    end)

    it("hands the output to a waiting run as soon as an uncollected run finishes", function()
      helpers.run(function()
        local res = assert(helpers.query(agent, sid, kid, "sleep 1; echo A", "left-a", 0.2))
        assert.equal("continued", res.status)
        local t0 = sched.now()
        res = assert(helpers.query(agent, sid, kid, "echo B", "waits-b", 30))
        assert.equal("B\n", helpers.console_text(res, "stdout"))
        assert.truthy(sched.now() - t0 < 10)
      end)
    end)

    it("refuses a second caller for a run that already has one", function()
      helpers.run(function()
        local first = sched.spawn(function()
          return helpers.query(agent, sid, kid, "sleep 1; echo one", "twice", nil)
        end)
        sched.sleep(0.3)
        local v, err = agent.call("execute", { sid, kid, 2, "twice", "continue", "", {}, 5 })
        assert.is_nil(v)
        assert.equal("ValueError", err.name)
        local res = assert(first:join(30))
        assert.equal("one\n", helpers.console_text(res, "stdout"))
      end)
    end)

    it("returns large output in linear time while the agent keeps answering", function()
      helpers.run(function()
        local t0 = sched.now()
        local run = sched.spawn(function()
          return helpers.query(agent, sid, kid, "head -c 20971520 /dev/zero | tr '\\0' x",
            "big", 120)
        end)
        sched.sleep(0.3)
        assert.equal("alive", agent.call("ping", { "alive" }, {}, 10))
        local res = assert(run:join(120))
        assert.equal("finished", res.status)
        assert.equal(20971520, #helpers.console_text(res, "stdout"))
        assert.truthy(sched.now() - t0 < 30)
      end)
    end)

    it("ping_kernel returns the runner's started_at", function()
      helpers.run(function()
        local st = assert(agent.call("ping_kernel", { kid }))
        assert.is_number(st.started_at)
      end)
    end)

    it("get_logs returns the container's output", function()
      helpers.run(function()
        local res = assert(agent.call("get_logs", { kid }))
        assert.is_string(res.logs)
        assert.truthy(res.logs:find("bai-krunner", 1, true))
      end)
    end)

    it("reports check_creating and check_running", function()
      helpers.run(function()
        assert.is_true(agent.call("check_running", { kid }))
        assert.is_true(agent.call("check_creating", { kid }))
        assert.is_false(agent.call("check_running", { helpers.uuid() }))
      end)
    end)

    it("get_completions answers with the runner's suggestions", function()
      helpers.run(function()
        local res = assert(agent.call("get_completions", { kid, "ec", {} }))
        assert.equal("finished", res.result.status)
        assert.same({}, res.result.suggestions)
      end)
    end)
  end)

  it("destroys a kernel: container, scratch dir, slots and ports are gone", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local res = assert(helpers.create(agent, sid, { kid }))
      local cid = res[1].container_id
      assert.equal(mp.null, agent.call("destroy_kernel", { kid, sid }))
      local _, err = docker.container_inspect(cid)
      assert.equal("DOCKER_NOT_FOUND", err.code)
      nothing_left({ kid })
      -- destroying it again: KeyError
      local v, derr = agent.call("destroy_kernel", { kid, sid })
      assert.is_nil(v)
      assert.equal("KeyError", derr.name)
    end)
  end)

  it("creates two kernels in one call", function()
    helpers.run(function()
      local sid, k1, k2 = helpers.uuid(), helpers.uuid(), helpers.uuid()
      local res = assert(helpers.create(agent, sid, { k1, k2 }))
      assert.equal(2, #res)
      local ids = { [res[1].id] = true, [res[2].id] = true }
      assert.is_true(ids[k1] and ids[k2])
      for _, kid in ipairs({ k1, k2 }) do
        local r = assert(helpers.query(agent, sid, kid, "echo $BACKENDAI_KERNEL_ID"))
        assert.equal(kid .. "\n", helpers.console_text(r, "stdout"))
      end
      assert(agent.call("destroy_kernel", { k1, sid }))
      assert(agent.call("destroy_kernel", { k2, sid }))
      nothing_left({ k1, k2 })
    end)
  end)

  it("accepts kernel_image_refs keyed by msgpack UUID ext values, as the manager sends", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local refs = { [mp.uuid_ext(kid)] = helpers.IMAGE_REF }
      local res = assert(agent.call("create_kernels", { sid, mp.array({ kid }),
        mp.array({ helpers.kernel_config(kid, sid) }), helpers.CLUSTER_INFO, refs }))
      assert.equal(kid, res[1].id)
      assert(agent.call("destroy_kernel", { kid, sid }))
      nothing_left({ kid })
    end)
  end)

  it("answers every queued execution with an error when its kernel is destroyed", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      assert(helpers.create(agent, sid, { kid }))
      local res = assert(helpers.query(agent, sid, kid, "sleep 30", "hog", 0.2))
      assert.equal("continued", res.status)
      local calls = {}
      for i = 1, 3 do
        calls[i] = sched.spawn(function()
          return agent.call("execute", { sid, kid, 2, "q" .. i, "query", "echo " .. i, {} }, {},
            30)
        end)
      end
      calls[4] = sched.spawn(function()
        return agent.call("execute", { sid, kid, 2, "hog", "continue", "", {} }, {}, 30)
      end)
      sched.sleep(0.3)
      assert(agent.call("destroy_kernel", { kid, sid }))
      for _, c in ipairs(calls) do
        local v, err = c:join(30)
        assert.is_nil(v)
        assert.equal("RPC_FAILURE", err.code)
        assert.is_nil(err.repr:find("attempt to", 1, true), err.repr)
      end
      local st = assert(agent.call("bai_stats", {}))
      -- every request was answered (but this bai_stats call, still in flight)
      assert.equal(st.rpc.requests - 1, st.rpc.replies - st.rpc.pings)
      nothing_left({ kid })
    end)
  end)

  it("destroys a kernel that is still being created once its create ends", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local create = sched.spawn(function()
        return helpers.create(agent, sid, { kid })
      end)
      sched.sleep(0.1)
      assert.is_true(agent.call("check_creating", { kid }))
      assert.equal(mp.null, agent.call("destroy_kernel", { kid, sid }))
      create:join(60)
      assert.is_false(agent.call("check_running", { kid }))
      nothing_left({ kid })
    end)
  end)

  it("cleans up a kernel whose container dies on its own", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local res = assert(helpers.create(agent, sid, { kid }))
      -- the user's code kills the runner: the container exits
      local run = sched.spawn(function()
        return agent.call("execute", { sid, kid, 2, "suicide", "query",
          "kill -9 $(pidof bai-krunner)", {}, 30 })
      end)
      local _, xerr = run:join(30)
      assert.is_table(xerr)
      -- the agent notices (Docker event, or the periodic sync) and cleans up
      for _ = 1, 100 do
        if assert(agent.call("bai_stats", {})).kernels == 0 then
          break
        end
        sched.sleep(0.2)
      end
      assert.is_false(agent.call("check_running", { kid }))
      local _, err = docker.container_inspect(res[1].container_id)
      assert.equal("DOCKER_NOT_FOUND", err.code)
      nothing_left({ kid })
      local _, kerr = agent.call("execute", { sid, kid, 2, "after", "query", "true", {}, 5 })
      assert.equal("KeyError", kerr.name)
    end)
  end)

  it("raises KeyError for unknown kernel ids in every kernel operation", function()
    helpers.run(function()
      local ghost = helpers.uuid()
      local calls = {
        { "destroy_kernel", { ghost, helpers.uuid() } },
        { "ping_kernel", { ghost } },
        { "get_logs", { ghost } },
        { "interrupt_kernel", { ghost } },
        { "get_completions", { ghost, "x", {} } },
        { "execute", { helpers.uuid(), ghost, 2, "r", "query", "echo", {}, 1 } },
      }
      for _, c in ipairs(calls) do
        local v, err = agent.call(c[1], c[2])
        assert.is_nil(v, c[1])
        assert.equal("KeyError", err.name, c[1])
      end
    end)
  end)

  it("fails with ImageNotAvailable for a missing image and leaves nothing", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local ref = { name = "no-such-image", project = "bai-test", tag = "x", registry = "local",
        architecture = "x86_64", is_local = true }
      local cfg = helpers.kernel_config(kid, sid)
      local v, err = agent.call("create_kernels", { sid, mp.array({ kid }), mp.array({ cfg }),
        helpers.CLUSTER_INFO, { [kid] = ref } })
      assert.is_nil(v)
      assert.equal("ImageNotAvailable", err.name)
      nothing_left({ kid })
    end)
  end)

  it("rejects bad resource requests before taking anything", function()
    helpers.run(function()
      local sid = helpers.uuid()
      local cases = {
        { slots = { cpu = "1" }, name = "InvalidResourceArgument" },
        { slots = { cpu = "1", mem = "268435456", ["cuda.device"] = "1" },
          name = "InvalidResourceArgument" },
        { slots = { cpu = "0.5", mem = "268435456" }, name = "InvalidResourceArgument" },
        { slots = { cpu = "64", mem = "268435456" }, name = "InsufficientResource" },
        { slots = { cpu = "1", mem = "1099511627776000" }, name = "InsufficientResource" },
      }
      for _, c in ipairs(cases) do
        local kid = helpers.uuid()
        local v, err = helpers.create(agent, sid, { kid }, { resource_slots = c.slots })
        assert.is_nil(v)
        assert.equal(c.name, err.name)
        nothing_left({ kid })
      end
    end)
  end)

  it("rejects malformed create_kernels arguments with clear errors", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      local _, err = agent.call("create_kernels", { sid, mp.array({ kid }), mp.array({}), {}, {} })
      assert.equal("ValueError", err.name)
      _, err = helpers.create(agent, sid, { kid }, { environ = { ["BAD NAME"] = "x" } })
      assert.equal("ValueError", err.name)
      _, err = helpers.create(agent, sid, { kid }, { preopen_ports = mp.array({ 2000 }) })
      assert.equal("ValueError", err.name)
      _, err = agent.call("create_kernels", { sid, "not-a-list" })
      assert.equal("TypeError", err.name)
      nothing_left({ kid })
    end)
  end)

  it("skips host ports that another process holds", function()
    helpers.run(function()
      -- hold every port of the agent's range but two; the kernel must get exactly those
      -- (a port something else on the machine holds already counts as held)
      local sys = require("bai.core.sys")
      local blockers, free, nfree = {}, {}, 0
      for port = agent.port_hi, agent.port_lo, -1 do
        if nfree < 2 and sys.tcp_port_free("127.0.0.1", port) then
          free[port] = true
          nfree = nfree + 1
        else
          local b = assert(zmq.socket("ROUTER", { linger = 0 }))
          if b:bind("tcp://127.0.0.1:" .. port) then
            blockers[#blockers + 1] = b
          else
            b:close()
          end
        end
      end
      local sid, kid = helpers.uuid(), helpers.uuid()
      local ok, res = pcall(helpers.create, agent, sid, { kid })
      local sid2, kid2 = helpers.uuid(), helpers.uuid()
      local v2, err2 = helpers.create(agent, sid2, { kid2 })
      for _, b in ipairs(blockers) do
        b:close()
      end
      assert(ok, res)
      assert.is_table(res, "create failed")
      local r = res[1]
      assert.is_true(free[r.repl_in_port] and free[r.repl_out_port])
      -- with those two taken too, nothing is left: InsufficientResource, nothing taken
      assert.is_nil(v2)
      assert.equal("InsufficientResource", err2.name)
      assert(agent.call("destroy_kernel", { kid, sid }))
      nothing_left({ kid, kid2 })
    end)
  end)

  it("rolls back a create whose container was made but cannot start", function()
    helpers.run(function()
      -- an image whose configured user does not exist: Docker creates the container,
      -- and starting it fails
      local tar = require("bai.tar")
      local body = assert(tar.pack({ { name = "etc/passwd", data = "root:x:0:0::/:/bin/sh\n" } }))
      local tag = "bai-test/baduser"
      assert(docker.request("POST", "/images/create", {
        query = { fromSrc = "-", repo = tag, tag = "latest", changes = "USER nosuchuser" },
        body = body, content_type = "application/x-tar", raw = true }))
      local sid, kid = helpers.uuid(), helpers.uuid()
      local ref = { name = "baduser", project = "bai-test", tag = "latest", registry = "local",
        architecture = "x86_64", is_local = true }
      local v, err = agent.call("create_kernels", { sid, mp.array({ kid }),
        mp.array({ helpers.kernel_config(kid, sid) }), helpers.CLUSTER_INFO, { [kid] = ref } })
      docker.image_remove(tag .. ":latest", { force = true })
      assert.is_nil(v)
      assert.equal("RuntimeError", err.name)
      assert.truthy(err.repr:find("nosuchuser", 1, true))
      nothing_left({ kid })
      -- the agent is fine afterwards
      local sid2, kid2 = helpers.uuid(), helpers.uuid()
      assert(helpers.create(agent, sid2, { kid2 }))
      assert(agent.call("destroy_kernel", { kid2, sid2 }))
      nothing_left({ kid2 })
    end)
  end)

  it("fails fast and rolls back when the kernel's container dies while starting", function()
    helpers.run(function()
      -- the bootstrap script runs before the runner serves; this one kills the runner
      local sid, kid = helpers.uuid(), helpers.uuid()
      local t0 = sched.now()
      local v, err = helpers.create(agent, sid, { kid },
        { bootstrap_script = "#!/bin/sh\nkill -9 $PPID\n" })
      assert.is_nil(v)
      assert.equal("RuntimeError", err.name)
      assert.truthy(err.repr:find("exited", 1, true))
      assert.truthy(sched.now() - t0 < 15)
      nothing_left({ kid })
    end)
  end)

  it("destroys the kernels that did start when another kernel of the call fails", function()
    helpers.run(function()
      local sid, good, bad = helpers.uuid(), helpers.uuid(), helpers.uuid()
      local configs = mp.array({ helpers.kernel_config(good, sid), helpers.kernel_config(bad, sid) })
      local refs = { [good] = helpers.IMAGE_REF, [bad] = { name = "missing", project = "nope",
        tag = "1", registry = "local", architecture = "x86_64", is_local = true } }
      local v, err = agent.call("create_kernels", { sid, mp.array({ good, bad }), configs,
        helpers.CLUSTER_INFO, refs })
      assert.is_nil(v)
      assert.equal("ImageNotAvailable", err.name)
      nothing_left({ good, bad })
    end)
  end)

  it("refuses a kernel id that already exists", function()
    helpers.run(function()
      local sid, kid = helpers.uuid(), helpers.uuid()
      assert(helpers.create(agent, sid, { kid }))
      local v, err = helpers.create(agent, sid, { kid })
      assert.is_nil(v)
      assert.equal("ValueError", err.name)
      assert(agent.call("destroy_kernel", { kid, sid }))
      nothing_left({ kid })
    end)
  end)
end)
