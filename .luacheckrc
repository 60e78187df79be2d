-- luacheck configuration (Debian's lua-check 1.1.0). No globals anywhere; specs get
-- busted's. Unused callback arguments are common in handler signatures.
std = "luajit"
unused_args = false
-- the style target is 100 columns; the mechanical limit allows a little slack
max_line_length = 120
files["tests/**/*_spec.lua"] = { std = "+busted" }
files["tests/helpers/summary.lua"] = { std = "+busted" }
