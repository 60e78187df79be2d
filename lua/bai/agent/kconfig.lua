--- bai.agent.kconfig — pure helpers for kernel creation: validating the manager's
--- argument shapes, image references, the environment, and the text of the
--- config/environ.txt and config/resource.txt files (reference §3, §5.1, §5.2).
local errors = require("bai.errors")
local mp = require("bai.msgpack")
local json = require("bai.json")
local resources = require("bai.agent.resources")

local M = {}

local ARCH_ALIASES = { arm64 = "aarch64", amd64 = "x86_64", x64 = "x86_64", i686 = "x86",
  x32 = "x86" }

--- Normalise an architecture name (amd64 -> x86_64, arm64 -> aarch64).
---@param a string|nil
---@return string|nil
function M.normalize_arch(a)
  if a == nil or a == mp.null then
    return nil
  end
  return ARCH_ALIASES[a] or a
end

local function nonempty(v)
  return type(v) == "string" and v ~= ""
end

--- An ImageRef as the manager sends it (a map of its fields until pickles are decoded):
--- {name, project, tag, registry, architecture, is_local}. Returns the normalised ref
--- with `canonical`, `short` and `docker_name` (short when local, else canonical).
---@param ref table
---@return table|nil ref, bai.Error|nil err
function M.image_ref(ref)
  if type(ref) ~= "table" or not nonempty(ref.name) then
    return nil, errors.new("VALUE_ERROR", "an ImageRef needs at least a name")
  end
  -- Docker's reference grammar, simplified: lower-case path components separated by
  -- "/", each made of alphanumerics joined by single ".", "_" or "-"; a registry is a
  -- host name with an optional port
  local function path_ok(p)
    for comp in (p .. "/"):gmatch("(.-)/") do
      if comp == "" or not comp:match("^[%l%d]+$") and not (comp:match("^[%l%d][%l%d%._%-]*$")
          and comp:match("[%l%d]$") and not comp:find("[%._%-][%._%-]")) then
        return false
      end
    end
    return true
  end
  if not path_ok(ref.name) then
    return nil, errors.new("VALUE_ERROR", string.format("invalid image name %q", ref.name))
  end
  if nonempty(ref.project) and not path_ok(ref.project) then
    return nil, errors.new("VALUE_ERROR", string.format("invalid image project %q", ref.project))
  end
  if nonempty(ref.registry) and not ref.registry:match("^[%w][%w%.%-]*:?%d*$") then
    return nil, errors.new("VALUE_ERROR", string.format("invalid registry %q", ref.registry))
  end
  local tag = nonempty(ref.tag) and ref.tag or "latest"
  if not tag:match("^[%w][%w%-%._]*$") or #tag > 128 then
    return nil, errors.new("VALUE_ERROR", "invalid image tag: " .. tag)
  end
  -- join the non-empty parts with "/" (a missing part must not end the list, so no ipairs)
  local function join(...)
    local out = {}
    for i = 1, select("#", ...) do
      local p = select(i, ...)
      if nonempty(p) then
        out[#out + 1] = p
      end
    end
    return table.concat(out, "/")
  end
  local canonical = join(ref.registry, ref.project, ref.name) .. ":" .. tag
  local short = join(ref.project, ref.name) .. ":" .. tag
  local is_local = ref.is_local == true
  return {
    name = ref.name,
    project = nonempty(ref.project) and ref.project or nil,
    tag = tag,
    registry = nonempty(ref.registry) and ref.registry or nil,
    architecture = M.normalize_arch(ref.architecture),
    is_local = is_local,
    canonical = canonical,
    short = short,
    docker_name = is_local and short or canonical,
  }
end

--- An ImageRef from an ImageConfig's canonical name ("registry/project/name:tag").
---@param image table ImageConfig map
---@return table|nil ref, bai.Error|nil err
function M.image_ref_from_config(image)
  if type(image) ~= "table" or not nonempty(image.canonical) then
    return nil, errors.new("VALUE_ERROR", "the kernel config has no image.canonical")
  end
  local canonical = image.canonical
  local path, tag = canonical:match("^(.-):([^:/]+)$")
  if not path then
    path, tag = canonical, "latest"
  end
  local name = path:match("([^/]+)$")
  if not name then
    return nil, errors.new("VALUE_ERROR", string.format("invalid image name %q", canonical))
  end
  local prefix = #path > #name and path:sub(1, #path - #name - 1) or ""
  local registry, project
  if image.is_local then
    project = prefix ~= "" and prefix or nil
  else
    registry, project = prefix:match("^([^/]+)/?(.*)$")
    if project == "" then
      project = nil
    end
  end
  return M.image_ref({
    name = name,
    project = project,
    tag = tag,
    registry = registry or (image.registry and image.registry.name),
    architecture = image.architecture,
    is_local = image.is_local == true,
  })
end

local NAME_OK = "[^%w_%.%-]"

--- Container ports the agent and runner keep for themselves (runner, sshd, ttyd).
M.RESERVED_PORTS = { [2000] = true, [2001] = true, [2002] = true, [2003] = true, [2200] = true,
  [7681] = true }

--- Docker container name for a kernel: kernel.<image basename>.<kernel_id>.
---@param ref table normalised image ref
---@param kernel_id string
---@return string
function M.container_name(ref, kernel_id)
  local base = ref.name:match("([^/]+)$"):gsub(NAME_OK, "-")
  return "kernel." .. base .. "." .. kernel_id
end

--- Parse the `ai.backend.service-ports` label: "name:proto:port" or
--- "name:proto:[p1,p2]" items, comma-separated.
---@param label string|nil
---@return table[]|nil ports, bai.Error|nil err
function M.parse_service_ports(label)
  local out = {}
  if not label or label == "" then
    return out
  end
  -- split on commas outside brackets
  local items, depth, cur = {}, 0, {}
  for ch in label:gmatch(".") do
    if ch == "[" then
      depth = depth + 1
    elseif ch == "]" then
      depth = depth - 1
    end
    if ch == "," and depth == 0 then
      items[#items + 1] = table.concat(cur)
      cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  items[#items + 1] = table.concat(cur)
  local RESERVED = M.RESERVED_PORTS
  for _, item in ipairs(items) do
    item = item:gsub("^%s+", ""):gsub("%s+$", "")
    if item ~= "" then
      local name, proto, ports = item:match("^([%w_%-%.]+):(%a+):(.+)$")
      if not name then
        return nil, errors.new("VALUE_ERROR", "invalid service-port item: " .. item)
      end
      if proto ~= "pty" then
        local list = {}
        for p in ports:gmatch("%d+") do
          local n = tonumber(p)
          if n < 1025 or n > 65534 or RESERVED[n] then
            return nil, errors.new("VALUE_ERROR", string.format(
              "service port %d of %s is reserved or out of range", n, name))
          end
          list[#list + 1] = n
        end
        if #list == 0 or not ({ tcp = 1, http = 1, preopen = 1, vnc = 1, rdp = 1 })[proto] then
          return nil, errors.new("VALUE_ERROR", "invalid service-port item: " .. item)
        end
        out[#out + 1] = { name = name, protocol = proto, container_ports = list }
      end
    end
  end
  return out
end

--- Validate one KernelCreationConfig enough to act on it; returns a digest of what the
--- agent uses. Nothing is taken here.
---@param cfg table
---@return table|nil digest, bai.Error|nil err
function M.validate_config(cfg)
  if type(cfg) ~= "table" then
    return nil, errors.new("VALUE_ERROR", "each kernel config must be a map")
  end
  local req, err = resources.validate(cfg.resource_slots)
  if not req then
    return nil, err
  end
  local environ = {}
  if cfg.environ ~= nil and cfg.environ ~= mp.null then
    if type(cfg.environ) ~= "table" then
      return nil, errors.new("VALUE_ERROR", "environ must be a map of strings")
    end
    for k, v in pairs(cfg.environ) do
      if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
        return nil, errors.new("VALUE_ERROR", "invalid environment variable name: "
          .. tostring(k))
      end
      if type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean" then
        return nil, errors.new("VALUE_ERROR", "environment variable " .. k
          .. " must be a string")
      end
      v = tostring(v)
      if v:find("[\r\n%z]") then
        return nil, errors.new("VALUE_ERROR", "environment variable " .. k
          .. " contains a line break or NUL")
      end
      environ[k] = v
    end
  end
  local preopen, seen_port = {}, {}
  for _, p in ipairs(type(cfg.preopen_ports) == "table" and cfg.preopen_ports or {}) do
    if type(p) ~= "number" or p ~= math.floor(p) or p < 1025 or p > 65534 then
      return nil, errors.new("VALUE_ERROR", "invalid preopen port: " .. tostring(p))
    end
    if M.RESERVED_PORTS[p] then
      return nil, errors.new("VALUE_ERROR", string.format(
        "preopen port %d collides with an intrinsic port", p))
    end
    if seen_port[p] then
      return nil, errors.new("VALUE_ERROR", string.format("preopen port %d is listed twice", p))
    end
    seen_port[p] = true
    preopen[#preopen + 1] = p
  end
  local opts = type(cfg.resource_opts) == "table" and cfg.resource_opts or {}
  local shmem
  if opts.shmem ~= nil and opts.shmem ~= mp.null then
    shmem = resources.parse_amount("mem", opts.shmem)
    if not shmem or shmem < 1 or shmem > 2 ^ 53 then
      return nil, errors.new("VALUE_ERROR", "invalid resource_opts.shmem")
    end
  end
  -- uid / main_gid override LOCAL_USER_ID / LOCAL_GROUP_ID: plain ids only
  for _, key in ipairs({ "uid", "main_gid" }) do
    local v = cfg[key]
    if v ~= nil and v ~= mp.null and (type(v) ~= "number" or v ~= math.floor(v) or v < 0
        or v > 2147483647) then
      return nil, errors.new("VALUE_ERROR", key .. " must be an integer between 0 and 2^31-1")
    end
  end
  for _, key in ipairs({ "bootstrap_script", "startup_command" }) do
    local v = cfg[key]
    if v ~= nil and v ~= mp.null and type(v) ~= "string" then
      return nil, errors.new("VALUE_ERROR", key .. " must be a string")
    end
  end
  return {
    request = req,
    environ = environ,
    preopen_ports = preopen,
    shmem = shmem,
    uid = type(cfg.uid) == "number" and cfg.uid or nil,
    gid = type(cfg.main_gid) == "number" and cfg.main_gid or nil,
    bootstrap_script = type(cfg.bootstrap_script) == "string" and cfg.bootstrap_script or nil,
    cluster_hostname = type(cfg.cluster_hostname) == "string" and cfg.cluster_hostname or nil,
    cluster_role = type(cfg.cluster_role) == "string" and cfg.cluster_role or "main",
    owner_user_id = type(cfg.owner_user_id) == "string" and cfg.owner_user_id or nil,
    owner_project_id = type(cfg.owner_project_id) == "string" and cfg.owner_project_id or nil,
    session_type = type(cfg.session_type) == "string" and cfg.session_type or "interactive",
  }
end

--- Sorted "KEY=VALUE" lines of an environment map.
---@param environ table<string, string>
---@return string[]
function M.env_list(environ)
  local keys = {}
  for k in pairs(environ) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    out[#out + 1] = k .. "=" .. environ[k]
  end
  return out
end

--- Text of config/environ.txt: one KEY=VALUE line per variable, no quoting.
---@param environ table<string, string>
---@return string
function M.environ_txt(environ)
  local lines = M.env_list(environ)
  return table.concat(lines, "\n") .. (#lines > 0 and "\n" or "")
end

--- Text of config/resource.txt (reference §5.2), without the CID line.
---@param spec { mounts: string[], slots: table<string, number>, alloc: table }
---@return string
function M.resource_txt(spec)
  local slots = {}
  for _, k in ipairs({ "cpu", "mem" }) do
    if spec.slots[k] then
      slots[#slots + 1] = string.format("%q:%q", k, string.format("%.0f", spec.slots[k]))
    end
  end
  local cores = resources.alloc_cores(spec.alloc)
  local cpu_shares = {}
  for _, c in ipairs(cores) do
    cpu_shares[#cpu_shares + 1] = c .. ":1"
  end
  local lines = {
    "SCRATCH_SIZE=0m",
    "MOUNTS=" .. table.concat(spec.mounts, ","),
    "SLOTS={" .. table.concat(slots, ",") .. "}",
    "UNIFIED_DEVICES=[]",
    "CPU_SHARES=" .. table.concat(cpu_shares, ","),
    "MEM_SHARES=root:" .. resources.format_bytes(spec.alloc.mem.root),
  }
  return table.concat(lines, "\n") .. "\n"
end

--- Parse resource.txt back (reference §5.2 read_from_string): KEY=VALUE lines, *_SHARES
--- as {device: amount}.
---@param text string
---@return table
function M.parse_resource_txt(text)
  local out = { shares = {} }
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^([^=]+)=(.*)$")
    if k then
      if k:sub(-7) == "_SHARES" then
        local slot = k:sub(1, -8):lower()
        local shares = {}
        for item in v:gmatch("[^,]+") do
          local dev, amount = item:match("^([^:]+):(.*)$")
          if dev then
            shares[dev] = amount
          end
        end
        out.shares[slot] = shares
      elseif k == "SLOTS" then
        out.slots = json.decode(v)
      else
        out[k] = v
      end
    end
  end
  return out
end

return M
