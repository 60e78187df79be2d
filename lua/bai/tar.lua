--- bai.tar — in-memory tar archives (the C core's `bai.core.tar`, libarchive): build the
--- small tars Docker's "put archive" takes and read the ones "get archive" returns.
---
--- yields: no. Archives are held in memory, so bound what you read with `max_bytes`.
--- Malformed input returns `nil, err` with code "EARCHIVE"; a size limit, "E2BIG".
--- Malformed entry tables (missing name, unknown type) raise.
local core = require("bai.core.tar")

local M = {}

---@class bai.tar.Entry
---@field name string          path inside the archive
---@field type? "file"|"dir"|"link"  default "file"
---@field data? string         file content (default "")
---@field target? string       symlink target (type "link")
---@field mode? integer|string permission bits; default 0644 file, 0755 dir, 0777 link
---@field mtime? number        seconds since the epoch; default now
---@field uid? integer         default 0
---@field gid? integer         default 0

---@class bai.tar.Item
---@field name string
---@field type "file"|"dir"|"link"|"hardlink"|"other"
---@field size number          size in the header
---@field mode integer         permission bits
---@field mtime number
---@field target? string       link target (link, hardlink)
---@field data? string         content (files, unless opts.data == false)

--- Build a pax-restricted (ustar-compatible) tar. Directory names come back from list()
--- with a trailing "/".
---@param entries bai.tar.Entry[]
---@return string|nil tar, bai.Error|nil err
function M.pack(entries)
  return core.pack(entries)
end

--- Parse a tar (plain or gzip) held in a string.
---@param bytes string
---@param opts? { max_bytes?: integer, data?: boolean }  max_bytes bounds the total file
---   data copied out (default: no limit); data=false lists headers only
---@return bai.tar.Item[]|nil items, bai.Error|nil err
function M.list(bytes, opts)
  return core.list(bytes, opts)
end

--- Gzip a string.
---@param bytes string
---@param level? integer  1..9; 0 or nil for the default
---@return string|nil gz, bai.Error|nil err
function M.gzip(bytes, level)
  return core.gzip(bytes, level)
end

--- Gunzip a string; "EARCHIVE" if it is not gzip, "E2BIG" past max_bytes.
---@param bytes string
---@param max_bytes? integer  default: no limit
---@return string|nil data, bai.Error|nil err
function M.gunzip(bytes, max_bytes)
  return core.gunzip(bytes, max_bytes)
end

return M
