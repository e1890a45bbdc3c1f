-- client.transactions against the mock over real HTTP: get, list filters,
-- capture, refund, void, extend authorization, update, 202 Accepted, and the
-- error paths (unknown id, server-side validation, illegal state moves).
local mock = require "support.mock"
local h = require "support.api_helpers"

describe("client.transactions", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  describe("get", function()
    it("returns a Transaction with the decoded fields", function()
      local tx = h.authorized(client, 29990)
      local got, meta = client.transactions:get(tx.id)
      assert.truthy(got, meta)
      assert.equals(200, meta.status)
      assert.equals("AUTHORIZED", got.status)
      assert.equals(29990, got.amount)
      assert.equals("NOK", got.currency)
      assert.equals("table", type(got.events))
    end)

    it("sends includes as repeated query keys", function()
      local tx = h.authorized(client)
      local got = assert(client.transactions:get(tx.id, { includes = { "card.payment_token", "session" } }))
      assert.equals("includes=card.payment_token&includes=session", h.last_request("^/v1/transactions/", "GET").query)
      assert.matches("^mock_pt_", got.card.payment_token)
      assert.equals(tx.session_id, got.session.id)
    end)

    it("answers an unknown id with kind api, status 404", function()
      local tx, msg, err = client.transactions:get("T12345678.unknown")
      assert.is_nil(tx)
      assert.equals("api", err.kind)
      assert.equals(404, err.status)
      assert.equals("NOT_FOUND", err.code)
      assert.matches("^api: HTTP 404 NOT_FOUND: ", msg)
    end)
  end)

  describe("capture / refund / void", function()
    it("captures part and then the rest (namespace calls)", function()
      local tx = h.authorized(client, 10000)
      local got, meta = client.transactions:capture(tx.id, 4000)
      assert.truthy(got, meta)
      assert.equals("PARTIALLY_CAPTURED", got.status)
      assert.same({ amount = 4000 }, h.body_of(h.last_request("/capture$", "POST")))
      got = assert(client.transactions:capture(tx.id, { amount = 6000, capture_reference = "cap-2",
        items = { { line_id = "1", amount = 6000, quantity = 1 } } }))
      assert.equals("CAPTURED", got.status)
      local body = h.body_of(h.last_request("/capture$", "POST"))
      assert.equals("cap-2", body.capture_reference)
      assert.equals("1", body.items[1].line_id)
    end)

    it("refunds with a reason", function()
      local tx = h.authorized(client, 10000)
      assert(client.transactions:capture(tx.id, 10000))
      local got = assert(client.transactions:refund(tx.id, { amount = 2500, reason = "returned" }))
      assert.equals("PARTIALLY_REFUNDED", got.status)
      assert.same({ amount = 2500, reason = "returned" }, h.body_of(h.last_request("/refund$", "POST")))
    end)

    it("voids an authorization", function()
      local tx = h.authorized(client, 10000)
      local got = assert(client.transactions:void(tx.id))
      assert.equals("AUTHORIZATION_VOIDED", got.status)
      assert.truthy(h.last_request("/void$", "POST"))
    end)

    it("surfaces a server-side validation error with its code", function()
      local tx = h.authorized(client, 10000)
      -- line_id is not checked locally; the server refuses it
      local ok, msg, err = client.transactions:capture(tx.id, { amount = 1000, items = { { amount = 1000 } } })
      assert.is_nil(ok)
      assert.equals("api", err.kind)
      assert.equals(400, err.status)
      assert.equals("INVALID_REQUEST_PARAMETER", err.code)
      assert.matches("line_id", msg)
      assert.equals("table", type(err.body.error))
    end)

    it("refuses capture after void on the server (no local state at namespace level)", function()
      local tx = h.authorized(client, 10000)
      assert(client.transactions:void(tx.id))
      local ok, _, err = client.transactions:capture(tx.id, 1000)
      assert.is_nil(ok)
      assert.equals(400, err.status)
      assert.equals("INVALID_TRANSACTION_STATE", err.code)
    end)

    it("refuses a refund above the captured amount on the server too (bypassing the local check)", function()
      local tx = h.authorized(client, 10000)
      assert(tx:capture(3000))
      -- the object refuses locally ...
      local ok, _, err = tx:refund(5000)
      assert.is_nil(ok)
      assert.equals("validation", err.kind)
      -- ... and a raw request shows the server refuses it as well
      local body, _, rerr = client:request {
        method = "POST", host = "checkout", path = "/v1/transactions/{id}/refund",
        params = { id = tx.id }, body = { amount = 5000 }, class = "payment",
      }
      assert.is_nil(body)
      assert.equals(400, rerr.status)
      assert.equals("REFUND_AMOUNT_EXCEEDS_CAPTURED", rerr.code)
    end)
  end)

  describe("202 Accepted", function()
    it("fetches the transaction again and marks it pending", function()
      local tx = h.authorized(client, 10000)
      mock.fault { method = "POST", path = "/v1/transactions/*/capture", action = "async" }
      local got, meta = client.transactions:capture(tx.id, 4000)
      assert.truthy(got, meta)
      assert.is_true(meta.pending)
      assert.equals(202, meta.status)
      assert.is_true(got.pending)
      assert.equals("AUTHORIZED", got.status)          -- unchanged until completed
      assert.equals(6000, got:capturable_amount())     -- the pending capture is not capturable again
      assert.truthy(h.last_request("^/v1/transactions/[^/]+$", "GET"))
      mock.post("/_mock/transactions/" .. tx.id .. "/complete")
      assert(got:refresh())
      assert.equals("PARTIALLY_CAPTURED", got.status)
      assert.is_nil(got.pending)
      assert.equals(4000, got:captured_amount())
    end)
  end)

  describe("extend_authorization", function()
    it("extends (no amount) and updates the amount", function()
      local tx = h.authorized(client, 10000)
      local got = assert(client.transactions:extend_authorization(tx.id, { reason = "late delivery", reference = "x" }))
      assert.equals("EXTEND_AUTHORIZATION", got.events[#got.events].event)
      assert.truthy(h.last_request("/authorization$", "POST"))
      got = assert(client.transactions:extend_authorization(tx.id, { amount = 12000 }))
      assert.equals(12000, got.amount)
      got = assert(client.transactions:extend_authorization(tx.id))
      assert.equals("AUTHORIZED", got.status)
    end)
  end)

  describe("update", function()
    it("sets merchant_reference_2 (PUT), from a string or a table", function()
      local tx = h.authorized(client)
      local got = assert(client.transactions:update(tx.id, "ref-2"))
      assert.equals("ref-2", got.merchant_reference_2)
      assert.same({ merchant_reference_2 = "ref-2" }, h.body_of(h.last_request("^/v1/transactions/", "PUT")))
      got = assert(client.transactions:update(tx.id, { merchant_reference_2 = "ref-3" }))
      assert.equals("ref-3", got.merchant_reference_2)
    end)
  end)

  describe("list filters", function()
    it("encodes every filter of the API, list values repeating the key", function()
      local items = client.transactions:list({
        id = { "T12345678.a", "T12345678.b" }, limit = 5, starting_after = "T12345678.z",
        status = { "AUTHORIZED", "CAPTURED" }, payment_product = { "dintero_psp" },
        payment_product_type = { "dintero_psp.creditcard" }, card_brand = { "Visa" },
        merchant_reference = "m1", merchant_reference_2 = "m2", session_id = { "T12345678.s" },
        store_id = { "st" }, payout_correlation_id = { "pc" }, currency = { "NOK", "SEK" }, amount = 100,
        ["amount.gte"] = 1, ["amount.lte"] = 1000, ["created_at.gte"] = "2026-01-01",
        ["created_at.lte"] = "2026-12-31", ["captured_at.gte"] = "2026-01-01", ["captured_at.lte"] = "2026-12-31",
        ["refunded_at.gte"] = "2026-01-01", ["refunded_at.lte"] = "2026-12-31", search = "first last",
        payment_operation = "unscheduled_purchase", customer_id = "c1", includes = { "events.success.true" },
        payout_destination_id = "seller-a", token_id = { "t1" }, terminal_id = "term", channel = "ecommerce",
      })
      assert.is_nil(items) -- the mock does not know starting_after T12345678.z
      local q = h.last_request("^/v1/transactions$", "GET").query
      for _, part in ipairs {
        "id=T12345678.a&id=T12345678.b", "limit=5", "starting_after=T12345678.z", "status=AUTHORIZED&status=CAPTURED",
        "payment_product=dintero_psp", "payment_product_type=dintero_psp.creditcard", "card_brand=Visa",
        "merchant_reference=m1", "merchant_reference_2=m2", "session_id=T12345678.s", "store_id=st",
        "payout_correlation_id=pc", "currency=NOK&currency=SEK", "amount=100", "amount.gte=1", "amount.lte=1000",
        "created_at.gte=2026-01-01", "created_at.lte=2026-12-31", "captured_at.gte=2026-01-01",
        "captured_at.lte=2026-12-31", "refunded_at.gte=2026-01-01", "refunded_at.lte=2026-12-31",
        "search=first%20last", "payment_operation=unscheduled_purchase", "customer_id=c1",
        "includes=events.success.true", "payout_destination_id=seller-a", "token_id=t1", "terminal_id=term",
        "channel=ecommerce",
      } do
        assert.truthy(q:find(part, 1, true), part .. " missing in " .. q)
      end
    end)

    it("filters by status and amount on the server", function()
      local a = h.authorized(client, 1000)
      local b = h.authorized(client, 2000)
      assert(b:capture())
      local items = assert(client.transactions:list { status = { "CAPTURED" } })
      assert.equals(1, #items)
      assert.equals(b.id, items[1].id)
      items = assert(client.transactions:list { ["amount.lte"] = 1500 })
      assert.equals(1, #items)
      assert.equals(a.id, items[1].id)
    end)
  end)
end)
