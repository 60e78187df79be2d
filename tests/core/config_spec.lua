-- Needs the C toml module (bai.core.toml): runs inside the host binary.
local config = require("bai.config")

local FIXTURE = "tests/fixtures/halfstack.toml"

local function index_of(list, v)
  for i, x in ipairs(list) do
    if x == v then
      return i
    end
  end
  return nil
end

local function line_of(path, needle)
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    if line:find(needle, 1, true) then
      return n
    end
  end
  return nil
end

describe("bai.config", function()
  describe("defaults", function()
    it("uses local paths and loopback RPC", function()
      local d = config.defaults()
      assert.same({ host = "127.0.0.1", port = 6001 }, d.agent["rpc-listen-addr"])
      assert.is_nil(d.agent.id)
      assert.equal("default", d.agent["scaling-group"])
      assert.equal("docker", d.agent.backend)
      assert.equal("./var/lib/bai-agent", d.agent["var-base-path"])
      assert.equal("./var/commit", d.agent["image-commit-path"])
      assert.equal(4, d.agent["kernel-creation-concurrency"])
      assert.equal("./var/scratches", d.container["scratch-root"])
      assert.equal("hostdir", d.container["scratch-type"])
      assert.same({ 30000, 31000 }, d.container["port-range"])
      assert.equal(-1, d.container["kernel-uid"])
      assert.equal(-1, d.container["kernel-gid"])
      assert.is_nil(d.container["krunner-path"])
      assert.equal("/var/run/docker.sock", d.container["docker-socket"])
      assert.equal(1, d.resource["reserved-cpu"])
      assert.equal("1G", d.resource["reserved-mem"])
      assert.equal("8G", d.resource["reserved-disk"])
      assert.equal("16M", d.resource["memory-align-size"])
      assert.equal(10, d["kernel-lifecycles"]["init-polling-attempt"])
      assert.equal(60, d["kernel-lifecycles"]["init-polling-timeout-sec"])
      assert.equal(60, d["kernel-lifecycles"]["init-timeout-sec"])
      assert.equal(false, d.debug.enabled)
      assert.equal(20, d.debug["heartbeat-interval"])
      assert.equal("INFO", d.logging.level)
    end)

    it("equals loading an empty file", function()
      local cfg, info = config.load_string("", "empty.toml")
      assert.same(config.defaults(), cfg)
      assert.same({}, info.unused)
      assert.same({}, info.unknown)
    end)

    it("returns a fresh table each time", function()
      local a = config.defaults()
      a.agent["rpc-listen-addr"].port = 1
      assert.equal(6001, config.defaults().agent["rpc-listen-addr"].port)
    end)
  end)

  describe("the halfstack agent.toml", function()
    local cfg, info

    setup(function()
      cfg, info = config.load(FIXTURE)
    end)

    it("loads unchanged", function()
      assert.is_table(cfg, info and tostring(info))
      assert.same({}, info.unknown)
      assert.equal("docker", cfg.agent.backend) -- from `mode`
      assert.same({ host = "127.0.0.1", port = 6001 }, cfg.agent["rpc-listen-addr"])
      assert.equal("./var/lib/backend.ai", cfg.agent["var-base-path"])
      assert.same({ 30000, 31000 }, cfg.container["port-range"])
      assert.equal("127.0.0.1", cfg.container["bind-host"])
      assert.equal("./scratches", cfg.container["scratch-root"])
      assert.equal("1G", cfg.container["scratch-size"])
      assert.equal(true, cfg.debug.enabled)
      -- defaults still fill what the file leaves out
      assert.equal(60, cfg["kernel-lifecycles"]["init-timeout-sec"])
    end)

    it("reports the settings it does not act on, sorted", function()
      for _, key in ipairs({
        "etcd.addr",
        "etcd.namespace",
        "agent.pid-file",
        "agent.event-loop",
        "agent.agent-sock-port",
        "logging.console.colored",
        "logging.pkg-ns",
        "watcher.service-addr",
        "debug.coredump.size-limit",
        "resource.affinity-policy",
        "license.addr",
      }) do
        assert.truthy(index_of(info.unused, key), key .. " not in info.unused")
      end
      for _, key in ipairs({ "agent.rpc-listen-addr", "agent.backend", "container.port-range" }) do
        assert.is_nil(index_of(info.unused, key), key .. " is used")
      end
      local sorted = { unpack(info.unused) }
      table.sort(sorted)
      assert.same(sorted, info.unused)
    end)
  end)

  describe("keys", function()
    it("accepts snake_case and normalises to kebab-case", function()
      local cfg, info = config.load_string([[
[agent]
rpc_listen_addr = { host = "0.0.0.0", port = 6011 }
scaling_group = "gpu"
pid_file = "/run/agent.pid"
[container]
port_range = [40000, 40100]
[kernel_lifecycles]
init_timeout_sec = 30
]], "snake.toml")
      assert.is_table(cfg, info and tostring(info))
      assert.same({ host = "0.0.0.0", port = 6011 }, cfg.agent["rpc-listen-addr"])
      assert.equal("gpu", cfg.agent["scaling-group"])
      assert.same({ 40000, 40100 }, cfg.container["port-range"])
      assert.equal(30, cfg["kernel-lifecycles"]["init-timeout-sec"])
      assert.is_nil(cfg.agent.rpc_listen_addr)
      -- pid-file is a Backend.AI setting we accept; init-timeout-sec is validated (30 is
      -- in range) but not acted on yet, so it is reported as well
      assert.same({ "agent.pid-file", "kernel-lifecycles.init-timeout-sec" }, info.unused)
    end)

    it("accepts host:port strings for address pairs", function()
      local cfg = config.load_string('[agent]\nrpc-listen-addr = "10.0.0.2:6009"\n', "hp.toml")
      assert.same({ host = "10.0.0.2", port = 6009 }, cfg.agent["rpc-listen-addr"])
    end)

    it("warns about unknown keys without failing", function()
      local cfg, info = config.load_string([[
[agent]
frobnicate = true
[container]
docker_sokcet = "/tmp/d.sock"
[nonsense]
x = 1
]], "unknown.toml")
      assert.is_table(cfg)
      assert.same({ "agent.frobnicate", "container.docker-sokcet", "nonsense" }, info.unknown)
      assert.is_nil(cfg.agent.frobnicate)
    end)

    it("rejects a key given both as kebab and snake case", function()
      local cfg, err = config.load_string("[agent]\nscaling-group = \"a\"\nscaling_group = \"b\"\n", "dup.toml")
      assert.is_nil(cfg)
      assert.equal("CONFIG_INVALID", err.code)
      assert.matches("agent.scaling%-group: given twice", err.message)
    end)
  end)

  describe("errors", function()
    it("a wrong type names the file, line, key, expected and got", function()
      local text = "[agent]\nscaling-group = \"default\"\nrpc-listen-addr = { host = \"127.0.0.1\", port = \"6001\" }\n"
      local cfg, err = config.load_string(text, "bad.toml")
      assert.is_nil(cfg)
      assert.equal("CONFIG_INVALID", err.code)
      assert.equal('bad.toml:3: agent.rpc-listen-addr.port: expected an integer, got string "6001"', err.message)
      assert.equal("agent.rpc-listen-addr.port", err.key)
      assert.equal(3, err.line)
    end)

    it("an out-of-range value in a file is fatal and names the line", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("# comment\n[container]\nkernel-uid = 1000\nport-range = [30000, 70000]\n")
      f:close()
      local cfg, err = config.load(path)
      os.remove(path)
      assert.is_nil(cfg)
      assert.equal("CONFIG_INVALID", err.code)
      assert.matches(path:gsub("%p", "%%%0") .. ":4: container%.port%-range: expected", err.message)
    end)

    it("a bad enum value is fatal", function()
      local _, err = config.load_string('[container]\nscratch-type = "nfs"\n', "e.toml")
      assert.equal("CONFIG_INVALID", err.code)
      assert.equal(
        'e.toml:2: container.scratch-type: expected one of "hostdir", "memory", "hostfile", got string "nfs"',
        err.message
      )
    end)

    it("a syntax error gives file:line:col", function()
      local _, err = config.load_string("[agent]\nid = \n", "syntax.toml")
      assert.equal("CONFIG_INVALID", err.code)
      assert.matches("^syntax%.toml:2:%d+: ", err.message)
    end)

    it("a missing file is ENOENT naming the path", function()
      local cfg, err = config.load("/nonexistent/dir/agent.toml")
      assert.is_nil(cfg)
      assert.equal("ENOENT", err.code)
      assert.matches("/nonexistent/dir/agent.toml", err.message, 1, true)
    end)

    it("the fixture's line numbers are reported for its keys", function()
      local text = assert(io.open(FIXTURE)):read("*a")
      text = text:gsub("agent%-sock%-port = 6007", "agent-sock-port = 6007\nkernel-creation-concurrency = 0")
      local _, err = config.load_string(text, "halfstack.toml")
      assert.equal("CONFIG_INVALID", err.code)
      local expect = line_of(FIXTURE, "agent-sock-port") + 1
      assert.matches("^halfstack%.toml:" .. expect .. ": agent%.kernel%-creation%-concurrency: expected", err.message)
    end)
  end)

  describe("merge", function()
    it("deep-merges records and replaces arrays", function()
      local m = config.merge({ a = { b = 1, c = { 1, 2 } }, d = 1 }, { a = { c = { 3 } }, e = 2 })
      assert.same({ a = { b = 1, c = { 3 } }, d = 1, e = 2 }, m)
    end)
  end)
end)
