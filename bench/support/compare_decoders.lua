-- Differential check of two builds of the JSON decoder (for a decoder patch,
-- see bench/PROFILE-NOTES.md): decodes the same documents with both and
-- reports any difference in values, array marking or error messages.
--
--   lua5.4 bench/support/compare_decoders.lua build/5.4 /path/to/patched/build/5.4
package.path = "bench/?.lua;" .. package.path
local function load(dir)
  return assert(package.loadlib(dir .. "/dintero/core.so", "luaopen_dintero_core"))().json
end
assert(arg[1] and arg[2], "usage: compare_decoders.lua OLD_BUILD_DIR NEW_BUILD_DIR")
local old, new = load(arg[1]), load(arg[2])
local fixtures = require "fixtures"
local function eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b or (a ~= a and b ~= b) end
  if (getmetatable(a) ~= nil) ~= (getmetatable(b) ~= nil) then return false end
  for k, v in pairs(a) do if not eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
local docs = {
  old.encode(fixtures.transaction(3)), old.encode(fixtures.page(100)),
  '{"a":1,"a":2}', '[]', '{}', '[[],{},[1,[2,{"x":[3]}]]]',
}
local big = {} for i = 1, 100 do big[#big + 1] = ('"k%d":%d'):format(i, i) end
docs[#docs + 1] = "{" .. table.concat(big, ",") .. ',"k5":"last"}'
local arr = {} for i = 1, 1000 do arr[i] = tostring(i) end
docs[#docs + 1] = "[" .. table.concat(arr, ",") .. "]"
docs[#docs + 1] = string.rep("[", 1000) .. string.rep("]", 1000)
docs[#docs + 1] = string.rep("[", 1001) .. string.rep("]", 1001)
docs[#docs + 1] = string.rep('{"a":', 999) .. "1" .. string.rep("}", 999)
-- wide and deep: every level has 40 members before the nested one
local w = {} for i = 1, 40 do w[i] = ('"m%d":"v\\n%d"'):format(i, i) end
local wide = table.concat(w, ",")
docs[#docs + 1] = string.rep("{" .. wide .. ',"n":', 900) .. "null" .. string.rep("}", 900)
docs[#docs + 1] = string.rep("[" .. table.concat(arr, ",", 1, 40) .. ",", 900) .. "0" .. string.rep("]", 900)
for _, bad in ipairs { '{"a":[1,2,', '{"a":1,}', '[1,2', '{"a":1 "b":2}' } do docs[#docs + 1] = bad end
docs[#docs + 1] = '{"' .. string.rep("x", 40) .. '":[' .. table.concat(arr, ",", 1, 32)
  .. '],"y":[' .. table.concat(arr, ",", 1, 33) .. ']}'
local all = true
for i, s in ipairs(docs) do
  local ok1, a, e1 = pcall(old.decode, s)
  local ok2, b, e2 = pcall(new.decode, s)
  local same = ok1 == ok2 and (ok1 and eq(a, b) and tostring(e1) == tostring(e2) or tostring(a) == tostring(b))
  if not same then
    all = false
    print("DIFF", i, #s, ok1, ok2, tostring(a):sub(1, 80), tostring(b):sub(1, 80), e1, e2)
  end
end
local jit = rawget(_G, "jit")
print(_VERSION, jit and jit.version or "", all and "all equal" or "DIFFERENCES", #docs .. " documents")
if not all then os.exit(1) end
