-- Profiling aid (see bench/PROFILE-NOTES.md): splits the cost of one
-- sequential GET into layers, interleaved in rounds against the bench nginx:
--   raw      build/bench/raw_curl (bench/raw_curl.c: C, libcurl only, no decode)
--   perform  client._transport:perform{decode = "raw"}: C transport + result and header tables
--   decode   client._transport:perform{...}: the same plus the JSON decode
--   request  client:request: plus the Lua layer (URL, header lines, token check, meta)
--   json     core.json.decode of the same body alone (no I/O)
--
--   BENCH_N=20000 lua5.4 bench/support/layers.lua
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local dintero = require "dintero"
local json = require("dintero.core").json

local N = common.bench_n(20000)
local ROUNDS = 5
local tls = os.getenv "PROFILE_TLS" == "1"
local TX = "T12345678.5Yb000000000000000007Hq"
local RAW_CURL = common.raw_curl()
local srv = nginx.start { tls = tls }
local ok, err = pcall(function()
  local base = tls and srv.https_url or srv.http_url
  local client = dintero.new {
    account_id = nginx.ACCOUNT, client_id = "bench-client", client_secret = "bench-secret",
    api_url = base, checkout_url = base, ca_file = srv.ca_file,
  }
  assert(client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = TX } })
  local t = client._transport
  local url = base .. "/v1/transactions/" .. TX
  local headers = client._static_headers
  local raw_req = { method = "GET", url = url, headers = headers, auth = true, decode = "raw" }
  local dec_req = { method = "GET", url = url, headers = headers, auth = true }
  local layers = {
    { "raw libcurl", function(n)
      local p = io.popen(("%s '%s' %d '%s' x"):format(RAW_CURL, url, n, srv.ca_file or ""))
      local out = p:read "*a"
      p:close()
      local wall, u, s = out:match "wall_s=(%S+) user_s=(%S+) sys_s=(%S+)"
      return tonumber(wall), tonumber(u) + tonumber(s)
    end },
    { "transport:perform raw", function(n)
      for _ = 1, n do assert(t:perform(raw_req).status == 200) end
    end },
    { "transport:perform + JSON", function(n)
      for _ = 1, n do assert(t:perform(dec_req).body.id) end
    end },
    { "client:request", function(n)
      for _ = 1, n do
        assert(client:request {
          method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = TX },
        })
      end
    end },
    { "json.decode alone", function(n)
      local body = srv.body
      for _ = 1, n do assert(json.decode(body).id) end
    end },
  }
  local sum = {}
  for r = 1, ROUNDS do
    for i, l in ipairs(layers) do
      collectgarbage "collect"
      local n = math.ceil(N / ROUNDS)
      local s0 = common.cpu()
      local t0 = common.now()
      local wall, cpu = l[2](n)
      local t1 = common.now()
      local s1 = common.cpu()
      wall, cpu = wall or (t1 - t0), cpu or (s1 - s0)
      sum[i] = sum[i] or { wall = 0, cpu = 0, n = 0, best = math.huge }
      sum[i].wall, sum[i].cpu, sum[i].n = sum[i].wall + wall, sum[i].cpu + cpu, sum[i].n + n
      sum[i].best = math.min(sum[i].best, wall / n)
      if r == 1 then sum[i].name = l[1] end
    end
  end
  local rows = {}
  for _, s in ipairs(sum) do
    rows[#rows + 1] = { s.name, common.fmt(s.wall / s.n * 1e6, 1), common.fmt(s.best * 1e6, 1),
      common.fmt(s.cpu / s.n * 1e6, 1) }
  end
  print(("%s, %d requests per layer in %d rounds"):format(
    tls and "HTTPS" or "HTTP", ROUNDS * math.ceil(N / ROUNDS), ROUNDS))
  common.table({ { "layer", "l" }, { "wall/req us", "r" }, { "best round us", "r" }, { "CPU/req us", "r" } }, rows)
  client:close()
end)
srv:stop()
if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
