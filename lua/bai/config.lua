--- bai.config — the agent configuration (agent.toml).
---
--- The file layout and key names are the Python agent's (`agent/config/unified.py`), so an
--- agent.toml written for Backend.AI loads unchanged. Keys are kebab-case; snake_case is
--- accepted and normalised. Keys fall in three groups:
---   * used: validated (a wrong type or range is fatal) and defaulted;
---   * unused: known Backend.AI settings the agent accepts but does not act on yet; their
---     dotted names are returned in info.unused so the caller can report them once;
---   * unknown: anything else inside a known section (or an unknown section); dropped and
---     listed in info.unknown (a warning, not an error).
local schema = require("bai.schema")
local t = require("bai.typedefs")

local M = {}

local function new_error(code, message, extra)
  return require("bai.errors").new(code, message, extra)
end

-- ---------------------------------------------------------------------------------------
-- Schema

--- An accepted-but-unused leaf (any value, no default, reported in info.unused).
local UNUSED = { type = "any", unused = true }

--- An accepted-but-unused section whose contents are free-form; each top-level key is
--- reported (e.g. "watcher.service-addr").
local OPAQUE = { type = "any", opaque = true }

--- Mark a validated field as "not acted on yet": it keeps its type check and default,
--- and is listed in info.unused when a file sets it.
local function pending(def)
  local d = {}
  for k, v in pairs(def) do
    d[k] = v
  end
  d.pending = true
  return d
end

--- A record of unused leaves, so that unknown keys inside it are still told apart.
local function unused_record(names)
  local fields = {}
  for i, name in ipairs(names) do
    fields[i] = { [name] = UNUSED }
  end
  return { type = "record", fields = fields }
end

--- A {host, port} pair; also accepts "host:port" and [host, port] (coerced before validation).
local function host_port(default)
  return {
    type = "record",
    hostport = true,
    default = default,
    fields = {
      { host = t.host({ required = true }) },
      { port = t.port({ required = true }) },
    },
  }
end

local PORT_RANGE = {
  type = "array",
  elements = { type = "integer" },
  default = { 30000, 31000 },
  custom_validator = function(v)
    local lo, hi = v[1], v[2]
    if #v == 2 and lo >= 1024 and hi <= 65535 and lo <= hi then
      return true
    end
    return nil, "expected [lo, hi] with 1024 <= lo <= hi <= 65535, got ["
      .. table.concat(v, ", ") .. "]"
  end,
}

local BIND_HOST = {
  type = "string",
  default = "",
  custom_validator = function(v)
    if v == "" then
      return true
    end
    return t.host.custom_validator(v)
  end,
}

local LOG_LEVELS = { "TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "NOTSET" }

--- The agent.toml schema (bai.schema record; `unused`, `opaque`, `hostport` and `aliases`
--- are read by this module only).
M.SCHEMA = {
  type = "record",
  fields = {
    {
      agent = {
        type = "record",
        default = {},
        aliases = {
          mode = "backend",
          ["initial-resource-group-name"] = "scaling-group",
          ["service-addr"] = "internal-addr",
        },
        fields = {
          { id = { type = "string", match = "^[%w%-_%.]+$" } },
          { backend = { type = "string", one_of = { "docker" }, default = "docker" } },
          { ["rpc-listen-addr"] = host_port({ host = "127.0.0.1", port = 6001 }) },
          { ["advertised-rpc-addr"] = host_port(nil) },
          { ["scaling-group"] = { type = "string", default = "default" } },
          { region = pending({ type = "string" }) },
          { ["var-base-path"] = t.any_path({ default = "./var/lib/bai-agent" }) },
          { ["image-commit-path"] = pending(t.any_path({ default = "./var/commit" })) },
          {
            ["kernel-creation-concurrency"] = {
              type = "integer",
              between = { 1, 256 },
              default = 4,
            },
          },
          { ["rpc-auth-manager-public-key"] = UNUSED },
          { ["rpc-auth-agent-keypair"] = UNUSED },
          { ["internal-addr"] = UNUSED },
          { ["announce-internal-addr"] = UNUSED },
          { ["ipc-base-path"] = UNUSED },
          { ["mount-path"] = UNUSED },
          { ["cohabiting-storage-proxy"] = UNUSED },
          { ["public-host"] = UNUSED },
          { ["instance-type"] = UNUSED },
          { ["pid-file"] = UNUSED },
          { ["event-loop"] = UNUSED },
          { ["skip-manager-detection"] = UNUSED },
          { ["aiomonitor-port"] = UNUSED },
          { ["aiomonitor-termui-port"] = UNUSED },
          { ["aiomonitor-webui-port"] = UNUSED },
          { ["metadata-server-bind-host"] = UNUSED },
          { ["metadata-server-port"] = UNUSED },
          { ["allow-compute-plugins"] = UNUSED },
          { ["block-compute-plugins"] = UNUSED },
          { ["allow-network-plugins"] = UNUSED },
          { ["block-network-plugins"] = UNUSED },
          { ["abuse-report-path"] = UNUSED },
          { ["docker-mode"] = UNUSED },
          { ["agent-sock-port"] = UNUSED },
          { ["scaling-group-type"] = UNUSED },
          { ["force-terminate-abusing-containers"] = UNUSED },
          {
            ["sync-container-lifecycles"] = {
              type = "record",
              default = {},
              fields = {
                { enabled = { type = "boolean", default = true } },
                { interval = { type = "number", between = { 0.1, 3600 }, default = 10 } },
              },
            },
          },
          { ["utilization-metric"] = UNUSED },
        },
      },
    },
    {
      container = {
        type = "record",
        default = {},
        aliases = { ["kernel-host"] = "bind-host" },
        fields = {
          { ["scratch-root"] = t.any_path({ default = "./var/scratches" }) },
          {
            ["scratch-type"] = pending({
              type = "string",
              one_of = { "hostdir", "memory", "hostfile" },
              default = "hostdir",
            }),
          },
          { ["scratch-size"] = pending(t.bytes({ default = "0" })) },
          { ["port-range"] = PORT_RANGE },
          { ["bind-host"] = BIND_HOST },
          { ["advertised-host"] = t.host },
          { ["kernel-uid"] = { type = "integer", between = { -1, 2147483647 }, default = -1 } },
          { ["kernel-gid"] = { type = "integer", between = { -1, 2147483647 }, default = -1 } },
          { ["krunner-path"] = t.any_path },
          { ["sandbox-type"] = { type = "string", one_of = { "docker" }, default = "docker" } },
          {
            ["stats-type"] = pending({
              type = "string",
              one_of = { "docker", "cgroup" },
              default = "docker",
            }),
          },
          { ["docker-socket"] = t.path({ default = "/var/run/docker.sock" }) },
          { ["krunner-volumes"] = UNUSED },
          { ["port-reuse-cooldown-sec"] = UNUSED },
          { ["jail-args"] = UNUSED },
          { ["scratch-nfs-address"] = UNUSED },
          { ["scratch-nfs-options"] = UNUSED },
          { ["alternative-bridge"] = UNUSED },
          { ["swarm-enabled"] = UNUSED },
        },
      },
    },
    {
      resource = {
        type = "record",
        default = {},
        fields = {
          { ["reserved-cpu"] = pending({ type = "integer", between = { 0, 65535 }, default = 1 }) },
          { ["reserved-mem"] = pending(t.bytes({ default = "1G" })) },
          { ["reserved-disk"] = pending(t.bytes({ default = "8G" })) },
          { ["memory-align-size"] = pending(t.bytes({ default = "16M" })) },
          {
            ["allocation-order"] = pending({
              type = "array",
              elements = { type = "string" },
              default = { "cuda", "rocm", "tpu", "cpu", "mem" },
            }),
          },
          { ["allocation-mode"] = UNUSED },
          { allocations = UNUSED },
          { ["affinity-policy"] = UNUSED },
        },
      },
    },
    {
      ["kernel-lifecycles"] = {
        type = "record",
        default = {},
        fields = {
          {
            ["init-polling-attempt"] = pending({ type = "integer", between = { 1, 100000 },
              default = 10 }),
          },
          {
            ["init-polling-timeout-sec"] = {
              type = "number",
              between = { 0, 86400 },
              default = 60,
            },
          },
          {
            ["init-timeout-sec"] = pending({ type = "number", between = { 0, 86400 },
              default = 60 }),
          },
        },
      },
    },
    {
      debug = {
        type = "record",
        default = {},
        fields = {
          { enabled = pending({ type = "boolean", default = false }) },
          { ["kernel-runner"] = { type = "boolean", default = false } },
          { ["skip-container-deletion"] = { type = "boolean", default = false } },
          { ["heartbeat-interval"] = pending({ type = "number", between = { 0.1, 3600 },
            default = 20 }) },
          { asyncio = UNUSED },
          { ["enhanced-aiomonitor-task-info"] = UNUSED },
          { ["log-stats"] = UNUSED },
          { ["log-kernel-config"] = UNUSED },
          { ["log-alloc-map"] = UNUSED },
          { ["log-events"] = UNUSED },
          { ["log-heartbeats"] = UNUSED },
          { ["log-docker-events"] = UNUSED },
          { coredump = unused_record({ "enabled", "path", "backup-count", "size-limit" }) },
        },
      },
    },
    {
      logging = {
        type = "record",
        default = {},
        fields = {
          { level = { type = "string", one_of = LOG_LEVELS, default = "INFO" } },
          { drivers = UNUSED },
          { ["pkg-ns"] = UNUSED },
          { version = UNUSED },
          { ["disable-existing-loggers"] = UNUSED },
          { console = unused_record({ "colored", "format" }) },
          {
            file = unused_record({ "path", "filename", "backup-count", "rotation-size", "format" }),
          },
          { logstash = unused_record({ "endpoint", "protocol", "ssl-enabled", "ssl-verify" }) },
          {
            graylog = unused_record({
              "host",
              "port",
              "level",
              "ssl-validate",
              "ssl-verify",
              "ca-certs",
              "keyfile",
              "certfile",
              "fqdn",
              "localname",
            }),
          },
        },
      },
    },
    { etcd = unused_record({ "namespace", "addr", "user", "password" }) },
    {
      redis = unused_record({
        "addr",
        "password",
        "sentinel",
        "service-name",
        "db",
        "redis-helper-config",
      }),
    },
    {
      ["container-logs"] = {
        type = "record",
        default = {},
        fields = {
          { ["max-length"] = pending(t.bytes({ default = "10M" })) },
          { ["chunk-size"] = pending(t.bytes({ default = "64K" })) },
        },
      },
    },
    {
      api = {
        type = "record",
        default = {},
        fields = {
          { ["pull-timeout"] = pending({ type = "number", between = { 0, 1e9 }, default = 7200 }) },
          { ["commit-timeout"] = pending({ type = "number", between = { 0, 1e9 } }) },
          { ["push-timeout"] = pending({ type = "number", between = { 0, 1e9 } }) },
        },
      },
    },
    { watcher = OPAQUE },
    { license = OPAQUE },
    { pyroscope = OPAQUE },
    { otel = OPAQUE },
    { ["service-discovery"] = OPAQUE },
    { plugins = OPAQUE },
    { agents = OPAQUE },
  },
}

-- ---------------------------------------------------------------------------------------
-- Key normalisation and classification (before validation)

local function join(path, key)
  if path == nil or path == "" then
    return key
  end
  return path .. "." .. key
end

local function field_index(def)
  if def._index == nil then
    local idx = {}
    for _, entry in ipairs(def.fields or {}) do
      local name, fdef = schema.field_entry(entry)
      idx[name] = fdef
    end
    def._index = idx
  end
  return def._index
end

local function sorted_keys(tbl)
  local keys = {}
  for k in pairs(tbl) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_array(v)
  return type(v) == "table" and (v[1] ~= nil or next(v) == nil)
end

--- "host:port" / "[v6]:port" / {host, port} -> {host=, port=}; anything else unchanged.
local function coerce_host_port(v)
  if type(v) == "string" then
    local host, port = v:match("^%[(.*)%]:(%d+)$")
    if not host then
      host, port = v:match("^([^:]*):(%d+)$")
    end
    if host then
      return { host = host, port = tonumber(port) }
    end
  elseif type(v) == "table" and #v == 2 and next(v, 2) == nil then
    return { host = v[1], port = v[2] }
  end
  return v
end

local normalize

--- Record raw paths of everything below a used value (positions for array elements and
--- map entries).
local function map_raw_paths(v, cpath, rpath, ctx)
  if type(v) ~= "table" then
    return
  end
  for k, x in pairs(v) do
    local ck, rk
    if type(k) == "number" then
      local i = "[" .. string.format("%d", k) .. "]"
      ck, rk = cpath .. i, rpath .. i
    else
      ck, rk = join(cpath, tostring(k)), join(rpath, tostring(k))
    end
    ctx.raw[ck] = rk
    map_raw_paths(x, ck, rk, ctx)
  end
end

--- Walk a raw record against its schema: canonical keys, unused/unknown classification.
---@return table normalised
normalize = function(def, raw, cpath, rpath, ctx)
  local idx = field_index(def)
  local out, seen_as = {}, {}
  for _, k in ipairs(sorted_keys(raw)) do
    local v = raw[k]
    local name = tostring(k):gsub("_", "-")
    if def.aliases and def.aliases[name] then
      name = def.aliases[name]
    end
    local cp, rp = join(cpath, name), join(rpath, tostring(k))
    local fdef = idx[name]
    if seen_as[name] ~= nil then
      ctx.errors[#ctx.errors + 1] = {
        path = cp,
        raw = rp,
        message = string.format("given twice (as %q and %q)", seen_as[name], tostring(k)),
      }
    elseif fdef == nil then
      ctx.unknown[#ctx.unknown + 1] = cp
      ctx.raw[cp] = rp
    else
      seen_as[name] = tostring(k)
      ctx.raw[cp] = rp
      if fdef.pending then
        -- validated (a bad value is still fatal) but not acted on yet: report it
        ctx.unused[#ctx.unused + 1] = cp
      end
      if fdef.unused then
        ctx.unused[#ctx.unused + 1] = cp
        out[name] = v
      elseif fdef.opaque then
        if type(v) == "table" and not is_array(v) then
          for _, sub in ipairs(sorted_keys(v)) do
            ctx.unused[#ctx.unused + 1] = join(cp, tostring(sub))
          end
        else
          ctx.unused[#ctx.unused + 1] = cp
        end
        out[name] = v
      else
        if fdef.hostport then
          v = coerce_host_port(v)
        end
        if fdef.type == "record" and type(v) == "table" and not (is_array(v) and next(v)) then
          out[name] = normalize(fdef, v, cp, rp, ctx)
        else
          map_raw_paths(v, cp, rp, ctx)
          out[name] = v
        end
      end
    end
  end
  return out
end

-- ---------------------------------------------------------------------------------------
-- Public API

--- The embedded defaults, used when no configuration file is given. `agent.id` is nil
--- (the caller resolves it to "i-" .. hostname), `container.krunner-path` is nil (next to
--- the binary) and `container.bind-host` is "" (the caller uses agent.rpc-listen-addr.host).
---@return table cfg
function M.defaults()
  local cfg = schema.validate(M.SCHEMA, {})
  assert(cfg, "bai.config: the embedded defaults do not validate")
  return cfg
end

--- Deep-merge `overrides` onto `defaults` (tables merged key by key; arrays and scalars
--- replaced). Neither argument is modified.
---@param defaults table
---@param overrides table|nil
---@return table
function M.merge(defaults, overrides)
  if type(defaults) ~= "table" then
    error("bai.config.merge: defaults must be a table", 2)
  end
  local out = schema.deepcopy(defaults)
  for k, v in pairs(overrides or {}) do
    local both_records = type(v) == "table" and type(out[k]) == "table" and not is_array(v)
      and not is_array(out[k])
    if both_records then
      out[k] = M.merge(out[k], v)
    else
      out[k] = schema.deepcopy(v)
    end
  end
  return out
end

local function position_of(ctx, positions, cpath, raw)
  if raw and positions[raw] then
    return positions[raw]
  end
  local p = cpath
  while p and p ~= "" do
    local pos = positions[ctx.raw[p] or p]
    if pos then
      return pos
    end
    -- fall back to the enclosing key ("a.b[2]" -> "a.b", "a.b" -> "a")
    local parent = p:match("^(.*)%[%d+%]$") or p:match("^(.*)%.[^%.]*$")
    p = parent
  end
  return nil
end

local function config_error(source, ctx, positions, problems, fields)
  for _, pr in ipairs(problems) do
    pr.pos = position_of(ctx, positions, pr.path, pr.raw)
  end
  table.sort(problems, function(a, b)
    local la, lb = a.pos and a.pos.line or 0, b.pos and b.pos.line or 0
    if la ~= lb then
      return la < lb
    end
    return a.path < b.path
  end)
  local lines = {}
  for i, pr in ipairs(problems) do
    local where = source
    if pr.pos then
      where = string.format("%s:%d", source, pr.pos.line)
    end
    lines[i] = string.format("%s: %s: %s", where, pr.path, pr.message)
  end
  local first = problems[1]
  local msg = lines[1]
  if #lines > 1 then
    msg = msg .. string.format(" (and %d more: %s)", #lines - 1, table.concat(lines, "; ", 2))
  end
  return new_error("CONFIG_INVALID", msg, {
    fields = fields,
    key = first.path,
    source = source,
    line = first.pos and first.pos.line or nil,
  })
end

--- Load configuration from TOML text.
---@param text string
---@param source_name? string  used in messages (default "<string>")
---@return table|nil cfg, table|bai.Error info_or_err
---  info = { unused = string[], unknown = string[] }
function M.load_string(text, source_name)
  if type(text) ~= "string" then
    error("bai.config.load_string: text must be a string", 2)
  end
  source_name = source_name or "<string>"
  local raw, positions = require("bai.core.toml").parse(text, source_name)
  if raw == nil then
    local perr = positions
    return nil, new_error("CONFIG_INVALID", perr.message, { source = source_name, cause = perr })
  end

  local ctx = { raw = {}, unused = {}, unknown = {}, errors = {} }
  local normalised = normalize(M.SCHEMA, raw, "", "", ctx)
  if #ctx.errors > 0 then
    return nil, config_error(source_name, ctx, positions, ctx.errors, nil)
  end

  local cfg, fields = schema.validate(M.SCHEMA, normalised)
  if cfg == nil then
    local problems = {}
    for _, f in ipairs(schema.flatten(fields)) do
      problems[#problems + 1] = { path = f.path, message = f.message }
    end
    return nil, config_error(source_name, ctx, positions, problems, fields)
  end
  table.sort(ctx.unused)
  table.sort(ctx.unknown)
  return cfg, { unused = ctx.unused, unknown = ctx.unknown }
end

--- Load configuration from an agent.toml file.
---@param path string
---@return table|nil cfg, table|bai.Error info_or_err
---  info = { unused = string[], unknown = string[] }
function M.load(path)
  if type(path) ~= "string" then
    error("bai.config.load: path must be a string", 2)
  end
  local f, msg, errno = io.open(path, "rb")
  if not f then
    local code = errno == 2 and "ENOENT" or errno == 13 and "EACCES" or "EIO"
    return nil, new_error(code, tostring(msg), { errno = errno, source = path })
  end
  local text, rerr = f:read("*a")
  f:close()
  if text == nil then
    return nil, new_error("EIO", path .. ": " .. tostring(rerr), { source = path })
  end
  return M.load_string(text, path)
end

return M
