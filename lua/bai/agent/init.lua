--- bai.agent — the agent: configuration, kernel registry, resource accounting, and the
--- kernel lifecycle (create, destroy) on Docker. RPC handlers call into this object.
local sched = require("bai.sched")
local errors = require("bai.errors")
local docker = require("bai.docker")
local fs = require("bai.fs")
local sys = require("bai.core.sys")
local resources = require("bai.agent.resources")
local kernel = require("bai.agent.kernel")
local log = require("bai.log").get("bai.agent")

local M = {}

---@class bai.Agent
---@field cfg table
---@field id string
---@field kernels table<string, table>   kernel_id -> kernel record (RUNNING or being destroyed)
---@field creating table<string, boolean>
local Agent = {}
Agent.__index = Agent

local function abspath(p)
  if p:sub(1, 1) == "/" then
    return p
  end
  return fs.join(assert(fs.realpath(".")), (p:gsub("^%./", "")))
end

--- Where the krunner bundle and the entrypoint live: container.krunner-path, or next to
--- the binary (build tree: build/krunner; install tree: share/bai-agent/krunner).
local function find_krunner(cfg)
  local configured = cfg.container["krunner-path"]
  local candidates = {}
  if configured then
    candidates[1] = abspath(configured)
  else
    local exe = sys.exe_path()
    local dir = exe:match("^(.*)/[^/]*$") or "."
    candidates = { dir .. "/krunner", dir .. "/../share/bai-agent/krunner" }
  end
  for _, c in ipairs(candidates) do
    local real = fs.realpath(c)
    if real and fs.exists(real .. "/bin/bai-krunner") then
      return real
    end
  end
  return nil, errors.new("ENOENT", "the krunner bundle was not found (looked in "
    .. table.concat(candidates, ", ") .. "); run `make` or set container.krunner-path")
end

local function find_entrypoint(krunner)
  -- the bundle carries a copy of runner/entrypoint.sh
  local p = krunner .. "/entrypoint.sh"
  if fs.exists(p) then
    return p
  end
  return nil, errors.new("ENOENT", "entrypoint.sh missing from the krunner bundle " .. krunner)
end

--- Build the agent from a loaded configuration. Nothing is started yet.
---@param cfg table from bai.config
---@return bai.Agent|nil agent, bai.Error|nil err
function M.new(cfg)
  local a = setmetatable({ cfg = cfg, kernels = {}, creating = {}, destroying = {} }, Agent)
  a.id = cfg.agent.id or ("i-" .. sys.hostname())
  a.scaling_group = cfg.agent["scaling-group"] or "default"
  local rpc = cfg.agent["rpc-listen-addr"]
  -- the address the manager reaches us at (behind NAT: advertised-rpc-addr)
  local adv = cfg.agent["advertised-rpc-addr"] or rpc
  a.agent_addr = string.format("tcp://%s:%d", adv.host, adv.port)
  local bind = cfg.container["bind-host"]
  if bind == nil or bind == "" then
    bind = rpc.host
    if bind == "0.0.0.0" or bind == "" or bind == "*" then
      bind = "127.0.0.1"
    end
  end
  a.bind_host = bind
  a.kernel_host = cfg.container["advertised-host"] or bind
  a.scratch_root = abspath(cfg.container["scratch-root"])
  a.var_base = abspath(cfg.agent["var-base-path"])
  local krunner, err = find_krunner(cfg)
  if not krunner then
    return nil, err
  end
  a.krunner = krunner
  a.entrypoint, err = find_entrypoint(krunner)
  if not a.entrypoint then
    return nil, err
  end
  local cores = sys.cpu_list()
  a.resources = resources.new({ cores = cores, mem_total = sys.mem_total() })
  local range = cfg.container["port-range"]
  a.ports = resources.port_pool(range[1], range[2])
  a.create_sem = sched.semaphore(cfg.agent["kernel-creation-concurrency"] or 4)
  a.arch = sys.arch()
  docker.configure({ socket = cfg.container["docker-socket"] })
  return a
end

--- Prepare directories and check that Docker answers. Fails with a clear error.
---@async
---@return true|nil ok, bai.Error|nil err
function Agent:prepare()
  for _, d in ipairs({ self.scratch_root, self.var_base }) do
    local ok, err = fs.mkdir_p(d, "0755")
    if not ok then
      return nil, errors.wrap("ENOENT", "cannot create " .. d, err)
    end
  end
  local v, err = docker.version()
  if not v then
    return nil, errors.wrap("DOCKER_UNAVAILABLE", "the Docker daemon does not answer", err)
  end
  self.docker_version = v.Version
  log:info("agent %s: docker %s (API %s), %d cores, %d MiB, scratch %s, krunner %s", self.id,
    tostring(v.Version), tostring(v.ApiVersion), #self.resources.cores,
    math.floor(self.resources.mem_total / 1048576), self.scratch_root, self.krunner)
  return true
end

--- The kernel record, or a KeyError-mapped error.
---@param kernel_id any
---@return table|nil kernel, bai.Error|nil err
function Agent:get_kernel(kernel_id)
  local k = type(kernel_id) == "string" and self.kernels[kernel_id] or nil
  if not k then
    return nil, errors.new("KERNEL_NOT_FOUND", tostring(kernel_id))
  end
  return k
end

--- Scratch directory of a kernel.
---@param kernel_id string
---@return string
function Agent:scratch_dir(kernel_id)
  return self.scratch_root .. "/" .. kernel_id
end

--- Destroy every kernel (shutdown with termination).
---@async
function Agent:destroy_all(reason)
  local tasks = {}
  for kid, k in pairs(self.kernels) do
    tasks[#tasks + 1] = sched.spawn(function()
      return kernel.destroy(self, kid, k.session_id, reason)
    end, "destroy:" .. kid)
  end
  for _, t in ipairs(tasks) do
    t:join(60)
  end
  local left = {}
  for kid in pairs(self.kernels) do
    left[#left + 1] = kid
  end
  if #left > 0 then
    table.sort(left)
    log:error("%d kernel(s) could not be destroyed and are left running: %s (the next start "
      .. "adopts or cleans them)", #left, table.concat(left, ", "))
  end
end

M.Agent = Agent
return M
