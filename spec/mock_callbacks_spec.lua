-- Mock callbacks: the signature secret routes, deliveries to a loopback receiver
-- run by this spec (query params, GET/POST, Dintero-Signature checked with the
-- openssl CLI, retries, permanent 4xx), and the refusal to contact other hosts.
-- The pure-Lua SHA-256 / signature units are checked on Lua 5.4 (the mock's Lua).
local socket = require "socket"
local mock = require "support.mock"

-- A one-shot HTTP receiver on loopback: accept() answers one request with status.
local function receiver()
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local r = { url = "http://127.0.0.1:" .. port .. "/cb", port = tonumber(port) }
  function r.accept(status, timeout)
    srv:settimeout(timeout or 5)
    local c = srv:accept()
    if not c then return nil end
    c:settimeout(5)
    local line = c:receive("*l")
    local req = { headers = {} }
    req.method, req.target = line:match("^(%u+) (%S+)")
    req.path, req.query = req.target:match("^([^?]*)%??(.*)$")
    while true do
      local h = c:receive("*l")
      if not h or h == "" then break end
      local k, v = h:match("^([^:]+):%s*(.*)$")
      req.headers[k:lower()] = v
    end
    local n = tonumber(req.headers["content-length"] or "0")
    req.body = n > 0 and c:receive(n) or ""
    c:send("HTTP/1.1 " .. (status or 200) .. " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c:close()
    return req
  end
  function r.close() srv:close() end
  return r
end

local function decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function params(query)
  local t = {}
  for k, v in query:gmatch("([^&=]+)=([^&]*)") do t[decode(k)] = decode(v) end
  return t
end

-- URLSearchParams-style canonical query, written independently of the mock's.
local function canonical_query(q)
  local list = {}
  for part in q:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    list[#list + 1] = { decode(k), decode(v), #list + 1 }
  end
  table.sort(list, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[3] < b[3]
  end)
  local function enc(s)
    return (s:gsub("[^%w%*%-%._ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
  end
  local out = {}
  for i, p in ipairs(list) do out[i] = enc(p[1]) .. "=" .. enc(p[2]) end
  return table.concat(out, "&")
end

local function openssl_hmac(key, msg)
  local path = os.tmpname()
  local f = io.open(path, "wb")
  f:write(msg)
  f:close()
  local p = io.popen("openssl dgst -sha256 -hmac '" .. key .. "' " .. path)
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return out:match("(%x+)%s*$")
end

local function new_session(callback_url, amount)
  local status, body = mock.authed("POST", "/v1/sessions-profile", {
    profile_id = "T12345678.p",
    url = { return_url = "https://shop.example/return", callback_url = callback_url },
    order = { amount = amount or 1000, currency = "NOK", merchant_reference = "cb-ref" },
  })
  assert.equal(200, status)
  return body.id
end

-- Waits until the mock has recorded at least n delivery attempts.
local function wait_callbacks(n, seconds)
  local deadline = socket.gettime() + (seconds or 5)
  local list
  repeat
    list = mock.callbacks()
    if #list >= n then return list end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  return list
end

describe("mock callbacks", function()
  before_each(function() mock.reset() end)

  describe("signature secret", function()
    it("is created with POST and read with GET", function()
      assert.equal(404, (mock.authed("GET", "/v1/admin/signature")))
      local status, body = mock.authed("POST", "/v1/admin/signature")
      assert.equal(200, status)
      assert.equal("hmac-sha256", body.signature.type)
      assert.is_string(body.signature.secret)
      assert.is_string(body.id)
      assert.is_string(body.created_at)
      assert.equal("mock-client", body.created_by)
      local _, again = mock.authed("GET", "/v1/admin/signature")
      assert.equal(body.signature.secret, again.signature.secret)
    end)

    it("needs a token", function()
      assert.equal(401, (mock.get("/v1/admin/signature")))
    end)
  end)

  it("calls the callback_url after a payment, without delaying the pay answer", function()
    local r = receiver()
    local sid = new_session(r.url .. "?shop_order=42&x=a%20b")
    local t0 = socket.gettime()
    local tx = mock.pay(sid)
    assert.is_true(socket.gettime() - t0 < 1)
    local req = assert(r.accept(200))
    r.close()
    assert.equal("GET", req.method)
    assert.equal("/cb", req.path)
    local p = params(req.query)
    assert.equal(tx.id, p.transaction_id)
    assert.equal(sid, p.session_id)
    assert.equal("cb-ref", p.merchant_reference)
    assert.equal("42", p.shop_order)
    assert.equal("a b", p.x)
    assert.is_string(p.time)
    assert.is_nil(p.error)
    assert.is_string(req.headers["event-delivery"])
    assert.is_nil(req.headers["dintero-signature"])
    local list = wait_callbacks(1)
    assert.equal(200, list[1].status)
    assert.equal(1, list[1].attempt)
    assert.is_true(list[1].delivered)
  end)

  it("signs callbacks per the Dintero-Signature algorithm once a secret exists", function()
    local _, secret = mock.authed("POST", "/v1/admin/signature")
    local r = receiver()
    local sid = new_session(r.url .. "?b=2&a=%7E1")
    mock.pay(sid)
    local req = assert(r.accept(200))
    r.close()
    local header = req.headers["dintero-signature"]
    local t, hex = header:match("^t=(%d+),v0%-hmac%-sha256=(%x+)$")
    assert.is_string(t)
    assert.is_true(math.abs(tonumber(t) - os.time()) < 60)
    local canonical = table.concat({ t, "T12345678", "GET", "127.0.0.1", "/cb",
                                     canonical_query(req.query) }, "\n")
    assert.equal(openssl_hmac(secret.signature.secret, canonical), hex)
  end)

  it("uses POST with the transaction as body for method=POST, and sid", function()
    local r = receiver()
    local sid = new_session(r.url .. "?method=POST&sid_parameter_name=sid")
    local tx = mock.pay(sid)
    local req = assert(r.accept(200))
    r.close()
    assert.equal("POST", req.method)
    local p = params(req.query)
    assert.equal(sid, p.sid)
    assert.is_nil(p.session_id)
    local body = mock.json.decode(req.body)
    assert.equal(tx.id, body.id)
    assert.equal("AUTHORIZED", body.status)
    assert.truthy(req.headers["content-type"]:find("application/json", 1, true))
  end)

  it("reports CAPTURE / REFUND / VOID events only when asked with report_event", function()
    local r = receiver()
    local sid = new_session(r.url .. "?report_event=CAPTURE&report_event=VOID")
    local tx = mock.pay(sid)
    assert(r.accept(200))
    mock.authed("POST", "/v1/transactions/" .. tx.id .. "/capture", { amount = 500 })
    local req = assert(r.accept(200))
    local p = params(req.query)
    assert.equal("CAPTURE", p.event)
    assert.is_string(p.event_id)
    mock.authed("POST", "/v1/transactions/" .. tx.id .. "/void")
    req = assert(r.accept(200))
    assert.equal("VOID", params(req.query).event)
    r.close()
    local r2 = receiver()
    local tx2 = mock.pay(new_session(r2.url))
    assert(r2.accept(200))
    mock.authed("POST", "/v1/transactions/" .. tx2.id .. "/capture", { amount = 1000 })
    assert.is_nil(r2.accept(200, 0.5))
    r2.close()
  end)

  it("reports failed payments only with report_error=true", function()
    local r = receiver()
    mock.pay(new_session(r.url), "declined")
    assert.is_nil(r.accept(200, 0.5))
    mock.pay(new_session(r.url .. "?report_error=true"), "declined")
    local req = assert(r.accept(200))
    assert.equal("failed", params(req.query).error)
    r.close()
  end)

  it("retries on 5xx with the same event-delivery id", function()
    local r = receiver()
    mock.pay(new_session(r.url))
    local first = assert(r.accept(503))
    local second = assert(r.accept(200))
    r.close()
    assert.equal(first.headers["event-delivery"], second.headers["event-delivery"])
    local list = wait_callbacks(2)
    assert.equal(503, list[1].status)
    assert.equal(1, list[1].attempt)
    assert.equal(200, list[2].status)
    assert.equal(2, list[2].attempt)
  end)

  it("treats 4xx as a permanent failure", function()
    local r = receiver()
    mock.pay(new_session(r.url))
    assert(r.accept(404))
    assert.is_nil(r.accept(200, 0.6))
    r.close()
    local list = mock.callbacks()
    assert.equal(1, #list)
    assert.equal(404, list[1].status)
    assert.is_false(list[1].delivered)
  end)

  it("retries connection errors up to --callback-retries", function()
    local m = mock.spawn { "--callback-retries", "3" }
    local r = receiver()
    local url = r.url
    r.close()                                   -- nothing listens there now
    local _, tok = m.post("/v1/accounts/T12345678/auth/token",
      { grant_type = "client_credentials", audience = "https://api.dintero.com/v1/accounts/T12345678" },
      { authorization = "Basic bW9jay1jbGllbnQ6bW9jay1zZWNyZXQ=" })
    local _, s = m.post("/v1/sessions", {
      url = { return_url = "https://s.example/", callback_url = url },
      order = { amount = 5, currency = "NOK", merchant_reference = "r" } },
      { authorization = "Bearer " .. tok.access_token })
    m.pay(s.id)
    local deadline = socket.gettime() + 5
    local list
    repeat
      socket.sleep(0.1)
      list = m.callbacks()
    until #list >= 3 or socket.gettime() > deadline
    socket.sleep(0.8)
    list = m.callbacks()
    m.stop()
    assert.equal(3, #list)
    assert.equal(3, list[3].attempt)
    assert.is_string(list[1].error)
  end)

  it("never contacts non-loopback hosts", function()
    mock.pay(new_session("https://merchant.example.com/callback?x=1"))
    local list = mock.callbacks()
    assert.equal(1, #list)
    assert.equal("not delivered: non-loopback host", list[1].error)
    assert.is_false(list[1].delivered)
    assert.truthy(list[1].url:find("transaction_id=", 1, true))
    assert.equal(mock.json.null, list[1].status)
  end)

  local v54 = _VERSION == "Lua 5.4" and describe or pending
  v54("mock's own SHA-256 and signature (Lua 5.4)", function()
    local sha256 = require "dintero.mock.sha256"
    local signature = require "dintero.mock.signature"

    it("hashes the standard vectors", function()
      assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sha256.hex(""))
      assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha256.hex("abc"))
      assert.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      assert.equal("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        sha256.hmac_hex("key", "The quick brown fox jumps over the lazy dog"))
    end)

    it("matches the official Dintero-Signature test vector", function()
      assert.equal("t=1582236537,v0-hmac-sha256=6bed2ab1b919d460ef7465a20dc6c97260dca73fab6647106ca525f0908df64a",
        signature.header { secret = "123", t = 1582236537, account_id = "P00000000", method = "GET",
                           url = "https://example.com/callback?B=123&A=992" })
      assert.equal("A=992&B=123", signature.canonical_query("B=123&A=992"))
      assert.equal("a=%7E%21%3A%2F&a=x+y", signature.canonical_query("a=~!:/&a=x%20y"))
    end)

    it("signs the hostname without the port", function()
      local a = signature.header { secret = "s", t = 1, account_id = "T12345678", method = "GET",
                                   url = "http://127.0.0.1:8080/cb?x=1" }
      local b = signature.header { secret = "s", t = 1, account_id = "T12345678", method = "GET",
                                   url = "http://127.0.0.1/cb?x=1" }
      assert.equal(a, b)
    end)
  end)
end)
