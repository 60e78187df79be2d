--- bai.main — command-line entry of the bai-agent host.
---
---   bai-agent serve [-f agent.toml]
---   bai-agent call METHOD [ARGS_JSON [KWARGS_JSON]] [--addr ADDR] [--timeout S]
---   bai-agent --version
---   bai-agent --test [busted args]        (runs busted specs inside the host)
local M = {}

M.VERSION = "0.1.0"

local USAGE = [==[
usage: bai-agent serve [-f agent.toml]
       bai-agent call METHOD [ARGS_JSON [KWARGS_JSON]] [--addr ADDR] [--timeout SECONDS]
       bai-agent --version
       bai-agent --test [--run=TASK] [busted options]
       bai-agent script FILE.lua [ARGS...]   (run a Lua file inside the host; benchmarks, tools)
]==]

local function eprint(...)
  io.stderr:write(table.concat({ ... }, " "), "\n")
end

local function version_string()
  local zmq = require("bai.core.zmq")
  return string.format("bai-agent %s (%s, libzmq %s)", M.VERSION, jit.version, zmq.version())
end

local function run_tests(args)
  -- busted reads the global `arg`; hand it the remaining arguments
  local bargs = { [0] = "bai-agent --test" }
  for i = 2, #args do
    bargs[#bargs + 1] = args[i]
  end
  rawset(_G, "arg", bargs)
  -- busted ends a failing run with error() (no value) under Lua 5.1: that means "failed"
  local ok, err = pcall(require("busted.runner"), { standalone = false })
  if ok then
    return 0
  end
  if err ~= nil then
    io.stderr:write("bai-agent --test: ", tostring(err), "\n")
  end
  return 1
end

--- Forbid new globals from here on (Redis's allow-list idea with a plain metatable).
local function lock_globals()
  setmetatable(_G, {
    __newindex = function(_, k)
      error("bai-agent: assignment to undeclared global '" .. tostring(k) .. "'", 2)
    end,
    __index = function(_, k)
      error("bai-agent: read of undeclared global '" .. tostring(k) .. "'", 2)
    end,
  })
end

--- Entry point called by core/main.c with the argv table; returns the exit status.
---@param argv table
---@return integer
function M.main(argv)
  local args = {}
  for i = 1, #argv do
    args[i] = argv[i]
  end
  local cmd = args[1]
  if cmd == "--version" or cmd == "version" then
    print(version_string())
    return 0
  elseif cmd == "--test" then
    return run_tests(args)
  elseif cmd == "serve" then
    lock_globals()
    return require("bai.cli.serve").run(args)
  elseif cmd == "call" then
    lock_globals()
    return require("bai.cli.call").run(args)
  elseif cmd == "script" then
    if not args[2] then
      io.stderr:write(USAGE)
      return 2
    end
    local chunk, err = loadfile(args[2])
    if not chunk then
      eprint("bai-agent script: " .. tostring(err))
      return 2
    end
    local rc = chunk(unpack(args, 3))
    return type(rc) == "number" and rc or 0
  elseif cmd == "--help" or cmd == "-h" or cmd == "help" then
    io.stdout:write(USAGE)
    return 0
  end
  io.stderr:write(USAGE)
  if cmd then
    eprint("bai-agent: unknown command: " .. cmd)
  end
  return 2
end

return M
