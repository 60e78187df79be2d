-- Slot accounting: validation, all-or-nothing allocation, recovery re-takes, ports.
local resources = require("bai.agent.resources")

describe("bai.agent.resources", function()
  it("validates resource_slots", function()
    local req = assert(resources.validate({ cpu = "2", mem = "1g" }))
    assert.equal(2, req.cpu)
    assert.equal(1073741824, req.mem)
    assert.truthy(resources.validate({ cpu = "1", mem = "268435456", ["cuda.device"] = "0" }))
    for _, slots in ipairs({ { cpu = "1" }, { mem = "1g" }, { cpu = "1.5", mem = "1g" },
      { cpu = "x", mem = "1g" }, { cpu = "1", mem = "1g", ["cuda.device"] = "1" },
      { cpu = "1", mem = "1k" }, { cpu = "1", mem = "4m" }, { cpu = 0 / 0, mem = "1g" },
      { cpu = "0x1", mem = "1g" }, { cpu = "1", mem = "1e30" }, { cpu = "1", mem = 1 / 0 },
      { cpu = "1", mem = 0 / 0 }, { cpu = "NaN", mem = "1g" }, "not a map" }) do
      local r, err = resources.validate(slots)
      assert.is_nil(r)
      assert.equal("INVALID_RESOURCE", err.code)
    end
  end)

  it("allocates whole cores lowest-free-first and memory, and frees them", function()
    local rs = resources.new({ cores = { 0, 1, 2, 3 }, mem_total = 1000 * 1048576 })
    local a = assert(rs:allocate({ cpu = 2, mem = 100 * 1048576 }))
    assert.same({ "0", "1" }, resources.alloc_cores(a))
    local b = assert(rs:allocate({ cpu = 1, mem = 100 * 1048576 }))
    assert.same({ "2" }, resources.alloc_cores(b))
    rs:free(a)
    rs:free(a) -- idempotent
    assert.same({ cpu = 3, mem = 900 * 1048576 }, rs:available())
    local c = assert(rs:allocate({ cpu = 3, mem = 100 * 1048576 }))
    assert.same({ "0", "1", "3" }, resources.alloc_cores(c))
  end)

  it("takes nothing when any slot is short", function()
    local rs = resources.new({ cores = { 0, 1 }, mem_total = 100 })
    local r, err = rs:allocate({ cpu = 3, mem = 10 })
    assert.is_nil(r)
    assert.equal("INSUFFICIENT_RESOURCE", err.code)
    r, err = rs:allocate({ cpu = 1, mem = 1000 })
    assert.is_nil(r)
    assert.equal("INSUFFICIENT_RESOURCE", err.code)
    assert.same({ cpu = 2, mem = 100 }, rs:available())
  end)

  it("re-takes a known allocation and refuses overlaps", function()
    local rs = resources.new({ cores = { 0, 1 }, mem_total = 100 })
    assert(rs:reserve({ "1" }, 40))
    local r, err = rs:reserve({ "1" }, 10)
    assert.is_nil(r)
    assert.equal("INSUFFICIENT_RESOURCE", err.code)
    assert.same({ cpu = 1, mem = 60 }, rs:available())
  end)

  it("hands out distinct ports, rotates, and refuses when exhausted", function()
    local pool = resources.port_pool(100, 104)
    local a = assert(pool:take(2))
    assert.same({ 100, 101 }, a)
    pool:release(a)
    local b = assert(pool:take(2))
    assert.same({ 102, 103 }, b)
    -- 102 and 103 are taken; the veto keeps 100 out of this round
    local c = assert(pool:take(2, function(p)
      return p ~= 100
    end))
    assert.same({ 104, 101 }, c)
    assert.same({ 100 }, assert(pool:take(1)))
    local d, err = pool:take(1)
    assert.is_nil(d)
    assert.equal("INSUFFICIENT_RESOURCE", err.code)
    assert.equal(5, pool:in_use())
  end)

  it("formats binary sizes like BinarySize's s format", function()
    assert.equal("4g", resources.format_bytes(4294967296))
    assert.equal("1.5g", resources.format_bytes(1610612736))
    assert.equal("256m", resources.format_bytes(268435456))
    assert.equal("512", resources.format_bytes(512))
  end)
end)
