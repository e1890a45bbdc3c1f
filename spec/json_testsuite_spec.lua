-- Conformance of the JSON decoder against JSONTestSuite (test_parsing): every
-- y_ file must decode, every n_ file must be rejected, every i_ file may go
-- either way but must not crash. The suite lives beside the repository in
-- ../shared/testdata (CI clones it there); DINTERO_JSONTESTSUITE overrides.
local lfs = require "lfs"
local json = require("dintero.core").json

local DIR = os.getenv "DINTERO_JSONTESTSUITE" or "../shared/testdata/JSONTestSuite/test_parsing"

local function list(prefix)
  local names = {}
  for name in lfs.dir(DIR) do
    if name:sub(1, #prefix) == prefix and name:match "%.json$" then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function read(name)
  local f = assert(io.open(DIR .. "/" .. name, "rb"))
  local s = f:read "*a"
  f:close()
  return s
end

-- Deep equality where numbers compare with == (an integer equals the same
-- float) and arrays must carry the marker on both sides.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b or (a ~= a and b ~= b) end
  if (getmetatable(a) == json.array_mt) ~= (getmetatable(b) == json.array_mt) then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

describe("JSONTestSuite", function()
  local counts = { y = 0, n = 0, i = 0, ia = 0, ir = 0, ya = 0, nr = 0 }

  setup(function()
    assert(lfs.attributes(DIR, "mode") == "directory",
      "JSONTestSuite not found at " .. DIR .. " (set DINTERO_JSONTESTSUITE)")
  end)

  teardown(function()
    print(string.format("JSONTestSuite: y %d/%d accepted, n %d/%d rejected, i %d (%d accepted, %d rejected)",
      counts.ya, counts.y, counts.nr, counts.n, counts.i, counts.ia, counts.ir))
  end)

  it("accepts every y_ file, and re-encodes it to the same value", function()
    local bad = {}
    for _, name in ipairs(list "y_") do
      counts.y = counts.y + 1
      local v, msg = json.decode(read(name))
      if msg then
        bad[#bad + 1] = name .. ": " .. msg
      else
        counts.ya = counts.ya + 1
        local text, emsg = json.encode(v)
        local back = text and json.decode(text)
        if not text then
          bad[#bad + 1] = name .. ": encode: " .. emsg
        elseif not same(v, back) then
          bad[#bad + 1] = name .. ": round trip differs: " .. text
        end
      end
    end
    assert.are.same({}, bad)
    assert.is_true(counts.y >= 95)
  end)

  it("rejects every n_ file with a json: message", function()
    local bad = {}
    for _, name in ipairs(list "n_") do
      counts.n = counts.n + 1
      local v, msg = json.decode(read(name))
      if v ~= nil or type(msg) ~= "string" or not msg:match "^json: .* at byte %d+$" then
        bad[#bad + 1] = name .. ": " .. tostring(msg)
      else
        counts.nr = counts.nr + 1
      end
    end
    assert.are.same({}, bad)
    assert.is_true(counts.n >= 188)
  end)

  it("decides every i_ file without raising", function()
    for _, name in ipairs(list "i_") do
      counts.i = counts.i + 1
      local ok, v, msg = pcall(json.decode, read(name))
      assert(ok, name .. ": raised " .. tostring(v))
      if msg then counts.ir = counts.ir + 1 else counts.ia = counts.ia + 1 end
    end
    assert.is_true(counts.i >= 35)
  end)

  it("survives the deep nesting files", function()
    local v = json.decode(read "i_structure_500_nested_arrays.json")
    assert.is_table(v)
    local v2, msg = json.decode(read "n_structure_100000_opening_arrays.json")
    assert.is_nil(v2)
    assert.matches("nesting deeper than 1000", msg)
  end)
end)
