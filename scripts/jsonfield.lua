-- luajit scripts/jsonfield.lua JSON [KEY|INDEX ...]: print one value of a JSON document
-- (used by scripts/demo.sh; tables are printed as JSON, strings as they are).
local cjson = require("cjson")
local v = cjson.decode(arg[1])
for i = 2, #arg do
  if type(v) ~= "table" then
    v = nil
    break
  end
  v = v[tonumber(arg[i]) or arg[i]]
end
if type(v) == "table" then
  io.write(cjson.encode(v))
elseif v ~= nil and v ~= cjson.null then
  io.write(tostring(v))
end
