-- The krunner bundle (build/krunner) in a busybox-only container, driven over ZeroMQ the
-- way the agent drives it (reference §4): PUSH to the host port of 2000, PULL from the
-- host port of 2001, every message [type, payload].
--
-- Needs docker, the image bai-test/busybox:latest (scripts/build-test-image.sh) and the
-- bundle (make krunner). Overrides: BAI_TEST_IMAGE, BAI_BUILD. The container is always
-- removed in teardown.
local fs = require("bai.fs")
local json = require("bai.json")
local msgpack = require("bai.msgpack")
local proc = require("bai.proc")
local sched = require("bai.sched")
local sys = require("bai.core.sys")
local zmq = require("bai.zmq")

local IMAGE = os.getenv("BAI_TEST_IMAGE") or "bai-test/busybox:latest"
local BUILD = os.getenv("BAI_BUILD") or "build"

-- Run fn as a task to completion; a failure inside (assertion or error) is raised here.
local function run(fn, seconds)
  local res = { sched.block_on(fn, seconds or 60) }
  if res[1] == nil and res[2] ~= nil then
    error(tostring(res[2]), 2)
  end
  return unpack(res)
end

local function docker(args, timeout)
  local argv = { "docker" }
  for _, a in ipairs(args) do
    argv[#argv + 1] = a
  end
  return run(function()
    return assert(proc.run(argv, { timeout = timeout or 60 }))
  end, (timeout or 60) + 10)
end

local function host_port(name, port)
  local r = docker({ "port", name, port .. "/tcp" })
  local p = r.stdout:match("127%.0%.0%.1:(%d+)")
  assert(p, "no host port for " .. port .. ": " .. r.stdout .. r.stderr)
  return tonumber(p)
end

---@class Client
local Client = {}
Client.__index = Client

local function connect(inport, outport)
  local push = assert(zmq.socket("PUSH", { linger = 0 }))
  assert(push:connect("tcp://127.0.0.1:" .. inport))
  local pull = assert(zmq.socket("PULL", { linger = 0 }))
  assert(pull:connect("tcp://127.0.0.1:" .. outport))
  return setmetatable({ push = push, pull = pull }, Client)
end

function Client:send(typ, payload)
  assert(self.push:send({ typ, payload or "" }, 5))
end

function Client:send_frames(frames)
  assert(self.push:send(frames, 5))
end

-- Next message as type, payload (nil, err on timeout).
function Client:recv(timeout)
  local frames, err = self.pull:recv(timeout or 10)
  if not frames then
    return nil, err
  end
  assert(#frames == 2, "runner sent " .. #frames .. " frames")
  return frames[1], frames[2]
end

-- Next message that is not a (late) status reply.
function Client:recv_skip_status(timeout)
  while true do
    local t, p = self:recv(timeout)
    if t ~= "status" then
      return t, p
    end
  end
end

-- Collect stdout/stderr until a finished-family message; returns
-- {type=, exitCode=, stdout=, stderr=}.
function Client:collect(timeout)
  local out, err = {}, {}
  local deadline = sched.now() + (timeout or 20)
  while true do
    local t, p = self:recv_skip_status(math.max(0, deadline - sched.now()))
    assert(t, "no finished message before the deadline (" .. tostring(p) .. ")")
    if t == "stdout" then
      out[#out + 1] = p
    elseif t == "stderr" then
      err[#err + 1] = p
    elseif t == "finished" or t == "clean-finished" or t == "build-finished" then
      local v = assert(json.decode(p))
      return { type = t, exitCode = v.exitCode, stdout = table.concat(out), stderr = table.concat(err) }
    else
      error("unexpected message " .. t .. ": " .. p)
    end
  end
end

function Client:close()
  self.push:close()
  self.pull:close()
end

describe("krunner in a busybox container #docker", function()
  local name = "bai-krunner-test-" .. sys.random_hex(4)
  local tmp, work, client
  local started = false

  setup(function()
    local bin = BUILD .. "/krunner/bin/bai-krunner"
    assert(fs.exists(bin), "no krunner bundle at " .. bin .. ": run `make krunner` first")
    local img = docker({ "image", "inspect", "--format", "{{.Id}}", IMAGE })
    assert(img.code == 0, "no image " .. IMAGE .. ": run scripts/build-test-image.sh first")
    tmp = assert(fs.mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/bai-krunner-spec.XXXXXX"))
    work = tmp .. "/work"
    assert(fs.mkdir_p(work))
    assert(fs.chmod(work, "0777")) -- user code runs as uid 1000 in there
    assert(fs.mkdir_p(tmp .. "/config"))
    assert(fs.write_file(tmp .. "/config/environ.txt", "FOO=bar=baz\nLOCAL_USER_ID=1000\nLOCAL_GROUP_ID=1000\n"))
    assert(fs.write_file(work .. "/bootstrap.sh", "echo bootstrapped > /home/work/boot.txt\n"))
    local r = docker({
      "run", "-d", "--name", name,
      "-v", assert(fs.realpath(BUILD .. "/krunner")) .. ":/opt/backend.ai:ro",
      "-v", assert(fs.realpath("runner/entrypoint.sh")) .. ":/opt/kernel/entrypoint.sh:ro",
      "-v", work .. ":/home/work",
      "-v", tmp .. "/config:/home/config:ro",
      "-p", "127.0.0.1::2000", "-p", "127.0.0.1::2001",
      "--entrypoint", "/opt/kernel/entrypoint.sh",
      IMAGE, "/opt/backend.ai/bin/bai-krunner", "app",
    })
    assert(r.code == 0, "docker run failed: " .. r.stderr)
    started = true
    client = connect(host_port(name, 2000), host_port(name, 2001))
    -- wait until the runner answers (docker-proxy accepts before the runner listens)
    run(function()
      for _ = 1, 30 do
        client:send("status")
        if client:recv(1) == "status" then
          while client:recv(0.3) do -- drain replies to the earlier pings
          end
          return true
        end
      end
      local logs = docker({ "logs", name })
      error("the runner never answered status; logs:\n" .. logs.stdout .. logs.stderr)
    end, 60)
  end)

  teardown(function()
    if client then
      client:close()
    end
    if started then
      local logs = docker({ "logs", name })
      if os.getenv("BAI_TEST_VERBOSE") then
        io.stderr:write(logs.stdout, logs.stderr)
      end
    end
    docker({ "rm", "-f", name })
    if tmp then
      fs.rmtree(tmp)
    end
  end)

  it("answers status with a msgpack started_at", function()
    run(function()
      client:send("status")
      local t, p = client:recv(5)
      assert.equal("status", t)
      local v = assert(msgpack.decode(p))
      assert.is_number(v.started_at)
      return true
    end)
  end)

  it("runs query code, streaming stdout and stderr, with the exit code", function()
    local r = run(function()
      client:send("code", "echo hello; echo err >&2; exit 3")
      return client:collect()
    end)
    assert.same({ type = "finished", exitCode = 3, stdout = "hello\n", stderr = "err\n" }, r)
  end)

  it("runs user code with environ.txt, in /home/work, as LOCAL_USER_ID", function()
    local r = run(function()
      client:send("code", 'echo "$FOO|$HOME|$(id -u):$(id -g)|$PWD"; cat boot.txt')
      return client:collect()
    end)
    assert.equal(0, r.exitCode)
    assert.equal("bar=baz|/home/work|1000:1000|/home/work\nbootstrapped\n", r.stdout)
  end)

  it("answers every batch step, in order", function()
    local r = run(function()
      client:send("clean", "rm -f out.txt")
      client:send("build", "echo built > out.txt")
      client:send("exec", "cat out.txt; exit 4")
      return { client:collect(), client:collect(), client:collect() }
    end)
    assert.same({ type = "clean-finished", exitCode = 0, stdout = "", stderr = "" }, r[1])
    assert.same({ type = "build-finished", exitCode = 0, stdout = "", stderr = "" }, r[2])
    assert.same({ type = "finished", exitCode = 4, stdout = "built\n", stderr = "" }, r[3])
  end)

  it("skips empty steps and applies the * heuristics", function()
    assert(fs.write_file(work .. "/main.sh", "echo main ran\n"))
    local r = run(function()
      client:send("clean", "")
      client:send("build", "*") -- no Makefile: skipped
      client:send("exec", "*") -- runs main.sh
      return { client:collect(), client:collect(), client:collect() }
    end)
    assert.same({ "clean-finished", 0 }, { r[1].type, r[1].exitCode })
    assert.same({ "build-finished", 0 }, { r[2].type, r[2].exitCode })
    assert.same({ "finished", 0, "main ran\n" }, { r[3].type, r[3].exitCode, r[3].stdout })
    assert(os.remove(work .. "/main.sh"))
    r = run(function()
      client:send("exec", "*")
      return client:collect()
    end)
    assert.equal(127, r.exitCode)
    assert.matches("main.sh", r.stderr)
  end)

  it("skips exec with 127 after a failed build", function()
    local r = run(function()
      client:send("clean", "")
      client:send("build", "echo failing >&2; exit 2")
      client:send("exec", "echo should-not-run")
      return { client:collect(), client:collect(), client:collect() }
    end)
    assert.same({ "build-finished", 2, "failing\n" }, { r[2].type, r[2].exitCode, r[2].stderr })
    assert.same({ type = "finished", exitCode = 127, stdout = "", stderr = "" }, r[3])
  end)

  it("answers status while a command runs, and interrupts it with SIGINT", function()
    local r = run(function()
      client:send("code", "echo started; sleep 30; echo not-reached")
      local t, p = client:recv(5)
      assert.same({ "stdout", "started\n" }, { t, p })
      client:send("status")
      assert.equal("status", (client:recv(2)))
      local t0 = sched.now()
      client:send("interrupt")
      local res = client:collect(5)
      res.elapsed = sched.now() - t0
      return res
    end)
    assert.equal(130, r.exitCode) -- 128 + SIGINT
    assert.equal("", r.stdout)
    assert.is_true(r.elapsed < 3)
  end)

  it("feeds input to the running query's stdin", function()
    local r = run(function()
      client:send("code", "read x; echo got:$x")
      sched.sleep(0.2)
      client:send("input", "abc")
      return client:collect(10)
    end)
    assert.same({ type = "finished", exitCode = 0, stdout = "got:abc\n", stderr = "" }, r)
  end)

  it("runs queued work one at a time, in order", function()
    local r = run(function()
      client:send("code", "sleep 0.3; echo one")
      client:send("code", "echo two")
      return { client:collect(), client:collect() }
    end)
    assert.same({ "one\n", "two\n" }, { r[1].stdout, r[2].stdout })
  end)

  it("answers complete, get-apps and start-service", function()
    local r = run(function()
      local got = {}
      client:send("complete", json.encode({ code = "pri", row = 0, col = 3 }))
      got[#got + 1] = { client:recv_skip_status(5) }
      client:send("get-apps", "")
      got[#got + 1] = { client:recv_skip_status(5) }
      client:send("start-service", json.encode({ name = "jupyter", port = 8080, ports = { 8080 }, protocol = "http" }))
      got[#got + 1] = { client:recv_skip_status(5) }
      return got
    end)
    assert.same({ "completion", '{"suggestions":[]}' }, r[1])
    assert.equal("apps-result", r[2][1])
    assert.same({ status = "done", data = {} }, json.decode(r[2][2]))
    assert.equal("[]", r[2][2]:match('"data":(%[%])'))
    assert.equal("service-result", r[3][1])
    assert.equal("failed", json.decode(r[3][2]).status)
  end)

  it("drops malformed messages and ignores unknown types", function()
    local t = run(function()
      client:send_frames({ "code", "echo x", "extra" })
      client:send_frames({ "status" })
      client:send("bogus", "")
      client:send("shutdown-service", '"jupyter"')
      client:send("event", '{"type":"oom","data":{}}')
      client:send("status")
      return (client:recv(5))
    end)
    assert.equal("status", t)
  end)

  it("does not wait for background jobs that keep the output pipes open", function()
    local r = run(function()
      local t0 = sched.now()
      client:send("code", "sleep 5 & echo fg")
      local res = client:collect(10)
      res.elapsed = sched.now() - t0
      return res
    end)
    assert.same({ 0, "fg\n" }, { r.exitCode, r.stdout })
    assert.is_true(r.elapsed < 3)
  end)

  it("streams large output completely", function()
    local r = run(function()
      client:send("code", "head -c 20000000 /dev/zero | tr '\\0' x")
      return client:collect(60)
    end, 90)
    assert.equal(0, r.exitCode)
    assert.equal(20000000, #r.stdout)
    assert.is_nil(r.stdout:find("[^x]"))
  end)

  it("stops cleanly with exit status 0 on SIGTERM, even with a command running", function()
    run(function()
      client:send("code", "echo started; sleep 30")
      assert.same({ "stdout", "started\n" }, { client:recv(5) })
      return true
    end)
    local t0 = sched.now()
    local r = docker({ "stop", "-t", "10", name })
    assert.equal(0, r.code, r.stderr)
    assert.is_true(sched.now() - t0 < 8, "docker stop took too long: the runner ignored SIGTERM")
    local st = docker({ "inspect", "--format", "{{.State.ExitCode}}", name })
    assert.equal("0", st.stdout:match("%S+"))
    local logs = docker({ "logs", name })
    assert.matches("stopped", logs.stderr)
  end)
end)
