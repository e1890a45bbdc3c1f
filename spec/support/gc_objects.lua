-- Helpers for specs that watch the collector: objects with finalizers on every
-- Lua, and a JSON array large enough that decoding it allocates a lot.
local M = {}

--- An object whose finalizer is f (5.1 and LuaJIT tables take no __gc).
function M.object(f)
  if _VERSION == "Lua 5.1" then
    local p = newproxy(true) -- luacheck: ignore 113 (5.1 / LuaJIT only)
    getmetatable(p).__gc = f
    return p
  end
  return setmetatable({}, { __gc = f })
end

--- A JSON array of n small transaction-like objects (n = 8000 is ~1 MiB).
function M.json_array(n)
  local items = {}
  for i = 1, n do items[i] = ('{"id":"T12345678.item%05d","amount":%d,"status":"CAPTURED"}'):format(i, i) end
  return "[" .. table.concat(items, ",") .. "]"
end

return M
