-- Every crash input a fuzzer found (fuzz/regressions/<harness>/) replayed
-- through the public Lua API, at many Lua stack depths: the json_decode ones
-- hit a use-after-free on Lua 5.4.4 only with certain stack layouts (a
-- luaL_Buffer left open on an error path), so each input runs under 0..63
-- nested calls. Under `make test-asan` or valgrind a regression is a crash.
local json = require("dintero").json

local function files(dir)
  local out = {}
  local p = io.popen("ls " .. dir .. " 2>/dev/null")
  if p then
    for name in p:lines() do out[#out + 1] = dir .. "/" .. name end
    p:close()
  end
  return out
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read "*a"
  f:close()
  return s
end

local function at_depth(n, fn)
  if n == 0 then return fn() end
  local a, b = at_depth(n - 1, fn)
  return a, b
end

describe("fuzz regressions", function()
  local inputs = files "fuzz/regressions/json_decode"

  it("has the json_decode inputs", function()
    assert.truthy(#inputs > 0)
  end)

  for _, path in ipairs(inputs) do
    it("json_decode " .. path:match "[^/]+$", function()
      local s = read(path)
      for depth = 0, 63 do
        local v, err = at_depth(depth, function() return json.decode(s) end)
        assert.is_nil(v)
        assert.matches("^json: ", err)
      end
      -- and the codec still works afterwards
      assert.same({ 1 }, json.decode "[1]")
    end)
  end
end)
