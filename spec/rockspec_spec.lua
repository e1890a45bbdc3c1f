-- The rockspec lists every Lua module under lua/dintero/ and every C source of
-- dintero.core, so `luarocks make` installs what the source tree runs.
local function load_rockspec()
  local env = {}
  local chunk = assert(loadfile and (function()
    local f = assert(io.open("dintero-scm-1.rockspec"))
    local src = f:read "*a"
    f:close()
    if setfenv then
      local fn = assert(loadstring(src))
      setfenv(fn, env)
      return fn
    end
    return assert(load(src, "rockspec", "t", env))
  end)())
  chunk()
  return env
end

local function list(cmd)
  local out = {}
  local p = assert(io.popen(cmd))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

describe("dintero-scm-1.rockspec", function()
  local spec = load_rockspec()

  it("lists every Lua module", function()
    local listed = {}
    for name, path in pairs(spec.build.modules) do
      if type(path) == "string" then listed[path] = name end
    end
    for _, path in ipairs(list "find lua/dintero -name '*.lua' | sort") do
      local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.equal(name, listed[path], path .. " is not in the rockspec")
    end
  end)

  it("compiles every C source into dintero.core", function()
    local sources = {}
    for _, s in ipairs(spec.build.modules["dintero.core"].sources) do sources[s] = true end
    for _, path in ipairs(list "ls src/*.c") do
      assert.truthy(sources[path], path .. " is not in the rockspec")
    end
  end)
end)
