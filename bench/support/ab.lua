-- A/B of two builds of the C core, for judging a change against this VM's
-- noise: the same request loop (bench/support/request_loop.lua) run with
-- build A and with build B, alternately, each block in a process of its own,
-- against the bench nginx. Prints the mean and median per-request wall and
-- CPU time of each side, B/A, and in how many rounds B was faster: a change
-- is real when that count is lopsided, not when two means differ by a few %.
--
--   lua5.4 bench/support/ab.lua BUILD_DIR_A BUILD_DIR_B [MODE]
--
-- BUILD_DIR_x holds dintero/core.so (e.g. build/5.4, or a copy of an older
-- build). MODE is a request_loop.lua mode (default request). BENCH_N
-- (default 2000) requests per block, BENCH_ROUNDS (default 20) rounds,
-- PROFILE_TLS=1 for HTTPS.
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local core = require "dintero.core"

local dir_a, dir_b, mode = arg[1], arg[2], arg[3] or "request"
assert(dir_a and dir_b, "usage: ab.lua BUILD_DIR_A BUILD_DIR_B [MODE]")
local N = common.bench_n(2000)
local ROUNDS = tonumber(os.getenv "BENCH_ROUNDS") or 20
local tls = os.getenv "PROFILE_TLS" == "1"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- One block of N requests with the core in dir; returns wall and CPU seconds per request.
local function block(dir, base, ca)
  local lua = arg[-1] or "lua5.4"
  local cmd = ("DINTERO_BUILD_DIR=%s %s bench/support/request_loop.lua %s %s %d %s"):format(
    q(dir), lua, mode, q(base), N, q(ca or ""))
  local p = assert(io.popen(cmd))
  local out = p:read "*a"
  p:close()
  local wall, user, sys = out:match "wall_s=(%S+) user_s=(%S+) sys_s=(%S+)"
  if not wall then error("ab: " .. cmd .. " failed: " .. out) end
  return tonumber(wall) / N, (tonumber(user) + tonumber(sys)) / N
end

local function mean(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s / #t
end

local function median(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  local m = math.floor(#c / 2)
  if #c % 2 == 1 then return c[m + 1] end
  return (c[m] + c[m + 1]) / 2
end

local function main()
  local srv = nginx.start { tls = tls }
  local ok, err = pcall(function()
    local base = tls and srv.https_url or srv.http_url
    local ca = tls and srv.ca_file or nil
    local wall_a, wall_b, cpu_a, cpu_b, b_wins = {}, {}, {}, {}, 0
    for r = 1, ROUNDS do
      -- A first in odd rounds, B first in even ones: neither always follows the other.
      local first, second = dir_a, dir_b
      if r % 2 == 0 then first, second = dir_b, dir_a end
      core.sleep(0.05)
      local w1, c1 = block(first, base, ca)
      core.sleep(0.05)
      local w2, c2 = block(second, base, ca)
      if first ~= dir_a then w1, c1, w2, c2 = w2, c2, w1, c1 end
      wall_a[r], cpu_a[r], wall_b[r], cpu_b[r] = w1, c1, w2, c2
      if w2 < w1 then b_wins = b_wins + 1 end
    end
    common.header("A/B of two builds: " .. mode .. (tls and " over HTTPS" or " over HTTP"), {
      ("A = %s, B = %s; %d rounds of %d requests per side, alternating"):format(dir_a, dir_b, ROUNDS, N),
    })
    local us = function(x) return common.fmt(x * 1e6, 1) end
    common.table({ { "build", "l" }, { "wall mean us", "r" }, { "wall median us", "r" },
      { "CPU mean us", "r" }, { "CPU median us", "r" } }, {
      { "A " .. dir_a, us(mean(wall_a)), us(median(wall_a)), us(mean(cpu_a)), us(median(cpu_a)) },
      { "B " .. dir_b, us(mean(wall_b)), us(median(wall_b)), us(mean(cpu_b)), us(median(cpu_b)) },
    })
    print(("B / A: wall %.3f (medians %.3f), CPU %.3f (medians %.3f); B faster in %d of %d rounds"):format(
      mean(wall_b) / mean(wall_a), median(wall_b) / median(wall_a),
      mean(cpu_b) / mean(cpu_a), median(cpu_b) / median(cpu_a), b_wins, ROUNDS))
  end)
  srv:stop()
  if not ok then
    io.stderr:write("bench/support/ab.lua failed: ", tostring(err), "\n")
    os.exit(1)
  end
end

main()
