-- Round trip through the mock server's real signed deliveries: create a
-- signature secret, create a session whose callback_url points at a tiny
-- luasocket receiver run here, pay it through the control route, receive the
-- callback and verify it with dintero.callback.verify. The mock signs with its
-- own SHA-256 and URL code (lua/dintero/mock/signature.lua), so this checks the
-- C verifier against an independent implementation over real HTTP.
local socket = require "socket"
local mock = require "support.mock"
local callback = require "dintero.callback"

local ACCOUNT = mock.credentials.account_id

-- Reads one HTTP request from conn: method, target, headers (lower-case), body.
local function read_request(conn)
  local line = assert(conn:receive "*l")
  local method, target = line:match "^(%u+) (%S+) HTTP/1%.%d$"
  local headers = {}
  while true do
    local h = assert(conn:receive "*l")
    if h == "" then break end
    local name, value = h:match "^([^:]+):%s*(.-)%s*$"
    headers[name:lower()] = value
  end
  local n = tonumber(headers["content-length"] or "0")
  local body = n > 0 and assert(conn:receive(n)) or nil
  return { method = method, target = target, headers = headers, body = body }
end

-- Waits (non-blocking accept, 15 s at most) for one delivery and answers 200.
local function receive_one(server)
  local deadline = socket.gettime() + 15
  while socket.gettime() < deadline do
    local conn = server:accept()
    if conn then
      conn:settimeout(5)
      local req = read_request(conn)
      conn:send "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
      conn:close()
      return req
    end
  end
  error "no callback delivery within 15 s"
end

local function create_session(callback_url, reference)
  local status, body = mock.authed("POST", "/v1/sessions-profile", {
    profile_id = "T12345678.profile",
    url = { return_url = "https://shop.example.com/return", callback_url = callback_url },
    order = { amount = 29990, currency = "NOK", merchant_reference = reference },
  })
  assert.equal(200, status)
  return body.id
end

describe("dintero.callback against the mock's signed deliveries", function()
  local server, port, secret

  setup(function()
    server = assert(socket.bind("127.0.0.1", 0))
    server:settimeout(0.1)
    port = select(2, server:getsockname())
    local status, rec = mock.authed("POST", "/v1/admin/signature", {})
    assert.equal(200, status)
    secret = rec.signature.secret
  end)

  teardown(function()
    if server then server:close() end
  end)

  local function deliver(path_and_query, reference)
    local base = "http://127.0.0.1:" .. port
    local sid = create_session(base .. path_and_query, reference)
    mock.pay(sid)
    local req = receive_one(server)
    return req, base .. req.target, sid
  end

  local function verify(req, url, over)
    local t = tonumber(req.headers["dintero-signature"]:match "t=(%d+)")
    local o = {
      secret = secret, account_id = ACCOUNT, method = req.method, url = url,
      signature = req.headers["dintero-signature"],
      now = t, -- the mock's clock may be moved by other specs; the HMAC is the point
    }
    for k, v in pairs(over or {}) do o[k] = v end
    return callback.verify(o)
  end

  it("verifies a GET session callback", function()
    local req, url, sid = deliver("/dintero/callback?shop=1", "cb-mock-1")
    assert.equal("GET", req.method)
    assert.truthy(req.headers["dintero-signature"])
    assert.is_true(verify(req, url))
    local cb = callback.parse(url)
    assert.equal(sid, cb.session_id)
    assert.equal("cb-mock-1", cb.merchant_reference)
    assert.truthy(cb.transaction_id)
    assert.equal("1", cb.params.shop)
    -- the same delivery with anything changed is refused
    local _, _, err = verify(req, (url:gsub("/dintero/", "/other/")))
    assert.equal("mismatch", err.reason)
    _, _, err = verify(req, url, { account_id = "T00000000" })
    assert.equal("mismatch", err.reason)
    _, _, err = verify(req, url, { secret = "not-the-secret" })
    assert.equal("mismatch", err.reason)
  end)

  it("verifies a POST callback and parses its transaction body", function()
    local req, url = deliver("/cb?method=POST&includes=session", "cb-mock-2")
    assert.equal("POST", req.method)
    assert.is_true(verify(req, url))
    local cb = assert(callback.parse { method = req.method, url = url, body = req.body })
    assert.equal(cb.transaction_id, cb.transaction.id)
    assert.equal(29990, cb.transaction.amount)
  end)

  it("verifies merchant parameters that need encoding, unsorted and repeated", function()
    local req, url = deliver("/cb/x?z=last&note=a+b%3Ac~!*'()&a=2&a=1&city=Troms%C3%B8&sid_parameter_name=sid",
      "ref with spaces & symbols")
    assert.is_true(verify(req, url))
    local cb = callback.parse(url)
    assert.truthy(cb.session_id)
    assert.equal("ref with spaces & symbols", cb.merchant_reference)
    assert.same({ "2", "1" }, cb.params_all.a)
  end)

  it("verifies while the secret rotates", function()
    local req, url = deliver("/cb", "cb-mock-4")
    assert.is_true(verify(req, url, { secret = { "old-secret", secret } }))
  end)
end)
