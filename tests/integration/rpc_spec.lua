-- The RPC surface over real ZeroMQ against a running agent: handshake, callosum framing
-- byte for byte, errors, malformed frames, concurrency.
local helpers = require("helpers.agent")
local zmq = require("bai.zmq")
local sched = require("bai.sched")
local mp = require("bai.msgpack")

local function unhex(s)
  return (s:gsub("%x%x", function(h)
    return string.char(tonumber(h, 16))
  end))
end

describe("rpc #docker", function()
  local agent = helpers.use_agent()

  local function raw_dealer()
    local s = assert(zmq.socket("DEALER", { linger = 0 }))
    assert(s:connect(agent.addr))
    return s
  end

  it("answers PING with PONG echoing the frames", function()
    helpers.run(function()
      local s = raw_dealer()
      assert(s:send({ "PING", "", "" }))
      local frames = assert(s:recv(5))
      s:close()
      assert.same({ "PONG", "", "" }, frames)
    end)
  end)

  it("ping returns the message", function()
    helpers.run(function()
      assert.equal("hello", agent.call("ping", { "hello" }))
    end)
  end)

  it("replies to the manager's exact ping bytes with the exact reply bytes (okey bin)", function()
    helpers.run(function()
      local s = raw_dealer()
      assert(s:send({ "UPPER",
        unhex("85a47479706501a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2"),
        unhex("82a46d657461c400a4626f6479c41482a46172677391a470696e67a66b776172677380") }))
      local frames = assert(s:recv(5))
      s:close()
      assert.equal(3, #frames)
      assert.equal("UPPER", frames[1])
      assert.equal(unhex("85a47479706502a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2"),
        frames[2])
      assert.equal(unhex("82a46d657461c40190a4626f6479c405a470696e67"), frames[3])
    end)
  end)

  it("echoes a str okey as str, with seq and the agent_id kwarg", function()
    helpers.run(function()
      local s = raw_dealer()
      local codec = require("bai.rpc.codec")
      assert(s:send(codec.request("ping", mp.array({ "hi" }), { agent_id = agent.id }, 7, "")))
      local frames = assert(s:recv(5))
      s:close()
      local header = assert(mp.decode(frames[2], { wrap_bin = true }))
      assert.equal(2, header.type)
      assert.equal(7, header.seq)
      assert.equal("", header.okey)
      assert.is_false(mp.is_bin(header.okey))
      local reply = assert(codec.parse_reply(frames))
      assert.equal("hi", reply.value)
    end)
  end)

  it("rejects another agent's id with AgentIdNotFoundError", function()
    helpers.run(function()
      local v, err = agent.call("ping", { "x" }, { agent_id = "i-somebody-else" })
      assert.is_nil(v)
      assert.equal("AgentIdNotFoundError", err.name)
    end)
  end)

  it("answers an unknown method with a FAILURE and keeps serving", function()
    helpers.run(function()
      local v, err = agent.call("no_such_method", {})
      assert.is_nil(v)
      assert.equal("RPC_FAILURE", err.code)
      assert.equal("AttributeError", err.name)
      assert.truthy(err.traceback:find("Traceback", 1, true))
      assert.equal("still", agent.call("ping", { "still" }))
    end)
  end)

  it("raises TypeError for missing or unexpected arguments", function()
    helpers.run(function()
      local _, err = agent.call("ping", {})
      assert.equal("TypeError", err.name)
      _, err = agent.call("ping", { "a" }, { bogus = 1 })
      assert.equal("TypeError", err.name)
      _, err = agent.call("destroy_kernel", { 42 })
      assert.equal("TypeError", err.name)
    end)
  end)

  it("drops malformed frames, counts them, and keeps answering", function()
    helpers.run(function()
      local before = assert(agent.call("bai_stats", {})).rpc.malformed
      local s = raw_dealer()
      local bad = {
        { "UPPER" },
        { "UPPER", "x" },
        { "FOO", "", "" },
        { "UPPER", "\xc1garbage", "\x80" },
        { "UPPER", mp.encode({ type = 1, okey = "", seq = 1, zip = false }), mp.encode({}) },
        { "UPPER", unhex("85a47479706501a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2"),
          "not msgpack at all \xc1" },
        { "UPPER", unhex("85a47479706501a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2"),
          mp.encode({ meta = mp.bin(""), body = mp.bin("\x93\x01") }) },
        { "a", "b", "c", "d", "e" },
      }
      for _, frames in ipairs(bad) do
        assert(s:send(frames))
      end
      -- none of them gets a reply
      local got = s:recv(0.5)
      assert.is_nil(got)
      s:close()
      assert.equal("alive", agent.call("ping", { "alive" }))
      local after = assert(agent.call("bai_stats", {})).rpc.malformed
      assert.equal(#bad, after - before)
    end)
  end)

  it("returns gather_hwinfo for the intrinsic devices", function()
    helpers.run(function()
      local hw = assert(agent.call("gather_hwinfo", {}))
      assert.equal("healthy", hw.cpu.status)
      assert.equal("healthy", hw.mem.status)
      assert.truthy(tonumber(hw.cpu.metadata.core_count) >= 1)
      assert.truthy(tonumber(hw.mem.metadata.total_bytes) > 0)
      local v2 = assert(agent.call("gather_hwinfo_v2", {}, { req = {} }))
      assert.equal(2, #v2.devices)
    end)
  end)

  it("answers many concurrent calls from many clients", function()
    helpers.run(function()
      local client = require("bai.rpc.client")
      local tasks = {}
      for i = 1, 20 do
        tasks[i] = sched.spawn(function()
          local c = assert(client.connect(agent.addr))
          local out = {}
          for j = 1, 10 do
            out[j] = assert(c:call("ping", mp.array({ i .. ":" .. j }), {}, 10))
          end
          c:close()
          return out
        end)
      end
      for i, t in ipairs(tasks) do
        local out = assert(t:join(30))
        assert.equal(i .. ":10", out[10])
      end
    end)
  end)
end)
