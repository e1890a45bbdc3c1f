-- Retries, timeouts and limits of the C core client against the mock's fault
-- injection. The rule under test: reads and idempotent writes are retried on
-- transient failures; a payment write is never sent twice.
local dintero = require "dintero"
local core = require "dintero.core"
local mock = require "support.mock"

local function new_client(extra)
  local o = {
    account_id = mock.credentials.account_id,
    client_id = mock.credentials.client_id,
    client_secret = mock.credentials.client_secret,
    api_url = mock.url, checkout_url = mock.url,
    retry_base = 0.05, retry_cap = 0.2,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return dintero.new(o)
end

local function count(method, pattern)
  local n = 0
  for _, r in ipairs(mock.requests()) do
    if r.method == method and r.path:find(pattern) then n = n + 1 end
  end
  return n
end

local LIST = { method = "GET", host = "checkout", path = "/v1/transactions" }

local function paid_transaction(client)
  local s = assert(client:request { method = "POST", host = "checkout", path = "/v1/sessions-profile", body = {
    profile_id = "T12345678.profile", url = { return_url = "https://shop.example/return" },
    order = { amount = 10000, currency = "NOK", merchant_reference = "retry-spec" } } })
  return mock.pay(s.id, "authorized")
end

local function capture(client, tx, amount)
  return client:request { method = "POST", host = "checkout", path = "/v1/transactions/{id}/capture",
    params = { id = tx.id }, body = { amount = amount }, class = "payment" }
end

describe("retries", function()
  local client
  before_each(function()
    mock.reset()
    client = new_client()
  end)
  after_each(function() client:close() end)

  it("503 then 200 succeeds on the second attempt", function()
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 503 }
    local body, meta = client:request(LIST)
    assert.truthy(body)
    assert.equal(2, meta.attempts)
  end)

  it("waits out a 429 with Retry-After", function()
    assert.truthy(client:request(LIST))
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 429, retry_after = 1 }
    local t0 = core.now()
    local body, meta = client:request(LIST)
    local took = core.now() - t0
    assert.truthy(body)
    assert.equal(2, meta.attempts)
    assert.truthy(took >= 0.95, "waited " .. took)
    assert.truthy(took < 3, "waited " .. took)
  end)

  it("does not wait longer than max_retry_after: the error carries retry_after", function()
    local c = new_client { max_retry_after = 1 }
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 429, retry_after = 30 }
    local body, _, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal(429, err.status)
    assert.equal(30, err.retry_after)
    assert.is_true(err.retryable)
    c:close()
  end)

  it("gives up after `retries` extra attempts", function()
    mock.fault { method = "GET", path = "/v1/transactions", count = 10, status = 502 }
    local body, _, err = client:request(LIST)
    assert.is_nil(body)
    assert.equal(502, err.status)
    assert.is_true(err.retryable)
    assert.equal(3, count("GET", "^/v1/transactions$"))
  end)

  it("does not retry a 500", function()
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 500 }
    local body, _, err = client:request(LIST)
    assert.is_nil(body)
    assert.equal(500, err.status)
    assert.equal(1, count("GET", "^/v1/transactions$"))
  end)

  it("retries a read whose connection dropped after it was sent", function()
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "drop_after" }
    local body, msg = client:request(LIST)
    assert.truthy(body, msg)
  end)

  it("recovers a dead kept-alive connection", function()
    assert.truthy(client:request(LIST))
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "drop_before" }
    local body, msg = client:request(LIST)
    assert.truthy(body, msg)
  end)

  it("never retries a capture whose connection dropped after the request was sent", function()
    local tx = paid_transaction(client)
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", count = 1, action = "drop_after" }
    local body, msg, err = capture(client, tx, 1000)
    assert.is_nil(body)
    assert.equal("network", err.kind)
    assert.is_false(err.retryable)
    assert.is_true(err.outcome_unknown)
    assert.matches("outcome is unknown", msg)
    assert.matches("GET the transaction", msg)
    assert.equal(1, count("POST", "/capture$"))
    -- ... and it did happen on the server, which is why it must not be resent.
    local fresh = assert(client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
      params = { id = tx.id } })
    assert.equal("PARTIALLY_CAPTURED", fresh.status)
  end)

  it("retries a capture refused with 503 (not performed)", function()
    local tx = paid_transaction(client)
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", count = 1, status = 503 }
    local body, msg = capture(client, tx, 1000)
    assert.truthy(body, msg)
    assert.equal(2, count("POST", "/capture$"))
  end)

  it("does not retry a capture answered 504 by a gateway: outcome unknown", function()
    local tx = paid_transaction(client)
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", count = 1, status = 504 }
    local body, _, err = capture(client, tx, 1000)
    assert.is_nil(body)
    assert.equal(504, err.status)
    assert.is_true(err.outcome_unknown)
    assert.equal(1, count("POST", "/capture$"))
  end)
end)

describe("timeouts and limits", function()
  before_each(function() mock.reset() end)

  it("the whole-request timeout fires on time", function()
    local c = new_client { timeout = 1, retries = 0 }
    assert.truthy(c:request(LIST))
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "stall" }
    local t0 = core.now()
    local body, _, err = c:request(LIST)
    local took = core.now() - t0
    assert.is_nil(body)
    assert.equal("timeout", err.kind)
    assert.truthy(took >= 0.9 and took < 2, "took " .. took)
    c:close()
  end)

  it("a connect failure is kind network and retryable", function()
    local c = new_client { api_url = "http://127.0.0.1:1", checkout_url = "http://127.0.0.1:1", retries = 0 }
    local body, _, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal("network", err.kind)
    assert.is_true(err.retryable)
    c:close()
  end)

  it("refuses a response above max_response_bytes with a clear error", function()
    local c = new_client { max_response_bytes = 1024 * 1024, retries = 0 }
    assert.truthy(c:request(LIST))
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "oversize", size = 4 * 1024 * 1024 }
    local body, msg, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal("RESPONSE_TOO_LARGE", err.code)
    assert.matches("max_response_bytes", msg)
    -- the client is still usable afterwards
    assert.truthy(c:request(LIST))
    c:close()
  end)

  it("a truncated body is an error, not a partial value", function()
    local c = new_client { retries = 0 }
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "truncate" }
    local body, _, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal("network", err.kind)
    c:close()
  end)

  it("malformed JSON is kind json", function()
    local c = new_client { retries = 0 }
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, action = "malformed" }
    local body, _, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal("json", err.kind)
    c:close()
  end)
end)

describe("client:parallel", function()
  before_each(function() mock.reset() end)

  it("returns results in order, fetching the token once", function()
    local c = new_client()
    local specs = {}
    for i = 1, 20 do
      specs[i] = { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
        params = { id = "T12345678.p" .. i } }
    end
    specs[21] = { method = "GET", host = "checkout", path = "/v1/transactions" }
    local results = c:parallel(specs, { concurrency = 8 })
    assert.equal(21, #results)
    for i = 1, 20 do
      assert.is_false(results[i].ok)
      assert.equal(404, results[i].err.status)
    end
    assert.is_true(results[21].ok)
    assert.equal(1, count("POST", "/auth/token$"))
    c:close()
  end)

  it("grows its handle pool safely between batches (regression: realloc moved live handles)", function()
    local c = new_client()
    local function batch(n, conc)
      local specs = {}
      for i = 1, n do specs[i] = LIST end
      local results = c:parallel(specs, { concurrency = conc })
      for i = 1, n do assert.is_true(results[i].ok, results[i].msg) end
    end
    batch(4, 2)
    batch(32, 16)
    batch(64, 64)
    c:close()
  end)

  it("refuses a member with a bad method before sending anything, keeping the others' results", function()
    local c = new_client()
    local results = c:parallel({ LIST, { method = "HEAD", host = "checkout", path = "/v1/transactions" },
      { method = "post", host = "checkout", path = "/v1/transactions" }, { host = "checkout", path = "/x" }, LIST },
      { concurrency = 2 })
    assert.is_true(results[1].ok, results[1].msg)
    assert.is_true(results[5].ok, results[5].msg)
    for i = 2, 4 do
      assert.is_false(results[i].ok)
      assert.equal("validation", results[i].err.kind)
      assert.matches("method must be one of GET, POST, PUT, DELETE, PATCH", results[i].msg, 1, true)
    end
    local sent = 0
    for _, r in ipairs(mock.requests()) do
      if r.path == "/v1/transactions" then sent = sent + 1 end
    end
    assert.equal(2, sent) -- the two good members; the log was emptied before this test
    c:close()
  end)

  it("retries the failed members of a batch", function()
    local c = new_client()
    mock.fault { method = "GET", path = "/v1/transactions", count = 2, status = 503 }
    local results = c:parallel({ LIST, LIST, LIST }, { concurrency = 3 })
    for i = 1, 3 do assert.is_true(results[i].ok, results[i].msg) end
    c:close()
  end)
end)
