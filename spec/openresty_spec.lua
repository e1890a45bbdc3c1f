-- The OpenResty transport inside a real nginx (lua-nginx-module + LuaJIT):
-- results like the libcurl transport's, 50 shop requests served at once
-- while each waits 200 ms on the API (a blocking client would need 10 s),
-- kept-alive connections, the token fetched once for all workers (shared
-- dict), calls from init_worker through a timer, the blocking fallback in a
-- phase without cosockets, and the transport's failure kinds.
--
-- This spec only starts processes and speaks HTTP with luasocket, so it runs
-- under any Lua of the suite. It uses a mock of its own (stats and faults
-- are not disturbed by, and do not disturb, the other specs).
local socket = require "socket"
local mock = require "support.mock"
local nginx = require "support.nginx"
local tls = require "support.tls"

local skip_reason = nginx.unavailable()

-- The application the test nginx runs; {mock} and {tls} are filled in.
local APP = [==[
local dintero = require "dintero"
local json = dintero.json
local M = {}

local MOCK, TLS_URL = "{mock}", "{tls}"
local clients = {}

-- One client per worker and option set, created on first use (never in the
-- master: the libcurl handle must not be shared across fork).
local function client(name, extra)
  local key = name .. (extra and json.encode(extra, { sort_keys = true }) or "")
  if clients[key] then return clients[key] end
  local o = {
    account_id = "T12345678", client_id = "mock-client", client_secret = "mock-secret",
    api_url = MOCK, checkout_url = MOCK, transport = "ngx", shared_dict = "dintero_tokens",
  }
  if name == "tls" then o.api_url, o.checkout_url = TLS_URL, TLS_URL end
  for k, v in pairs(extra or {}) do o[k] = v end
  clients[key] = dintero.new(o)
  return clients[key]
end
M.client = client

local function reply(status, t)
  ngx.status = status
  ngx.header["content-type"] = "application/json"
  ngx.say(json.encode(t))
end

local function failure(msg, err)
  return { error = msg, kind = err and err.kind, retryable = err and err.retryable }
end

function M.session()
  local body, res, err = client("main"):request {
    method = "POST", path = "/v1/sessions", class = "payment",
    body = { url = { return_url = "http://127.0.0.1/return" },
             order = { amount = 1000, currency = "NOK", merchant_reference = ngx.var.arg_ref or "ref" } },
  }
  if not body then return reply(502, failure(res, err)) end
  reply(200, { id = body.id, url = body.url, reused = res.reused, transport = tostring(client("main")._transport) })
end

function M.transaction()
  local c = client(ngx.var.arg_client or "main")
  local body, res, err = c:request { method = "GET", path = "/v1/transactions/{id}", params = { id = ngx.var.arg_id } }
  if not body then return reply(502, failure(res, err)) end
  reply(200, { id = body.id, status = body.status, amount = body.amount, reused = res.reused })
end

function M.parallel()
  local specs = {}
  for i = 1, tonumber(ngx.var.arg_n) do
    specs[i] = { method = "GET", path = "/v1/transactions/{id}", params = { id = ngx.var.arg_id } }
  end
  local t0 = ngx.now()
  local out = client("main"):parallel(specs, { concurrency = tonumber(ngx.var.arg_n) })
  ngx.update_time()
  local ids = {}
  for i, r in ipairs(out) do ids[i] = r.ok and r.body.id or r.msg end
  reply(200, { ids = ids, seconds = ngx.now() - t0 })
end

-- One transport attempt with the given options, the raw result table.
function M.probe()
  local a = ngx.req.get_uri_args()
  local extra = { retries = 0, timeout = tonumber(a.timeout) or 5,
    max_header_count = tonumber(a.max_header_count), max_response_bytes = tonumber(a.max_response_bytes) }
  local t = client("probe", extra)._transport
  if a.warm then t:perform { method = "GET", url = a.warm, headers = {}, auth = false } end -- pools a connection
  local headers = a.bad_header and { "X-Bad: a\r\nInjected: 1" } or { "Accept: application/json", "Expect:" }
  local res = t:perform { method = a.method or "GET", url = a.url, headers = headers, auth = false,
    fresh = a.fresh and true or nil, decode = a.raw and "raw" or nil }
  reply(200, res)
end

-- In set_by_lua there are no cosockets: the libcurl fallback answers.
function M.blocking()
  local body, res = client("main"):request { method = "GET", path = "/v1/transactions/{id}",
    params = { id = ngx.var.arg_id } }
  return body and body.id or ("failed: " .. tostring(res))
end

-- Started by init_worker_by_lua: the timer phase has cosockets.
function M.init_worker()
  ngx.timer.at(0, function(premature)
    if premature then return end
    local body, msg = client("main"):request { method = "GET", path = "/v1/transactions", query = { limit = 1 } }
    ngx.shared.results:set("init_worker:" .. ngx.worker.pid(), body and "ok" or tostring(msg))
  end)
end

function M.init_results()
  local out = {}
  for _, k in ipairs(ngx.shared.results:get_keys()) do
    if k:find "^init_worker:" then out[#out + 1] = ngx.shared.results:get(k) end
  end
  reply(200, { results = out })
end

return M
]==]

local HTTP = [[
  lua_shared_dict dintero_tokens 1m;
  lua_shared_dict results 1m;
  lua_ssl_trusted_certificate {ca};
  lua_ssl_verify_depth 2;
  init_worker_by_lua_block { require("app").init_worker() }
  server {
    listen 127.0.0.1:{port};
    default_type application/json;
    location = /session { content_by_lua_block { require("app").session() } }
    location = /tx { content_by_lua_block { require("app").transaction() } }
    location = /parallel { content_by_lua_block { require("app").parallel() } }
    location = /probe { content_by_lua_block { require("app").probe() } }
    location = /init { content_by_lua_block { require("app").init_results() } }
    location = /blocking {
      set_by_lua_block $tx_id { return require("app").blocking() }
      return 200 $tx_id;
    }
    location = /chunked {
      content_by_lua_block {
        ngx.print('{"parts": [')
        ngx.flush(true)
        ngx.print('1, 2, 3]}')
      }
    }
  }
]]

-- ---- HTTP from the spec's side (luasocket) --------------------------------

local json -- the mock fixture's cjson
local function get(base, path)
  local c = assert(socket.connect("127.0.0.1", tonumber(base:match ":(%d+)$")))
  c:settimeout(20)
  c:send("GET " .. path .. " HTTP/1.0\r\nHost: test\r\n\r\n")
  local text = c:receive "*a"
  c:close()
  local status = tonumber(text:match "^HTTP/1%.%d (%d+)")
  local body = text:match "\r\n\r\n(.*)$"
  local ok, decoded = pcall(json.decode, body)
  return status, ok and decoded or body
end

local function url_encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return ("%%%02X"):format(ch:byte()) end))
end

-- n requests at once over n connections, driven with socket.select. Returns
-- the list of {status, body} and the wall time.
local function concurrently(port, path, n)
  local t0 = socket.gettime()
  local conns, out, open = {}, {}, 0
  for i = 1, n do
    local c = assert(socket.tcp())
    c:settimeout(5)
    assert(c:connect("127.0.0.1", port))
    c:settimeout(0)
    assert(c:send("GET " .. path .. " HTTP/1.0\r\nHost: test\r\n\r\n"))
    conns[i] = { sock = c, parts = {} }
    open = open + 1
  end
  local deadline = t0 + 30
  while open > 0 and socket.gettime() < deadline do
    local list = {}
    for _, st in pairs(conns) do if not st.done then list[#list + 1] = st.sock end end
    local readable = socket.select(list, nil, 1)
    for _, s in ipairs(readable) do
      for i, st in pairs(conns) do
        if st.sock == s then
          local data, err, partial = s:receive(65536)
          data = data or partial
          if data and #data > 0 then st.parts[#st.parts + 1] = data end
          if err == "closed" then
            st.done, open = true, open - 1
            s:close()
            local text = table.concat(st.parts)
            local ok, body = pcall(json.decode, text:match "\r\n\r\n(.*)$" or "")
            out[i] = { status = tonumber(text:match "^HTTP/1%.%d (%d+)"), body = ok and body or text }
          end
        end
      end
    end
  end
  return out, socket.gettime() - t0
end

local function count(haystack, needle)
  local n, i = 0, 1
  while true do
    local s, e = haystack:find(needle, i, true)
    if not s then return n end
    n, i = n + 1, e + 1
  end
end

local function client_has_token_flight()
  local f = io.open(nginx.root .. "/lua/dintero/client.lua")
  local src = f and f:read "*a" or ""
  if f then f:close() end
  return src:find("token_flight", 1, true) ~= nil
end

local describe_or_skip = skip_reason and pending or describe

describe_or_skip("OpenResty transport (real nginx)" .. (skip_reason and (": " .. skip_reason) or ""), function()
  local api, srv, proxy, tx_id

  setup(function()
    json = mock.json
    assert(nginx.build(), "make build LUA=luajit failed")
    api = mock.spawn {}
    proxy = tls.start("127.0.0.1:" .. api.port)
    local app = APP:gsub("{mock}", api.url):gsub("{tls}", "https://localhost:" .. proxy.port)
    srv = nginx.start { workers = 2, lua = { app = app }, http = HTTP:gsub("{ca}", proxy.ca_file) }
  end)

  teardown(function()
    if srv then srv.stop() end
    if proxy then proxy.stop() end
    if api then api.stop() end
  end)

  -- Both workers ran their init_worker timer (each made one call).
  local function init_results()
    local deadline = socket.gettime() + 10
    while true do
      local _, body = get(srv.url, "/init")
      if #body.results >= 2 or socket.gettime() > deadline then return body.results end
      socket.sleep(0.05)
    end
  end

  it("calls the API from init_worker through ngx.timer.at (timer phase has cosockets)", function()
    local results = init_results()
    assert.same({ "ok", "ok" }, results)
  end)

  it("fetches one token for all workers when they start together (shared_dict, single flight)", function()
    if not client_has_token_flight() then
      pending "client.lua _ensure_token does not call transport:token_flight yet"
      return
    end
    init_results()
    assert.equal(1, api.stats().token_requests)
  end)

  it("creates a session and reads a transaction with correct results", function()
    local status, s = get(srv.url, "/session?ref=" .. url_encode("order-1"))
    assert.equal(200, status, json.encode(s))
    assert.matches("^dintero%.ngx%.transport", s.transport)
    assert.matches("^T12345678%.", s.id)
    assert.matches("/v1/view/" .. s.id:gsub("%p", "%%%0"), s.url)
    local paid = api.pay(s.id)
    tx_id = paid.id
    local tstatus, tx = get(srv.url, "/tx?id=" .. url_encode(tx_id))
    assert.equal(200, tstatus, json.encode(tx))
    assert.equal(tx_id, tx.id)
    assert.equal("AUTHORIZED", tx.status)
    assert.equal(1000, tx.amount)
  end)

  it("serves 50 concurrent shop requests while each API call is held 200 ms", function()
    assert.truthy(tx_id)
    api.fault { method = "GET", path = "/v1/transactions/*", delay_ms = 200, count = 50 }
    local out, seconds = concurrently(srv.port, "/tx?id=" .. url_encode(tx_id), 50)
    for i = 1, 50 do
      assert.truthy(out[i], "no answer for request " .. i)
      assert.equal(200, out[i].status, json.encode(out[i].body))
      assert.equal(tx_id, out[i].body.id)
    end
    assert.is_true(seconds >= 0.2, "the fault did not hold the calls")
    assert.is_true(seconds < 2, ("50 requests took %.2f s"):format(seconds))
  end)

  it("keeps connections to the API alive between requests", function()
    get(srv.url, "/tx?id=" .. url_encode(tx_id))
    local before = api.stats()
    local reused = 0
    for _ = 1, 30 do
      local status, tx = get(srv.url, "/tx?id=" .. url_encode(tx_id))
      assert.equal(200, status)
      if tx.reused then reused = reused + 1 end
    end
    local after = api.stats()
    assert.equal(30, after.requests - before.requests)
    assert.is_true(after.connections - before.connections <= 2,
      ("%d new connections for 30 requests"):format(after.connections - before.connections))
    assert.is_true(reused >= 28)
  end)

  it("fetches the token once when 50 light threads need a new one at once", function()
    if not client_has_token_flight() then
      pending "client.lua _ensure_token does not call transport:token_flight yet"
      return
    end
    api.expire_tokens() -- every worker's token is now refused: 401, drop, fetch again
    api.fault { method = "POST", path = "/v1/accounts/*/auth/token", delay_ms = 300, count = 5 }
    local before = api.stats().token_requests
    local out = concurrently(srv.port, "/tx?id=" .. url_encode(tx_id), 50)
    for i = 1, 50 do
      assert.equal(200, out[i] and out[i].status, out[i] and json.encode(out[i].body))
    end
    assert.equal(1, api.stats().token_requests - before)
    api.clear_faults()
  end)

  it("runs client:parallel as light threads", function()
    api.fault { method = "GET", path = "/v1/transactions/*", delay_ms = 200, count = 10 }
    local status, body = get(srv.url, "/parallel?n=10&id=" .. url_encode(tx_id))
    assert.equal(200, status, json.encode(body))
    assert.equal(10, #body.ids)
    for _, id in ipairs(body.ids) do assert.equal(tx_id, id) end
    assert.is_true(body.seconds < 1, ("10 parallel calls took %.2f s"):format(body.seconds))
  end)

  it("replays a 401 once with a new token", function()
    api.expire_tokens()
    local status, tx = get(srv.url, "/tx?id=" .. url_encode(tx_id))
    assert.equal(200, status, json.encode(tx))
    assert.equal(tx_id, tx.id)
  end)

  it("verifies TLS against lua_ssl_trusted_certificate and reuses the connection", function()
    local status, tx = get(srv.url, "/tx?client=tls&id=" .. url_encode(tx_id))
    assert.equal(200, status, json.encode(tx))
    assert.equal(tx_id, tx.id)
    local _, again = get(srv.url, "/tx?client=tls&id=" .. url_encode(tx_id))
    assert.equal(tx_id, again.id)
  end)

  it("falls back to libcurl in a phase without cosockets and logs it once per worker", function()
    for _ = 1, 4 do
      local status, body = get(srv.url, "/blocking?id=" .. url_encode(tx_id))
      assert.equal(200, status)
      assert.equal(tx_id, body)
    end
    local log = srv.log()
    local warnings = count(log, "no cosockets in the set phase")
    assert.is_true(warnings >= 1 and warnings <= 2, log)
    local per_pid = {}
    for pid in log:gmatch "(%d+)#%d+: [^\n]*no cosockets in the set phase" do
      assert.is_nil(per_pid[pid], "logged twice by worker " .. pid)
      per_pid[pid] = true
    end
  end)

  describe("failure kinds (one attempt, transport result table)", function()
    local function probe(args)
      local q = {}
      for k, v in pairs(args) do q[#q + 1] = k .. "=" .. url_encode(tostring(v)) end
      local status, res = get(srv.url, "/probe?" .. table.concat(q, "&"))
      assert.equal(200, status, tostring(res))
      return res
    end
    local function view() return api.url .. "/v1/view/nothing" end

    it("answers like the C transport: status, lower-case headers, raw body for non-JSON", function()
      local res = probe { url = view() }
      assert.equal(404, res.status)
      assert.is_nil(res.fail)
      assert.equal("dintero-mock", res.headers.server)
      assert.matches("^text/html", res.content_type)
      assert.equal("string", type(res.body))
      assert.is_true(res.sent)
      assert.equal("number", type(res.seconds))
      assert.equal("number", type(res.token_generation))
    end)

    it("reads a chunked body and decodes JSON", function()
      local res = probe { url = srv.url .. "/chunked" }
      assert.equal(200, res.status)
      assert.same({ parts = { 1, 2, 3 } }, res.body)
    end)

    it("connect: nothing listens, sent = false", function()
      local s = assert(socket.bind("127.0.0.1", 0))
      local _, port = s:getsockname()
      s:close()
      local res = probe { url = "http://127.0.0.1:" .. port .. "/" }
      assert.equal("connect", res.fail, json.encode(res))
      assert.is_false(res.sent)
      assert.equal(0, res.status)
    end)

    it("timeout: the answer stalls, sent = true", function()
      api.fault { method = "GET", path = "/v1/view/*", action = "stall", status = 200 }
      local res = probe { url = view(), timeout = 1 }
      assert.equal("timeout", res.fail, json.encode(res))
      assert.is_true(res.sent)
      assert.is_true(res.seconds >= 0.9 and res.seconds < 3)
    end)

    it("dropped: the server closes without answering", function()
      api.fault { method = "GET", path = "/v1/view/*", action = "drop_before" }
      local res = probe { url = view(), fresh = 1 }
      assert.equal("dropped", res.fail, json.encode(res))
      assert.is_true(res.sent)
    end)

    it("sends once more on a new connection when a kept-alive one closes unanswered", function()
      api.fault { method = "GET", path = "/v1/view/nothing", action = "drop_before" }
      local before = api.stats().requests
      local res = probe { url = view(), warm = api.url .. "/v1/view/warm" }
      assert.is_nil(res.fail, json.encode(res))
      assert.equal(404, res.status)
      assert.equal(3, api.stats().requests - before) -- warm-up, dropped, resent
    end)

    it("dropped: the body is cut short", function()
      api.fault { method = "GET", path = "/v1/view/*", action = "truncate" }
      local res = probe { url = view(), fresh = 1 }
      assert.equal("dropped", res.fail, json.encode(res))
    end)

    it("too_large: above max_response_bytes, status kept", function()
      api.fault { method = "GET", path = "/v1/view/*", action = "oversize", status = 200, size = 100000 }
      local res = probe { url = view(), max_response_bytes = 4096 }
      assert.equal("too_large", res.fail, json.encode(res))
      assert.equal(200, res.status)
    end)

    it("headers: more header lines than max_header_count", function()
      local res = probe { url = view(), max_header_count = 3 }
      assert.equal("headers", res.fail, json.encode(res))
    end)

    it("json: a malformed JSON body stays raw", function()
      api.fault { method = "GET", path = "/v1/view/*", action = "malformed" }
      local res = probe { url = view() }
      assert.equal("json", res.fail, json.encode(res))
      assert.equal(200, res.status)
      assert.equal("string", type(res.body))
    end)

    it("invalid: CR/LF in a header line is refused before sending", function()
      local before = api.stats().requests
      local res = probe { url = view(), bad_header = 1 }
      assert.equal("invalid", res.fail, json.encode(res))
      assert.is_false(res.sent)
      assert.equal(before, api.stats().requests)
    end)

    it("tls: a plain HTTP server on an https URL", function()
      local res = probe { url = "https://localhost:" .. srv.port .. "/" }
      assert.equal("tls", res.fail, json.encode(res))
      assert.is_false(res.sent)
    end)
  end)
end)
