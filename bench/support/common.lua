-- Shared helpers of the request benchmarks (bench/requests.lua, parallel.lua,
-- memory.lua): the machine header, clocks, CPU time of this process from
-- getrusage (bench/support/rusage.c), resident memory, and a markdown table
-- printer.
--
-- Each bench script sets package.path/cpath itself (like bench/json.lua) before
-- requiring this module as "support.common".
local core = require "dintero.core"

local M = {}

M.now = core.now -- CLOCK_MONOTONIC seconds

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read "*a"
  f:close()
  return s
end
M.read_file = read_file

--- Whether a file can be opened for reading.
function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function popen_read(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local s = p:read "*a"
  p:close()
  return s
end
M.popen_read = popen_read

--- BENCH_N from the environment, or def.
function M.bench_n(def)
  local n = tonumber(os.getenv "BENCH_N") or def
  assert(n >= 1 and n % 1 == 0, "BENCH_N must be a positive whole number")
  return n
end

--- VmRSS of this process in KiB.
function M.rss_kib()
  local s = read_file "/proc/self/status" or ""
  return tonumber(s:match "VmRSS:%s*(%d+)") or 0
end

local function lua_name()
  if rawget(_G, "jit") then return rawget(_G, "jit").version end
  return _VERSION
end

--- The machine header every bench prints first.
function M.header(title, extra)
  local cpuinfo = read_file "/proc/cpuinfo" or ""
  local model = cpuinfo:match "model name%s*:%s*([^\n]+)" or "unknown CPU"
  local cores = 0
  for _ in cpuinfo:gmatch "\nprocessor%s*:" do cores = cores + 1 end
  if cpuinfo:match "^processor%s*:" then cores = cores + 1 end
  local kernel = (read_file "/proc/sys/kernel/osrelease" or "?"):gsub("%s+$", "")
  local nginx = (popen_read "nginx -v 2>&1 | cat" or ""):match "nginx/(%S+)" or "?"
  print(("# %s"):format(title))
  print()
  print(("- date: %s"):format(os.date "!%Y-%m-%d %H:%M UTC"))
  print(("- machine: %s, %d cores, Linux %s"):format(model, cores, kernel))
  print(("- software: %s, dintero %s, %s, nginx %s"):format(lua_name(), core.version,
    (core.curl_version or "libcurl ?"):match "^%S+" or "libcurl", nginx))
  for _, line in ipairs(extra or {}) do print("- " .. line) end
  print()
end

--- Prints a markdown table: columns = { {"title", "l"|"r"}, ... }, rows = lists of strings.
function M.table(columns, rows)
  local widths = {}
  for i, c in ipairs(columns) do widths[i] = #c[1] end
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      if #cell > widths[i] then widths[i] = #cell end
    end
  end
  local function line(cells, is_rule)
    local out = {}
    for i, c in ipairs(columns) do
      local cell = cells[i] or ""
      if is_rule then
        cell = c[2] == "r" and (("-"):rep(widths[i] - 1) .. ":") or ("-"):rep(widths[i])
      elseif c[2] == "r" then
        cell = (" "):rep(widths[i] - #cell) .. cell
      else
        cell = cell .. (" "):rep(widths[i] - #cell)
      end
      out[#out + 1] = cell
    end
    return "| " .. table.concat(out, " | ") .. " |"
  end
  local titles = {}
  for i, c in ipairs(columns) do titles[i] = c[1] end
  print(line(titles))
  print(line({}, true))
  for _, row in ipairs(rows) do print(line(row)) end
end

local function build(exe, cmd)
  local ok = os.execute("mkdir -p build/bench && " .. cmd)
  if ok ~= true and ok ~= 0 then error("bench: cannot build " .. exe .. " (" .. cmd .. ")") end
  return exe
end

local function lua_tag()
  if rawget(_G, "jit") then return "luajit" end
  return (_VERSION:match "Lua (%d+%.%d+)")
end

-- bench/support/rusage.c for the running Lua, built when missing or older
-- than its source (a shell test, so that the request_loop.lua children,
-- which load this module too, find it built).
local function load_rusage()
  local tag = lua_tag()
  local dir = "build/bench/" .. tag
  local inc = tag == "luajit" and "/usr/include/luajit-2.1" or "/usr/include/lua" .. tag
  local so, src = dir .. "/rusage.so", "bench/support/rusage.c"
  build(so, ("mkdir -p %s && { [ %s -nt %s ] || cc -O2 -shared -fPIC -I%s -o %s %s; }"):format(dir, so, src, inc, so, src))
  return package.loadlib(so, "luaopen_rusage")()
end

local rusage = load_rusage()

--- CPU seconds of this process (user + system) and of its reaped children,
-- from getrusage(2) (bench/support/rusage.c): microsecond resolution.
function M.cpu()
  return rusage.cpu()
end

--- Builds bench/raw_curl.c into build/bench/raw_curl (the libcurl-only
-- peer) and returns its path.
function M.raw_curl()
  local exe = "build/bench/raw_curl"
  return build(exe, "cc -O2 -o " .. exe .. " bench/raw_curl.c -lcurl")
end

-- bench/raw_curl.c with DECODE_INTO_LUA, against the Lua whose headers are
-- in inc and whose library is lib.
local function build_decoding(exe, inc, lib)
  return build(exe, "cc -O2 -DDECODE_INTO_LUA -Isrc -I" .. inc .. " -o " .. exe ..
    " bench/raw_curl.c src/ljson.c src/ljson_decode.c src/ljson_encode.c src/strcache.c src/buf.c" ..
    " -l" .. lib .. " -lcurl -lm")
end

--- Builds bench/raw_curl.c with DECODE_INTO_LUA into build/bench/raw_curl_lua
-- (libcurl + the library's C JSON decoder into a bare Lua 5.4 state) and
-- returns its path.
function M.raw_curl_lua()
  return build_decoding("build/bench/raw_curl_lua", "/usr/include/lua5.4", "lua5.4")
end

local LUAJIT_INC = "/usr/include/luajit-2.1"

--- Whether the LuaJIT peers can run: the core built for LuaJIT (make bench
-- builds it) and LuaJIT's headers for the floor program.
function M.has_luajit()
  return M.exists "build/luajit/dintero/core.so" and M.exists(LUAJIT_INC .. "/lua.h")
end

--- The same program against LuaJIT (build/bench/raw_curl_luajit): the floor
-- for a client on LuaJIT, whose strings and tables cost less to make.
function M.raw_curl_luajit()
  return build_decoding("build/bench/raw_curl_luajit", LUAJIT_INC, "luajit-5.1")
end

--- "12.3" style figures.
function M.fmt(x, digits)
  if x == nil then return "n/a" end
  return ("%." .. (digits or 1) .. "f"):format(x)
end

return M
