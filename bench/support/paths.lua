-- Makes the source tree loadable for a benchmark run from the repository root
-- (as `make bench` does): lua/ for the library, bench/ for the helpers, and
-- the C module built for the running Lua (build/<ver>/, or DINTERO_BUILD_DIR).
local function lua_tag()
  if rawget(_G, "jit") then return "luajit" end
  return (_VERSION:match "Lua (%d+%.%d+)")
end

local build_dir = os.getenv "DINTERO_BUILD_DIR" or ("build/" .. lua_tag())
package.cpath = build_dir .. "/?.so;" .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;bench/?.lua;" .. package.path
return build_dir
