-- bai.zmq on the real loop: ROUTER/DEALER identities, recv deadlines, one reader per
-- socket, CURVE over loopback TCP, z85.
local sched = require("bai.sched")
local zmq = require("bai.zmq")

local run = require("helpers.async").run

describe("bai.zmq", function()
  local opened

  before_each(function()
    opened = {}
  end)

  after_each(function()
    for _, s in ipairs(opened) do
      s:close()
    end
  end)

  -- a socket closed by after_each; linger 0 so closing never waits
  local function socket(type, opts)
    opts = opts or {}
    opts.linger = 0
    local s = assert(zmq.socket(type, opts))
    opened[#opened + 1] = s
    return s
  end

  local function bind_any(s)
    assert(s:bind("tcp://127.0.0.1:*"))
    local ep = assert(s:getopt("last_endpoint"))
    assert.matches("^tcp://127%.0%.0%.1:%d+$", ep)
    return ep
  end

  it("round-trips ROUTER/DEALER messages with identity frames", function()
    run(function()
      local router = socket("ROUTER")
      local ep = bind_any(router)
      local dealer = socket("DEALER", { routing_id = "dealer-1" })
      assert(dealer:connect(ep))
      assert(dealer:send({ "hello", "", "x\0y" }, 2))
      local msg = assert(router:recv(5))
      assert.same({ "dealer-1", "hello", "", "x\0y" }, msg)
      assert(router:send({ "dealer-1", "reply", "2" }, 2))
      assert.same({ "reply", "2" }, assert(dealer:recv(5)))
    end)
  end)

  it("routes replies to the right DEALER among several", function()
    run(function()
      local router = socket("ROUTER")
      local ep = bind_any(router)
      local dealers = {}
      for i = 1, 3 do
        dealers[i] = socket("DEALER", { routing_id = "d" .. i })
        assert(dealers[i]:connect(ep))
        assert(dealers[i]:send({ "from " .. i }, 2))
      end
      for _ = 1, 3 do
        local msg = assert(router:recv(5))
        assert(router:send({ msg[1], "echo " .. msg[2] }, 2))
      end
      for i = 1, 3 do
        assert.same({ "echo from " .. i }, assert(dealers[i]:recv(5)))
      end
    end)
  end)

  it("recv returns ETIMEDOUT when nothing arrives, and works afterwards", function()
    run(function()
      local pull = socket("PULL")
      local ep = bind_any(pull)
      local t0 = sched.now()
      local msg, err = pull:recv(0.05)
      assert.is_nil(msg)
      assert.equal("ETIMEDOUT", err.code)
      assert.is_true(sched.now() - t0 < 2)
      local push = socket("PUSH")
      assert(push:connect(ep))
      assert(push:send({ "late" }, 2))
      assert.same({ "late" }, assert(pull:recv(5)))
    end)
  end)

  it("gives EBUSY to a second concurrent reader", function()
    run(function()
      local pull = socket("PULL")
      local ep = bind_any(pull)
      local first = sched.spawn(function()
        return pull:recv(5)
      end, "first-reader")
      sched.yield()
      local msg, err = pull:recv(1)
      assert.is_nil(msg)
      assert.equal("EBUSY", err.code)
      -- the first reader still gets the message
      local push = socket("PUSH")
      assert(push:connect(ep))
      assert(push:send({ "one" }, 2))
      assert.same({ "one" }, first:join(5))
      -- and once it is done, a new reader is allowed
      assert(push:send({ "two" }, 2))
      assert.same({ "two" }, assert(pull:recv(5)))
    end)
  end)

  it("a cancelled reader frees the socket for the next reader", function()
    run(function()
      local pull = socket("PULL")
      local ep = bind_any(pull)
      local reader = sched.spawn(function()
        return pull:recv(5)
      end)
      sched.yield()
      reader:cancel()
      local _, err = reader:join(2)
      assert.equal("ECANCELED", err.code)
      local push = socket("PUSH")
      assert(push:connect(ep))
      assert(push:send({ "after" }, 2))
      assert.same({ "after" }, assert(pull:recv(5)))
    end)
  end)

  it("rejects unknown socket types and options (programming errors raise)", function()
    assert.has_error(function()
      zmq.socket("NOPE")
    end)
    local s = socket("PUSH")
    assert.has_error(function()
      s:setopt("no_such_option", 1)
    end)
    local ok, err = s:bind("bogus://endpoint")
    assert.is_nil(ok)
    assert.equal("EZMQ", err.code)
  end)

  describe("CURVE", function()
    it("curve_keypair gives two distinct 40-char z85 keys", function()
      local pub, sec = zmq.curve_keypair()
      assert.equal(40, #pub)
      assert.equal(40, #sec)
      assert.not_equal(pub, sec)
      assert.equal(32, #assert(zmq.z85_decode(pub)))
    end)

    it("round-trips over a CURVE-secured DEALER/ROUTER pair", function()
      assert.is_true(zmq.has("curve"))
      run(function()
        local spub, ssec = zmq.curve_keypair()
        local cpub, csec = zmq.curve_keypair()
        local server = socket("ROUTER")
        assert(server:setopt("curve_server", 1))
        assert(server:setopt("curve_secretkey", ssec))
        local ep = bind_any(server)
        local client = socket("DEALER")
        assert(client:setopt("curve_serverkey", spub))
        assert(client:setopt("curve_publickey", cpub))
        assert(client:setopt("curve_secretkey", csec))
        assert(client:connect(ep))
        assert(client:send({ "secret hello" }, 2))
        local msg = assert(server:recv(5))
        assert.equal(2, #msg)
        assert.equal("secret hello", msg[2])
        assert(server:send({ msg[1], "secret reply" }, 2))
        assert.same({ "secret reply" }, assert(client:recv(5)))
      end)
    end)

    it("a client with the wrong server key gets nothing through (ETIMEDOUT)", function()
      run(function()
        local _, ssec = zmq.curve_keypair()
        local wrong_pub = zmq.curve_keypair()
        local cpub, csec = zmq.curve_keypair()
        local server = socket("PULL", { curve_server = 1, curve_secretkey = ssec })
        local ep = bind_any(server)
        local client = socket("PUSH", {
          curve_serverkey = wrong_pub,
          curve_publickey = cpub,
          curve_secretkey = csec,
        })
        assert(client:connect(ep))
        client:send({ "should not arrive" }, 0.2)
        local msg, err = server:recv(0.3)
        assert.is_nil(msg)
        assert.equal("ETIMEDOUT", err.code)
      end)
    end)
  end)

  describe("z85", function()
    it("encodes the reference vector and round-trips binary data", function()
      assert.equal("HelloWorld", zmq.z85_encode("\134\079\210\111\181\089\247\091"))
      assert.equal("\134\079\210\111\181\089\247\091", zmq.z85_decode("HelloWorld"))
      local bytes = {}
      for i = 0, 255 do
        bytes[#bytes + 1] = string.char(i)
      end
      local data = table.concat(bytes)
      local text = zmq.z85_encode(data)
      assert.equal(320, #text)
      assert.equal(data, zmq.z85_decode(text))
    end)

    it("rejects bad lengths: encode raises, decode returns EINVAL", function()
      assert.has_error(function()
        zmq.z85_encode("abc")
      end)
      local v, err = zmq.z85_decode("abcd")
      assert.is_nil(v)
      assert.equal("EINVAL", err.code)
    end)
  end)
end)
