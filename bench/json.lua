-- JSON codec benchmark: dintero.core's json against lua-cjson and dkjson, in
-- one run, on a page of 100 Dintero transactions (~300 KB, what a list call
-- returns) and on one transaction (~3 KB, what a get returns).
--
--   lua5.4 bench/json.lua            (from the repository root, after make build)
--   BENCH_N=1 lua5.4 bench/json.lua  (a smoke run: tiny iteration counts)
--
-- BENCH_N (default 100) is the number of page operations per measure; the
-- single transaction runs 100x as many, dkjson (pure Lua, much slower) a
-- twentieth. Times are CPU time (os.clock), GC included, after a warm-up.
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local json = require("dintero.core").json
local fixtures = require "fixtures"

local N = tonumber(os.getenv "BENCH_N") or 100
assert(N >= 1, "BENCH_N must be a positive number")

local libs = { { name = "dintero", decode = json.decode, encode = json.encode } }
do
  local ok, cjson = pcall(require, "cjson")
  if ok then
    local c = cjson.new()
    libs[#libs + 1] = { name = "cjson", decode = c.decode, encode = c.encode }
  end
  local ok2, dkjson = pcall(require, "dkjson")
  if ok2 then
    libs[#libs + 1] = {
      name = "dkjson",
      decode = function(s) return dkjson.decode(s) end,
      encode = function(v) return dkjson.encode(v) end,
      slow = true,
    }
  end
end

local function machine()
  local model, cores = "unknown", 0
  local f = io.open "/proc/cpuinfo"
  if f then
    for line in f:lines() do
      local m = line:match "^model name%s*:%s*(.-)%s*$"
      if m then
        model = m
        cores = cores + 1
      end
    end
    f:close()
  end
  return string.format("%s (%d cores)", model, cores)
end

-- Runs fn(arg) iters times and returns microseconds per call.
local function measure(fn, arg, iters)
  fn(arg)
  collectgarbage "collect"
  local t0 = os.clock()
  for _ = 1, iters do fn(arg) end
  return (os.clock() - t0) * 1e6 / iters
end

local page = fixtures.page(100)
local one = fixtures.transaction(7)
local cases = {
  { label = "page of 100", value = page, iters = N },
  { label = "one transaction", value = one, iters = N * 100 },
}

print(string.format("machine: %s", machine()))
print(string.format("lua: %s, BENCH_N=%d", rawget(_G, "jit") and jit.version or _VERSION, N))
print(string.format("%-8s %-20s %-8s %9s %10s %9s %11s", "op", "case", "lib", "iters", "us/op", "MB/s",
  "ours/lib"))

local ratios = {}
for _, op in ipairs { "decode", "encode" } do
  for _, c in ipairs(cases) do
    local text = assert(json.encode(c.value))
    local results = {}
    for _, lib in ipairs(libs) do
      local iters = lib.slow and math.max(1, math.floor(c.iters / 20)) or c.iters
      local fn, arg = lib.encode, c.value
      if op == "decode" then fn, arg = lib.decode, text end
      local us = measure(fn, arg, iters)
      results[lib.name] = us
      local ratio = lib.name == "dintero" and "" or string.format("%.2f", results.dintero / us)
      if ratio ~= "" then ratios[#ratios + 1] = { op, c.label, lib.name, results.dintero / us } end
      local label = string.format("%s %dK", c.label, math.floor(#text / 1024 + 0.5))
      print(string.format("%-8s %-20s %-8s %9d %10.1f %9.1f %11s", op, label, lib.name, iters, us, #text / us, ratio))
    end
  end
end

print("ratios are time(dintero) / time(lib): below 1.00 means dintero is faster")
for _, r in ipairs(ratios) do
  print(string.format("  %s %s vs %s: %.2f", r[1], r[2], r[3], r[4]))
end
