-- luacheck configuration (Debian's lua-check 1.1.0). No globals anywhere; specs get
-- busted's. Unused callback arguments are common in handler signatures.
std = "luajit"
unused_args = false
max_line_length = 100
-- specs quote long literal texts (configs, wire data); they get a little more room
files["tests/**/*_spec.lua"] = { std = "+busted", max_line_length = 120 }
files["tests/helpers/summary.lua"] = { std = "+busted" }
