-- The command line as an operator uses it: --version, serve with a Python agent's
-- agent.toml, bad configs, and `call` usage errors.
local helpers = require("helpers.agent")
local proc = require("bai.proc")
local fs = require("bai.fs")
local sys = require("bai.core.sys")

local EXE = fs.realpath("build/bai-agent")

local function run(argv, opts)
  return helpers.run(function()
    return assert(proc.run(argv, opts or {}))
  end)
end

describe("bai-agent command line", function()
  local tmp
  lazy_setup(function()
    tmp = assert(fs.mkdtemp("/tmp/bai-cli-XXXXXX"))
  end)
  lazy_teardown(function()
    fs.rmtree(tmp)
  end)

  it("prints its version", function()
    local r = run({ EXE, "--version" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:match("^bai%-agent %d+%.%d+%.%d+ %(LuaJIT"))
  end)

  it("refuses unknown commands with the usage text", function()
    local r = run({ EXE, "frobnicate" })
    assert.equal(2, r.code)
    assert.truthy(r.stderr:find("usage:", 1, true))
  end)

  it("serves with a Python agent's agent.toml, reporting unused settings once #docker", function()
    -- halfstack layout; the env override moves RPC off 6001 and the cwd keeps its
    -- relative paths (./scratches, ./var/...) inside a temp dir
    local port = 26000 + sys.pid() % 1000
    local conf = fs.realpath("tests/fixtures/halfstack.toml")
    helpers.run(function()
      local p = assert(proc.spawn({ EXE, "serve", "-f", conf }, { cwd = tmp,
        env = { "PATH=" .. (sys.getenv("PATH") or "/usr/bin:/bin"),
          "BACKEND_AGENT_PORT=" .. port }, stdout = "pipe", stderr = "pipe" }))
      local out = {}
      local reader = require("bai.sched").spawn(function()
        while true do
          local d = p:read("stderr")
          if not d then
            return
          end
          out[#out + 1] = d
        end
      end)
      local c
      for _ = 1, 50 do
        c = require("bai.rpc.client").connect("tcp://127.0.0.1:" .. port,
          { handshake_timeout = 0.3 })
        if c then
          break
        end
      end
      assert.is_table(c, "the agent did not come up: " .. table.concat(out))
      assert.equal("up", c:call("ping", { "up" }))
      c:close()
      p:kill("TERM")
      local code = p:wait(30)
      reader:join(5)
      p:close()
      assert.equal(0, code)
      local log = table.concat(out)
      local _, n = log:gsub("accepted but not used", "")
      assert.equal(1, n)
      assert.truthy(log:find("etcd.addr", 1, true))
      assert.truthy(fs.exists(tmp .. "/scratches"))
    end)
  end)

  it("exits 78 on a bad config, naming the file, the line, the key and what was expected", function()
    local path = tmp .. "/bad.toml"
    assert(fs.write_file(path, "[agent]\nrpc-listen-addr = { host = \"127.0.0.1\", port = \"6001\" }\n"))
    local r = run({ EXE, "serve", "-f", path })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find(path .. ":2:", 1, true))
    assert.truthy(r.stderr:find("agent.rpc-listen-addr.port", 1, true))
    assert.truthy(r.stderr:find("expected", 1, true))
  end)

  it("exits 78 on a TOML syntax error and on a missing file", function()
    local path = tmp .. "/syntax.toml"
    assert(fs.write_file(path, "[agent\nid = 1\n"))
    local r = run({ EXE, "serve", "-f", path })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find(path .. ":1:", 1, true))
    r = run({ EXE, "serve", "-f", tmp .. "/missing.toml" })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find("missing.toml", 1, true))
  end)

  it("rejects bad `call` arguments with usage errors", function()
    local r = run({ EXE, "call", "ping", "{not json" })
    assert.equal(2, r.code)
    assert.truthy(r.stderr:find("ARGS_JSON", 1, true))
    r = run({ EXE, "call", "ping", "[]", "[1]" })
    assert.equal(2, r.code)
    assert.truthy(r.stderr:find("KWARGS_JSON", 1, true))
    r = run({ EXE, "call" })
    assert.equal(2, r.code)
  end)

  it("fails `call` quickly when no agent answers", function()
    local t0 = sys.monotonic()
    local r = run({ EXE, "call", "ping", '["x"]', "--addr", "tcp://127.0.0.1:1" })
    assert.equal(1, r.code)
    assert.truthy(r.stderr:find("PONG", 1, true))
    assert.truthy(sys.monotonic() - t0 < 15)
  end)
end)
