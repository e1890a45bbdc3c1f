-- Mock sessions: create (profile, plain, payment-token), validation, get, update
-- with the lock rules, cancel, and merchant-initiated sessions/pay with declines.
local mock = require "support.mock"

local function order(amount, extra)
  local o = { amount = amount or 1000, currency = "NOK", merchant_reference = "order-1",
              items = { { id = "sku", line_id = "1", amount = amount or 1000, quantity = 1 } } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function profile_body(o)
  return { profile_id = "T12345678.profile", url = { return_url = "https://shop.example/return" },
           order = o or order() }
end

local function create(body, headers, query)
  return mock.authed("POST", "/v1/sessions-profile" .. (query or ""), body or profile_body(), headers)
end

local function session_id()
  local _, body = create()
  return body.id
end

describe("mock sessions", function()
  before_each(function() mock.reset() end)

  describe("create from profile", function()
    it("returns id and a view url", function()
      local status, body = create()
      assert.equal(200, status)
      assert.truthy(body.id:find("^T12345678%."))
      assert.equal(mock.url .. "/v1/view/" .. body.id, body.url)
      assert.is_nil(body.session)
    end)

    it("includes the session with include_session=true", function()
      local _, body = create(nil, nil, "?include_session=true")
      assert.equal(body.id, body.session.id)
      assert.equal(1000, body.session.order.amount)
      assert.equal("INITIATED", body.session.events[1].name)
    end)

    local missing = {
      { "profile_id", function(b) b.profile_id = nil end },
      { "url", function(b) b.url = nil end },
      { "url.return_url", function(b) b.url.return_url = nil end },
      { "order", function(b) b.order = nil end },
      { "order.amount", function(b) b.order.amount = nil end },
      { "order.currency", function(b) b.order.currency = nil end },
      { "order.merchant_reference", function(b) b.order.merchant_reference = nil end },
    }
    for _, case in ipairs(missing) do
      it("rejects a missing " .. case[1] .. " naming the field", function()
        local b = profile_body()
        case[2](b)
        local status, body = create(b)
        assert.equal(400, status)
        assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
        assert.truthy(body.error.message:find(case[1], 1, true), body.error.message)
      end)
    end

    it("rejects non-integer and negative amounts and bad currencies", function()
      for _, o in ipairs { order(10.5), order(-1), order(100, { currency = "nok" }),
                           order(100, { currency = "NOKK" }), order(100, { vat_amount = 1.5 }) } do
        local status, body = create(profile_body(o))
        assert.equal(400, status)
        assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
      end
    end)

    it("enforces item sums only with strict-session-amounts", function()
      local o = order(1000)
      o.items[1].amount = 900
      assert.equal(200, (create(profile_body(o))))
      local status, body = create(profile_body(o), { ["Dintero-Feature-Toggles"] = "strict-session-amounts" })
      assert.equal(400, status)
      assert.truthy(body.error.message:find("order.amount", 1, true))
      o.shipping_option = { id = "s", line_id = "s", amount = 100, title = "Post", operator = "x" }
      assert.equal(200, (create(profile_body(o), { ["Dintero-Feature-Toggles"] = "other, strict-session-amounts" })))
      o.vat_amount = 5
      o.items[1].vat_amount = 4
      status, body = create(profile_body(o), { ["Dintero-Feature-Toggles"] = "strict-session-amounts" })
      assert.equal(400, status)
      assert.truthy(body.error.message:find("vat_amount", 1, true))
    end)

    it("keeps empty arrays as arrays and integers as integers", function()
      local text = '{"profile_id":"p","url":{"return_url":"https://s.example/"},' ..
        '"order":{"amount":0,"currency":"NOK","merchant_reference":"r","items":[],"vat_amount":0.0}}'
      local status, body = create(text)
      assert.equal(200, status)
      local c = mock.connect()
      c:send("GET /v1/sessions/" .. body.id .. " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" ..
        "Authorization: Bearer " .. mock.token() .. "\r\n\r\n")
      local all = c:receive("*a")
      c:close()
      assert.truthy(all:find('"items":[]', 1, true))
      assert.truthy(all:find('"vat_amount":0', 1, true))
      assert.falsy(all:find('"amount":0.0', 1, true))
    end)

    it("rejects bodies that are not JSON objects", function()
      local status = create("[1,2]")
      assert.equal(400, status)
    end)
  end)

  it("creates a session without a profile with POST /v1/sessions", function()
    local b = profile_body()
    b.profile_id = nil
    local status, body = mock.authed("POST", "/v1/sessions", b)
    assert.equal(200, status)
    assert.is_string(body.id)
  end)

  it("gets a session and 404s unknown ones", function()
    local id = session_id()
    local status, body = mock.authed("GET", "/v1/sessions/" .. id)
    assert.equal(200, status)
    assert.equal(id, body.id)
    assert.equal("https://shop.example/return", body.url.return_url)
    status, body = mock.authed("GET", "/v1/sessions/T12345678.unknown")
    assert.equal(404, status)
    assert.equal("NOT_FOUND", body.error.code)
  end)

  it("returns initiating system headers when included", function()
    local _, b = create(nil, { ["Dintero-System-Name"] = "spec" })
    local _, s = mock.authed("GET", "/v1/sessions/" .. b.id .. "?includes=initiating_system_request_headers")
    assert.equal("spec", s.initiating_system_request_headers["dintero-system-name"])
  end)

  describe("update", function()
    local update = { order = { amount = 2000, items = { { line_id = "1", amount = 2000 } } } }

    it("needs a lock or update_without_lock", function()
      local id = session_id()
      local status, body = mock.authed("PUT", "/v1/sessions/" .. id, update)
      assert.equal(409, status)
      assert.truthy(body.error.message:find("lock", 1, true))
      status, body = mock.authed("PUT", "/v1/sessions/" .. id .. "?update_without_lock=true", update)
      assert.equal(200, status)
      assert.equal(2000, body.order.amount)
      assert.equal("NOK", body.order.currency)
    end)

    it("works on a locked session and removes the lock by default", function()
      local id = session_id()
      mock.lock(id)
      assert.equal(200, (mock.authed("PUT", "/v1/sessions/" .. id, update)))
      assert.equal(409, (mock.authed("PUT", "/v1/sessions/" .. id, update)))
      mock.lock(id)
      local keep = { order = update.order, remove_lock = false }
      assert.equal(200, (mock.authed("PUT", "/v1/sessions/" .. id, keep)))
      assert.equal(200, (mock.authed("PUT", "/v1/sessions/" .. id .. "?force_shipping_address_callback=true", keep)))
    end)

    it("validates the order and strict sums", function()
      local id = session_id()
      local status = mock.authed("PUT", "/v1/sessions/" .. id .. "?update_without_lock=true",
        { order = { amount = "12" } })
      assert.equal(400, status)
      status = mock.authed("PUT", "/v1/sessions/" .. id .. "?update_without_lock=true",
        { order = { amount = 5 } }, { ["Dintero-Feature-Toggles"] = "strict-session-amounts" })
      assert.equal(400, status)
      status = mock.authed("PUT", "/v1/sessions/" .. id .. "?update_without_lock=true", {})
      assert.equal(400, status)
    end)

    it("refuses completed and cancelled sessions", function()
      local id = session_id()
      mock.pay(id)
      local status, body = mock.authed("PUT", "/v1/sessions/" .. id .. "?update_without_lock=true", update)
      assert.equal(409, status)
      assert.equal("SESSION_COMPLETED", body.error.code)
      local id2 = session_id()
      mock.authed("POST", "/v1/sessions/" .. id2 .. "/cancel")
      status, body = mock.authed("PUT", "/v1/sessions/" .. id2 .. "?update_without_lock=true", update)
      assert.equal(409, status)
      assert.equal("SESSION_CANCELLED", body.error.code)
    end)
  end)

  describe("cancel", function()
    it("sets cancelled_at and cancelled_by", function()
      local id = session_id()
      local status, body = mock.authed("POST", "/v1/sessions/" .. id .. "/cancel")
      assert.equal(200, status)
      assert.is_string(body.cancelled_at)
      assert.equal("mock-client", body.cancelled_by)
      assert.equal(409, (mock.authed("POST", "/v1/sessions/" .. id .. "/cancel")))
    end)

    it("voids an authorized transaction", function()
      local id = session_id()
      local tx = mock.pay(id)
      assert.equal(200, (mock.authed("POST", "/v1/sessions/" .. id .. "/cancel")))
      local _, t = mock.authed("GET", "/v1/transactions/" .. tx.id)
      assert.equal("AUTHORIZATION_VOIDED", t.status)
      assert.equal("VOID", t.events[#t.events].event)
    end)

    it("is refused when the transaction is captured", function()
      local id = session_id()
      local tx = mock.pay(id)
      mock.authed("POST", "/v1/transactions/" .. tx.id .. "/capture", { amount = 1000 })
      local status, body = mock.authed("POST", "/v1/sessions/" .. id .. "/cancel")
      assert.equal(400, status)
      assert.truthy(body.error.message:find("CAPTURED", 1, true))
    end)
  end)

  it("creates payment-token sessions", function()
    local status, body = mock.authed("POST", "/v1/sessions/payment-token", {
      session = profile_body(), token_provider = { payment_product_type = "payex.creditcard" } })
    assert.equal(200, status)
    assert.is_string(body.url)
    local tx = mock.pay(body.id)
    assert.equal("payex.creditcard", tx.payment_product_type)
    local _, t = mock.authed("GET", "/v1/transactions/" .. tx.id .. "?includes=card.payment_token")
    assert.is_string(t.card.payment_token)
    assert.equal(400, (mock.authed("POST", "/v1/sessions/payment-token", { session = profile_body() })))
  end)

  describe("sessions/pay", function()
    local function pay_body(amount, token, ref)
      local b = profile_body(order(amount))
      b.order.merchant_reference = ref or "mit-1"
      b.customer = { tokens = { ["payex.creditcard"] = { payment_token = token or "tok-ok" } } }
      return { session = b, payment = { payment_product_type = "payex.creditcard",
                                         operation = "unscheduled_purchase" } }
    end

    it("authorizes and returns the transaction with session_id and success", function()
      local status, body = mock.authed("POST", "/v1/sessions/pay", pay_body(1000))
      assert.equal(200, status)
      assert.equal("AUTHORIZED", body.status)
      assert.is_true(body.success)
      assert.is_string(body.session_id)
      assert.equal("payex", body.payment_product)
      local _, s = mock.authed("GET", "/v1/sessions/" .. body.session_id)
      assert.equal(body.id, s.transaction_id)
    end)

    it("captures at once with configuration.auto_capture", function()
      local b = pay_body(1000)
      b.session.configuration = { auto_capture = true }
      local _, body = mock.authed("POST", "/v1/sessions/pay", b)
      assert.equal("CAPTURED", body.status)
    end)

    it("declines amounts ending in 13 and the token 'declined' with HTTP 200", function()
      for _, b in ipairs { pay_body(1013), pay_body(1000, "declined") } do
        local status, body = mock.authed("POST", "/v1/sessions/pay", b)
        assert.equal(200, status)
        assert.equal("FAILED", body.status)
        assert.is_false(body.success)
        local err = body.events[#body.events].error
        assert.is_string(err.code)
        assert.is_string(err.message)
        assert.same({ "DO_NOT_RETRY" }, err.retry_policy.retry_codes)
        assert.same({ "DECLINED" }, err.type)
      end
    end)

    it("validates the body", function()
      assert.equal(400, (mock.authed("POST", "/v1/sessions/pay", { session = {} })))
      local b = pay_body(1000)
      b.payment = nil
      assert.equal(400, (mock.authed("POST", "/v1/sessions/pay", b)))
    end)

    it("honours strict-merchant-reference and strict-success-merchant-reference", function()
      local strict = { ["Dintero-Feature-Toggles"] = "strict-merchant-reference" }
      local success = { ["Dintero-Feature-Toggles"] = "strict-success-merchant-reference" }
      assert.equal(200, (mock.authed("POST", "/v1/sessions/pay", pay_body(1013, nil, "dup"), strict)))
      -- used by a failed payment: strict refuses, strict-success allows
      local status, body = mock.authed("POST", "/v1/sessions/pay", pay_body(1000, nil, "dup"), strict)
      assert.equal(400, status)
      assert.truthy(body.error.message:find("dup", 1, true))
      assert.equal(200, (mock.authed("POST", "/v1/sessions/pay", pay_body(1000, nil, "dup"), success)))
      assert.equal(400, (mock.authed("POST", "/v1/sessions/pay", pay_body(1000, nil, "dup"), success)))
      assert.equal(200, (mock.authed("POST", "/v1/sessions/pay", pay_body(1000, nil, "dup"))))
    end)
  end)

  it("serves a shopper view page without auth", function()
    local id = session_id()
    local status, body = mock.get("/v1/view/" .. id)
    assert.equal(200, status)
    assert.truthy(body:find(id, 1, true))
  end)
end)
