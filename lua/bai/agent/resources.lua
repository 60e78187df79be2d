--- bai.agent.resources — slot accounting for the intrinsic devices (CPU cores, memory)
--- and the host port pool. Allocation is all-or-nothing: a failure rolls back every
--- slot taken by the same request.
---
--- Slots follow Backend.AI: `cpu` counts cores (each core is a device of capacity 1,
--- spread EVENLY: the least-used cores first), `mem` counts bytes on one device "root"
--- (FILL). Values arrive as decimal strings ("1", "268435456").
local errors = require("bai.errors")
local typedefs = require("bai.typedefs")

local M = {}

---@class bai.Resources
---@field cores string[]          core ids as strings, ascending
---@field core_used table<string, number>
---@field mem_total number
---@field mem_used number
local Resources = {}
Resources.__index = Resources

--- New accounting over the given cores and memory size.
---@param opts { cores: integer[], mem_total: number }
---@return bai.Resources
function M.new(opts)
  local cores, used = {}, {}
  for _, c in ipairs(opts.cores) do
    cores[#cores + 1] = tostring(c)
    used[tostring(c)] = 0
  end
  return setmetatable({ cores = cores, core_used = used, mem_total = opts.mem_total,
    mem_used = 0 }, Resources)
end

local function finite(n)
  return type(n) == "number" and n == n and n ~= math.huge and n ~= -math.huge
end

--- Parse a slot amount: a plain decimal string ("2", "0.5", "268435456") or a finite
--- number; memory-like slots also accept binary sizes ("4g", "512MiB").
---@param slot string
---@param v any
---@return number|nil amount, bai.Error|nil err
function M.parse_amount(slot, v)
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" then
    local s = v:match("^%s*(.-)%s*$")
    if s:match("^%d+%.?%d*$") or s:match("^%.%d+$") then
      n = tonumber(s)
    elseif slot:find("mem", 1, true) and s:match("^%d+%.?%d*%s*[kKmMgGtTpP]?[iI]?[bB]?$") then
      n = typedefs.parse_bytes(s)
    end
  else
    return nil, errors.new("INVALID_RESOURCE", string.format("slot %s: expected a decimal "
      .. "string, got %s", slot, type(v)))
  end
  if not finite(n) or n < 0 then
    return nil, errors.new("INVALID_RESOURCE", string.format("slot %s: invalid amount %s",
      slot, type(v) == "string" and string.format("%q", v) or tostring(v)))
  end
  return n
end

--- The slot types this agent knows, for validation and heartbeat-style reporting.
M.SLOT_TYPES = { cpu = "count", mem = "bytes" }

--- Validate a resource_slots map before anything is taken: cpu and mem present, known
--- slots only (an unknown slot with a non-zero amount is an error), cpu a whole number.
---@param slots table<string, any>
---@return table|nil req {cpu=n, mem=bytes, raw={...}}, bai.Error|nil err
function M.validate(slots)
  if type(slots) ~= "table" then
    return nil, errors.new("INVALID_RESOURCE", "resource_slots must be a map")
  end
  local req = { raw = {} }
  for slot, v in pairs(slots) do
    local n, err = M.parse_amount(tostring(slot), v)
    if not n then
      return nil, err
    end
    if M.SLOT_TYPES[slot] then
      req[slot] = n
      req.raw[slot] = n
    elseif n ~= 0 then
      return nil, errors.new("INVALID_RESOURCE", string.format(
        "unknown resource slot %q requested (this agent has: cpu, mem)", tostring(slot)))
    end
  end
  if req.cpu == nil or req.mem == nil then
    return nil, errors.new("INVALID_RESOURCE", "resource_slots must contain cpu and mem")
  end
  if req.cpu ~= math.floor(req.cpu) or req.cpu < 1 then
    return nil, errors.new("INVALID_RESOURCE", string.format(
      "cpu must be a whole number of cores >= 1, got %s", tostring(req.cpu)))
  end
  -- Docker refuses memory limits below 6 MiB
  if req.mem < 6 * 1024 * 1024 then
    return nil, errors.new("INVALID_RESOURCE", string.format(
      "mem must be at least 6 MiB, got %.0f bytes", req.mem))
  end
  req.mem = math.floor(req.mem)
  return req
end

--- Allocate a validated request. Returns the allocation {cpu={core=1,...}, mem={root=n}}
--- or nil, INSUFFICIENT_RESOURCE with nothing taken.
---@param req table from validate()
---@return table|nil alloc, bai.Error|nil err
function Resources:allocate(req)
  if req.mem > self.mem_total - self.mem_used then
    return nil, errors.new("INSUFFICIENT_RESOURCE", string.format(
      "mem: requested %.0f bytes, %.0f free of %.0f", req.mem, self.mem_total - self.mem_used,
      self.mem_total))
  end
  local free = {}
  for _, c in ipairs(self.cores) do
    if self.core_used[c] < 1 then
      free[#free + 1] = c
    end
  end
  if req.cpu > #free then
    return nil, errors.new("INSUFFICIENT_RESOURCE", string.format(
      "cpu: requested %.0f cores, %d free of %d", req.cpu, #free, #self.cores))
  end
  -- EVENLY over whole cores degenerates to "lowest free ids first"
  local cpu = {}
  for i = 1, req.cpu do
    cpu[free[i]] = 1
    self.core_used[free[i]] = 1
  end
  self.mem_used = self.mem_used + req.mem
  return { cpu = cpu, mem = { root = req.mem } }
end

--- Re-take a known allocation (recovery after a restart): the given cores and bytes.
--- Returns the allocation, or nil, INSUFFICIENT_RESOURCE if any of it is taken already.
---@param cores string[]
---@param mem number
---@return table|nil alloc, bai.Error|nil err
function Resources:reserve(cores, mem)
  local cpu = {}
  for _, c in ipairs(cores) do
    c = tostring(c)
    if self.core_used[c] == nil or self.core_used[c] >= 1 then
      return nil, errors.new("INSUFFICIENT_RESOURCE", "core " .. c .. " is not available")
    end
    cpu[c] = 1
  end
  if mem > self.mem_total - self.mem_used then
    return nil, errors.new("INSUFFICIENT_RESOURCE", string.format(
      "not enough memory to re-take %.0f bytes", mem))
  end
  for c in pairs(cpu) do
    self.core_used[c] = 1
  end
  self.mem_used = self.mem_used + mem
  return { cpu = cpu, mem = { root = mem } }
end

--- Return an allocation's slots. Idempotent per allocation object.
---@param alloc table
function Resources:free(alloc)
  if not alloc or alloc.freed then
    return
  end
  for c in pairs(alloc.cpu or {}) do
    if self.core_used[c] then
      self.core_used[c] = 0
    end
  end
  self.mem_used = math.max(0, self.mem_used - ((alloc.mem or {}).root or 0))
  alloc.freed = true
end

--- Sorted core ids of an allocation.
---@param alloc table
---@return string[]
function M.alloc_cores(alloc)
  local out = {}
  for c in pairs(alloc.cpu or {}) do
    out[#out + 1] = c
  end
  table.sort(out, function(a, b)
    return tonumber(a) < tonumber(b)
  end)
  return out
end

--- Free capacity per slot.
---@return table<string, number>
function Resources:available()
  local free = 0
  for _, c in ipairs(self.cores) do
    free = free + (1 - self.core_used[c])
  end
  return { cpu = free, mem = self.mem_total - self.mem_used }
end

-- Host ports -----------------------------------------------------------------------

---@class bai.PortPool
local PortPool = {}
PortPool.__index = PortPool

--- A pool over [lo, hi]; ports are handed out lowest first.
---@param lo integer
---@param hi integer
---@return bai.PortPool
function M.port_pool(lo, hi)
  return setmetatable({ lo = lo, hi = hi, used = {}, next = lo }, PortPool)
end

--- Take n distinct ports, or nil, INSUFFICIENT_RESOURCE taking none. `is_free(port)`
--- (optional) can veto ports that something else on the host holds.
---@param n integer
---@param is_free? fun(port: integer): boolean
---@return integer[]|nil ports, bai.Error|nil err
function PortPool:take(n, is_free)
  local got = {}
  local span = self.hi - self.lo + 1
  local p = self.next
  for _ = 1, span do
    if #got == n then
      break
    end
    if not self.used[p] and (not is_free or is_free(p)) then
      got[#got + 1] = p
      self.used[p] = true
    end
    p = p + 1
    if p > self.hi then
      p = self.lo
    end
  end
  if #got < n then
    for _, q in ipairs(got) do
      self.used[q] = nil
    end
    return nil, errors.new("INSUFFICIENT_RESOURCE", string.format(
      "host ports: needed %d, only %d free in %d-%d", n, #got, self.lo, self.hi))
  end
  -- rotate so a just-released port is not reused at once
  self.next = p
  return got
end

--- Mark specific ports as taken (recovery). Ports outside the range are accepted.
---@param ports integer[]
function PortPool:reserve(ports)
  for _, q in ipairs(ports or {}) do
    self.used[q] = true
  end
end

---@param ports integer[]
function PortPool:release(ports)
  for _, q in ipairs(ports or {}) do
    self.used[q] = nil
  end
end

function PortPool:in_use()
  local n = 0
  for _ in pairs(self.used) do
    n = n + 1
  end
  return n
end

-- Binary sizes in Backend.AI's "s" format (4g, 1.5g, 512m; bare numbers below 1 KiB).
local UNITS = { { "e", 2 ^ 60 }, { "p", 2 ^ 50 }, { "t", 2 ^ 40 }, { "g", 2 ^ 30 },
  { "m", 2 ^ 20 }, { "k", 2 ^ 10 } }

--- Format bytes the way BinarySize's "s" format does.
---@param n number
---@return string
function M.format_bytes(n)
  for _, u in ipairs(UNITS) do
    if n >= u[2] then
      local q = n / u[2]
      local s = string.format("%.2f", q):gsub("0+$", ""):gsub("%.$", "")
      return s .. u[1]
    end
  end
  return string.format("%d", n)
end

return M
