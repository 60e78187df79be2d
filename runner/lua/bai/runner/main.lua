--- bai.runner.main — entry of the in-container kernel runner (bai-krunner).
---
---   bai-krunner [--debug] [<runtime-type> [<runtime-path>]]
---
--- The runtime type is "app" (the default), "shell", "python" or another Backend.AI type
--- (see RUNTIME_TYPES below for how query-mode code runs); batch commands always run with
--- /bin/sh. For "python" the runtime path names the interpreter.
--- Everything the runner needs from the container is read here (reference §4, §5):
---   /home/config/environ.txt          environment for user processes
---   /home/config/intrinsic-ports.json replin/replout ports (host-network kernels)
---   LOCAL_USER_ID / LOCAL_GROUP_ID    user code runs as this uid:gid when we are root
local log = require("bai.runner.log")

local M = {}

M.VERSION = "0.1.0"
M.CONFIG_DIR = "/home/config"
M.WORK_DIR = "/home/work"
M.DEFAULT_ENV = {
  PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME = "/home/work",
}
--- Runtime types and how query-mode code runs: "app"/"shell" through /bin/sh -c,
--- "python" through the interpreter (runtime path, else python3) with -c. Any other
--- Backend.AI runtime type is accepted with a warning and runs code through /bin/sh.
M.RUNTIME_TYPES = { app = "shell", shell = "shell", python = "python" }

local USAGE = "usage: bai-krunner [--debug] [<runtime-type> [<runtime-path>]]\n"

---@class bai.runner.Options
---@field debug boolean
---@field runtime_type string
---@field runtime_path string|nil

--- Parse the command line (arg[1..n]).
---@param argv table
---@return bai.runner.Options|nil opts, string|nil err
function M.parse_args(argv)
  local opts = { debug = false, runtime_type = "app" }
  local pos = {}
  for i = 1, #argv do
    local a = argv[i]
    if a == "--debug" then
      opts.debug = true
    elseif a == "-h" or a == "--help" then
      return nil, "help"
    elseif a:sub(1, 1) == "-" then
      return nil, "unknown option " .. a
    else
      pos[#pos + 1] = a
    end
  end
  if #pos > 2 then
    return nil, "too many arguments"
  end
  opts.runtime_type = pos[1] or "app"
  opts.runtime_path = pos[2]
  opts.query_runner = M.RUNTIME_TYPES[opts.runtime_type]
  if not opts.query_runner then
    opts.query_runner = "shell"
    opts.unknown_runtime = true
  end
  return opts
end

local function read_text(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

--- Parse KEY=VALUE lines (split at the first "="; lines without "=" are skipped) into t.
---@param text string
---@param t? table<string, string>
---@return table<string, string>
function M.parse_environ(text, t)
  t = t or {}
  for line in text:gmatch("[^\n]+") do
    line = line:gsub("\r$", "")
    local k, v = line:match("^([^=]+)=(.*)$")
    if k then
      t[k] = v
    end
  end
  return t
end

--- The environment for user processes: the runner's own environment (without HOME, which
--- Docker sets to root's), then PATH/HOME defaults where missing, then environ.txt on top.
---@param config_dir? string
---@return table<string, string>
function M.child_env(config_dir)
  local env = {}
  local own = read_text("/proc/self/environ")
  if own then
    for item in own:gmatch("[^%z]+") do
      local k, v = item:match("^([^=]+)=(.*)$")
      if k and k ~= "HOME" then
        env[k] = v
      end
    end
  end
  for k, v in pairs(M.DEFAULT_ENV) do
    if env[k] == nil then
      env[k] = v
    end
  end
  local txt = read_text((config_dir or M.CONFIG_DIR) .. "/environ.txt")
  if txt then
    M.parse_environ(txt, env)
  end
  return env
end

--- The replin/replout ports: 2000/2001 unless intrinsic-ports.json says otherwise.
---@param config_dir? string
---@return integer replin, integer replout
function M.ports(config_dir)
  local replin, replout = 2000, 2001
  local txt = read_text((config_dir or M.CONFIG_DIR) .. "/intrinsic-ports.json")
  if txt then
    local v = require("bai.json").decode(txt)
    if type(v) == "table" then
      replin = tonumber(v.replin) or replin
      replout = tonumber(v.replout) or replout
    else
      log.warn("ignoring malformed intrinsic-ports.json")
    end
  end
  return math.floor(replin), math.floor(replout)
end

--- uid/gid for user processes: LOCAL_USER_ID/LOCAL_GROUP_ID when the runner is root and
--- the uid is non-zero; nil, nil (run as ourselves) otherwise.
---@param env table<string, string>
---@return integer|nil uid, integer|nil gid
function M.user_ids(env)
  local uid = tonumber(env.LOCAL_USER_ID or "")
  if not uid or uid == 0 or require("bai.core.sys").geteuid() ~= 0 then
    return nil, nil
  end
  local gid = tonumber(env.LOCAL_GROUP_ID or "") or uid
  return uid, gid
end

--- Entry point called by core/main.c; returns the exit status.
---@param argv table
---@return integer
function M.main(argv)
  local opts, perr = M.parse_args(argv)
  if not opts then
    io.stderr:write(USAGE)
    if perr ~= "help" then
      io.stderr:write("bai-krunner: ", perr, "\n")
      return 2
    end
    return 0
  end
  log.debug_enabled = opts.debug
  local sched = require("bai.sched")
  local server = require("bai.runner.server")
  sched.on_error(function(task, err)
    log.error("task %s failed: %s", task.name, tostring(err))
  end)
  local env = M.child_env()
  local uid, gid = M.user_ids(env)
  local replin, replout = M.ports()
  local srv = server.new({
    env = env,
    uid = uid,
    gid = gid,
    workdir = M.WORK_DIR,
    query_runner = opts.query_runner,
    runtime_path = opts.runtime_path,
    replin = replin,
    replout = replout,
  })
  log.info(
    "bai-krunner %s (%s, runtime %s) user code runs as %s",
    M.VERSION,
    jit.version,
    opts.runtime_type,
    uid and (uid .. ":" .. gid) or "the container user"
  )
  if opts.unknown_runtime then
    log.warn("runtime type %q has no dedicated support here: query-mode code runs with /bin/sh",
      opts.runtime_type)
  end
  local rc, err = sched.block_on(function()
    return srv:serve()
  end)
  if rc == nil then
    log.error("runner failed: %s", tostring(err))
    return 1
  end
  return rc
end

return M
