-- luacheck configuration: Lua 5.1 syntax everywhere except the mock server
-- (Lua 5.4 only); specs run under busted.
std = "max"
max_line_length = 130
codes = true
exclude_files = { "build/**" }
files["spec/**"] = { std = "max+busted" }
files["lua/dintero/mock/**"] = { std = "lua54" }
files["bin/dintero-mock"] = { std = "lua54" }
files["lua/dintero/ngx/**"] = { read_globals = { "ngx" } }
files["examples/openresty/**"] = { read_globals = { "ngx" } }
