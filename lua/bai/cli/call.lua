--- `bai-agent call METHOD [ARGS_JSON [KWARGS_JSON]] [--addr ADDR] [--timeout S]`: a
--- manager-side client for operators and scripts. Prints the result as JSON.
local sched = require("bai.sched")
local json = require("bai.json")
local mp = require("bai.msgpack")
local sys = require("bai.core.sys")
local client = require("bai.rpc.client")

local M = {}

local function die(msg, code)
  io.stderr:write("bai-agent call: ", msg, "\n")
  return code or 2
end

--- Parse call's arguments.
---@param args string[]
---@return table|nil opts, string|nil err
function M.parse_args(args)
  local o = { addr = sys.getenv("BAI_AGENT_ADDR") or "tcp://127.0.0.1:6001", timeout = 300 }
  local pos = {}
  local i = 2
  while i <= #args do
    local a = args[i]
    if a == "--addr" then
      o.addr = args[i + 1]
      i = i + 2
    elseif a == "--timeout" then
      o.timeout = tonumber(args[i + 1])
      if not o.timeout then
        return nil, "--timeout needs a number of seconds"
      end
      i = i + 2
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  if not o.addr then
    return nil, "--addr needs an address like tcp://127.0.0.1:6001"
  end
  if not o.addr:find("://", 1, true) then
    o.addr = "tcp://" .. o.addr
  end
  o.method = pos[1]
  if not o.method then
    return nil, "usage: bai-agent call METHOD [ARGS_JSON [KWARGS_JSON]] [--addr ADDR]"
  end
  o.args, o.kwargs = {}, {}
  if pos[2] then
    local v = json.decode(pos[2])
    if type(v) ~= "table" or (next(v) ~= nil and not mp.is_array(v)) then
      return nil, "ARGS_JSON must be a JSON array, e.g. '[\"hello\"]'"
    end
    o.args = v
  end
  if pos[3] then
    local v = json.decode(pos[3])
    if type(v) ~= "table" or mp.is_array(v) then
      return nil, "KWARGS_JSON must be a JSON object, e.g. '{\"reason\": \"user-requested\"}'"
    end
    o.kwargs = v
  end
  if #pos > 3 then
    return nil, "too many arguments"
  end
  return o
end

-- bin wrappers and nulls become plain JSON values
local function plain(v)
  if mp.is_bin(v) then
    return v.data
  elseif v == mp.null then
    return json.null
  elseif type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do
      out[k] = plain(x)
    end
    if mp.is_array(v) then
      return json.array(out)
    end
    return out
  end
  return v
end
M.plain = plain

---@param args string[]
---@return integer
function M.run(args)
  local o, err = M.parse_args(args)
  if not o then
    return die(err)
  end
  local status = 0
  sched.block_on(function()
    local c, cerr = client.connect(o.addr)
    if not c then
      status = die(tostring(cerr), 1)
      return
    end
    local value, rerr = c:call(o.method, json.array(o.args), o.kwargs, o.timeout)
    c:close()
    if rerr then
      if rerr.code == "RPC_FAILURE" then
        io.stderr:write(string.format("%s: %s\n", rerr.name, rerr.repr))
      else
        io.stderr:write("bai-agent call: ", tostring(rerr), "\n")
      end
      status = 1
      return
    end
    local text, jerr = json.encode(plain(value))
    if not text then
      io.stderr:write("bai-agent call: the result cannot be shown as JSON: ", tostring(jerr), "\n")
      status = 1
      return
    end
    io.stdout:write(text, "\n")
  end, o.timeout + 10)
  return status
end

return M
