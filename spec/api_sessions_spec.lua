-- client.sessions against the mock over real HTTP: create (profile / no
-- profile / include_session), get, update (lock rules, query flags), cancel,
-- payment-token sessions and merchant-initiated payments (sessions/pay).
local dintero = require "dintero"
local mock = require "support.mock"
local h = require "support.api_helpers"

describe("client.sessions", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  describe("create", function()
    it("creates from a profile (POST /v1/sessions-profile) and returns a Session", function()
      local s, meta = client.sessions:create(h.session_body())
      assert.truthy(s, meta)
      assert.matches("^T12345678%.", s.id)
      assert.equals("string", type(s.checkout_url))
      assert.equals(s.url, s.checkout_url)
      assert.equals(200, meta.status)
      local r = h.last_request("^/v1/sessions%-profile$", "POST")
      assert.truthy(r)
      local body = h.body_of(r)
      assert.equals("T12345678.profile", body.profile_id)
      assert.equals(29990, body.order.amount)
      assert.matches("^dintero%.Session%(T12345678%.", tostring(s))
    end)

    it("creates without a profile (POST /v1/sessions)", function()
      local body = h.session_body()
      body.profile_id = nil
      body.configuration = { auto_capture = false }
      local s = assert(client.sessions:create(body))
      assert.truthy(h.last_request("^/v1/sessions$", "POST"))
      local got = assert(client.sessions:get(s.id))
      assert.equals(false, got.configuration.auto_capture)
    end)

    it("include_session (opts or body) brings the whole session; checkout_url stays the page", function()
      local s = assert(client.sessions:create(h.session_body(), { include_session = true }))
      assert.equals("include_session=true", h.last_request("^/v1/sessions%-profile$").query)
      assert.equals(29990, s.order.amount)
      assert.equals("NOK", s.order.currency)
      assert.equals("string", type(s.checkout_url))
      assert.equals(s.checkout_url, s:raw().url)
      local body = h.session_body()
      body.include_session = true
      s = assert(client.sessions:create(body))
      assert.equals(29990, s.order.amount)
      assert.is_nil(h.body_of(h.last_request("^/v1/sessions%-profile$")).include_session)
    end)

    it("does not modify the caller's table", function()
      local body = h.session_body()
      body.include_session = true
      assert(client.sessions:create(body))
      assert.is_true(body.include_session)
    end)
  end)

  describe("get", function()
    it("fetches a session with includes (repeated query key)", function()
      local s = h.session(client)
      local includes = { "events.request_headers", "initiating_system_request_headers" }
      local got, meta = client.sessions:get(s.id, { includes = includes })
      assert.truthy(got, meta)
      assert.equals(s.id, got.id)
      assert.equals("table", type(got.url))
      assert.equals("https://shop.example/return", got.url.return_url)
      assert.equals("includes=events.request_headers&includes=initiating_system_request_headers",
        h.last_request("^/v1/sessions/", "GET").query)
      assert.equals("table", type(got.initiating_system_request_headers))
    end)

    it("answers an unknown id with kind api, status 404", function()
      local s, msg, err = client.sessions:get("T12345678.doesnotexist")
      assert.is_nil(s)
      assert.equals("api", err.kind)
      assert.equals(404, err.status)
      assert.equals("NOT_FOUND", err.code)
      assert.matches("^api: HTTP 404", msg)
    end)
  end)

  describe("update", function()
    local function new_order()
      return h.order(15000, "order-1")
    end

    it("refuses an unlocked session on the server (409 SESSION_NOT_LOCKED)", function()
      local s = h.session(client)
      local ok, _, err = client.sessions:update(s.id, { order = new_order() })
      assert.is_nil(ok)
      assert.equals(409, err.status)
      assert.equals("SESSION_NOT_LOCKED", err.code)
    end)

    it("updates with update_without_lock given in args or in opts (a query flag, not a body field)", function()
      local s = h.session(client)
      local got = assert(client.sessions:update(s.id, { order = new_order(), update_without_lock = true }))
      assert.equals(15000, got.order.amount)
      local r = h.last_request("^/v1/sessions/", "PUT")
      assert.equals("update_without_lock=true", r.query)
      assert.is_nil(h.body_of(r).update_without_lock)
      got = assert(client.sessions:update(s.id, { order = h.order(14000) },
        { update_without_lock = true, force_shipping_address_callback = true }))
      assert.equals(14000, got.order.amount)
      assert.equals("force_shipping_address_callback=true&update_without_lock=true",
        h.last_request("^/v1/sessions/", "PUT").query)
    end)

    it("updates a locked session and sends remove_lock / express in the body", function()
      local s = h.session(client)
      mock.lock(s.id)
      local got = assert(client.sessions:update(s.id, { order = new_order(), remove_lock = false }))
      assert.equals(15000, got.order.amount)
      assert.equals(false, h.body_of(h.last_request("^/v1/sessions/", "PUT")).remove_lock)
      -- still locked (remove_lock = false): a second update needs no flag
      assert(client.sessions:update(s.id, { order = h.order(100) }))
    end)

    it("needs an order", function()
      local s = h.session(client)
      local ok, msg, err = client.sessions:update(s.id, { remove_lock = true })
      assert.is_nil(ok)
      assert.equals("validation", err.kind)
      assert.equals("order", err.field)
      assert.matches("^validation: order: ", msg)
    end)
  end)

  describe("cancel", function()
    it("cancels an unpaid session", function()
      local s = h.session(client)
      local got = assert(client.sessions:cancel(s.id))
      assert.truthy(dintero.null ~= got.cancelled_at and got.cancelled_at)
      assert.truthy(h.last_request("^/v1/sessions/.*/cancel$", "POST"))
    end)

    it("voids the AUTHORIZED transaction of a paid session", function()
      local tx, s = h.authorized(client, 5000)
      assert(client.sessions:cancel(s.id))
      assert(tx:refresh())
      assert.equals("AUTHORIZATION_VOIDED", tx.status)
    end)

    it("is refused for a captured transaction (server-side)", function()
      local tx, s = h.authorized(client, 5000)
      assert(tx:capture())
      local ok, _, err = client.sessions:cancel(s.id)
      assert.is_nil(ok)
      assert.equals(400, err.status)
      assert.equals("INVALID_TRANSACTION_STATE", err.code)
    end)
  end)

  describe("create_payment_token", function()
    it("creates a payment-token session; the token is read from the transaction", function()
      local body = h.session_body()
      body.profile_id = nil
      local s = assert(client.sessions:create_payment_token({
        session = body, token_provider = { payment_product_type = "dintero_psp.creditcard" },
      }, { include_session = true }))
      assert.truthy(h.last_request("^/v1/sessions/payment%-token$", "POST"))
      assert.equals("include_session=true", h.last_request("^/v1/sessions/payment%-token$").query)
      assert.equals(29990, s.order.amount)
      mock.pay(s.id)
      local tx = assert(s:transaction { includes = { "card.payment_token" } })
      assert.matches("^mock_pt_", tx.card.payment_token)
    end)

    it("needs token_provider.payment_product_type", function()
      local ok, _, err = client.sessions:create_payment_token { session = h.session_body() }
      assert.is_nil(ok)
      assert.equals("token_provider", err.field)
    end)
  end)

  describe("pay (merchant-initiated)", function()
    local function pay_body(amount, reference)
      return {
        session = {
          order = h.order(amount, reference),
          customer = { customer_id = "c-1", tokens = { ["dintero_psp.creditcard"] = { payment_token = "tok-1" } } },
          url = { callback_url = "https://shop.example/callback" },
        },
        payment = { payment_product_type = "dintero_psp.creditcard", operation = "unscheduled_purchase" },
      }
    end

    it("returns the AUTHORIZED Transaction", function()
      local tx, meta = client.sessions:pay(pay_body(5000, "mit-1"))
      assert.truthy(tx, meta)
      assert.equals("AUTHORIZED", tx.status)
      assert.is_true(tx.success)
      assert.is_false(tx:failed())
      assert.is_nil(tx:payment_error())
      assert.is_false(tx:may_retry())
      assert.equals(5000, tx:capturable_amount())
      assert.matches("^dintero%.Transaction%(T12345678%.%S+ AUTHORIZED 5000 NOK%)$", tostring(tx))
    end)

    it("returns a declined payment (HTTP 200) as a FAILED Transaction with its retry policy", function()
      local tx, meta = client.sessions:pay(pay_body(1013, "mit-2"))
      assert.truthy(tx)
      assert.equals(200, meta.status)
      assert.equals("FAILED", tx.status)
      assert.is_true(tx:failed())
      assert.is_false(tx.success)
      local e = tx:payment_error()
      assert.equals("DECLINED", e.code)
      assert.equals("DO_NOT_RETRY", (tx:retry_policy()))
      assert.is_false(tx:may_retry())
      assert.equals(0, tx:capturable_amount())
    end)

    it("sends feature toggles comma-separated in Dintero-Feature-Toggles", function()
      assert(client.sessions:pay(pay_body(5000, "mit-3"),
        { feature_toggles = { "strict-merchant-reference", "strict-session-amounts" } }))
      local r = h.last_request("^/v1/sessions/pay$", "POST")
      assert.equals("strict-merchant-reference,strict-session-amounts", r.headers["dintero-feature-toggles"])
      local ok, _, err = client.sessions:pay(pay_body(5000, "mit-3"), { feature_toggles = { "strict-merchant-reference" } })
      assert.is_nil(ok)
      assert.equals("api", err.kind)
      assert.equals(400, err.status)
      assert.equals("DUPLICATE_MERCHANT_REFERENCE", err.code)
    end)

    it("needs payment.payment_product_type", function()
      local body = pay_body(5000, "mit-4")
      body.payment = nil
      local ok, _, err = client.sessions:pay(body)
      assert.is_nil(ok)
      assert.equals("payment", err.field)
    end)
  end)
end)
