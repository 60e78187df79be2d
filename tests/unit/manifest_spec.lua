-- Meta checks (Kong's rockspec_meta_spec): the rockspec lists every Lua module of the
-- tree and nothing else, and every require("bai.…") in the tree names a module that exists.
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function lua_files()
  local out = {}
  local p = assert(io.popen("find lua runner/lua -name '*.lua' | sort"))
  for line in p:lines() do
    out[#out + 1] = line
  end
  p:close()
  return out
end

local function module_name(path)
  local m = path:gsub("^runner/lua/", ""):gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", ".")
  return (m:gsub("%.init$", ""))
end

describe("rockspec manifest", function()
  local rockspec = read("rockspec/bai-agent-scm-1.rockspec")
  local listed = {}
  for name, path in rockspec:gmatch('%["([%w%._]+)"%] = "([^"]+)"') do
    listed[name] = path
  end

  it("lists every Lua module of the tree with its path", function()
    for _, path in ipairs(lua_files()) do
      assert.equal(path, listed[module_name(path)], "missing from the rockspec: " .. path)
    end
  end)

  it("lists nothing that does not exist", function()
    for name, path in pairs(listed) do
      assert.truthy(io.open(path, "rb"), "rockspec lists a missing file for " .. name)
    end
  end)

  it("every require of a bai module resolves to a file or a C module", function()
    local known = {}
    for _, path in ipairs(lua_files()) do
      known[module_name(path)] = true
    end
    local c_modules = read("core/preload.c")
    for _, path in ipairs(lua_files()) do
      for req in read(path):gmatch('require%("(bai[%w%._]*)"%)') do
        local ok = known[req] or c_modules:find('"' .. req .. '"', 1, true)
        assert.truthy(ok, path .. " requires unknown module " .. req)
      end
    end
  end)
end)
