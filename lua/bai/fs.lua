--- bai.fs — small synchronous filesystem operations for scratch directories and state
--- files (the C core's `bai.core.fs`), plus path joining and atomic JSON state files.
---
--- yields: no. Everything blocks on the local filesystem, so keep it to small files and
--- trees the agent owns. Expected failures return `nil, err` (a `bai.Error` whose `code`
--- is "ENOENT", "EEXIST", "EPERM", "E2BIG", "EINVAL" or "ESYS" with `errno`); wrong
--- argument types raise. Modes are integers (`tonumber("644", 8)`, `420`) or octal
--- strings (`"0644"`).
local core = require("bai.core.fs")
local cjson = require("cjson.safe")
local errors = require("bai.errors")

local M = {}

---@class bai.fs.Stat
---@field type "file"|"dir"|"link"|"fifo"|"socket"|"char"|"block"|"unknown"
---@field size number    bytes (for a link: length of its target)
---@field mode integer   permission bits (07777)
---@field mtime number   seconds since the epoch, with fraction
---@field uid number
---@field gid number

---@alias bai.fs.Mode integer|string

--- Create a directory and its missing parents; an existing directory is fine.
---@param path string
---@param mode? bai.fs.Mode  default 0755 (less the umask)
---@return true|nil ok, bai.Error|nil err
function M.mkdir_p(path, mode)
  return core.mkdir_p(path, mode)
end

--- Write a whole file. With `atomic` (the default) readers see the old or the new
--- content, never a mix: temp file in the same directory, fsync, rename, fsync the dir.
--- The mode is applied exactly (no umask).
---@param path string
---@param data string
---@param opts? { mode?: bai.fs.Mode, atomic?: boolean }  defaults: mode 0644, atomic true
---@return true|nil ok, bai.Error|nil err
function M.write_file(path, data, opts)
  return core.write_file(path, data, opts)
end

--- Read a whole file. Fails with "ENOENT" if missing, "E2BIG" over `max_bytes`.
---@param path string
---@param max_bytes? integer  default: no limit
---@return string|nil data, bai.Error|nil err
function M.read_file(path, max_bytes)
  return core.read_file(path, max_bytes)
end

--- Append to a file, creating it (0644 less the umask) if missing.
---@param path string
---@param data string
---@return true|nil ok, bai.Error|nil err
function M.append_file(path, data)
  return core.append_file(path, data)
end

--- `rm -rf` that never follows symlinks and never descends into another mount (such a
--- directory is left in place and the call returns "EPERM" with errno EXDEV after
--- removing the rest). A missing path is success.
---@param path string
---@return true|nil ok, bai.Error|nil err
function M.rmtree(path)
  return core.rmtree(path)
end

--- lstat: describes a symlink itself, not its target.
---@param path string
---@return bai.fs.Stat|nil st, bai.Error|nil err
function M.stat(path)
  return core.stat(path)
end

--- Whether anything exists at path (a dangling symlink counts).
---@param path string
---@return boolean
function M.exists(path)
  return core.exists(path)
end

--- chmod (follows symlinks).
---@param path string
---@param mode bai.fs.Mode
---@return true|nil ok, bai.Error|nil err
function M.chmod(path, mode)
  return core.chmod(path, mode)
end

--- lchown: changes a symlink itself. nil (or -1) keeps that id.
---@param path string
---@param uid? integer
---@param gid? integer
---@return true|nil ok, bai.Error|nil err
function M.chown(path, uid, gid)
  return core.chown(path, uid, gid)
end

--- Names in a directory (no "." / ".."), sorted bytewise.
---@param path string
---@return string[]|nil names, bai.Error|nil err
function M.listdir(path)
  return core.listdir(path)
end

--- Copy a regular file's content (not atomic). The mode defaults to the source's.
---@param src string
---@param dst string
---@param mode? bai.fs.Mode
---@return true|nil ok, bai.Error|nil err
function M.copy_file(src, dst, mode)
  return core.copy_file(src, dst, mode)
end

--- Canonical absolute path (symlinks resolved); the path must exist.
---@param path string
---@return string|nil path, bai.Error|nil err
function M.realpath(path)
  return core.realpath(path)
end

--- Create a unique directory from a template ending in "XXXXXX".
---@param template string
---@return string|nil path, bai.Error|nil err
function M.mkdtemp(template)
  return core.mkdtemp(template)
end

--- Join path parts with "/" and collapse repeated slashes; empty parts are skipped and a
--- trailing slash is dropped (except for "/"). Unlike Python's os.path.join, an absolute
--- later part does NOT restart the path (join(root, "/etc") stays under root); ".." is not
--- resolved, so confine untrusted names elsewhere.
---@param ... string
---@return string
function M.join(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local part = select(i, ...)
    if type(part) ~= "string" then
      error(string.format("bai.fs.join: part %d is a %s, not a string", i, type(part)), 2)
    end
    if part ~= "" then
      parts[#parts + 1] = part
    end
  end
  local out = (table.concat(parts, "/"):gsub("//+", "/"))
  if #out > 1 then
    out = (out:gsub("/$", ""))
  end
  return out
end

--- Encode a value as JSON and write it atomically. Empty tables encode as `{}` and
--- `cjson.null` as `null`. Unencodable values (functions, sparse arrays) give "EINVAL".
---@param path string
---@param value any
---@param opts? { mode?: bai.fs.Mode }  default mode 0644
---@return true|nil ok, bai.Error|nil err
function M.write_json(path, value, opts)
  local text, msg = cjson.encode(value)
  if not text then
    return nil, errors.new("EINVAL", "write_json " .. path .. ": " .. tostring(msg))
  end
  return core.write_file(path, text, { mode = opts and opts.mode or 420, atomic = true })
end

--- Read and decode a JSON file. Malformed JSON gives "EPROTO"; JSON null decodes to
--- `cjson.null`.
---@param path string
---@param max_bytes? integer  default: no limit
---@return any value, bai.Error|nil err
function M.read_json(path, max_bytes)
  local text, err = core.read_file(path, max_bytes)
  if not text then
    return nil, err
  end
  local value, msg = cjson.decode(text)
  if value == nil then
    return nil, errors.new("EPROTO", "read_json " .. path .. ": " .. tostring(msg))
  end
  return value
end

return M
