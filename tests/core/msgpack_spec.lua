-- bai.msgpack (core/msgpack_lua.c + lua/bai/msgpack.lua); runs inside the host binary.
local mp = require("bai.msgpack")
local core = require("bai.core.msgpack")

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

local function roundtrip(v, opts)
  local s = mp.encode(v)
  local out, err = mp.decode(s, opts)
  assert.is_nil(err)
  return out, s
end

describe("bai.msgpack", function()
  it("exports the core helpers", function()
    assert.equals(core.null, mp.null)
    assert.equals(core.array_mt, mp.array_mt)
    assert.is_function(mp.bin)
    assert.is_function(mp.register_ext)
  end)

  describe("scalars", function()
    it("encodes integers in the smallest form, non-negative as uint", function()
      assert.equals("00", hex(mp.encode(0)))
      assert.equals("7f", hex(mp.encode(127)))
      assert.equals("cc80", hex(mp.encode(128)))
      assert.equals("cd012c", hex(mp.encode(300)))
      assert.equals("ce00011170", hex(mp.encode(70000)))
      assert.equals("cf0000010000000000", hex(mp.encode(2 ^ 40)))
      assert.equals("ff", hex(mp.encode(-1)))
      assert.equals("e0", hex(mp.encode(-32)))
      assert.equals("d0df", hex(mp.encode(-33)))
      assert.equals("d1ff38", hex(mp.encode(-200)))
      assert.equals("d2fffe7960", hex(mp.encode(-100000)))
    end)

    it("encodes non-integral numbers as float64", function()
      assert.equals("cb3ff8000000000000", hex(mp.encode(1.5)))
      assert.equals("cb7ff0000000000000", hex(mp.encode(math.huge)))
      assert.equals("cb" .. "43f0000000000000", hex(mp.encode(2 ^ 64)))
    end)

    it("round-trips numbers", function()
      for _, n in ipairs({ 0, 1, -1, 255, 65536, -65536, 2 ^ 53, -(2 ^ 53), 0.1, -2.5, 1e300 }) do
        assert.equals(n, (roundtrip(n)))
      end
    end)

    it("decodes float32 and every int width", function()
      assert.equals(1.5, mp.decode(unhex("ca3fc00000")))
      assert.equals(255, mp.decode(unhex("ccff")))
      assert.equals(-128, mp.decode(unhex("d080")))
      assert.equals(-32768, mp.decode(unhex("d18000")))
      assert.equals(4294967295, mp.decode(unhex("ceffffffff")))
      assert.equals(-1, mp.decode(unhex("d3ffffffffffffffff")))
      assert.equals(1, mp.decode(unhex("cf0000000000000001")))
    end)

    it("handles booleans", function()
      assert.equals("c3", hex(mp.encode(true)))
      assert.equals("c2", hex(mp.encode(false)))
      assert.is_true(mp.decode(unhex("c3")))
      assert.is_false(mp.decode(unhex("c2")))
    end)

    it("maps nil to the null sentinel shared with cjson", function()
      assert.equals("c0", hex(mp.encode(nil)))
      assert.equals("c0", hex(mp.encode(mp.null)))
      assert.equals(mp.null, mp.decode(unhex("c0")))
      assert.equals(require("cjson").null, mp.null)
      local t = mp.decode(unhex("81a161c0"))
      assert.equals(mp.null, t.a)
    end)
  end)

  describe("str and bin", function()
    it("keeps str and bin apart", function()
      assert.equals("a3616263", hex(mp.encode("abc")))
      assert.equals("c403616263", hex(mp.encode(mp.bin("abc"))))
      assert.equals("c400", hex(mp.encode(mp.bin(""))))
      assert.equals("a0", hex(mp.encode("")))
    end)

    it("uses str8/str16/bin16 for longer data", function()
      local s40 = string.rep("x", 40)
      assert.equals("d928", hex(mp.encode(s40)):sub(1, 4))
      local s300 = string.rep("y", 300)
      assert.equals("da012c", hex(mp.encode(s300)):sub(1, 6))
      assert.equals("c5012c", hex(mp.encode(mp.bin(s300))):sub(1, 6))
      assert.equals(s300, (roundtrip(s300)))
    end)

    it("decodes bin to a plain string by default, to a wrapper with wrap_bin", function()
      local s = mp.encode(mp.bin("\0\1\2"))
      assert.equals("\0\1\2", mp.decode(s))
      local w = mp.decode(s, { wrap_bin = true })
      assert.is_true(mp.is_bin(w))
      assert.equals("\0\1\2", w.data)
      assert.equals(s, mp.encode(w))
      assert.equals("abc", mp.decode(mp.encode("abc"), { wrap_bin = true }))
    end)

    it("is_bin rejects other values", function()
      assert.is_false(mp.is_bin("x"))
      assert.is_false(mp.is_bin({ data = "x" }))
      assert.is_false(mp.is_bin(nil))
    end)

    it("round-trips binary strings with NUL bytes", function()
      local s = "a\0b\255"
      assert.equals(s, (roundtrip(s)))
    end)
  end)

  describe("tables", function()
    it("encodes an empty plain table as a map, an empty array as an array", function()
      assert.equals("80", hex(mp.encode({})))
      assert.equals("90", hex(mp.encode(mp.array())))
      assert.equals("90", hex(mp.encode(mp.array({}))))
    end)

    it("decodes arrays with the array metatable so empty arrays survive", function()
      local a = mp.decode(unhex("90"))
      assert.is_true(mp.is_array(a))
      assert.equals(mp.array_mt, getmetatable(a))
      assert.equals("90", hex(mp.encode(a)))
      local m = mp.decode(unhex("80"))
      assert.is_false(mp.is_array(m))
      assert.is_nil(getmetatable(m))
      assert.equals("80", hex(mp.encode(m)))
    end)

    it("encodes sequences as arrays and everything else as maps", function()
      assert.equals("93010203", hex(mp.encode({ 1, 2, 3 })))
      local m = mp.decode(mp.encode({ 1, 2, x = 3 }))
      assert.is_false(mp.is_array(m))
      assert.same({ 1, 2, x = 3 }, m)
      local holes = mp.decode(mp.encode({ [1] = "a", [3] = "c" }))
      assert.is_false(mp.is_array(holes))
      assert.same({ [1] = "a", [3] = "c" }, holes)
    end)

    it("round-trips nested structures", function()
      local v = { a = { 1, 2, { b = "c" } }, d = mp.array(), e = {}, f = true, g = -1.25 }
      local out = roundtrip(v)
      assert.same(v, out)
      assert.is_true(mp.is_array(out.d))
      assert.is_false(mp.is_array(out.e))
      assert.is_true(mp.is_array(out.a))
    end)

    it("allows non-string map keys", function()
      local m = mp.decode(unhex("82" .. "01a161" .. "c3a162"))
      assert.equals("a", m[1])
      assert.equals("b", m[true])
      assert.same({ [5] = "x", [2.5] = "y" }, (roundtrip({ [5] = "x", [2.5] = "y" })))
    end)

    it("honours __keys for byte-exact key order", function()
      local keys = { "type", "seq", "zip" }
      local t = setmetatable({ zip = false, seq = 0, type = 1 }, { __keys = keys })
      assert.equals("83a47479706501a373657100a37a6970c2", hex(mp.encode(t)))
      assert.equals(
        unhex("83 a474797065 01 a3736571 00 a37a6970 c2"),
        mp.encode(mp.ordered({ zip = false, seq = 0, type = 1 }, { "type", "seq", "zip" }))
      )
      -- listed keys with nil values are skipped, unlisted keys follow
      local u = setmetatable({ b = 2, c = 3 }, { __keys = { "a", "b" } })
      assert.equals(unhex("82 a162 02 a163 03"), mp.encode(u))
    end)

    it("array() marks and returns the table", function()
      local t = { 1 }
      assert.equals(t, mp.array(t))
      assert.is_true(mp.is_array(t))
      assert.is_false(mp.is_array({ 1 }))
      assert.is_false(mp.is_array("x"))
    end)
  end)

  describe("ext", function()
    it("encodes and decodes ext wrappers", function()
      local e = mp.ext(5, "abc")
      assert.is_true(mp.is_ext(e))
      assert.equals("c7030561626" .. "3", hex(mp.encode(e)))
      assert.equals("d4057a", hex(mp.encode(mp.ext(5, "z"))))
      local d = mp.decode(mp.encode(mp.ext(-3, "\1\2\3\4")))
      assert.is_true(mp.is_ext(d))
      assert.equals(-3, d.code)
      assert.equals("\1\2\3\4", d.data)
    end)

    it("rejects bad ext codes", function()
      assert.has_error(function()
        mp.ext(200, "x")
      end)
      assert.has_error(function()
        mp.encode(setmetatable({ code = 1.5, data = "x" }, mp.ext_mt))
      end)
    end)

    it("unpack applies the UUID decoder, also to map keys", function()
      local raw = unhex("6fd1d3ce000040008000000000000001")
      local s = mp.encode({ id = mp.ext(1, raw), list = { mp.ext(1, raw) } })
      local v = assert(mp.unpack(s))
      assert.equals("6fd1d3ce-0000-4000-8000-000000000001", v.id)
      assert.equals("6fd1d3ce-0000-4000-8000-000000000001", v.list[1])
      local k = assert(mp.unpack(mp.encode({ [mp.ext(1, raw)] = "x" })))
      assert.equals("x", k["6fd1d3ce-0000-4000-8000-000000000001"])
      -- decode leaves wrappers alone
      assert.is_true(mp.is_ext(mp.decode(s).id))
    end)

    it("unpack leaves unknown codes as wrappers and reports decoder failures", function()
      local v = assert(mp.unpack(mp.encode({ mp.ext(42, "zz") })))
      assert.is_true(mp.is_ext(v[1]))
      assert.equals(42, v[1].code)
      local bad, err = mp.unpack(mp.encode(mp.ext(1, "short")))
      assert.is_nil(bad)
      assert.equals("EPROTO", err.code)
    end)

    it("register_ext installs decoders and validates arguments", function()
      mp.register_ext(99, function(data)
        return "decoded:" .. data
      end)
      assert.equals("decoded:q", mp.unpack(mp.encode(mp.ext(99, "q"))))
      assert.has_error(function()
        mp.register_ext(1000, function() end)
      end)
      assert.has_error(function()
        mp.register_ext(3, "nope")
      end)
    end)

    it("uuid_ext packs a UUID string like Python's uuid.UUID", function()
      local e = assert(mp.uuid_ext("6FD1D3CE-0000-4000-8000-000000000001"))
      assert.equals("d801" .. "6fd1d3ce000040008000000000000001", hex(mp.encode(e)))
      local none, err = mp.uuid_ext("nope")
      assert.is_nil(none)
      assert.equals("EINVAL", err.code)
    end)
  end)

  describe("malformed input", function()
    local cases = {
      empty = "",
      truncated_array = "9301",
      truncated_str = "a3616",
      truncated_bin_len = "c5 00",
      huge_array_claim = "ddffffffff",
      huge_map_claim = "dfffffffff01",
      trailing = "0102",
      invalid_byte = "c1",
      truncated_float = "cb3ff8",
      truncated_ext = "d501",
      nil_map_key = "81c001",
    }
    for name, h in pairs(cases) do
      it("returns nil, EPROTO for " .. name, function()
        local v, err = mp.decode(unhex(h))
        assert.is_nil(v)
        assert.equals("EPROTO", err.code)
        assert.is_string(err.message)
        assert.equals("bai.Error", getmetatable(err).__name)
      end)
    end

    it("raises for a non-string argument (misuse)", function()
      assert.has_error(function()
        mp.decode({})
      end)
    end)
  end)

  describe("depth", function()
    local function nest(n)
      local s = string.rep("\145", n) -- 0x91: array of one element
      return s .. "\0"
    end

    it("decodes 32 nested arrays and rejects 33", function()
      local v = assert(mp.decode(nest(32)))
      for _ = 1, 32 do
        v = v[1]
      end
      assert.equals(0, v)
      local none, err = mp.decode(nest(33))
      assert.is_nil(none)
      assert.equals("EPROTO", err.code)
    end)

    it("encode raises beyond the depth limit", function()
      local t = {}
      local cur = t
      for _ = 1, 40 do
        cur[1] = {}
        cur = cur[1]
      end
      assert.has_error(function()
        mp.encode(t)
      end)
    end)

    it("encode raises on cycles", function()
      local t = { a = {} }
      t.a.b = t
      assert.has_error(function()
        mp.encode(t)
      end)
      local shared = { 1 }
      assert.equals("92910191" .. "01", hex(mp.encode({ shared, shared })))
    end)

    it("encode raises on unencodable values", function()
      assert.has_error(function()
        mp.encode(print)
      end)
      assert.has_error(function()
        mp.encode({ f = coroutine.create(print) })
      end)
      assert.has_error(function()
        mp.encode(setmetatable({ data = 1 }, mp.bin_mt))
      end)
    end)
  end)
end)
