-- Parallel benchmark: a batch of N GET /v1/transactions/{id} through
-- client:parallel against a local nginx that holds every transaction answer
-- DELAY seconds (20 ms; access_by_lua ngx.sleep, so nginx keeps serving other
-- connections meanwhile), at concurrency 1, 8 and 32. The ideal time of a
-- batch is ceil(N / concurrency) x DELAY; the table shows ideal, measured and
-- their ratio. The concurrencies run interleaved (1 8 32 1 8 32 ...) after
-- one untimed warm-up batch that fetches the token and opens the connections.
--
--   lua5.4 bench/parallel.lua             (from the repository root, after make build)
--   BENCH_N=16 lua5.4 bench/parallel.lua  (a smoke run)
--
-- BENCH_N (default 200) is the batch size; BENCH_ROUNDS (default 3, 1 when
-- BENCH_N < 50) the number of timed batches per concurrency.
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local dintero = require "dintero"

local N = common.bench_n(200)
local ROUNDS = tonumber(os.getenv "BENCH_ROUNDS") or (N < 50 and 1 or 3)
local DELAY = 0.02
local CONCURRENCY = { 1, 8, 32 }

local function specs(n)
  local list = {}
  for i = 1, n do
    list[i] = { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
      params = { id = ("T12345678.5Yb%018dHq"):format(i) } }
  end
  return list
end

local function batch(client, conc)
  local list = specs(N)
  collectgarbage "collect"
  local s0 = common.cpu()
  local t0 = common.now()
  local results = client:parallel(list, { concurrency = conc })
  local t1 = common.now()
  local s1 = common.cpu()
  for i, r in ipairs(results) do
    if not r.ok or type(r.body) ~= "table" or not r.body.id then
      error(("request %d of the batch failed: %s"):format(i, tostring(r.msg)))
    end
  end
  if #results ~= N then error(("%d results for %d requests"):format(#results, N)) end
  return t1 - t0, s1 - s0
end

local function main()
  local srv = nginx.start { delay = DELAY }
  local ok, err = pcall(function()
    common.header("Parallel requests: client:parallel against a server holding each answer 20 ms", {
      ("N = %d requests per batch, %d timed batches per concurrency (interleaved)"):format(N, ROUNDS),
      ("response: %d bytes of JSON, HTTP keep-alive, nginx holds each answer %d ms"):format(#srv.body, DELAY * 1000),
    })
    local client = dintero.new {
      account_id = nginx.ACCOUNT, client_id = "bench-client", client_secret = "bench-secret",
      api_url = srv.slow_url, checkout_url = srv.slow_url,
    }
    batch(client, CONCURRENCY[#CONCURRENCY]) -- warm-up: token and connections
    local sums = {}
    for _ = 1, ROUNDS do
      for i, conc in ipairs(CONCURRENCY) do
        local wall, cpu = batch(client, conc)
        local s = sums[i] or { wall = 0, cpu = 0, best = math.huge }
        s.wall, s.cpu, s.best = s.wall + wall, s.cpu + cpu, math.min(s.best, wall)
        sums[i] = s
      end
    end
    local rows = {}
    for i, conc in ipairs(CONCURRENCY) do
      local ideal = math.ceil(N / conc) * DELAY
      local mean = sums[i].wall / ROUNDS
      rows[#rows + 1] = {
        tostring(conc), tostring(N), common.fmt(ideal * 1000, 0), common.fmt(mean * 1000, 0),
        common.fmt(sums[i].best * 1000, 0), common.fmt(mean / ideal, 2) .. "x",
        common.fmt(sums[i].cpu / ROUNDS * 1000, 0),
      }
      sums[i].ratio = mean / ideal
    end
    common.table({
      { "concurrency", "r" }, { "requests", "r" }, { "ideal ms", "r" }, { "measured ms (mean)", "r" },
      { "best ms", "r" }, { "mean / ideal", "r" }, { "client CPU ms", "r" },
    }, rows)
    print()
    print "ideal = ceil(requests / concurrency) x 20 ms; client CPU is this process's user + system time per batch."
    local r8 = sums[2].ratio
    print(("target: concurrency 8 within 1.5x of ideal: %.2fx %s"):format(r8, r8 <= 1.5 and "MET" or "MISSED"))
    client:close()
  end)
  srv:stop()
  if not ok then
    io.stderr:write("bench/parallel.lua failed: ", tostring(err), "\n")
    os.exit(1)
  end
end

main()
