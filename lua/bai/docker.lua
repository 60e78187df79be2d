--- bai.docker — the Docker Engine API over its unix socket (API pinned to v1.41, the
--- highest the Debian 12 daemon serves). Every function yields; failures come back as
--- `nil, err` with codes DOCKER_NOT_FOUND (404), DOCKER_CONFLICT (409),
--- DOCKER_BAD_REQUEST (400), DOCKER_FORBIDDEN (403), DOCKER_ERROR (others), and
--- DOCKER_UNAVAILABLE when the daemon does not answer.
local http = require("bai.http")
local json = require("bai.json")
local errors = require("bai.errors")

local M = {}

M.API = "/v1.41"
M.socket = "/var/run/docker.sock"
M.DEFAULT_TIMEOUT = 60

--- Point the client at another socket.
---@param opts { socket?: string }
function M.configure(opts)
  if opts.socket then
    M.socket = opts.socket
  end
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end
M.urlencode = urlencode

-- A path segment (image reference, container or network name): keep "/", ":" and "@",
-- which image references use, and escape everything else that could end the path.
local function path_escape(s)
  return (tostring(s):gsub("[^%w%-%._~/:@]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end
M.path_escape = path_escape

local function query_string(q)
  if not q then
    return ""
  end
  local keys = {}
  for k in pairs(q) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      v = assert(json.encode(v))
    elseif type(v) == "boolean" then
      v = v and "1" or "0"
    end
    parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
  end
  return "?" .. table.concat(parts, "&")
end

local CODES = {
  [400] = "DOCKER_BAD_REQUEST",
  [403] = "DOCKER_FORBIDDEN",
  [404] = "DOCKER_NOT_FOUND",
  [409] = "DOCKER_CONFLICT",
}

--- Build the error for a failed Docker reply.
---@param op string
---@param res table
---@return bai.Error
function M.error_from(op, res)
  local msg = res.body
  local doc = json.decode(res.body or "")
  if type(doc) == "table" and doc.message then
    msg = doc.message
  end
  return errors.new(CODES[res.status] or "DOCKER_ERROR", tostring(msg):gsub("%s+$", ""),
    { op = op, status = res.status })
end

--- Low-level request. opts: query (table), body (table -> JSON, or string), content_type,
--- headers (array), timeout, max_body, raw (do not decode JSON), ok (extra accepted
--- statuses, e.g. {304}).
---@async
---@param method string
---@param path string
---@param opts? table
---@return table|nil res {status, body, json, header}, bai.Error|nil err
function M.request(method, path, opts)
  opts = opts or {}
  local op = "docker " .. method .. " " .. path
  local headers = {}
  local body = opts.body
  if type(body) == "table" then
    local err
    body, err = json.encode(body)
    if not body then
      return nil, errors.at(err, op)
    end
    headers[#headers + 1] = "Content-Type: application/json"
  elseif body ~= nil then
    headers[#headers + 1] = "Content-Type: " .. (opts.content_type or "application/octet-stream")
  end
  for _, h in ipairs(opts.headers or {}) do
    headers[#headers + 1] = h
  end
  local res, err = http.request({
    method = method,
    url = "http://localhost" .. M.API .. path .. query_string(opts.query),
    unix_socket = M.socket,
    headers = headers,
    body = body,
    timeout = opts.timeout or M.DEFAULT_TIMEOUT,
    max_body = opts.max_body,
  })
  if not res then
    if err.code == "EHTTP" then
      return nil, errors.new("DOCKER_UNAVAILABLE", "Docker daemon at " .. M.socket
        .. " did not answer: " .. err.message, { op = op, cause = err })
    end
    return nil, errors.at(err, op)
  end
  local accepted = res.status < 300
  for _, s in ipairs(opts.ok or {}) do
    if res.status == s then
      accepted = true
    end
  end
  if not accepted then
    return nil, M.error_from(op, res)
  end
  if not opts.raw and res.body ~= "" and (res.header["content-type"] or ""):find("json") then
    res.json = json.decode(res.body)
  end
  return res
end

--- Start a streaming request (events, follow-logs, pulls): returns a bai.HttpStream
--- whose :read() yields body chunks as they arrive. The transfer has no time limit
--- unless opts.timeout is given.
---@param method string
---@param path string
---@param opts? { query?: table, timeout?: number }
---@return bai.HttpStream|nil stream, bai.Error|nil err
function M.stream(method, path, opts)
  opts = opts or {}
  return http.stream({
    method = method,
    url = "http://localhost" .. M.API .. path .. query_string(opts.query),
    unix_socket = M.socket,
    timeout = opts.timeout or 0,
  })
end

local function json_of(res, err)
  if not res then
    return nil, err
  end
  return res.json or {}
end

---@async
---@return boolean|nil ok, bai.Error|nil err
function M.ping()
  local res, err = M.request("GET", "/_ping", { timeout = 5, raw = true })
  if not res then
    return nil, err
  end
  return res.body == "OK"
end

---@async
---@return table|nil version, bai.Error|nil err
function M.version()
  return json_of(M.request("GET", "/version"))
end

---@async
---@return table|nil info, bai.Error|nil err
function M.info()
  return json_of(M.request("GET", "/info"))
end

---@async
---@param name string image name or id
---@return table|nil image, bai.Error|nil err
function M.image_inspect(name)
  return json_of(M.request("GET", "/images/" .. path_escape(name) .. "/json"))
end

---@async
---@param filters? table
---@return table|nil images, bai.Error|nil err
function M.images_list(filters)
  return json_of(M.request("GET", "/images/json", { query = filters and { filters = filters } }))
end

--- Remove an image; returns Docker's list of untagged/deleted entries.
---@async
---@param name string
---@param opts? { force?: boolean, noprune?: boolean }
---@return table|nil entries, bai.Error|nil err
function M.image_remove(name, opts)
  opts = opts or {}
  return json_of(M.request("DELETE", "/images/" .. path_escape(name),
    { query = { force = opts.force or false, noprune = opts.noprune or false } }))
end

---@async
---@param body table ContainerCreate body
---@param name? string
---@return table|nil info {Id, Warnings}, bai.Error|nil err
function M.container_create(body, name)
  return json_of(M.request("POST", "/containers/create",
    { query = name and { name = name }, body = body }))
end

---@async
---@param id string
---@return true|nil ok, bai.Error|nil err
function M.container_start(id)
  local res, err = M.request("POST", "/containers/" .. path_escape(id) .. "/start",
    { ok = { 304 } })
  return res and true, err
end

--- Stop with a grace period (seconds); an already stopped container is fine.
---@async
---@param id string
---@param grace? number seconds before SIGKILL (default 10)
---@return true|nil ok, bai.Error|nil err
function M.container_stop(id, grace)
  grace = grace or 10
  local res, err = M.request("POST", "/containers/" .. path_escape(id) .. "/stop",
    { query = { t = grace }, ok = { 304 }, timeout = grace + 30 })
  return res and true, err
end

---@async
---@param id string
---@param signal? string default "KILL"
---@return true|nil ok, bai.Error|nil err
function M.container_kill(id, signal)
  local res, err = M.request("POST", "/containers/" .. path_escape(id) .. "/kill",
    { query = { signal = signal or "KILL" } })
  return res and true, err
end

---@async
---@param id string
---@param opts? { force?: boolean, volumes?: boolean }
---@return true|nil ok, bai.Error|nil err
function M.container_remove(id, opts)
  opts = opts or {}
  local res, err = M.request("DELETE", "/containers/" .. path_escape(id),
    { query = { force = opts.force or false, v = opts.volumes or false } })
  return res and true, err
end

---@async
---@param id string
---@return table|nil info, bai.Error|nil err
function M.container_inspect(id)
  return json_of(M.request("GET", "/containers/" .. path_escape(id) .. "/json"))
end

---@async
---@param opts? { all?: boolean, filters?: table }
---@return table|nil containers, bai.Error|nil err
function M.containers_list(opts)
  opts = opts or {}
  return json_of(M.request("GET", "/containers/json",
    { query = { all = opts.all or false, filters = opts.filters } }))
end

--- Container logs (stdout+stderr). With a TTY the stream is raw; otherwise Docker
--- multiplexes it with 8-byte frame headers, which are removed here.
---@async
---@param id string
---@param opts? { tty?: boolean, tail?: string|integer, max_body?: integer }
---@return string|nil logs, bai.Error|nil err
function M.container_logs(id, opts)
  opts = opts or {}
  local res, err = M.request("GET", "/containers/" .. path_escape(id) .. "/logs", {
    query = { stdout = true, stderr = true, tail = opts.tail or "all" },
    raw = true,
    max_body = opts.max_body or 16 * 1024 * 1024,
  })
  if not res then
    return nil, err
  end
  if opts.tty then
    return res.body
  end
  return M.demux(res.body)
end

--- Strip Docker's stream multiplexing headers ([stream, 0, 0, 0, size32be] + payload).
--- Data that does not look multiplexed is returned unchanged.
---@param s string
---@return string
function M.demux(s)
  local out, pos, n = {}, 1, #s
  while pos <= n do
    if n - pos + 1 < 8 then
      return s
    end
    local st, z1, z2, z3 = s:byte(pos, pos + 3)
    if st > 2 or z1 ~= 0 or z2 ~= 0 or z3 ~= 0 then
      return s
    end
    local b1, b2, b3, b4 = s:byte(pos + 4, pos + 7)
    local size = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    out[#out + 1] = s:sub(pos + 8, pos + 7 + size)
    pos = pos + 8 + size
  end
  return table.concat(out)
end

---@async
---@param body table NetworkCreate body
---@return table|nil info {Id}, bai.Error|nil err
function M.network_create(body)
  return json_of(M.request("POST", "/networks/create", { body = body }))
end

---@async
---@param name string
---@return table|nil info, bai.Error|nil err
function M.network_inspect(name)
  return json_of(M.request("GET", "/networks/" .. path_escape(name)))
end

---@async
---@param name string
---@return true|nil ok, bai.Error|nil err
function M.network_remove(name)
  local res, err = M.request("DELETE", "/networks/" .. path_escape(name))
  return res and true, err
end

---@async
---@param filters? table
---@return table|nil networks, bai.Error|nil err
function M.networks_list(filters)
  return json_of(M.request("GET", "/networks", { query = filters and { filters = filters } }))
end

return M
