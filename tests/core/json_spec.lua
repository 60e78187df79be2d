-- bai.json: lua-cjson plus empty-array support, unescaped "/", null, VALUE_ERROR.
local json = require("bai.json")

describe("bai.json", function()
  it("encodes a marked empty array as [] and a plain empty table as {}", function()
    assert.equal("[]", json.encode(json.array({})))
    assert.equal("[]", json.encode(json.array()))
    assert.equal("{}", json.encode({}))
    local text = assert(json.encode({ list = json.array({}), obj = {}, n = { 1, 2 } }))
    assert.truthy(text:find('"list":[]', 1, true))
    assert.truthy(text:find('"obj":{}', 1, true))
    local back = assert(json.decode(text))
    assert.same({ 1, 2 }, back.n)
    assert.same({}, back.list)
  end)

  -- KNOWN BUG (reported): json.decode does not mark decoded arrays (its doc says it
  -- does), and cjson 2.1.0 decodes [] and {} alike, so a decoded [] re-encodes as {}.
  pending("round-trips a decoded empty array as [] (decode('[]') re-encodes as {} today)")

  it("does not escape /, and keeps backslashes intact", function()
    assert.equal('{"p":"a/b/c"}', json.encode({ p = "a/b/c" }))
    assert.equal('"http://x/y"', json.encode("http://x/y"))
    for _, s in ipairs({ "a\\/b", "\\", "\\\\/", "/\\" }) do
      assert.equal(s, json.decode(json.encode(s)))
    end
    assert.equal("a/b", json.decode('"a\\/b"'))
  end)

  it("maps null both ways", function()
    local v = assert(json.decode('{"a":null,"b":[1,null,3]}'))
    assert.equal(json.null, v.a)
    assert.equal(json.null, v.b[2])
    assert.equal('{"a":null}', json.encode({ a = json.null }))
    assert.equal("null", json.encode(json.null))
  end)

  it("round-trips scalars and unicode", function()
    assert.equal(42, json.decode("42"))
    assert.equal(1.5, json.decode(json.encode(1.5)))
    assert.is_true(json.decode("true"))
    assert.equal("héllo ✓", json.decode(json.encode("héllo ✓")))
    assert.equal("line\nbreak\t\"q\"", json.decode(json.encode("line\nbreak\t\"q\"")))
  end)

  it("returns VALUE_ERROR for invalid JSON text", function()
    for _, bad in ipairs({ "{", "[1,", "nope", '{"a":}', "" }) do
      local v, err = json.decode(bad)
      assert.is_nil(v)
      assert.equal("VALUE_ERROR", err.code)
    end
  end)

  it("returns VALUE_ERROR for values it cannot encode", function()
    local s, err = json.encode({ f = print })
    assert.is_nil(s)
    assert.equal("VALUE_ERROR", err.code)
  end)
end)
