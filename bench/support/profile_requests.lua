-- Profiling driver (see bench/PROFILE-NOTES.md): starts the bench nginx and
-- makes BENCH_N (default 2000) sequential client:request GETs over HTTP (or
-- HTTPS with PROFILE_TLS=1), so that perf or callgrind can watch the request
-- path. Prints the wall time per request.
--
--   perf record -g lua5.4 bench/support/profile_requests.lua
--   valgrind --tool=callgrind lua5.4 bench/support/profile_requests.lua
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local dintero = require "dintero"

local N = common.bench_n(2000)
local tls = os.getenv "PROFILE_TLS" == "1"
local srv = nginx.start { tls = tls }
local ok, err = pcall(function()
  local base = tls and srv.https_url or srv.http_url
  local client = dintero.new {
    account_id = nginx.ACCOUNT, client_id = "bench-client", client_secret = "bench-secret",
    api_url = base, checkout_url = base, ca_file = srv.ca_file,
  }
  local function one()
    local body = client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
      params = { id = "T12345678.5Yb000000000000000007Hq" } }
    assert(type(body) == "table" and body.id)
  end
  one()
  local t0 = common.now()
  local c0 = common.cpu()
  for _ = 1, N do one() end
  local c1 = common.cpu()
  local t1 = common.now()
  print(("%d requests: %.1f us wall, %.1f us CPU per request"):format(N, (t1 - t0) / N * 1e6, (c1 - c0) / N * 1e6))
  client:close()
end)
srv:stop()
if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
