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
local callgrind = require "support.callgrind"

local N = common.bench_n(1000)
local TX_ID = "T12345678.5Yb000000000000000007Hq"
local LUA = arg[-1] or "lua5.4"

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Instructions callgrind counted for one run of cmd (a shell command); with
-- out_file, callgrind's profile is kept there (for callgrind.objects).
local function instructions(cmd, out_file)
  local p = assert(io.popen("valgrind --tool=callgrind --callgrind-out-file=" .. (out_file or "/dev/null") .. " "
    .. cmd .. " 2>&1 >/dev/null"))
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

-- Which part of the process does the work, by the ELF object it runs in
-- (first match wins): raw_curl_lua has our decoder compiled in.
local GROUPS = {
  { { "core%.so$", "raw_curl_lua$" }, "dintero C code: JSON parser, key cache, transport" },
  { { "libcurl" }, "libcurl" },
  { { "liblua", "/lua5%.%d$", "luajit" }, "Lua itself: VM, C API, string interning, tables, collector" },
  { { "libc%.so" }, "libc: malloc/free (which Lua's allocator calls), memcpy, ..." },
}

local function group_of(object)
  for _, g in ipairs(GROUPS) do
    for _, pattern in ipairs(g[1]) do
      if object:find(pattern) then return g[2] end
    end
  end
  return "other: ld.so, libssl, libcrypto, ..."
end

local function by_group(profile)
  local groups = {}
  for object, count in pairs(callgrind.objects(profile)) do
    local g = group_of(object)
    groups[g] = (groups[g] or 0) + count
  end
  return groups
end

--- Instructions per call of cmd_for's command, split by group (see GROUPS).
local function per_call_split(cmd_for)
  local dir = assert(io.popen("mktemp -d /tmp/dintero-callgrind.XXXXXX"):read "*l")
  local ok, res = pcall(function()
    instructions(cmd_for(N), dir .. "/one")
    instructions(cmd_for(2 * N), dir .. "/two")
    local one, two, split = by_group(dir .. "/one"), by_group(dir .. "/two"), {}
    for g, count in pairs(two) do split[g] = (count - (one[g] or 0)) / N end
    return split
  end)
  os.execute("rm -rf " .. sh_quote(dir))
  if not ok then error(res, 0) end
  return res
end

local function raw_curl_cmd(exe, base, ca_file)
  return function(n)
    return table.concat({ exe, sh_quote(base .. "/v1/transactions/" .. TX_ID), n, sh_quote(ca_file or ""),
      sh_quote(nginx.TOKEN) }, " ")
  end
end

-- lua: the interpreter (default: the one running this script).
local function loop_cmd(mode, base, ca_file, lua)
  return function(n)
    return table.concat({ lua or LUA, "bench/support/request_loop.lua", mode, sh_quote(base), n,
      sh_quote(ca_file or "") }, " ")
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

local function total_of(split)
  local sum = 0
  for _, count in pairs(split) do sum = sum + count end
  return sum
end

-- One row per peer; the HTTP request rows also keep their split by group
-- (splits[label]), for the "where it goes" table.
local function run_proto(proto, base, ca_file, raw_exe, raw_lua_exe, splits)
  local rows, limit = {}, nil
  for _, p in ipairs(peers(base, ca_file, raw_exe, raw_lua_exe)) do
    local count
    if splits then
      splits[p[1]] = per_call_split(p[2])
      count = total_of(splits[p[1]])
    else
      count = per_call(p[2])
    end
    limit = limit or count
    rows[#rows + 1] = { p[1], proto, common.fmt(count / 1000, 1), common.fmt(count / limit, 2) .. "x" }
  end
  return rows
end

-- Columns: the decode alone, then each HTTP peer; rows: the groups.
local function print_split(columns)
  local names, seen = {}, {}
  for _, c in ipairs(columns) do
    for g in pairs(c[2]) do
      if not seen[g] then seen[g], names[#names + 1] = true, g end
    end
  end
  table.sort(names)
  local head, rows = { { "k instructions per call, by where they run", "l" } }, {}
  for _, c in ipairs(columns) do head[#head + 1] = { c[1], "r" } end
  for _, g in ipairs(names) do
    local row = { g }
    for _, c in ipairs(columns) do
      local count, total = c[2][g] or 0, total_of(c[2])
      if math.abs(count) < 50 then count = 0 end -- N-vs-2N noise, not work
      row[#row + 1] = ("%s (%d %%)"):format(common.fmt(count / 1000, 1), math.floor(100 * count / total + 0.5))
    end
    rows[#rows + 1] = row
  end
  common.table(head, rows)
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
    local splits = {}
    local rows = run_proto("HTTP", srv.http_url, nil, raw_exe, raw_lua_exe, splits)
    for _, row in ipairs(run_proto("HTTPS", srv.https_url, srv.ca_file, raw_exe, raw_lua_exe)) do
      rows[#rows + 1] = row
    end
    local dec = per_call_split(loop_cmd("decode", srv.http_url))
    local cj = per_call(loop_cmd("cjson", srv.http_url))
    rows[#rows + 1] = { "core.json.decode alone (no I/O)", "-", common.fmt(total_of(dec) / 1000, 1), "-" }
    rows[#rows + 1] = { "lua-cjson decode alone (no I/O)", "-", common.fmt(cj / 1000, 1), "-" }
    -- LuaJIT makes strings and tables with less work: the same decoder there
    local jit = common.has_luajit() and per_call_split(loop_cmd("decode", srv.http_url, nil, "luajit")) or nil
    if jit then
      rows[#rows + 1] = { "core.json.decode alone, LuaJIT", "-", common.fmt(total_of(jit) / 1000, 1), "-" }
    end
    common.table({ { "client", "l" }, { "proto", "l" }, { "k instructions/request", "r" },
      { "vs raw libcurl", "r" } }, rows)
    print()
    print "The decode of one transaction alone costs more instructions than the whole of raw"
    print "libcurl's request; see docs/performance.md for what that means for the wall-time target."
    print()
    print "Where the instructions run (HTTP; the ELF object each instruction is in):"
    print()
    local columns = { { "decode alone", dec } }
    if jit then columns[#columns + 1] = { "decode, LuaJIT", jit } end
    for _, c in ipairs({
      { "raw libcurl", splits["raw libcurl (C, no decode)"] },
      { "raw libcurl + decode", splits["raw libcurl + C decode to Lua"] },
      { "raw=true", splits["dintero client:request raw=true"] },
      { "client:request", splits["dintero client:request"] },
    }) do columns[#columns + 1] = c end
    print_split(columns)
    print()
    print "Lua's own share of the decode (interning the strings, inserting into the tables,"
    print "collecting the previous result; LuaJIT has its own allocator, so its row holds that"
    print "too) is the cost of handing the caller Lua tables at all, whatever parser fills them."
  end)
  srv:stop()
  if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
end

main()
