-- Request benchmark: N sequential GET /v1/transactions/{id} (a ~3 KB JSON
-- transaction) against a local nginx, over HTTP and over HTTPS, side by side:
--
--   dintero          client:request (one reused libcurl handle, JSON decoded by the C core);
--                    also with raw = true (no decode, like raw libcurl) and, when the
--                    namespace exists, client.transactions:get (adds the Transaction object)
--   raw libcurl      bench/raw_curl.c: one reused easy handle, decodes nothing (the limit)
--   raw libcurl + C decode to Lua
--                    the same program built with DECODE_INTO_LUA: each body also
--                    decoded into Lua tables by the library's C decoder in a bare
--                    Lua state (the floor for any Lua client that decodes)
--   on LuaJIT       client:request and the floor again, with LuaJIT (when the core is
--                    built for it: make bench does), whose strings and tables cost less
--   luasocket/luasec socket.http (HTTP) / ssl.https (HTTPS) + lua-cjson, a new
--                    connection per request, as users would write it
--   curl CLI         io.popen("curl ...") + lua-cjson, a process per request
--
-- The peers run interleaved in ROUNDS rounds, in a different order each round
-- (round_order), so noise hits them alike and no peer always follows the same
-- one; each block starts after a 50 ms pause. The fast peers (dintero, raw
-- libcurl) each run in a process of their own that times its own loop after
-- a warm-up request (process_peer); the slow peers run in this process. Wall
-- time is CLOCK_MONOTONIC; CPU time is the client process's user + system
-- time from getrusage (in raw_curl.c, and through bench/support/rusage.c in
-- Lua); the curl CLI row adds its reaped children (sh + curl). nginx's own
-- CPU is never counted.
--
--   lua5.4 bench/requests.lua             (from the repository root, after make build)
--   BENCH_N=20 lua5.4 bench/requests.lua  (a smoke run)
--
-- BENCH_N (default 20000) requests per fast peer (dintero, raw libcurl); the
-- slow peers (luasocket/luasec, curl CLI) make a tenth as many, at most 300.
-- Each fast block is N / 10 requests: with a few hundred, a fresh process's
-- first requests (heap growth, cold caches) weigh on the result, where a
-- long-running process is long past them.
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local core = require "dintero.core"
local cjson = require "cjson"
local http = require "socket.http"
local ltn12 = require "ltn12"
local has_https, https = pcall(require, "ssl.https")

local N = common.bench_n(20000)
-- The slow peers take ~30 ms a request: at most 300 of them keep a run near a minute.
local SLOW_N = math.max(1, math.min(300, math.floor(N / 10)))
local ROUNDS = math.min(10, SLOW_N)
local TX_ID = "T12345678.5Yb000000000000000007Hq"
local RAW_CURL, RAW_CURL_LUA, RAW_CURL_LUAJIT -- built by main
local RAW_NAME = "raw libcurl (C, no decode)"
local RAW_LUA_NAME = "raw libcurl + C decode to Lua"
local RAW_LUAJIT_NAME = "raw libcurl + C decode to LuaJIT"
local JIT_SUFFIX = " (LuaJIT)"

local function per_round(total) return math.max(1, math.ceil(total / ROUNDS)) end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- ---- peers: each has run(count) -> {wall=, cpu=} and a name -------------

-- Every fast peer runs in a process of its own, started anew for each
-- block, which makes one untimed warm-up request (token, connection, TLS
-- session) and then times its loop itself: bench/raw_curl.c for the C
-- peers, bench/support/request_loop.lua for the dintero ones. So all of them
-- start alike: a fresh process, a fresh heap, a CPU already busy with the
-- start-up. (Run inside this process after the settle pause, the dintero
-- peers started from an idle CPU and came out up to 20 % slower than the
-- same loop in a process of its own.)
local NAMES = {
  request = "dintero client:request",
  raw = "dintero client:request raw=true",
  get = "dintero transactions:get()",
}

--- A peer run as `cmd_for(count)`, which prints raw_curl's result line.
local function process_peer(name, cmd_for, count_connects)
  local connects = 0
  return {
    name = name,
    run = function(count)
      local p = assert(io.popen(cmd_for(count)))
      local out = p:read "*a"
      p:close()
      local wall, user, sys = out:match "wall_s=(%S+) user_s=(%S+) sys_s=(%S+)"
      if not wall then error(name .. " failed: " .. out) end
      connects = connects + tonumber(out:match "connects=(%d+)")
      return { wall = tonumber(wall), cpu = tonumber(user) + tonumber(sys) }
    end,
    notes = count_connects and function() return ("new connections after warm-up: %d"):format(connects) end,
  }
end

-- mode: "request" (client:request, JSON decoded), "raw" (client:request with
-- raw = true: the body stays bytes, like raw libcurl) or "get"
-- (client.transactions:get: request + argument checks + Transaction object).
-- lua: the interpreter (default: the one running this script), and a
-- suffix for the peer's name.
local function dintero_peer(base, ca_file, mode, lua, suffix)
  lua = lua or arg[-1] or "lua5.4"
  return process_peer(NAMES[mode] .. (suffix or ""), function(count)
    return table.concat({ lua, "bench/support/request_loop.lua", mode, sh_quote(base), count,
      sh_quote(ca_file or "") }, " ")
  end, mode ~= "get")
end

-- exe is RAW_CURL (decodes nothing) or RAW_CURL_LUA (decodes into Lua tables).
local function raw_curl_peer(base, ca_file, exe, name)
  local url = base .. "/v1/transactions/" .. TX_ID
  return process_peer(name, function(count)
    return table.concat({ exe, sh_quote(url), count, sh_quote(ca_file or ""), sh_quote(nginx.TOKEN) }, " ")
  end, true)
end

local function luasocket_peer(base, ca_file)
  local url = base .. "/v1/transactions/" .. TX_ID
  local headers = { accept = "application/json", authorization = "Bearer " .. nginx.TOKEN }
  local tls = ca_file ~= nil
  local function one()
    local parts = {}
    local ok, code
    if tls then
      ok, code = https.request { url = url, headers = headers, sink = ltn12.sink.table(parts),
        cafile = ca_file, verify = "peer", protocol = "any" }
    else
      ok, code = http.request { url = url, headers = headers, sink = ltn12.sink.table(parts) }
    end
    if not ok or code ~= 200 then error("luasocket request failed: " .. tostring(code)) end
    local body = cjson.decode(table.concat(parts))
    if not body.id then error "luasocket: no id" end
  end
  one()
  return {
    name = tls and "luasec ssl.https + cjson" or "luasocket socket.http + cjson", lua = true, slow = true,
    run = function(count) for _ = 1, count do one() end end,
  }
end

local function curl_cli_peer(base, ca_file)
  local cmd = table.concat({
    "curl -sS --fail -H 'Accept: application/json'",
    "-H " .. sh_quote("Authorization: Bearer " .. nginx.TOKEN),
    ca_file and ("--cacert " .. sh_quote(ca_file)) or "",
    sh_quote(base .. "/v1/transactions/" .. TX_ID),
  }, " ")
  local function one()
    local p = assert(io.popen(cmd))
    local out = p:read "*a"
    p:close()
    local body = cjson.decode(out)
    if not body.id then error "curl CLI: no id" end
  end
  one()
  return {
    name = "curl CLI via io.popen + cjson", lua = true, slow = true, children = true,
    run = function(count) for _ = 1, count do one() end end,
  }
end

-- ---- measuring ------------------------------------------------------------

-- The spread of a's per-request wall time over b's, round by round (both ran
-- in each round, minutes apart at most): "min-max, median m". A shared VM's
-- noise comes in bursts that a mean over all rounds hides.
local function round_ratios(a, b)
  local rs = {}
  for i, w in ipairs(a.summary.rounds) do rs[i] = w / b.summary.rounds[i] end
  table.sort(rs)
  local n = #rs
  local median = n % 2 == 1 and rs[(n + 1) / 2] or (rs[n / 2] + rs[n / 2 + 1]) / 2
  return ("%.2f-%.2fx, median %.2fx"):format(rs[1], rs[n], median)
end

local function measure(peer, count)
  collectgarbage "collect"
  core.sleep(0.05) -- let nginx and the kernel settle after the previous peer
  if not peer.lua then
    local r = peer.run(count)
    r.count = count
    return r
  end
  local s0, c0 = common.cpu()
  local t0 = common.now()
  peer.run(count)
  local t1 = common.now()
  local s1, c1 = common.cpu()
  local cpu = s1 - s0
  if peer.children then cpu = cpu + (c1 - c0) end
  return { wall = t1 - t0, cpu = cpu, count = count }
end

-- The order of the peers in one round: a fixed pseudo-random permutation per
-- round (the same in every run), so that no peer always runs right after the
-- same one. The slow peers start processes and open connections, and that
-- disturbs whoever runs next: with a fixed or merely rotated order the peer
-- after the curl CLI lost 10-20 % every round.
local function round_order(n, round)
  local order, seed = {}, round * 7919
  for i = 1, n do order[i] = i end
  for i = n, 2, -1 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    local j = seed % i + 1
    order[i], order[j] = order[j], order[i]
  end
  return order
end

local function bench_protocol(label, base, ca_file)
  local peers = { dintero_peer(base, ca_file, "request"), raw_curl_peer(base, ca_file, RAW_CURL, RAW_NAME),
    dintero_peer(base, ca_file, "raw"), raw_curl_peer(base, ca_file, RAW_CURL_LUA, RAW_LUA_NAME) }
  peers[#peers + 1] = dintero_peer(base, ca_file, "get")
  if RAW_CURL_LUAJIT then
    -- the same client on LuaJIT (games, kiosks, scripts under OpenResty's
    -- resty), with its floor
    peers[#peers + 1] = dintero_peer(base, ca_file, "request", "luajit", JIT_SUFFIX)
    peers[#peers + 1] = raw_curl_peer(base, ca_file, RAW_CURL_LUAJIT, RAW_LUAJIT_NAME)
  end
  if ca_file == nil or has_https then peers[#peers + 1] = luasocket_peer(base, ca_file) end
  peers[#peers + 1] = curl_cli_peer(base, ca_file)
  local totals = {}
  for i = 1, #peers do totals[i] = { wall = 0, cpu = 0, count = 0, rounds = {} } end
  for round = 1, ROUNDS do
    for _, i in ipairs(round_order(#peers, round)) do
      local peer = peers[i]
      local r = measure(peer, per_round(peer.slow and SLOW_N or N))
      local t = totals[i]
      t.wall, t.cpu, t.count = t.wall + r.wall, t.cpu + r.cpu, t.count + r.count
      t.rounds[round] = r.wall / r.count
    end
  end
  local raw = totals[2].wall / totals[2].count
  local raw_cpu = totals[2].cpu / totals[2].count
  local ours = totals[1].wall / totals[1].count
  local rows = {}
  for i, peer in ipairs(peers) do
    local t = totals[i]
    local wall, cpu = t.wall / t.count, t.cpu / t.count
    local best = math.min((table.unpack or unpack)(t.rounds))
    rows[#rows + 1] = {
      peer.name, label, tostring(t.count), common.fmt(wall * 1e6, 0), common.fmt(best * 1e6, 0),
      common.fmt(cpu * 1e6, 0), common.fmt(wall / raw, 2) .. "x", common.fmt(cpu / raw_cpu, 2) .. "x",
      common.fmt(wall / ours, 2) .. "x",
    }
    peer.summary = { wall = wall, cpu = cpu, rounds = t.rounds }
  end
  for _, peer in ipairs(peers) do
    if peer.notes then io.write("  ", label, " ", peer.name, ": ", peer.notes(), "\n") end
    if peer.close then peer.close() end
  end
  return rows, peers
end

local function main()
  RAW_CURL = common.raw_curl()
  RAW_CURL_LUA = common.raw_curl_lua()
  RAW_CURL_LUAJIT = common.has_luajit() and common.raw_curl_luajit() or nil
  if not RAW_CURL_LUAJIT then print "(no LuaJIT rows: build/luajit/dintero/core.so or LuaJIT's headers missing)" end
  local srv = nginx.start { tls = true }
  local ok, err = pcall(function()
    common.header("Sequential requests: GET /v1/transactions/{id}", {
      ("N = %d requests per fast peer, %d per slow peer, in %d interleaved rounds"):format(
        ROUNDS * per_round(N), ROUNDS * per_round(SLOW_N), ROUNDS),
      ("response: %d bytes of JSON from nginx (keep-alive), HTTPS with an RSA 2048 certificate"):format(#srv.body),
      "wall and CPU are per request in microseconds; CPU is the client process's (user + system)",
    })
    local rows_http, peers_http = bench_protocol("HTTP", srv.http_url, nil)
    local rows_https, peers_https = bench_protocol("HTTPS", srv.https_url, srv.ca_file)
    local rows = {}
    for _, r in ipairs(rows_http) do rows[#rows + 1] = r end
    for _, r in ipairs(rows_https) do rows[#rows + 1] = r end
    print()
    common.table({
      { "client", "l" }, { "proto", "l" }, { "requests", "r" }, { "wall/req us", "r" }, { "best round us", "r" },
      { "CPU/req us", "r" }, { "wall vs libcurl", "r" }, { "CPU vs libcurl", "r" }, { "wall vs dintero", "r" },
    }, rows)
    print()
    print "Notes: raw libcurl decodes nothing; the dintero rows include JSON decoding into Lua tables,"
    print "as does 'raw libcurl + C decode to Lua' (libcurl, the C decoder and the Lua GC, no Lua code)."
    print "The curl CLI CPU includes its children (sh + curl). luasocket/luasec open a connection per request."
    print()
    local function target(label, peers)
      local by_name = {}
      for _, p in ipairs(peers) do by_name[p.name] = p end
      local us, raw = by_name[NAMES.request], by_name[RAW_NAME]
      local function vs(p, q) return p.summary.wall / q.summary.wall end
      local r = vs(us, raw)
      print(("target %s: dintero within 1.2x of raw libcurl wall time: %.2fx %s (per-round ratios: %s)"):format(
        label, r, r <= 1.2 and "MET" or "MISSED", round_ratios(us, raw)))
      local p = by_name[NAMES.raw]
      print(("info %s: dintero raw=true (no decode, like raw libcurl) vs raw libcurl: %.2fx (per-round: %s)"):format(
        label, vs(p, raw), round_ratios(p, raw)))
      p = by_name[RAW_LUA_NAME]
      print(("info %s: raw libcurl + C decode to Lua vs raw libcurl: %.2fx (per-round: %s)"):format(
        label, vs(p, raw), round_ratios(p, raw)))
      print(("info %s: dintero vs raw libcurl + C decode to Lua: %.2fx"):format(label, vs(us, p)))
      p = by_name[NAMES.request .. JIT_SUFFIX]
      if p then
        print(("info %s: dintero on LuaJIT vs raw libcurl: %.2fx (per-round: %s); vs its floor: %.2fx"):format(
          label, vs(p, raw), round_ratios(p, raw), vs(p, by_name[RAW_LUAJIT_NAME])))
      end
      for _, q in ipairs(peers) do
        if q.name:match "^luasec" then
          local s = vs(q, us)
          print(("target %s: at least 5x faster than luasec: %.1fx %s"):format(label, s, s >= 5 and "MET" or "MISSED"))
        end
      end
    end
    target("HTTP", peers_http)
    target("HTTPS", peers_https)
  end)
  srv:stop()
  if not ok then
    io.stderr:write("bench/requests.lua failed: ", tostring(err), "\n")
    os.exit(1)
  end
end

main()
