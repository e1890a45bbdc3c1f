-- Instruction-count benchmark: user-space instructions per sequential
-- GET /v1/transactions/{id} (a ~3 KB JSON transaction), counted by valgrind's
-- callgrind, for this library and its C peers. Wall time on a shared VM
-- wanders by 20 % or more within an hour (docs/performance.md); instruction
-- counts do not, so this bench shows where the work is with no noise. It
-- does not replace bench/requests.lua: it counts neither the kernel's work
-- nor the server's, nor cache misses, which all count in wall time.
--
-- Each peer runs twice under callgrind, with N and with 2N calls after one
-- warm-up call; the difference divided by N is the cost of one call, free of
-- process start-up and module loading.
--
--   lua5.4 bench/instructions.lua              (from the repository root, after make build)
--   BENCH_N=10 lua5.4 bench/instructions.lua   (a smoke run)
--
-- BENCH_N (default 1000) is N. Needs valgrind (make deps installs it).
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"

local N = common.bench_n(1000)
local TX_ID = "T12345678.5Yb000000000000000007Hq"
local LUA = arg[-1] or "lua5.4"

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Instructions callgrind counted for one run of cmd (a shell command).
local function instructions(cmd)
  local p = assert(io.popen("valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. cmd .. " 2>&1 >/dev/null"))
  local out = p:read "*a"
  p:close()
  local count = out:match "Collected : (%d+)"
  if not count then error("callgrind did not count " .. cmd .. ":\n" .. out) end
  return tonumber(count)
end

local function per_call(cmd_for)
  local one = instructions(cmd_for(N))
  local two = instructions(cmd_for(2 * N))
  return (two - one) / N
end

local function raw_curl_cmd(exe, base, ca_file)
  return function(n)
    return table.concat({ exe, sh_quote(base .. "/v1/transactions/" .. TX_ID), n, sh_quote(ca_file or ""),
      sh_quote(nginx.TOKEN) }, " ")
  end
end

local function loop_cmd(mode, base, ca_file)
  return function(n)
    return table.concat({ LUA, "bench/support/request_loop.lua", mode, sh_quote(base), n, sh_quote(ca_file or "") }, " ")
  end
end

local function peers(base, ca_file, raw_exe, raw_lua_exe)
  return {
    { "raw libcurl (C, no decode)", raw_curl_cmd(raw_exe, base, ca_file) },
    { "raw libcurl + C decode to Lua", raw_curl_cmd(raw_lua_exe, base, ca_file) },
    { "dintero client:request raw=true", loop_cmd("raw", base, ca_file) },
    { "dintero client:request", loop_cmd("request", base, ca_file) },
    { "dintero transactions:get()", loop_cmd("get", base, ca_file) },
  }
end

local function run_proto(proto, base, ca_file, raw_exe, raw_lua_exe)
  local rows, limit = {}, nil
  for _, p in ipairs(peers(base, ca_file, raw_exe, raw_lua_exe)) do
    local count = per_call(p[2])
    limit = limit or count
    rows[#rows + 1] = { p[1], proto, common.fmt(count / 1000, 1), common.fmt(count / limit, 2) .. "x" }
  end
  return rows
end

local function main()
  local raw_exe, raw_lua_exe = common.raw_curl(), common.raw_curl_lua()
  local srv = nginx.start { tls = true }
  local ok, err = pcall(function()
    common.header("Instructions per request (callgrind)", {
      ("N = %d calls per peer (each peer counted at N and 2N calls; the difference / N)"):format(N),
      ("response: %d bytes of JSON from nginx (keep-alive)"):format(#srv.body),
      "user-space instructions of the client process only: no kernel, no server, no cache misses",
    })
    local rows = run_proto("HTTP", srv.http_url, nil, raw_exe, raw_lua_exe)
    for _, row in ipairs(run_proto("HTTPS", srv.https_url, srv.ca_file, raw_exe, raw_lua_exe)) do
      rows[#rows + 1] = row
    end
    local dec = per_call(loop_cmd("decode", srv.http_url))
    local cj = per_call(loop_cmd("cjson", srv.http_url))
    rows[#rows + 1] = { "core.json.decode alone (no I/O)", "-", common.fmt(dec / 1000, 1), "-" }
    rows[#rows + 1] = { "lua-cjson decode alone (no I/O)", "-", common.fmt(cj / 1000, 1), "-" }
    common.table({ { "client", "l" }, { "proto", "l" }, { "k instructions/request", "r" },
      { "vs raw libcurl", "r" } }, rows)
    print()
    print "The decode of one transaction alone costs more instructions than the whole of raw"
    print "libcurl's request; see docs/performance.md for what that means for the wall-time target."
  end)
  srv:stop()
  if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
end

main()
