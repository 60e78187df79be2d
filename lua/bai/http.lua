--- bai.http — awaitable HTTP requests (libcurl multi on the event loop).
local core = require("bai.core.http")
local sched = require("bai.sched")
local errors = require("bai.errors")

local M = {}

M.DEFAULT_TIMEOUT = 30

--- Parse a raw header block into a map of lower-case names to values.
---@param raw string
---@return table<string, string>
function M.parse_headers(raw)
  local h = {}
  for line in raw:gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then
      h[k:lower()] = v
    end
  end
  return h
end

--- Perform a buffered request. opts: method, url, unix_socket, headers (array of
--- "Name: value"), body, timeout (seconds, default 30), max_body (bytes).
---@async
---@param opts table
---@return table|nil res {status, body, header: table}, bai.Error|nil err
function M.request(opts)
  local timeout = opts.timeout or M.DEFAULT_TIMEOUT
  local copts = {}
  for k, v in pairs(opts) do
    copts[k] = v
  end
  copts.timeout = timeout
  local req, tok = core.request(copts)
  if not req then
    return nil, errors.at(tok, "http.request")
  end
  -- curl enforces `timeout`; the await deadline is a backstop a little later
  local ok, err = sched.await(tok, timeout + 1, function()
    req:close()
  end)
  if not ok then
    req:close()
    return nil, errors.at(err, "http.request")
  end
  local res, rerr = req:result()
  req:close()
  if not res then
    return nil, errors.at(rerr, "http.request")
  end
  res.header = M.parse_headers(res.headers)
  return res
end

---@class bai.HttpStream
local Stream = {}
Stream.__index = Stream

--- Start a streaming request; read the body with :read() as it arrives.
---@param opts table same as request(); timeout limits the whole transfer (0 = none)
---@return bai.HttpStream|nil stream, bai.Error|nil err
function M.stream(opts)
  local copts = {}
  for k, v in pairs(opts) do
    copts[k] = v
  end
  copts.stream = true
  local req, tok = core.request(copts)
  if not req then
    return nil, errors.at(tok, "http.stream")
  end
  return setmetatable({ req = req, done_token = tok }, Stream)
end

--- Next body chunk; nil at the end; nil, err on timeout.
---@async
---@param timeout? number
---@return string|nil chunk, bai.Error|nil err
function Stream:read(timeout)
  while true do
    local r, rerr = self.req:read()
    if r == nil then
      return nil, errors.at(rerr, "http.stream") -- the transfer failed
    elseif type(r) == "string" then
      return r
    elseif r == false then
      return nil
    end
    local ok, err = sched.await(r, timeout)
    if not ok then
      return nil, err
    end
  end
end

--- The final status once the body has ended: {status, header} or nil, err.
---@async
function Stream:result(timeout)
  local res, err = self.req:result()
  if res == nil and err == nil then
    local ok, werr = sched.await(self.done_token, timeout)
    if not ok then
      return nil, werr
    end
    self.done_token = nil -- consumed
    res, err = self.req:result()
  end
  if not res then
    return nil, errors.at(err, "http.stream")
  end
  res.header = M.parse_headers(res.headers)
  return res
end

--- Headers received so far (lower-case names; empty while none arrived).
---@return table<string, string>
function Stream:headers()
  return M.parse_headers(self.req:response_headers())
end

--- Abort the transfer (if still running) and release it.
function Stream:close()
  self.req:close()
  if self.done_token then
    sched.forget(self.done_token)
    self.done_token = nil
  end
end

return M
