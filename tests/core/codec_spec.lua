-- bai.rpc.codec against the callosum wire vectors (shared/reference/wire-vectors.md).
local codec = require("bai.rpc.codec")
local mp = require("bai.msgpack")

local function unhex(h)
  return (h:gsub("%s", ""):gsub("%x%x", function(x)
    return string.char(tonumber(x, 16))
  end))
end

local function hex(s)
  return (s:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

local ID = "\0\128\0\65\167" -- a ROUTER identity
local UPPER = unhex("5550504552")
local KERNEL = "6f1d3c6e-0000-4000-8000-000000000001"

-- Fixtures: header and data frames, copied from wire-vectors.md.
local V = {
  ping_bin = {
    header = "85a47479706501a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2",
    data = "82a46d657461c400a4626f6479c41482a46172677391a470696e67a66b776172677380",
  },
  ping_str = {
    header = "85a47479706501a46d657468a470696e67a46f6b6579a0a373657107a37a6970c2",
    data = "82a46d657461c400a4626f6479c42682a46172677391a568656c6c6fa66b776172677381a861"
      .. "67656e745f6964a7692d6167656e74",
  },
  ping_result = {
    header = "85a47479706502a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2",
    data = "82a46d657461c40190a4626f6479c405a470696e67",
  },
  none_result = {
    header = "85a47479706502a46d657468ae64657374726f795f6b65726e656ca46f6b6579c400a3736571"
      .. "03a37a6970c2",
    data = "82a46d657461c40190a4626f6479c401c0",
  },
  key_error = {
    header = "85a47479706503a46d657468ae64657374726f795f6b65726e656ca46f6b6579c400a3736571"
      .. "04a37a6970c2",
    data = "82a46d657461c49893a84b65794572726f72d9304b65794572726f7228273030303030303030"
      .. "2d303030302d303030302d303030302d3030303030303030303030312729d95a547261636562"
      .. "61636b20286d6f737420726563656e742063616c6c206c617374293a0a20202e2e2e0a4b6579"
      .. "4572726f723a202730303030303030302d303030302d303030302d303030302d303030303030"
      .. "303030303031270aa4626f6479c0",
  },
  download = {
    header = "85a47479706502a46d657468af646f776e6c6f61645f73696e676c65a46f6b6579c400a37365"
      .. "7105a37a6970c2",
    data = "82a46d657461c40190a4626f6479c41bc41954686973206973207468652066696e616c207265"
      .. "706f72742e",
  },
  upload = {
    header = "85a47479706501a46d657468ab75706c6f61645f66696c65a46f6b6579c400a373657106a37a"
      .. "6970c2",
    data = "82a46d657461c400a4626f6479c45882a46172677393d92436663164336336652d303030302d"
      .. "343030302d383030302d303030303030303030303031b02f686f6d652f776f726b2f612e7478"
      .. "74c406000164617461a66b776172677381a86167656e745f6964c0",
  },
  commit = {
    header = "85a47479706501a46d657468a6636f6d6d6974a46f6b6579c400a373657108a37a6970c2",
    data = "82a46d657461c400a4626f6479c47c82a46172677392d92436663164336336652d303030302d"
      .. "343030302d383030302d303030303030303030303031a473756231a66b776172677383a96361"
      .. "6e6f6e6963616cae6d79696d6167653a6c6174657374a866696c656e616d65c0ac6578747261"
      .. "5f6c6162656c7381a6617574686f72a9746573745f75736572",
  },
}

local function server_frames(v)
  return { ID, UPPER, unhex(v.header), unhex(v.data) }
end

local function client_frames(v)
  return { UPPER, unhex(v.header), unhex(v.data) }
end

local function assert_eproto(msg, err)
  assert.is_nil(msg)
  assert.is_table(err)
  assert.equals("EPROTO", err.code)
  assert.is_string(err.message)
end

describe("bai.rpc.codec", function()
  describe("parse (ROUTER side)", function()
    it("parses the ping request with a bin okey", function()
      local m = assert(codec.parse(server_frames(V.ping_bin)))
      assert.equals("request", m.kind)
      assert.equals(ID, m.identity)
      assert.equals(1, m.type)
      assert.equals("ping", m.meth)
      assert.is_true(mp.is_bin(m.okey))
      assert.equals("", m.okey.data)
      assert.equals(0, m.seq)
      assert.is_false(m.zip)
      assert.is_true(mp.is_array(m.args))
      assert.same({ "ping" }, m.args)
      assert.same({}, m.kwargs)
      assert.is_false(mp.is_array(m.kwargs))
    end)

    it("parses the ping request with a str okey, seq 7 and agent_id", function()
      local m = assert(codec.parse(server_frames(V.ping_str)))
      assert.equals("ping", m.meth)
      assert.equals("", m.okey)
      assert.is_false(mp.is_bin(m.okey))
      assert.equals(7, m.seq)
      assert.same({ "hello" }, m.args)
      assert.same({ agent_id = "i-agent" }, m.kwargs)
    end)

    it("parses upload_file with bin filedata and a None agent_id", function()
      local m = assert(codec.parse(server_frames(V.upload)))
      assert.equals("upload_file", m.meth)
      assert.equals(6, m.seq)
      assert.is_true(mp.is_bin(m.okey))
      assert.equals(3, #m.args)
      assert.equals(KERNEL, m.args[1])
      assert.equals("/home/work/a.txt", m.args[2])
      assert.equals("\0\1data", m.args[3])
      assert.equals(mp.null, m.kwargs.agent_id)
    end)

    it("parses commit with keyword arguments", function()
      local m = assert(codec.parse(server_frames(V.commit)))
      assert.equals("commit", m.meth)
      assert.equals(8, m.seq)
      assert.same({ KERNEL, "sub1" }, m.args)
      assert.equals("myimage:latest", m.kwargs.canonical)
      assert.equals(mp.null, m.kwargs.filename)
      assert.same({ author = "test_user" }, m.kwargs.extra_labels)
    end)

    it("answers PING with PONG echoing frames 3-4", function()
      local m = assert(codec.parse({ ID, "PING", "", "" }))
      assert.equals("ping", m.kind)
      assert.equals(ID, m.identity)
      assert.same({ ID, "PONG", "", "" }, codec.pong(m))
      local m2 = assert(codec.parse({ ID, "PING", "x", "y" }))
      assert.same({ ID, "PONG", "x", "y" }, codec.pong(m2))
    end)

    it("parses CANCEL", function()
      local h = "85a47479706505a46d657468a470696e67a46f6b6579c400a373657109a37a6970c2"
      local data = unhex("82a46d657461c40190a4626f6479c0")
      local m = assert(codec.parse({ ID, UPPER, unhex(h), data }))
      assert.equals("cancel", m.kind)
      assert.equals(5, m.type)
      assert.equals("ping", m.meth)
      assert.equals(9, m.seq)
      assert.is_nil(m.args)
    end)

    it("treats a nil body as no arguments", function()
      local f = server_frames(V.ping_bin)
      f[4] = unhex("82a46d657461c400a4626f6479c0")
      local m = assert(codec.parse(f))
      assert.same({}, m.args)
      assert.is_true(mp.is_array(m.args))
      assert.same({}, m.kwargs)
    end)

    it("applies ext decoders to the body (UUID ext 1)", function()
      local req = codec.request("destroy_kernel", { (mp.uuid_ext(KERNEL)) }, {}, 3)
      local m = assert(codec.parse({ ID, req[1], req[2], req[3] }))
      assert.equals(KERNEL, m.args[1])
    end)

    describe("rejects malformed frames with EPROTO", function()
      local good = server_frames(V.ping_bin)
      local function with(i, v)
        local f = { good[1], good[2], good[3], good[4] }
        f[i] = v
        return f
      end
      local cases = {
        ["2 frames"] = { ID, UPPER },
        ["5 frames"] = { ID, ID, UPPER, good[3], good[4] },
        ["3 frames without identity"] = { UPPER, good[3], good[4] },
        ["unknown frame type FOO"] = with(2, "FOO"),
        ["garbage header"] = with(3, "\193\0garbage"),
        ["empty header"] = with(3, ""),
        ["header is an array"] = with(3, unhex("9101")),
        ["header missing meth"] = with(
          3,
          unhex("84a47479706501a46f6b6579c400a373657100a37a6970c2")
        ),
        ["meth not a string"] = with(
          3,
          unhex("85a47479706501a46d65746801a46f6b6579c400a373657100a37a6970c2")
        ),
        ["okey an int"] = with(
          3,
          unhex("85a47479706501a46d657468a470696e67a46f6b657901a373657100a37a6970c2")
        ),
        ["seq negative"] = with(
          3,
          unhex("85a47479706501a46d657468a470696e67a46f6b6579c400a3736571ffa37a6970c2")
        ),
        ["zip missing"] = with(
          3,
          unhex("84a47479706501a46d657468a470696e67a46f6b6579c400a373657100")
        ),
        ["zip=true"] = with(
          3,
          unhex("85a47479706501a46d657468a470696e67a46f6b6579c400a373657100a37a6970c3")
        ),
        ["unknown message type 9"] = with(
          3,
          unhex("85a47479706509a46d657468a470696e67a46f6b6579c400a373657100a37a6970c2")
        ),
        ["RESULT sent to the server"] = with(3, unhex(V.ping_result.header)),
        ["data not a map"] = with(4, unhex("92c400c400")),
        ["data garbage"] = with(4, "\255\255"),
        ["meta not bin"] = with(4, unhex("82a46d657461a0a4626f6479c0")),
        ["body a str"] = with(4, unhex("82a46d657461c400a4626f6479a0")),
        ["body not msgpack"] = with(4, unhex("82a46d657461c400a4626f6479c401c1")),
        ["body not a map"] = with(4, unhex("82a46d657461c400a4626f6479c40190")),
        ["body args not an array"] = with(
          4,
          unhex("82a46d657461c400a4626f6479c40f82a46172677380a66b776172677380")
        ),
        ["body without kwargs"] = with(4, unhex("82a46d657461c400a4626f6479c40781a46172677390")),
      }
      for name, frames in pairs(cases) do
        it(name, function()
          assert_eproto(codec.parse(frames))
        end)
      end

      it("raises when frames are not strings (misuse)", function()
        assert.has_error(function()
          codec.parse({ ID, UPPER, 1, 2 })
        end)
        assert.has_error(function()
          codec.parse("x")
        end)
      end)
    end)
  end)

  describe("replies (byte-exact)", function()
    local function request_like(v_header)
      -- the request a reply answers: same meth/okey/seq, taken from the vector's header
      local h = assert(mp.decode(unhex(v_header), { wrap_bin = true }))
      return { identity = ID, meth = h.meth, okey = h.okey, seq = h.seq }
    end

    it("encodes the ping result", function()
      local req = assert(codec.parse(server_frames(V.ping_bin)))
      local f = codec.result(req, "ping")
      assert.equals(4, #f)
      assert.equals(ID, f[1])
      assert.equals(UPPER, f[2])
      assert.equals(V.ping_result.header, hex(f[3]))
      assert.equals(V.ping_result.data, hex(f[4]))
    end)

    it("encodes a None result", function()
      local f = codec.result(request_like(V.none_result.header), nil)
      assert.equals(V.none_result.header, hex(f[3]))
      assert.equals(V.none_result.data, hex(f[4]))
      local f2 = codec.result(request_like(V.none_result.header), mp.null)
      assert.equals(V.none_result.data, hex(f2[4]))
    end)

    it("encodes the KeyError failure", function()
      local tb = "Traceback (most recent call last):\n  ...\n"
        .. "KeyError: '00000000-0000-0000-0000-000000000001'\n"
      local f = codec.failure(
        request_like(V.key_error.header),
        "KeyError",
        "KeyError('00000000-0000-0000-0000-000000000001')",
        tb
      )
      assert.equals(V.key_error.header, hex(f[3]))
      assert.equals(V.key_error.data, hex(f[4]))
    end)

    it("encodes the download_single bin result", function()
      local f =
        codec.result(request_like(V.download.header), mp.bin("This is the final report."))
      assert.equals(V.download.header, hex(f[3]))
      assert.equals(V.download.data, hex(f[4]))
    end)

    it("echoes a str okey as str", function()
      local req = assert(codec.parse(server_frames(V.ping_str)))
      local f = codec.result(req, "hello")
      assert.equals(
        "85a47479706502a46d657468a470696e67a46f6b6579a0a373657107a37a6970c2",
        hex(f[3])
      )
    end)

    it("raises on an unencodable result value (misuse)", function()
      local req = assert(codec.parse(server_frames(V.ping_bin)))
      assert.has_error(function()
        codec.result(req, print)
      end)
      assert.has_error(function()
        codec.failure(req, nil, "x")
      end)
    end)
  end)

  describe("client side (DEALER)", function()
    it("builds the ping request byte-exactly", function()
      local f = codec.request("ping", { "ping" }, {}, 0)
      assert.same(client_frames(V.ping_bin), f)
    end)

    it("builds a str-okey request with kwargs byte-exactly", function()
      local f = codec.request("ping", { "hello" }, { agent_id = "i-agent" }, 7, "")
      assert.same(client_frames(V.ping_str), f)
    end)

    it("builds upload_file and commit byte-exactly (bin args, null, ordered kwargs)", function()
      local up = codec.request(
        "upload_file",
        { KERNEL, "/home/work/a.txt", mp.bin("\0\1data") },
        { agent_id = mp.null },
        6
      )
      assert.same(client_frames(V.upload), up)
      local kw = mp.ordered(
        {
          canonical = "myimage:latest",
          filename = mp.null,
          extra_labels = { author = "test_user" },
        },
        { "canonical", "filename", "extra_labels" }
      )
      assert.same(client_frames(V.commit), codec.request("commit", { KERNEL, "sub1" }, kw, 8))
    end)

    it("ping_frames is the DEALER handshake", function()
      assert.same({ "PING", "", "" }, codec.ping_frames())
      assert.same({ kind = "pong" }, codec.parse_reply({ "PONG", "", "" }))
    end)

    it("parses the ping result", function()
      local r = assert(codec.parse_reply(client_frames(V.ping_result)))
      assert.equals("result", r.kind)
      assert.equals(2, r.type)
      assert.equals("ping", r.meth)
      assert.is_true(mp.is_bin(r.okey))
      assert.equals(0, r.seq)
      assert.equals("ping", r.value)
    end)

    it("parses the None result", function()
      local r = assert(codec.parse_reply(client_frames(V.none_result)))
      assert.equals("destroy_kernel", r.meth)
      assert.equals(3, r.seq)
      assert.equals(mp.null, r.value)
    end)

    it("parses the download_single result", function()
      local r = assert(codec.parse_reply(client_frames(V.download)))
      assert.equals(5, r.seq)
      assert.equals("This is the final report.", r.value)
    end)

    it("parses the KeyError failure", function()
      local r = assert(codec.parse_reply(client_frames(V.key_error)))
      assert.equals("failure", r.kind)
      assert.equals(3, r.type)
      assert.equals(4, r.seq)
      assert.equals("KeyError", r.name)
      assert.equals("KeyError('00000000-0000-0000-0000-000000000001')", r.repr)
      assert.matches("^Traceback", r.traceback)
    end)

    it("round-trips server replies through parse_reply", function()
      local req = assert(codec.parse(server_frames(V.ping_str)))
      local f = codec.result(req, { ok = true, list = mp.array() })
      local r = assert(codec.parse_reply({ f[2], f[3], f[4] }))
      assert.equals("", r.okey)
      assert.equals(7, r.seq)
      assert.is_true(r.value.ok)
      assert.is_true(mp.is_array(r.value.list))
    end)

    it("rejects malformed replies with EPROTO", function()
      assert_eproto(codec.parse_reply({ UPPER, unhex(V.ping_result.header) }))
      assert_eproto(codec.parse_reply({ "FOO", "", "" }))
      assert_eproto(codec.parse_reply({ UPPER, "junk", unhex(V.ping_result.data) }))
      local noresult = unhex("82a46d657461c40190a4626f6479c0")
      assert_eproto(codec.parse_reply({ UPPER, unhex(V.ping_result.header), noresult }))
      local badmeta = unhex("82a46d657461c40191a4626f6479c0")
      assert_eproto(codec.parse_reply({ UPPER, unhex(V.key_error.header), badmeta }))
      assert_eproto(codec.parse_reply(client_frames(V.ping_bin))) -- a FUNCTION is not a reply
    end)
  end)
end)
