-- Pure Lua: run with `luajit /usr/bin/busted tests/unit/schema_spec.lua` from the repo root.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local schema = require("bai.schema")
local t = require("bai.typedefs")

describe("bai.schema", function()
  describe("scalar types", function()
    it("accepts matching values and rejects others with expected/got", function()
      assert.equal("x", schema.validate({ type = "string" }, "x"))
      assert.equal(3, schema.validate({ type = "integer" }, 3))
      assert.equal(2.5, schema.validate({ type = "number" }, 2.5))
      assert.equal(false, schema.validate({ type = "boolean" }, false))

      local v, err = schema.validate({ type = "integer" }, "3")
      assert.is_nil(v)
      assert.equal('expected an integer, got string "3"', err)
      v, err = schema.validate({ type = "integer" }, 1.5)
      assert.is_nil(v)
      assert.equal("expected an integer, got 1.5", err)
      v, err = schema.validate({ type = "boolean" }, "yes")
      assert.is_nil(v)
      assert.matches("expected a boolean", err)
    end)

    it("raises on an unknown type (misuse)", function()
      assert.has_error(function()
        schema.validate({ type = "bogus" }, 1)
      end)
      assert.has_error(function()
        schema.validate("nope", 1)
      end)
    end)
  end)

  describe("modifiers", function()
    it("required and default", function()
      local v, err = schema.validate({ type = "string", required = true }, nil)
      assert.is_nil(v)
      assert.equal("required field missing", err)
      assert.equal("d", schema.validate({ type = "string", default = "d" }, nil))
      assert.is_nil((schema.validate({ type = "string" }, nil)))
    end)

    it("does not share default tables", function()
      local def = { type = "array", default = { 1, 2 } }
      local a = schema.validate(def, nil)
      a[1] = 99
      assert.same({ 1, 2 }, schema.validate(def, nil))
    end)

    it("one_of", function()
      local def = { type = "string", one_of = { "a", "b" } }
      assert.equal("a", schema.validate(def, "a"))
      local _, err = schema.validate(def, "c")
      assert.equal('expected one of "a", "b", got string "c"', err)
    end)

    it("between", function()
      local def = { type = "integer", between = { 1, 10 } }
      assert.equal(10, schema.validate(def, 10))
      local _, err = schema.validate(def, 11)
      assert.equal("expected a value between 1 and 10, got 11", err)
    end)

    it("match", function()
      local def = { type = "string", match = "^%d+$" }
      assert.equal("12", schema.validate(def, "12"))
      local _, err = schema.validate(def, "1a")
      assert.matches("expected a value matching", err)
    end)

    it("custom_validator", function()
      local def = {
        type = "integer",
        custom_validator = function(v)
          if v % 2 == 0 then
            return true
          end
          return nil, "expected an even number"
        end,
      }
      assert.equal(4, schema.validate(def, 4))
      local _, err = schema.validate(def, 3)
      assert.equal("expected an even number", err)
    end)
  end)

  describe("records", function()
    local S = {
      fields = {
        { name = { type = "string", required = true } },
        { port = t.port({ default = 6001 }) },
        {
          nested = {
            type = "record",
            default = {},
            fields = { { flag = { type = "boolean", default = true } } },
          },
        },
      },
    }

    it("fills defaults, including nested records", function()
      local v = schema.validate(S, { name = "x" })
      assert.same({ name = "x", port = 6001, nested = { flag = true } }, v)
    end)

    it("returns nested field errors", function()
      local v, fields = schema.validate(S, { port = 0, nested = { flag = "no" } })
      assert.is_nil(v)
      assert.same({
        name = "required field missing",
        port = "expected a value between 1 and 65535, got 0",
        nested = { flag = 'expected a boolean, got string "no"' },
      }, fields)
    end)

    it("rejects unknown fields unless allowed", function()
      local _, fields = schema.validate(S, { name = "x", extra = 1 })
      assert.same({ extra = "unknown field" }, fields)
      local v = schema.validate(S, { name = "x", extra = 1 }, { allow_unknown = true })
      assert.equal(1, v.extra)
    end)

    it("rejects a non-table", function()
      local _, err = schema.validate(S, "str")
      assert.equal('expected a table, got string "str"', err)
    end)

    it("does not modify the input", function()
      local input = { name = "x" }
      schema.validate(S, input)
      assert.same({ name = "x" }, input)
    end)
  end)

  describe("arrays and maps", function()
    it("validates array elements by index", function()
      local def = { type = "array", elements = { type = "integer" } }
      assert.same({ 1, 2 }, schema.validate(def, { 1, 2 }))
      assert.same({}, schema.validate(def, {}))
      local _, fields = schema.validate(def, { 1, "x" })
      assert.same({ [2] = 'expected an integer, got string "x"' }, fields)
      local _, err = schema.validate(def, { a = 1 })
      assert.equal("expected an array, got a table", err)
    end)

    it("validates map keys and values", function()
      local def = { type = "map", keys = { type = "string", match = "^%l+$" }, values = { type = "integer" } }
      assert.same({ a = 1 }, schema.validate(def, { a = 1 }))
      local _, fields = schema.validate(def, { a = "x", B = 2 })
      assert.equal('expected an integer, got string "x"', fields.a)
      assert.matches("^invalid key", fields.B)
    end)
  end)

  describe("flatten and check", function()
    it("flattens nested errors into dotted paths", function()
      local flat = schema.flatten({ a = { b = "m1", list = { [2] = "m2" } }, c = "m3" })
      assert.same({
        { path = "a.b", message = "m1" },
        { path = "a.list[2]", message = "m2" },
        { path = "c", message = "m3" },
      }, flat)
    end)

    it("check wraps failures as SCHEMA_VIOLATION", function()
      local v, err = schema.check({ fields = { { n = { type = "integer" } } } }, { n = "1" })
      assert.is_nil(v)
      assert.equal("SCHEMA_VIOLATION", err.code)
      assert.matches("n: expected an integer", err.message)
      assert.same({ n = 'expected an integer, got string "1"' }, err.fields)
    end)
  end)
end)

describe("bai.typedefs", function()
  it("parse_bytes", function()
    assert.equal(512 * 2 ^ 20, t.parse_bytes("512m"))
    assert.equal(2 ^ 30, t.parse_bytes("1G"))
    assert.equal(64 * 1024, t.parse_bytes("64KiB"))
    assert.equal(1536 * 2 ^ 20, t.parse_bytes("1.5g"))
    assert.equal(1024, t.parse_bytes("1024"))
    assert.equal(4096, t.parse_bytes(4096))
    assert.equal(0, t.parse_bytes("0"))
    assert.is_nil((t.parse_bytes("1X")))
    assert.is_nil((t.parse_bytes(-1)))
    assert.is_nil((t.parse_bytes(true)))
  end)

  it("parse_duration", function()
    assert.equal(30, t.parse_duration("30s"))
    assert.equal(0.1, t.parse_duration("100ms"))
    assert.equal(90, t.parse_duration("1.5m"))
    assert.equal(7200, t.parse_duration("2h"))
    assert.equal(5, t.parse_duration(5))
    assert.is_nil((t.parse_duration("5 parsecs")))
  end)

  it("parse_cpu_set", function()
    assert.same({ 0, 1, 2, 3, 8 }, t.parse_cpu_set("0-3,8"))
    assert.same({ 1, 2 }, t.parse_cpu_set("2,1,2"))
    assert.is_nil((t.parse_cpu_set("3-1")))
    assert.is_nil((t.parse_cpu_set("")))
    assert.is_nil((t.parse_cpu_set("a")))
  end)

  it("typedefs validate through the schema engine", function()
    assert.equal(80, schema.validate(t.port, 80))
    assert.is_nil((schema.validate(t.port, 70000)))
    assert.equal("10.0.0.1", schema.validate(t.host, "10.0.0.1"))
    assert.equal("::1", schema.validate(t.host, "::1"))
    assert.is_nil((schema.validate(t.host, "")))
    assert.is_nil((schema.validate(t.host, "a b")))
    assert.equal("/var/x", schema.validate(t.path, "/var/x"))
    local _, err = schema.validate(t.path, "var/x")
    assert.matches("expected an absolute path", err)
    assert.equal("512m", schema.validate(t.bytes, "512m"))
    assert.equal(1024, schema.validate(t.bytes, 1024))
    assert.is_nil((schema.validate(t.bytes, "lots")))
    assert.equal("30s", schema.validate(t.duration, "30s"))
    assert.equal("0-3", schema.validate(t.cpu_set, "0-3"))
    assert.is_nil((schema.validate(t.uuid, "nope")))
    assert.truthy(schema.validate(t.uuid, "123e4567-e89b-12d3-a456-426614174000"))
  end)

  it("calling a typedef returns a merged copy", function()
    local p = t.port({ default = 6001 })
    assert.equal(6001, p.default)
    assert.is_nil(t.port.default)
    assert.equal(6001, schema.validate(p, nil))
  end)
end)
