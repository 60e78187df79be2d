-- The runner's command line: runtime types and how query-mode code will run.
local main = require("bai.runner.main")

describe("bai-krunner arguments", function()
  it("defaults to the app runtime running code with /bin/sh", function()
    local o = assert(main.parse_args({}))
    assert.equal("app", o.runtime_type)
    assert.equal("shell", o.query_runner)
  end)

  it("runs python images' code through the interpreter from the runtime path", function()
    local o = assert(main.parse_args({ "python", "/usr/bin/python3.11" }))
    assert.equal("python", o.query_runner)
    assert.equal("/usr/bin/python3.11", o.runtime_path)
  end)

  it("accepts other Backend.AI runtime types, falling back to /bin/sh", function()
    local o = assert(main.parse_args({ "--debug", "vendor.h2o" }))
    assert.is_true(o.debug)
    assert.equal("shell", o.query_runner)
    assert.is_true(o.unknown_runtime)
  end)

  it("rejects extra arguments", function()
    local o, err = main.parse_args({ "app", "/x", "extra" })
    assert.is_nil(o)
    assert.is_string(err)
  end)
end)
