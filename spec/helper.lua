-- Loaded by busted before any spec (see .busted). Points package.cpath at the
-- C module built for the running Lua (build/<ver>/, or DINTERO_BUILD_DIR for the
-- sanitizer builds) and starts one mock server for the whole run; it is stopped
-- when the suite ends.
local function lua_tag()
  if rawget(_G, "jit") then return "luajit" end
  return (_VERSION:match "Lua (%d+%.%d+)")
end

local build_dir = os.getenv "DINTERO_BUILD_DIR" or ("build/" .. lua_tag())
package.cpath = build_dir .. "/?.so;" .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path

local busted = require "busted"
local mock = require "support.mock"

busted.subscribe({ "suite", "end" }, function()
  mock.stop()
  return nil, true
end)
