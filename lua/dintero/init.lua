-- dintero: the public entry point (require "dintero").
--
-- Re-exports the JSON codec and its sentinels from the C core, and builds
-- clients. Everything here is cheap to load: no network, no global state.
local core = require "dintero.core"

local M = {
  _VERSION = core.version,
  json = core.json,
  null = core.json.null,
}

--- Marks t (a new table when nil) as a JSON array so that an empty table
-- encodes as [] rather than {}. Returns t.
function M.array(t)
  return setmetatable(t or {}, core.json.array_mt)
end

--- Creates a client; see docs/api.md for the options.
function M.new(opts)
  return require("dintero.client").new(opts)
end

setmetatable(M, {
  -- Submodules load on first use so that require "dintero" stays light.
  __index = function(t, k)
    if k == "callback" or k == "order" then
      local mod = require("dintero." .. k)
      rawset(t, k, mod)
      return mod
    end
  end,
})

return M
