--- bai.schema — a small declarative validator (Kong-like ordered records).
---
--- A field definition is a table:
---
---   { type = "string"|"integer"|"number"|"boolean"|"array"|"map"|"record"|"any",
---     required = true, default = <value>, one_of = { ... }, between = { lo, hi },
---     match = "<Lua pattern>", custom_validator = function(v) return true | nil, msg end,
---     elements = <field> (array), keys = <field>, values = <field> (map),
---     fields = { { name = <field> }, ... } (record, ordered) }
---
--- A schema is a record field; `type = "record"` may be omitted at the top level.
--- `type = "any"` accepts any non-nil value (modifiers still apply). A record with
--- `open = true` keeps keys it does not declare instead of reporting "unknown field".
--- Other keys in a definition are ignored, so callers may annotate fields.
--- Pure Lua: no C core needed (runs under plain luajit).
local M = {}

local TYPES = {
  string = true,
  integer = true,
  number = true,
  boolean = true,
  array = true,
  map = true,
  record = true,
  any = true,
}

local ARTICLE = {
  string = "a string",
  integer = "an integer",
  number = "a number",
  boolean = "a boolean",
  array = "an array",
  map = "a table",
  record = "a table",
}

---@param v any
---@return boolean
local function is_integer(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
    and math.floor(v) == v
end

---@param v any
---@return boolean
local function is_sequence(v)
  if type(v) ~= "table" then
    return false
  end
  local n = 0
  for k in pairs(v) do
    if not is_integer(k) or k < 1 then
      return false
    end
    n = n + 1
  end
  return n == #v
end

--- A short description of a value for "got ..." messages.
---@param v any
---@return string
function M.describe(v)
  local t = type(v)
  if t == "string" then
    if #v > 40 then
      return string.format("string %q...", v:sub(1, 40))
    end
    return string.format("string %q", v)
  elseif t == "number" then
    if is_integer(v) and math.abs(v) < 2 ^ 53 then
      return string.format("%d", v)
    end
    return tostring(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    if next(v) == nil then
      return "an empty table"
    end
    return is_sequence(v) and "an array" or "a table"
  end
  return t
end

local function fmt_value(v)
  if type(v) == "string" then
    return string.format("%q", v)
  end
  return M.describe(v)
end

--- Deep copy of plain data (defaults must never be shared with the caller's result).
---@param v any
---@return any
function M.deepcopy(v)
  if type(v) ~= "table" then
    return v
  end
  local out = {}
  for k, x in pairs(v) do
    out[k] = M.deepcopy(x)
  end
  return out
end

--- Name and definition of an ordered record entry `{ name = def }`.
---@param entry table
---@return string name, table def
function M.field_entry(entry)
  local name, def = next(entry)
  if type(name) ~= "string" or type(def) ~= "table" or next(entry, name) ~= nil then
    error("schema: each record entry must be { name = field_definition }", 3)
  end
  return name, def
end

local validate_field

---@param def table    record field definition
---@param value table
---@param opts table
---@return table out, table|nil errors
local function validate_record(def, value, opts)
  local out, errs = {}, nil
  local known = {}
  for _, entry in ipairs(def.fields or {}) do
    local name, fdef = M.field_entry(entry)
    known[name] = true
    local v, e = validate_field(fdef, value[name], opts)
    if e ~= nil then
      errs = errs or {}
      errs[name] = e
    else
      out[name] = v
    end
  end
  for k, v in pairs(value) do
    if not known[k] then
      if def.open or opts.allow_unknown then
        out[k] = M.deepcopy(v)
      else
        errs = errs or {}
        errs[k] = "unknown field"
      end
    end
  end
  return out, errs
end

---@return any value, string|table|nil err
validate_field = function(def, value, opts)
  local ftype = def.type or (def.fields and "record") or "any"
  if not TYPES[ftype] then
    error("schema: unknown field type " .. tostring(ftype), 3)
  end
  if value == nil then
    if def.default ~= nil then
      value = M.deepcopy(def.default)
    elseif def.required then
      return nil, "required field missing"
    else
      return nil
    end
  end

  -- type
  if ftype == "integer" then
    if not is_integer(value) then
      return nil, "expected an integer, got " .. M.describe(value)
    end
  elseif ftype == "array" then
    if type(value) ~= "table" or not is_sequence(value) then
      return nil, "expected an array, got " .. M.describe(value)
    end
  elseif ftype == "map" or ftype == "record" then
    if type(value) ~= "table" or (next(value) ~= nil and is_sequence(value)) then
      return nil, "expected a table, got " .. M.describe(value)
    end
  elseif ftype ~= "any" and type(value) ~= ftype then
    return nil, "expected " .. ARTICLE[ftype] .. ", got " .. M.describe(value)
  end

  -- nested
  local out = value
  if ftype == "array" then
    out = {}
    local errs
    for i, v in ipairs(value) do
      local x, e = v, nil
      if def.elements then
        x, e = validate_field(def.elements, v, opts)
      end
      if e ~= nil then
        errs = errs or {}
        errs[i] = e
      end
      out[i] = M.deepcopy(x)
    end
    if errs then
      return nil, errs
    end
  elseif ftype == "map" then
    out = {}
    local errs
    for k, v in pairs(value) do
      local ek, ev
      if def.keys then
        local _, e = validate_field(def.keys, k, opts)
        ek = e
      end
      local x = v
      if def.values then
        x, ev = validate_field(def.values, v, opts)
      end
      if ek ~= nil or ev ~= nil then
        errs = errs or {}
        errs[k] = ek and ("invalid key: " .. tostring(ek)) or ev
      end
      out[k] = M.deepcopy(x)
    end
    if errs then
      return nil, errs
    end
  elseif ftype == "record" then
    local errs
    out, errs = validate_record(def, value, opts)
    if errs then
      return nil, errs
    end
  end

  -- modifiers
  if def.one_of then
    local ok = false
    for _, c in ipairs(def.one_of) do
      if c == out then
        ok = true
        break
      end
    end
    if not ok then
      local shown = {}
      for i, c in ipairs(def.one_of) do
        shown[i] = fmt_value(c)
      end
      return nil, "expected one of " .. table.concat(shown, ", ") .. ", got " .. M.describe(out)
    end
  end
  if def.between then
    local lo, hi = def.between[1], def.between[2]
    if type(out) ~= "number" or out < lo or out > hi then
      return nil, string.format("expected a value between %s and %s, got %s", M.describe(lo),
        M.describe(hi), M.describe(out))
    end
  end
  if def.match then
    if type(out) ~= "string" or not out:match(def.match) then
      return nil, string.format("expected a value matching %q, got %s", def.match,
        M.describe(out))
    end
  end
  if def.custom_validator then
    local ok, msg = def.custom_validator(out)
    if not ok then
      return nil, msg or ("invalid value " .. M.describe(out))
    end
  end
  return out
end

--- Validate `value` against `schema`, filling defaults.
--- Errors are a nested table mirroring the value: `{ key = "message", sub = { key = "..." } }`;
--- array elements and map entries are keyed by their index or key.
---@param schema table  a record schema `{ fields = { { name = def }, ... } }` or any field
---@param value any
---@param opts? { allow_unknown?: boolean }  keep unknown record keys instead of failing
---@return any|nil value           a copy of value with defaults filled in
---@return table|string|nil errors
function M.validate(schema, value, opts)
  if type(schema) ~= "table" then
    error("schema.validate: schema must be a table", 2)
  end
  local v, err = validate_field(schema, value, opts or {})
  if err ~= nil then
    return nil, err
  end
  return v
end

--- Flatten nested field errors into sorted { {path=, message=} } with dotted paths
--- ("a.b", "list[2]").
---@param fields table|string
---@param prefix? string
---@return { path: string, message: string }[]
function M.flatten(fields, prefix)
  local out = {}
  local function walk(e, path)
    if type(e) ~= "table" then
      out[#out + 1] = { path = path or "", message = tostring(e) }
      return
    end
    for k, sub in pairs(e) do
      local p
      if type(k) == "number" then
        p = (path or "") .. "[" .. string.format("%d", k) .. "]"
      elseif path and path ~= "" then
        p = path .. "." .. tostring(k)
      else
        p = tostring(k)
      end
      walk(sub, p)
    end
  end
  walk(fields, prefix)
  table.sort(out, function(a, b)
    return a.path < b.path
  end)
  return out
end

--- The bai.Error constructor, resolved lazily so this module loads without the C core.
local function new_error(code, message, extra)
  local ok, errors = pcall(require, "bai.errors")
  if ok then
    return errors.new(code, message, extra)
  end
  local e = { code = code, message = message }
  for k, v in pairs(extra or {}) do
    e[k] = v
  end
  return setmetatable(e, {
    __tostring = function(self)
      return self.code .. ": " .. self.message
    end,
  })
end

--- Like validate, but failures come back as bai.Error{ code = "SCHEMA_VIOLATION", fields = ... }.
---@param schema table
---@param value any
---@param opts? table
---@return any|nil value, bai.Error|nil err
function M.check(schema, value, opts)
  local v, fields = M.validate(schema, value, opts)
  if fields == nil then
    return v
  end
  local flat = M.flatten(fields)
  local parts = {}
  for i, f in ipairs(flat) do
    parts[i] = (f.path ~= "" and (f.path .. ": ") or "") .. f.message
  end
  return nil, new_error("SCHEMA_VIOLATION", table.concat(parts, "; "), { fields = fields })
end

return M
