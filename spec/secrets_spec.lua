-- Secrets never leak: a full run (token, session, payment, signed callback,
-- capture, refund, failures of every kind) collects every log event, error
-- message, error table and tostring of every object, and searches them for the
-- client secret, every access token the client held and the signature secret.
local dintero = require "dintero"
local mock = require "support.mock"

local SECRET = mock.credentials.client_secret

local function walk(v, out, seen)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = v
  elseif t == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      walk(k, out, seen)
      walk(x, out, seen)
    end
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then out[#out + 1] = tostring(v) end
  end
end

describe("secrets", function()
  it("appear in no log event, error, error body or tostring during a full run", function()
    mock.reset()
    local seen_text, tokens = {}, {}
    local function keep(...) for i = 1, select("#", ...) do walk((select(i, ...)), seen_text, {}) end end
    local client = dintero.new {
      account_id = mock.credentials.account_id, client_id = mock.credentials.client_id, client_secret = SECRET,
      api_url = mock.url, checkout_url = mock.url, retry_base = 0.01, retry_cap = 0.02, log_bodies = true,
      logger = function(e) keep(e) end,
    }
    local function note_token()
      local tok = client._transport:token()
      if tok then tokens[tok] = true end
    end
    keep(tostring(client))

    -- signature secret, created over the API
    local sig = assert(client:request { method = "POST", host = "checkout", path = "/v1/admin/signature",
      class = "idempotent" })
    local signature_secret = sig.signature.secret
    note_token()

    local session = assert(client.sessions:create {
      profile_id = "T12345678.profile",
      url = { return_url = "http://127.0.0.1/return", callback_url = "http://127.0.0.1:9/cb" },
      order = { amount = 20000, currency = "NOK", merchant_reference = "secrets-1" },
    })
    keep(tostring(session), session)
    local paid = mock.pay(session.id, "authorized")
    local tx = assert(client.transactions:get(paid.id))
    keep(tostring(tx))
    assert(tx:capture(5000))
    keep(tostring(tx))

    -- failures of every kind, each kept
    keep(tx:capture(10 ^ 9))                                        -- local validation
    keep(client.transactions:get("T12345678.nope"))                   -- 404
    mock.fault { method = "GET", path = "/v1/transactions/*", count = 1, status = 401 }
    keep(client.transactions:get(tx.id))                               -- 401 replay with a new token
    note_token()
    mock.fault { method = "POST", path = "/v1/transactions/*/refund", count = 1, action = "drop_after" }
    keep(tx:refund { amount = 100, reason = "x" })                   -- outcome unknown
    mock.fault { method = "GET", path = "/v1/transactions/*", count = 5, status = 503 }
    keep(client.transactions:get(tx.id))                               -- retries exhausted
    mock.fault { method = "GET", path = "/v1/transactions/*", count = 1, action = "malformed" }
    keep(client.transactions:get(tx.id))                               -- json
    local bad = dintero.new { account_id = "T12345678", client_id = "mock-client", client_secret = "wrong-" .. SECRET,
      api_url = mock.url, checkout_url = mock.url, logger = function(e) keep(e) end }
    keep(bad:request { method = "GET", host = "checkout", path = "/v1/transactions" })   -- token refused
    keep(tostring(bad))
    note_token()

    -- a signed callback verified and refused
    local url = "http://127.0.0.1:9/cb?transaction_id=" .. tx.id
    local header = dintero.callback.sign { secret = signature_secret, account_id = "T12345678", method = "GET",
      url = url, time = os.time() }
    keep(dintero.callback.verify { secret = signature_secret, account_id = "T12345678", method = "GET", url = url,
      signature = header:gsub("=%x%x", "=00", 1) })
    keep(dintero.callback.verify { secret = signature_secret, account_id = "T12345678", method = "POST", url = url,
      signature = header })

    assert.truthy(next(tokens), "collected at least one token")
    assert.truthy(#seen_text > 50)
    for _, text in ipairs(seen_text) do
      assert.is_nil(text:find(SECRET, 1, true), "client secret in: " .. text:sub(1, 200))
      assert.is_nil(text:find(signature_secret, 1, true), "signature secret in: " .. text:sub(1, 200))
      for tok in pairs(tokens) do
        assert.is_nil(text:find(tok, 1, true), "access token in: " .. text:sub(1, 200))
      end
    end
    client:close()
    bad:close()
  end)
end)
describe("secrets in unusual answers", function()
  before_each(function() mock.reset() end)

  local function new_client(extra)
    local o = {
      account_id = mock.credentials.account_id, client_id = mock.credentials.client_id, client_secret = SECRET,
      api_url = mock.url, checkout_url = mock.url,
    }
    for k, v in pairs(extra or {}) do o[k] = v end
    return dintero.new(o)
  end

  it("keeps a malformed token answer out of the error", function()
    mock.fault { method = "POST", path = "/v1/accounts/*/auth/token", count = 1, status = 200,
      body = '{"access_token":"LEAKED-TOKEN-123","token_type":"Bearer","expires_in":3600,' }
    local c = new_client()
    local body, msg, err = c:request { method = "GET", host = "checkout", path = "/v1/transactions" }
    assert.is_nil(body)
    assert.equal("json", err.kind, msg)
    local text = {}
    walk({ msg, err, tostring(err) }, text, {})
    for _, t in ipairs(text) do assert.is_nil(t:find("LEAKED", 1, true), t) end
    c:close()
  end)

  it("redacts card payment and recurrence tokens in logged bodies", function()
    local events = {}
    local c = new_client { log_bodies = true, logger = function(e) events[#events + 1] = e end }
    c:request { method = "POST", host = "checkout", path = "/v1/sessions/pay", class = "payment",
      body = { customer = { tokens = { ["payex.creditcard"] = { payment_token = "PT-SECRET-1",
        recurrence_token = "RT-SECRET-2" } } } } }
    assert.truthy(#events > 0)
    for _, e in ipairs(events) do
      local text = dintero.json.encode(e)
      assert.is_nil(text:find("SECRET", 1, true), text)
    end
    c:close()
  end)
end)
describe("log redaction", function()
  it("never logs a body nested deeper than it redacts", function()
    mock.reset()
    local events = {}
    local c = dintero.new {
      account_id = mock.credentials.account_id, client_id = mock.credentials.client_id,
      client_secret = SECRET, api_url = mock.url, checkout_url = mock.url, log_bodies = true,
      logger = function(e) events[#events + 1] = e end,
    }
    local deep = { password = "DEEP-SECRET" }
    for _ = 1, 60 do deep = { inner = deep } end
    c:request { method = "PUT", host = "checkout", path = "/v1/transactions/{id}", class = "idempotent",
      params = { id = "T12345678.deep" }, body = deep }
    assert.truthy(#events > 0)
    for _, e in ipairs(events) do
      local text = {}
      walk(e, text, {})
      for _, t in ipairs(text) do assert.is_nil(t:find("DEEP-SECRET", 1, true)) end
    end
    c:close()
  end)
end)


