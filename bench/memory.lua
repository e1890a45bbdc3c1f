-- Memory benchmark: resident memory of one client making many sequential
-- GET /v1/transactions/{id} (a ~3 KB JSON transaction) against a local nginx
-- over HTTP keep-alive. VmRSS (from /proc/self/status) and the Lua heap are
-- read after a full collectgarbage at checkpoints; the growth between the
-- first checkpoint (N / 100 requests: 1,000) and the last (N: 100,000) is
-- what a long-running process would see leak per request.
--
--   lua5.4 bench/memory.lua             (from the repository root, after make build)
--   BENCH_N=200 lua5.4 bench/memory.lua (a smoke run: 2 and 200 requests)
--
-- BENCH_N (default 100000) is the total number of requests.
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local dintero = require "dintero"

local N = common.bench_n(100000)
local FIRST = math.max(1, math.floor(N / 100))
local TARGET_KIB = 1024
local TX_ID = "T12345678.5Yb000000000000000007Hq"

local function snapshot(label, done)
  collectgarbage "collect"
  collectgarbage "collect"
  return { label = label, requests = done, rss = common.rss_kib(), heap = collectgarbage "count" }
end

local function main()
  local srv = nginx.start {}
  local ok, err = pcall(function()
    common.header("Memory: one client, sequential requests", {
      ("N = %d requests; first checkpoint after %d"):format(N, FIRST),
      ("response: %d bytes of JSON from nginx over HTTP keep-alive"):format(#srv.body),
      "VmRSS from /proc/self/status and the Lua heap, each read after a full collectgarbage",
    })
    local client = dintero.new {
      account_id = nginx.ACCOUNT, client_id = "bench-client", client_secret = "bench-secret",
      api_url = srv.http_url, checkout_url = srv.http_url,
    }
    local points = { snapshot("client created", 0) }
    local checkpoints = { FIRST }
    for k = 1, 10 do
      local at = math.floor(N * k / 10)
      if at > FIRST then checkpoints[#checkpoints + 1] = at end
    end
    local done, new_connections = 0, 0
    local t0 = common.now()
    for _, stop in ipairs(checkpoints) do
      while done < stop do
        local body, meta = client:request {
          method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = TX_ID },
        }
        if type(body) ~= "table" or not body.id then error("request failed: " .. tostring(meta)) end
        if not meta.reused then new_connections = new_connections + 1 end
        done = done + 1
      end
      points[#points + 1] = snapshot(("after %d requests"):format(done), done)
    end
    local seconds = common.now() - t0
    local rows = {}
    for _, p in ipairs(points) do
      rows[#rows + 1] = { p.label, tostring(p.rss), common.fmt(p.heap, 0), tostring(p.rss - points[2].rss) }
    end
    common.table({
      { "point", "l" }, { "VmRSS KiB", "r" }, { "Lua heap KiB", "r" }, { "RSS vs first checkpoint", "r" },
    }, rows)
    print()
    local growth = points[#points].rss - points[2].rss
    print(("%d requests in %.1f s (%.0f us each); %d of them opened a new connection"):format(
      done, seconds, seconds / done * 1e6, new_connections))
    print "(the Lua heap also holds this bench's own checkpoint records, about 0.2 KiB each)"
    print(("target: RSS growth from %d to %d requests under %d KiB: %+d KiB %s"):format(
      FIRST, N, TARGET_KIB, growth, growth < TARGET_KIB and "MET" or "MISSED"))
    client:close()
  end)
  srv:stop()
  if not ok then
    io.stderr:write("bench/memory.lua failed: ", tostring(err), "\n")
    os.exit(1)
  end
end

main()
