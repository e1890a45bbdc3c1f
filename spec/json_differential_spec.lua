-- Differential test of the JSON codec against lua-cjson: a seeded generator
-- writes random JSON texts (nested objects and arrays, whitespace, strings
-- with every escape, \u escapes and surrogate pairs, raw UTF-8, integers and
-- floats in every syntax); dintero must decode each to the same value as
-- cjson, and cjson must read dintero's encoding of it back to the same value.
-- Numbers compare with == (integer vs float aside); cjson's empty array {}
-- counts as equal to our marked empty array.
local json = require("dintero.core").json

local has_cjson, cjson_mod = pcall(require, "cjson")

local DOCS = tonumber(os.getenv "DINTERO_JSON_DIFF_DOCS") or 3000

-- Park-Miller minimal standard generator: every product stays below 2^53, so
-- the sequence is the same on every Lua version.
local function rng(seed)
  local state = seed
  return function(lo, hi)
    state = state * 16807 % 2147483647
    return lo + state % (hi - lo + 1)
  end
end

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function generator(seed)
  local r = rng(seed)
  local out

  local function ws()
    local k = r(1, 12)
    if k == 1 then out[#out + 1] = " " elseif k == 2 then out[#out + 1] = "\n  " elseif k == 3 then
      out[#out + 1] = "\t" elseif k == 4 then out[#out + 1] = "\r\n" end
  end

  local function hex4(cp, upper)
    local s = string.format("%04x", cp)
    return "\\u" .. (upper and s:upper() or s)
  end

  local function bmp_non_surrogate()
    local cp = r(1, 0xFFFF)
    if cp >= 0xD800 and cp <= 0xDFFF then cp = cp - 0x1000 end
    return cp
  end

  local simple = { '\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t" }

  local function piece()
    local k = r(1, 20)
    if k <= 9 then return string.char(r(0x20, 0x7E)):gsub('[\\"]', "") end
    if k == 10 then return simple[r(1, #simple)] end
    if k == 11 then return hex4(r(0, 0x1F), r(0, 1) == 1) end
    if k == 12 then return hex4(bmp_non_surrogate(), r(0, 1) == 1) end
    if k == 13 then
      local cp = r(0x10000, 0x10FFFF) - 0x10000
      return hex4(0xD800 + math.floor(cp / 1024), r(0, 1) == 1) .. hex4(0xDC00 + cp % 1024, r(0, 1) == 1)
    end
    if k == 14 then return utf8_char(r(0x80, 0x7FF)) end
    if k == 15 then
      local cp = r(0x800, 0xFFFF)
      if cp >= 0xD800 and cp <= 0xDFFF then cp = cp - 0x1000 end
      return utf8_char(cp)
    end
    if k == 16 then return utf8_char(r(0x10000, 0x10FFFF)) end
    if k == 17 then return "\\u0000" end
    return string.rep("a", r(0, 40))
  end

  local function string_value()
    local parts = { '"' }
    for _ = 1, r(0, 8) do parts[#parts + 1] = piece() end
    parts[#parts + 1] = '"'
    out[#out + 1] = table.concat(parts)
  end

  local function digits(n)
    local t = { tostring(r(1, 9)) }
    for i = 2, n do t[i] = tostring(r(0, 9)) end
    return table.concat(t)
  end

  local function number_value()
    local k = r(1, 10)
    local sign = r(1, 4) == 1 and "-" or ""
    local s
    if k <= 3 then
      s = tostring(r(0, 100000))
    elseif k == 4 then
      s = digits(r(10, 15)) -- large, but below 2^53
    elseif k == 5 then
      if r(0, 1) == 1 then
        s = digits(r(1, 6)) .. "." .. digits(r(1, 6))
      else
        s = "0." .. string.rep("0", r(0, 5)) .. digits(r(1, 8))
      end
    elseif k == 6 then
      s = digits(r(1, 3)) .. (r(0, 1) == 1 and "e" or "E") .. ({ "", "+", "-" })[r(1, 3)] .. tostring(r(0, 30))
    elseif k == 7 then
      s = digits(r(1, 17)) .. "." .. digits(r(1, 17)) .. "e" .. tostring(r(-300, 290)) -- stays finite
    elseif k == 8 then
      s = "0.0"
    elseif k == 9 then
      s = digits(r(20, 30)) -- beyond int64: a float on both sides
    else
      s = tostring(r(0, 99)) .. "." .. tostring(r(0, 99))
    end
    out[#out + 1] = sign .. s
  end

  local value

  local function array_value(depth)
    out[#out + 1] = "["
    ws()
    for i = 1, r(0, depth > 5 and 1 or 6) do
      if i > 1 then out[#out + 1] = "," ws() end
      value(depth + 1)
      ws()
    end
    out[#out + 1] = "]"
  end

  local function object_value(depth)
    out[#out + 1] = "{"
    ws()
    for i = 1, r(0, depth > 5 and 1 or 6) do
      if i > 1 then out[#out + 1] = "," ws() end
      string_value()
      ws()
      out[#out + 1] = ":"
      ws()
      value(depth + 1)
      ws()
    end
    out[#out + 1] = "}"
  end

  value = function(depth)
    local k = r(1, depth > 7 and 6 or 10)
    if k <= 2 then string_value()
    elseif k <= 4 then number_value()
    elseif k == 5 then out[#out + 1] = ({ "true", "false", "null" })[r(1, 3)]
    elseif k == 6 then out[#out + 1] = "[]"
    elseif k <= 8 then array_value(depth)
    else object_value(depth) end
  end

  return function()
    out = {}
    ws()
    value(r(0, 3) == 0 and 0 or 1)
    ws()
    return table.concat(out)
  end
end

-- ours vs a cjson value: numbers with ==, our marked empty array equal to
-- cjson's empty table.
local function same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) ~= "table" then
    if a == b then return true end
    return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  local n = 0
  for k, v in pairs(a) do
    n = n + 1
    local ok, where = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for _ in pairs(b) do n = n - 1 end
  if n ~= 0 then return false, path .. ": key counts differ" end
  return true
end

describe("dintero.json against lua-cjson", function()
  local cjson

  setup(function()
    if not has_cjson then return end
    cjson = cjson_mod.new()
    cjson.decode_max_depth(1000)
    if cjson.decode_array_with_array_mt then cjson.decode_array_with_array_mt(true) end
  end)

  local function check(seed)
    if not cjson then return pending "lua-cjson is not installed for this Lua" end
    local next_doc = generator(seed)
    for i = 1, DOCS do
      local text = next_doc()
      local theirs = cjson.decode(text)
      local ours, msg = json.decode(text)
      assert(msg == nil, "doc " .. i .. ": " .. tostring(msg) .. "\n" .. text)
      local ok, where = same(ours, theirs)
      assert(ok, "doc " .. i .. " decodes differently at " .. tostring(where) .. "\n" .. text)
      local encoded, emsg = json.encode(ours, { sort_keys = i % 2 == 0 })
      assert(encoded, "doc " .. i .. ": " .. tostring(emsg))
      ok, where = same(ours, cjson.decode(encoded))
      assert(ok, "doc " .. i .. ": our encoding reads back differently at " .. tostring(where) .. "\n" .. encoded)
      local again = json.decode(encoded)
      assert(again ~= nil and json.encode(again, { sort_keys = true }) == json.encode(ours, { sort_keys = true }),
        "doc " .. i .. ": encode is not stable\n" .. encoded)
    end
  end

  it("agrees on " .. DOCS .. " documents from seed 1", function() check(1) end)
  it("agrees on " .. DOCS .. " documents from seed 20261123", function() check(20261123) end)

  it("generates every kind of piece it claims to", function()
    local next_doc = generator(7)
    local all = {}
    for i = 1, 500 do all[i] = next_doc() end
    local text = table.concat(all, "\n")
    for _, needle in ipairs { "\\u", "\\n", '\\"', "e-", "E", "[]", "{", "null", "\240" } do
      assert.is_truthy(text:find(needle, 1, true), needle)
    end
  end)
end)
