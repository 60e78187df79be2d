--- bai.agent.kernel — creating and destroying kernels: Docker containers running the
--- kernel runner, with a scratch directory, resource limits and published runner ports.
---
--- Creation is a sequence of steps; each step that takes something pushes its undo.
--- Any failure runs the undos in reverse, so a failed create leaves no container,
--- scratch directory, slot or port behind. Destroy is idempotent: "already gone" is
--- success at every step.
local sched = require("bai.sched")
local errors = require("bai.errors")
local docker = require("bai.docker")
local fs = require("bai.fs")
local proc = require("bai.proc")
local sys = require("bai.core.sys")
local mp = require("bai.msgpack")
local kconfig = require("bai.agent.kconfig")
local resources = require("bai.agent.resources")
local runner_client = require("bai.agent.runner_client")
local log = require("bai.log").get("bai.kernel")

local M = {}

local STATE_FILE = "bai-kernel.json"

---@class bai.Undo
local Undo = {}
Undo.__index = Undo

local function undo_stack()
  return setmetatable({ steps = {} }, Undo)
end

function Undo:push(name, fn)
  self.steps[#self.steps + 1] = { name = name, fn = fn }
end

---@async
function Undo:run()
  for i = #self.steps, 1, -1 do
    local step = self.steps[i]
    local ok, err = pcall(step.fn)
    if not ok then
      log:error("rollback step %s failed: %s", step.name, tostring(err))
    end
  end
  self.steps = {}
end

local function label_of(info, key)
  local cfg = info and info.Config
  local labels = cfg and cfg.Labels
  if type(labels) == "table" then
    local v = labels[key]
    if type(v) == "string" then
      return v
    end
  end
  return nil
end

--- The environment for the container: the manager's environ plus what the agent adds.
local function build_environ(agent, digest, image_info, alloc)
  local env = {}
  for k, v in pairs(digest.environ) do
    env[k] = v
  end
  local kuid = agent.cfg.container["kernel-uid"]
  local kgid = agent.cfg.container["kernel-gid"]
  local uid = digest.uid or (kuid and kuid >= 0 and kuid) or sys.getuid()
  local gid = digest.gid or (kgid and kgid >= 0 and kgid) or sys.getgid()
  env.LOCAL_USER_ID = tostring(uid)
  env.LOCAL_GROUP_ID = tostring(gid)
  env.GPU_COUNT = env.GPU_COUNT or "0"
  env.N_GPUS = env.N_GPUS or "0"
  local ncores = #resources.alloc_cores(alloc)
  local corecount = label_of(image_info, "ai.backend.envs.corecount")
  if corecount then
    for name in corecount:gmatch("[^,%s]+") do
      if env[name] == nil then
        env[name] = tostring(ncores)
      end
    end
  end
  return env
end

local function port_key(p)
  return tostring(p) .. "/tcp"
end

--- The Docker create body (reference §3.5 container spec, minus what this agent does not
--- run yet: sshd/ttyd intrinsic services, libbaihook, jail).
local function container_body(agent, k, ref, image_info, digest, env)
  local cores = resources.alloc_cores(k.alloc)
  local exposed, bindings = {}, {}
  exposed[port_key(2000)] = {}
  exposed[port_key(2001)] = {}
  bindings[port_key(2000)] = { { HostIp = "127.0.0.1", HostPort = tostring(k.repl_in_port) } }
  bindings[port_key(2001)] = { { HostIp = "127.0.0.1", HostPort = tostring(k.repl_out_port) } }
  for _, sp in ipairs(k.service_ports) do
    for i, cp in ipairs(sp.container_ports) do
      exposed[port_key(cp)] = {}
      bindings[port_key(cp)] = {
        { HostIp = agent.bind_host, HostPort = tostring(sp.host_ports[i]) },
      }
    end
  end
  local runtime_type = label_of(image_info, "ai.backend.runtime-type") or "app"
  local runtime_path = label_of(image_info, "ai.backend.runtime-path")
  local cmd = { "/opt/backend.ai/bin/bai-krunner" }
  if agent.cfg.debug["kernel-runner"] then
    cmd[#cmd + 1] = "--debug"
  end
  cmd[#cmd + 1] = runtime_type
  if runtime_path then
    cmd[#cmd + 1] = runtime_path
  end
  local sp_label = {}
  for _, sp in ipairs(k.service_ports) do
    local ports = #sp.container_ports == 1 and tostring(sp.container_ports[1])
      or ("[" .. table.concat(sp.container_ports, ",") .. "]")
    sp_label[#sp_label + 1] = sp.name .. ":" .. sp.protocol .. ":" .. ports
  end
  local labels = {
    ["ai.backend.agent-id"] = agent.id,
    ["ai.backend.owner"] = agent.id,
    ["ai.backend.kernel-id"] = k.id,
    ["ai.backend.session-id"] = k.session_id,
    ["ai.backend.internal.block-service-ports"] = "0",
    ["ai.backend.service-ports"] = table.concat(sp_label, ","),
  }
  if digest.owner_user_id then
    labels["ai.backend.owner-user-id"] = digest.owner_user_id
  end
  if digest.owner_project_id then
    labels["ai.backend.owner-project-id"] = digest.owner_project_id
  end
  local host = {
    Init = true,
    Binds = {
      k.scratch_dir .. "/config:/home/config:ro",
      k.scratch_dir .. "/work:/home/work:rw",
      agent.krunner .. ":/opt/backend.ai:ro",
      agent.entrypoint .. ":/opt/kernel/entrypoint.sh:ro",
    },
    PortBindings = bindings,
    Memory = k.alloc.mem.root,
    MemorySwap = k.alloc.mem.root,
    CpusetCpus = table.concat(cores, ","),
    SecurityOpt = { "no-new-privileges" },
    -- raw sockets and device nodes are not needed to run code; the rest of Docker's
    -- default set stays (the runner needs SETUID/SETGID to drop to the kernel user)
    CapDrop = { "NET_RAW", "MKNOD" },
  }
  if digest.shmem then
    host.ShmSize = math.floor(digest.shmem)
  end
  return {
    Image = ref.docker_name,
    Hostname = digest.cluster_hostname,
    Entrypoint = { "/opt/kernel/entrypoint.sh" },
    Cmd = cmd,
    Env = kconfig.env_list(env),
    WorkingDir = "/home/work",
    Tty = true,
    OpenStdin = true,
    StopSignal = "SIGINT",
    Labels = labels,
    ExposedPorts = exposed,
    HostConfig = host,
  }
end

--- Remove a kernel's scratch directory without blocking the loop: a user's work tree
--- can hold any number of files, so `rm` runs in a child process (it never follows
--- symlinks, and --one-file-system keeps it out of anything mounted inside). Only if rm
--- cannot be started at all does the in-process rmtree (same rules) do the job.
---@async
local function remove_scratch(dir)
  if not fs.exists(dir) then
    return true
  end
  local res, err = proc.run({ "rm", "-rf", "--one-file-system", "--", dir }, { timeout = 600 })
  if res and res.code == 0 then
    return true
  elseif res then
    return nil, errors.new("ESYS", "rm could not remove " .. dir .. ": "
      .. (res.stderr:gsub("%s+$", "")))
  elseif err.code ~= "ENOENT" then
    return nil, err
  end
  return fs.rmtree(dir)
end

--- Persist what a restarted agent needs to recognise this kernel (atomic JSON)
--- (status "creating" until the container exists and is recorded, then "created")
local function write_state(k)
  return fs.write_json(k.scratch_dir .. "/config/" .. STATE_FILE, {
    status = k.container_id and "created" or "creating",
    id = k.id,
    session_id = k.session_id,
    agent_id = k.agent_id,
    container_id = k.container_id,
    container_name = k.container_name,
    image = k.image.canonical,
    docker_image = k.image.docker_name,
    repl_in_port = k.repl_in_port,
    repl_out_port = k.repl_out_port,
    service_ports = k.service_ports,
    cores = resources.alloc_cores(k.alloc),
    mem = k.alloc.mem.root,
    created_at = k.created_at,
  })
end

local function service_ports_result(k)
  local out = mp.array({})
  for _, sp in ipairs(k.service_ports) do
    out[#out + 1] = {
      name = sp.name,
      protocol = sp.protocol,
      container_ports = mp.array(sp.container_ports),
      host_ports = mp.array(sp.host_ports),
      is_inference = false,
    }
  end
  return out
end

--- The per-kernel result dict of create_kernels (reference §3.4), plain values only.
---@param agent bai.Agent
---@param k table
---@return table
function M.result(agent, k)
  local cores = resources.alloc_cores(k.alloc)
  local cpu_devices = mp.array({})
  for _, c in ipairs(cores) do
    cpu_devices[#cpu_devices + 1] = { device_id = c, model_name = "", data = { cores = 1 } }
  end
  return {
    id = k.id,
    kernel_host = agent.kernel_host,
    repl_in_port = k.repl_in_port,
    repl_out_port = k.repl_out_port,
    stdin_port = 0,
    stdout_port = 0,
    service_ports = service_ports_result(k),
    container_id = k.container_id,
    resource_spec = {
      container_id = k.container_id,
      slots = { cpu = tostring(#cores), mem = string.format("%.0f", k.alloc.mem.root) },
      allocations = {
        cpu = { cpu = (function()
          local t = {}
          for _, c in ipairs(cores) do
            t[c] = "1"
          end
          return t
        end)() },
        mem = { mem = { root = string.format("%.0f", k.alloc.mem.root) } },
      },
      scratch_disk_size = 0,
      mounts = mp.array({}),
      unified_devices = mp.array({}),
    },
    attached_devices = {
      cpu = cpu_devices,
      mem = mp.array({ { device_id = "root", model_name = "",
        data = { mem = string.format("%.0f", k.alloc.mem.root) } } }),
    },
    agent_addr = agent.agent_addr,
    scaling_group = agent.scaling_group,
  }
end

-- The steps of create; each that takes something pushes its undo onto `undo`.
local function create_steps(agent, spec, undo)
  local kid = spec.kernel_id
  local ref, digest = spec.image_ref, spec.digest
  local k = {
    id = kid,
    session_id = spec.session_id,
    agent_id = agent.id,
    image = ref,
    created_at = sys.time(),
    scratch_dir = agent:scratch_dir(kid),
    status = "PREPARING",
  }
  local function fail(err)
    log:warn("creating kernel %s failed: %s", kid, tostring(err))
    undo:run()
    return nil, err
  end

  -- image: must exist locally (pulling is a later capability) and match our architecture
  local info, err = docker.image_inspect(ref.docker_name)
  if not info then
    if err.code == "DOCKER_NOT_FOUND" then
      return fail(errors.new("IMAGE_NOT_AVAILABLE", string.format(
        "image %s is not present on this agent", ref.docker_name)))
    end
    return fail(err)
  end
  local image_arch = kconfig.normalize_arch(info.Architecture)
  if image_arch and image_arch ~= kconfig.normalize_arch(agent.arch) then
    return fail(errors.new("UNSUPPORTED_ARCH", string.format(
      "image %s is %s but this agent runs on %s", ref.docker_name, image_arch, agent.arch)))
  end
  local sp, sperr = kconfig.parse_service_ports(label_of(info, "ai.backend.service-ports"))
  if not sp then
    return fail(sperr)
  end
  if digest.cluster_role ~= "main" and digest.cluster_role ~= "master" then
    sp = {}
  end
  for _, p in ipairs(digest.preopen_ports) do
    sp[#sp + 1] = { name = tostring(p), protocol = "preopen", container_ports = { p } }
  end
  k.service_ports = sp

  -- resources
  local alloc
  alloc, err = agent.resources:allocate(digest.request)
  if not alloc then
    return fail(err)
  end
  k.alloc = alloc
  undo:push("free slots", function()
    agent.resources:free(alloc)
  end)

  -- host ports: the two runner ports first, then one per service container port
  local nports = 2
  for _, s in ipairs(sp) do
    nports = nports + #s.container_ports
  end
  local bind = agent.bind_host
  local function host_port_free(p)
    -- skip ports another process holds (the runner ports bind 127.0.0.1, services bind-host)
    return sys.tcp_port_free("127.0.0.1", p)
      and (bind == "127.0.0.1" or not bind:match("^%d+%.%d+%.%d+%.%d+$")
        or sys.tcp_port_free(bind, p))
  end
  local ports
  ports, err = agent.ports:take(nports, host_port_free)
  if not ports then
    return fail(err)
  end
  undo:push("release ports", function()
    agent.ports:release(ports)
  end)
  k.ports = ports
  k.repl_in_port, k.repl_out_port = ports[1], ports[2]
  local next_port = 3
  for _, s in ipairs(sp) do
    s.host_ports = {}
    for i = 1, #s.container_ports do
      s.host_ports[i] = ports[next_port]
      next_port = next_port + 1
    end
  end

  -- scratch: <root>/<kid>/{config,work}, 0755
  if fs.exists(k.scratch_dir) then
    return fail(errors.new("VALUE_ERROR", "scratch directory already exists for kernel " .. kid))
  end
  undo:push("remove scratch", function()
    local ok, rerr = remove_scratch(k.scratch_dir)
    if not ok then
      log:error("cannot remove %s: %s", k.scratch_dir, tostring(rerr))
    end
  end)
  for _, d in ipairs({ k.scratch_dir, k.scratch_dir .. "/config", k.scratch_dir .. "/work" }) do
    local ok, merr = fs.mkdir_p(d, "0755")
    if not ok then
      return fail(merr)
    end
    fs.chmod(d, "0755")
  end
  -- the state file comes first: an agent that dies from here on finds it on restart and
  -- knows the directory (and any container made for it) is its own half-made kernel
  do
    local ok, serr = write_state(k)
    if not ok then
      return fail(serr)
    end
  end
  local env = build_environ(agent, digest, info, alloc)
  k.environ = env
  local mounts = {
    k.scratch_dir .. "/config:/home/config:ro",
    k.scratch_dir .. "/work:/home/work:rw",
    agent.krunner .. ":/opt/backend.ai:ro",
  }
  local resource_txt = kconfig.resource_txt({ mounts = mounts, slots = digest.request.raw,
    alloc = alloc })
  local files = {
    { "config/environ.txt", kconfig.environ_txt(env) },
    { "config/environ_base.txt", kconfig.environ_txt(env) },
    { "config/resource.txt", resource_txt },
    { "config/resource_base.txt", resource_txt },
  }
  if digest.bootstrap_script then
    files[#files + 1] = { "work/bootstrap.sh", digest.bootstrap_script, "0755" }
  end
  for _, f in ipairs(files) do
    local ok, werr = fs.write_file(k.scratch_dir .. "/" .. f[1], f[2], { mode = f[3] or "0644" })
    if not ok then
      return fail(werr)
    end
  end
  local uid, gid = tonumber(env.LOCAL_USER_ID), tonumber(env.LOCAL_GROUP_ID)
  if uid and uid ~= 0 then
    -- the kernel user must own its work directory
    fs.chown(k.scratch_dir .. "/work", uid, gid)
  end

  -- container
  k.status = "CREATING"
  k.container_name = kconfig.container_name(ref, kid)
  local body = container_body(agent, k, ref, info, digest, env)
  local created
  created, err = docker.container_create(body, k.container_name)
  if not created then
    return fail(err)
  end
  k.container_id = created.Id
  undo:push("remove container", function()
    local ok, rerr = docker.container_remove(k.container_id, { force = true, volumes = true })
    if not ok and rerr.code ~= "DOCKER_NOT_FOUND" then
      log:error("cannot remove container %s: %s", k.container_id, tostring(rerr))
    end
  end)
  local ok
  ok, err = fs.append_file(k.scratch_dir .. "/config/resource.txt", "CID=" .. k.container_id
    .. "\n")
  if not ok then
    return fail(err)
  end
  ok, err = write_state(k)
  if not ok then
    return fail(err)
  end
  ok, err = docker.container_start(k.container_id)
  if not ok then
    return fail(err)
  end

  -- runner: wait until it answers status, then ask for its service apps
  k.status = "STARTING"
  local runner
  runner, err = runner_client.connect("127.0.0.1", k.repl_in_port, k.repl_out_port)
  if not runner then
    return fail(err)
  end
  undo:push("close runner", function()
    runner:close()
  end)
  -- poll the runner; between polls, make sure the container is still alive so that a
  -- runner that cannot start fails the create at once instead of at the deadline
  local lc = agent.cfg["kernel-lifecycles"] or {}
  local give_up = sched.now() + (lc["init-polling-timeout-sec"] or 60)
  local st
  while true do
    st, err = runner:wait_ready(math.max(0.1, math.min(2, give_up - sched.now())), 0.1)
    if st then
      break
    end
    local cinfo = docker.container_inspect(k.container_id)
    local dead = cinfo and cinfo.State and not cinfo.State.Running
    if dead or sched.now() >= give_up then
      local logs = docker.container_logs(k.container_id, { tty = true, tail = 20 })
      local why = dead and string.format("its container exited with code %s",
        tostring(cinfo.State.ExitCode)) or string.format(
        "the kernel runner did not answer within %g s", lc["init-polling-timeout-sec"] or 60)
      return fail(errors.new("KERNEL_START_FAILED", string.format(
        "kernel %s did not start: %s%s", kid, why,
        logs and logs ~= "" and ("; container log: " .. logs:gsub("%s+$", "")) or ""),
        { cause = err }))
    end
  end
  local apps = runner:get_apps(10)
  if type(apps) == "table" and type(apps.data) == "table" then
    k.apps = apps.data
  end
  k.runner = runner
  k.status = "RUNNING"
  agent.kernels[kid] = k
  undo.steps = {}
  log:info("kernel %s is running (container %s, cores %s, mem %s)", kid,
    k.container_id:sub(1, 12), table.concat(resources.alloc_cores(alloc), ","),
    resources.format_bytes(alloc.mem.root))
  return M.result(agent, k)
end

--- Create one kernel. `spec` = { kernel_id, session_id, config (KernelCreationConfig),
--- image_ref (normalised), digest (validated config) }. Whatever happens, including a
--- raised error in any step, everything taken so far is given back before returning.
---@async
---@param agent bai.Agent
---@param spec table
---@return table|nil result, bai.Error|nil err
function M.create(agent, spec)
  local undo = undo_stack()
  local ok, res, err = xpcall(create_steps, function(e)
    return errors.is(e) and e or debug.traceback(tostring(e), 2)
  end, agent, spec, undo)
  if ok then
    return res, err
  end
  log:error("creating kernel %s raised: %s", spec.kernel_id, tostring(res))
  undo:run()
  if errors.is(res) then
    return nil, res
  end
  return nil, errors.new("INTERNAL", "creating kernel " .. spec.kernel_id .. " failed: "
    .. tostring(res):match("^[^\n]*"))
end

--- Destroy a kernel: stop (SIGINT, then SIGKILL after the grace period), remove the
--- container, remove the scratch directory, release slots and ports. Unknown ids raise
--- KeyError. Concurrent destroys of one kernel share the first one's outcome.
---@async
---@param agent bai.Agent
---@param kernel_id string
---@param session_id? string
---@param reason? string
---@return true|nil ok, bai.Error|nil err
function M.destroy(agent, kernel_id, session_id, reason)
  local pending = agent.destroying[kernel_id]
  if pending then
    -- a destroy is under way: share its outcome
    local ok, werr = pending:wait(120)
    if not ok then
      return nil, werr
    end
    if pending.err then
      return nil, pending.err
    end
    return true
  end
  local k, err = agent:get_kernel(kernel_id)
  if not k then
    return nil, err
  end
  local _ = session_id
  local done = sched.event()
  agent.destroying[kernel_id] = done
  k.status = "TERMINATING"
  k.termination_reason = reason or "user-requested"
  if k.runner then
    k.runner:close()
  end
  local ok, serr = docker.container_stop(k.container_id, 10)
  if not ok and serr.code ~= "DOCKER_NOT_FOUND" then
    log:warn("stopping %s: %s; killing it", k.container_id, tostring(serr))
    docker.container_kill(k.container_id, "KILL")
  end
  if not agent.cfg.debug["skip-container-deletion"] then
    local rok, rerr = docker.container_remove(k.container_id, { force = true, volumes = true })
    if not rok and rerr.code ~= "DOCKER_NOT_FOUND" then
      -- keep the record so a retry can finish the job
      agent.destroying[kernel_id] = nil
      k.status = "RUNNING"
      done.err = rerr
      done:set()
      return nil, rerr
    end
  end
  local fok, ferr = remove_scratch(k.scratch_dir)
  if not fok then
    log:error("cannot remove scratch %s: %s", k.scratch_dir, tostring(ferr))
  end
  agent.resources:free(k.alloc)
  agent.ports:release(k.ports)
  agent.kernels[kernel_id] = nil
  agent.destroying[kernel_id] = nil
  k.status = "TERMINATED"
  done:set()
  log:info("kernel %s destroyed (%s)", kernel_id, k.termination_reason)
  return true
end

--- Remove what a crash left of a kernel that was never finished: its container (if
--- any) and its scratch directory.
---@async
local function clean_half_made(agent, kid, container_id)
  if container_id then
    local ok, err = docker.container_remove(container_id, { force = true, volumes = true })
    if not ok and err.code ~= "DOCKER_NOT_FOUND" then
      log:error("cannot remove container %s of half-made kernel %s: %s", container_id, kid,
        tostring(err))
    end
  end
  remove_scratch(agent:scratch_dir(kid))
  log:info("kernel %s: removed what an interrupted create left behind", kid)
end

--- Rebuild the registry after a restart: adopt the running containers this agent owns
--- (label ai.backend.owner) whose scratch directory holds a matching state file,
--- re-taking their cores, memory and ports; clean up owned kernels whose container has
--- stopped, and kernels whose create was interrupted (state "creating"). A container or
--- directory without usable state is kept and reported, never destroyed.
---@async
---@param agent bai.Agent
---@return table|nil report {adopted=[], cleaned=[], kept=[]}, bai.Error|nil err
function M.recover(agent)
  local list, err = docker.containers_list({ all = true,
    filters = { label = { "ai.backend.owner=" .. agent.id } } })
  if not list then
    return nil, err
  end
  local report = { adopted = {}, cleaned = {}, kept = {} }
  local seen = {}
  for _, c in ipairs(list) do
    local labels = c.Labels or {}
    local kid = labels["ai.backend.kernel-id"]
    local dir = kid and agent:scratch_dir(kid)
    local state = dir and fs.read_json(dir .. "/config/" .. STATE_FILE)
    if kid then
      seen[kid] = true
    end
    local ours = type(state) == "table" and state.id == kid and state.agent_id == agent.id
    if ours and state.container_id ~= c.Id then
      -- the create was interrupted around `docker create`: finish the rollback
      clean_half_made(agent, kid, c.Id)
      report.cleaned[#report.cleaned + 1] = kid
    elseif not ours then
      log:warn("container %s (%s) is owned by this agent but has no usable state; kept as is",
        c.Id:sub(1, 12), tostring((c.Names or {})[1]))
      report.kept[#report.kept + 1] = c.Id
    else
      local k = {
        id = kid,
        session_id = state.session_id,
        agent_id = agent.id,
        container_id = c.Id,
        container_name = state.container_name,
        image = { canonical = state.image, docker_name = state.docker_image },
        scratch_dir = dir,
        repl_in_port = state.repl_in_port,
        repl_out_port = state.repl_out_port,
        service_ports = state.service_ports or {},
        created_at = state.created_at,
      }
      local ports = { k.repl_in_port, k.repl_out_port }
      for _, sp in ipairs(k.service_ports) do
        for _, hp in ipairs(sp.host_ports or {}) do
          ports[#ports + 1] = hp
        end
      end
      k.ports = ports
      local alloc = agent.resources:reserve(state.cores or {}, state.mem or 0)
      k.alloc = alloc or { cpu = {}, mem = { root = 0 } }
      if not alloc then
        log:warn("kernel %s: its cores/memory overlap another kernel's; not re-taken", kid)
      end
      agent.ports:reserve(ports)
      k.status = "RUNNING"
      agent.kernels[kid] = k
      if c.State == "running" then
        local runner, rerr = runner_client.connect("127.0.0.1", k.repl_in_port, k.repl_out_port)
        if runner then
          k.runner = runner
          if not runner:wait_ready(10, 0.5) then
            log:warn("kernel %s: the runner does not answer yet", kid)
          end
        else
          log:warn("kernel %s: cannot connect to its runner: %s", kid, tostring(rerr))
        end
        report.adopted[#report.adopted + 1] = kid
        log:info("kernel %s: adopted its running container %s", kid, c.Id:sub(1, 12))
      else
        M.destroy(agent, kid, k.session_id, "self-terminated")
        report.cleaned[#report.cleaned + 1] = kid
      end
    end
  end
  -- scratch directories with no container: an interrupted create before `docker create`
  -- (with its state file, or killed between mkdir and the state file: nothing but the
  -- empty config/ and work/ skeleton)
  local function empty_skeleton(dir)
    for _, entry in ipairs(fs.listdir(dir) or { "?" }) do
      if (entry ~= "config" and entry ~= "work") or #(fs.listdir(dir .. "/" .. entry) or { "?" })
          > 0 then
        return false
      end
    end
    return true
  end
  for _, name in ipairs(fs.listdir(agent.scratch_root) or {}) do
    if not seen[name] then
      local dir = agent:scratch_dir(name)
      local state = fs.read_json(dir .. "/config/" .. STATE_FILE)
      if (type(state) == "table" and state.id == name and state.agent_id == agent.id)
          or (state == nil and empty_skeleton(dir)) then
        clean_half_made(agent, name, nil)
        report.cleaned[#report.cleaned + 1] = name
      else
        log:warn("scratch directory %s has no state of this agent; kept as is",
          agent:scratch_dir(name))
        report.kept[#report.kept + 1] = agent:scratch_dir(name)
      end
    end
  end
  return report
end

return M
