-- Mock transactions: the simulated payment, the state machine of capture, refund,
-- void and authorization, update, get with includes, and list filters and paging.
local mock = require "support.mock"

local function new_session(amount, extra)
  local body = {
    profile_id = "T12345678.profile",
    url = { return_url = "https://shop.example/return" },
    order = { amount = amount or 1000, currency = "NOK", merchant_reference = "ref-" .. (amount or 1000),
              items = { { id = "sku", line_id = "1", amount = amount or 1000, quantity = 1 } } },
  }
  for k, v in pairs(extra or {}) do body[k] = v end
  local status, res = mock.authed("POST", "/v1/sessions-profile", body)
  assert.equal(200, status)
  return res.id
end

local function paid(amount, outcome, ptype)
  return mock.pay(new_session(amount), outcome, ptype)
end

local function op(tx, name, body)
  return mock.authed("POST", "/v1/transactions/" .. tx.id .. "/" .. name, body)
end

describe("mock transactions", function()
  before_each(function() mock.reset() end)

  describe("the simulated payment", function()
    it("creates an AUTHORIZED transaction from the session", function()
      local sid = new_session(1000)
      local tx = mock.pay(sid, "authorized", "dintero_psp.creditcard")
      assert.truthy(tx.id:find("^T12345678%."))
      assert.equal("AUTHORIZED", tx.status)
      assert.equal(1000, tx.amount)
      assert.equal("NOK", tx.currency)
      assert.equal("ref-1000", tx.merchant_reference)
      assert.equal(sid, tx.session_id)
      assert.equal("dintero_psp", tx.payment_product)
      assert.equal("Visa", tx.card.brand)
      assert.equal("1", tx.items[1].line_id)
      assert.equal("INITIALIZE", tx.events[1].event)
      assert.equal("AUTHORIZE", tx.events[2].event)
      local _, s = mock.authed("GET", "/v1/sessions/" .. sid)
      assert.equal(tx.id, s.transaction_id)
    end)

    it("derives payment_product from the type and has no card block for wallets", function()
      local tx = paid(1000, "authorized", "vipps")
      assert.equal("vipps", tx.payment_product)
      assert.is_nil(tx.card)
    end)

    it("declines and puts on hold", function()
      local tx = paid(1000, "declined")
      assert.equal("FAILED", tx.status)
      assert.same({ "DO_NOT_RETRY" }, tx.events[2].error.retry_policy.retry_codes)
      tx = paid(1000, "on_hold")
      assert.equal("ON_HOLD", tx.status)
    end)

    it("refuses a second payment, unknown sessions and bad outcomes", function()
      local sid = new_session(1000)
      mock.pay(sid)
      assert.equal(409, (mock.post("/_mock/sessions/" .. sid .. "/pay", {})))
      assert.equal(404, (mock.post("/_mock/sessions/T12345678.nope/pay", {})))
      assert.equal(400, (mock.post("/_mock/sessions/" .. new_session(5) .. "/pay", { outcome = "maybe" })))
    end)
  end)

  describe("capture", function()
    it("captures partially then fully", function()
      local tx = paid(1000)
      local status, body = op(tx, "capture", { amount = 400 })
      assert.equal(200, status)
      assert.equal("PARTIALLY_CAPTURED", body.status)
      local ev = body.events[#body.events]
      assert.equal("CAPTURE", ev.event)
      assert.equal(400, ev.amount)
      assert.is_true(ev.success)
      assert.equal("PARTIALLY_CAPTURED", ev.transaction_status)
      assert.is_string(ev.request_id)
      assert.is_string(ev.created_at)
      status, body = op(tx, "capture", { amount = 600, items = { { line_id = "1", amount = 600, quantity = 1 } } })
      assert.equal(200, status)
      assert.equal("CAPTURED", body.status)
      assert.equal("1", body.events[#body.events].items[1].line_id)
    end)

    it("links the event request_id to the response request-id header", function()
      local tx = paid(1000)
      local _, body, headers = op(tx, "capture", { amount = 1000 })
      assert.equal(headers["request-id"], body.events[#body.events].request_id)
    end)

    it("refuses over-capture, bad amounts and item sums that do not match", function()
      local tx = paid(1000)
      local status, body = op(tx, "capture", { amount = 1001 })
      assert.equal(400, status)
      assert.equal("CAPTURE_AMOUNT_EXCEEDS_AUTHORIZED", body.error.code)
      for _, b in ipairs { {}, { amount = 0 }, { amount = 10.5 }, { amount = "10" },
                           { amount = 10, items = { { line_id = "1", amount = 9 } } } } do
        status, body = op(tx, "capture", b)
        assert.equal(400, status)
        assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
      end
    end)

    it("refuses to capture a voided or failed transaction", function()
      local tx = paid(1000)
      op(tx, "void")
      local status, body = op(tx, "capture", { amount = 100 })
      assert.equal(400, status)
      assert.equal("INVALID_TRANSACTION_STATE", body.error.code)
      assert.truthy(body.error.message:find("AUTHORIZATION_VOIDED", 1, true))
      assert.equal(400, (op(paid(1000, "declined"), "capture", { amount = 100 })))
    end)
  end)

  describe("refund", function()
    it("refunds partially then fully", function()
      local tx = paid(1000)
      op(tx, "capture", { amount = 1000 })
      local _, body = op(tx, "refund", { amount = 300, reason = "broken" })
      assert.equal("PARTIALLY_REFUNDED", body.status)
      _, body = op(tx, "refund", { amount = 700 })
      assert.equal("REFUNDED", body.status)
      assert.equal("REFUND", body.events[#body.events].event)
    end)

    it("gives PARTIALLY_CAPTURED_REFUNDED after a partial capture", function()
      local tx = paid(1000)
      op(tx, "capture", { amount = 500 })
      local _, body = op(tx, "refund", { amount = 200 })
      assert.equal("PARTIALLY_CAPTURED_REFUNDED", body.status)
      _, body = op(tx, "capture", { amount = 500 })
      assert.equal("PARTIALLY_REFUNDED", body.status)
    end)

    it("refuses over-refund and refunds of uncaptured transactions", function()
      local tx = paid(1000)
      local status, body = op(tx, "refund", { amount = 100 })
      assert.equal(400, status)
      assert.equal("INVALID_TRANSACTION_STATE", body.error.code)
      op(tx, "capture", { amount = 500 })
      status, body = op(tx, "refund", { amount = 501 })
      assert.equal(400, status)
      assert.equal("REFUND_AMOUNT_EXCEEDS_CAPTURED", body.error.code)
    end)
  end)

  describe("void", function()
    it("voids an authorized transaction", function()
      local tx = paid(1000)
      local status, body = op(tx, "void")
      assert.equal(200, status)
      assert.equal("AUTHORIZATION_VOIDED", body.status)
      assert.equal("VOID", body.events[#body.events].event)
      assert.equal(400, (op(tx, "void")))
    end)

    it("releases the rest after a partial capture", function()
      local tx = paid(1000)
      op(tx, "capture", { amount = 400 })
      local _, body = op(tx, "void")
      assert.equal("CAPTURED", body.status)
      assert.equal(600, body.events[#body.events].amount)
      assert.equal(400, (op(tx, "capture", { amount = 1 })))
      _, body = op(tx, "refund", { amount = 400 })
      assert.equal("REFUNDED", body.status)
    end)

    it("refuses to void a captured transaction", function()
      local tx = paid(1000)
      op(tx, "capture", { amount = 1000 })
      local status, body = op(tx, "void")
      assert.equal(400, status)
      assert.equal("INVALID_TRANSACTION_STATE", body.error.code)
    end)
  end)

  describe("authorization", function()
    it("extends an authorized transaction", function()
      local tx = paid(1000)
      local status, body = op(tx, "authorization", { reason = "more time" })
      assert.equal(200, status)
      assert.equal("AUTHORIZED", body.status)
      assert.equal("EXTEND_AUTHORIZATION", body.events[#body.events].event)
    end)

    it("updates the authorized amount", function()
      local tx = paid(1000)
      local _, body = op(tx, "authorization", { amount = 1500 })
      assert.equal(1500, body.amount)
      assert.equal(200, (op(tx, "capture", { amount = 1500 })))
    end)

    it("authorizes an ON_HOLD transaction", function()
      local tx = paid(1000, "on_hold", "dintero.external")
      local _, body = op(tx, "authorization", {})
      assert.equal("AUTHORIZED", body.status)
    end)

    it("is refused for a captured transaction", function()
      local tx = paid(1000)
      op(tx, "capture", { amount = 1000 })
      assert.equal(400, (op(tx, "authorization", {})))
    end)
  end)

  it("updates merchant_reference_2", function()
    local tx = paid(1000)
    local status, body = mock.authed("PUT", "/v1/transactions/" .. tx.id, { merchant_reference_2 = "inv-9" })
    assert.equal(200, status)
    assert.equal("inv-9", body.merchant_reference_2)
    assert.equal(400, (mock.authed("PUT", "/v1/transactions/" .. tx.id, { other = 1 })))
  end)

  it("gets a transaction with includes and 404s unknown ids", function()
    local tx = paid(1000)
    local status, body = mock.authed("GET", "/v1/transactions/" .. tx.id .. "?includes=session")
    assert.equal(200, status)
    assert.equal(tx.session_id, body.session.id)
    status, body = mock.authed("GET", "/v1/transactions/" .. tx.id)
    assert.equal(200, status)
    assert.is_nil(body.session)
    assert.is_nil(body.card.payment_token)
    status, body = mock.authed("GET", "/v1/transactions/" .. tx.id ..
      "?includes=card.payment_token&includes=card.recurrence_token")
    assert.equal(200, status)
    assert.is_string(body.card.payment_token)
    assert.is_string(body.card.recurrence_token)
    assert.equal(404, (mock.authed("GET", "/v1/transactions/T12345678.nope")))
  end)

  it("answers 202 with event-request-id under the async fault, completed later", function()
    local tx = paid(1000)
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", action = "async" }
    local status, body, headers = op(tx, "capture", { amount = 1000 })
    assert.equal(202, status)
    assert.is_string(headers["event-request-id"])
    assert.equal("AUTHORIZED", body.status)
    assert.equal("INITIATE_CAPTURE", body.events[#body.events].event)
    local _, done = mock.post("/_mock/transactions/" .. tx.id .. "/complete", {})
    assert.equal("CAPTURED", done.transaction.status)
    assert.equal(headers["event-request-id"], done.events[1].correlation_request_id)
  end)

  describe("list", function()
    local ids
    before_each(function()
      ids = {}
      for i = 1, 12 do
        ids[i] = paid(100 * i, "authorized", i % 2 == 0 and "vipps" or "dintero_psp.creditcard").id
      end
    end)

    it("returns a bare array, newest first, 10 by default", function()
      local status, list = mock.authed("GET", "/v1/transactions")
      assert.equal(200, status)
      assert.equal(10, #list)
      assert.equal(ids[12], list[1].id)
      assert.equal(ids[3], list[10].id)
    end)

    it("pages with limit and starting_after until a short page", function()
      local seen, after = {}, nil
      repeat
        local _, page = mock.authed("GET", "/v1/transactions?limit=5" ..
          (after and ("&starting_after=" .. after) or ""))
        for _, t in ipairs(page) do seen[#seen + 1] = t.id end
        after = page[#page] and page[#page].id
      until #page < 5
      assert.equal(12, #seen)
      assert.equal(ids[1], seen[12])
    end)

    it("validates limit and starting_after", function()
      for _, q in ipairs { "limit=0", "limit=101", "limit=x", "starting_after=T12345678.nope",
                           "amount.gte=abc", "created_at.gte=yesterday" } do
        local status, body = mock.authed("GET", "/v1/transactions?" .. q)
        assert.equal(400, status, q)
        assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
      end
      local _, list = mock.authed("GET", "/v1/transactions?limit=100")
      assert.equal(12, #list)
    end)

    it("filters by status (repeated = OR), amount ranges and payment type", function()
      local t1 = { id = ids[1] }
      op(t1, "capture", { amount = 100 })
      op({ id = ids[2] }, "void")
      local _, list = mock.authed("GET", "/v1/transactions?status=CAPTURED")
      assert.equal(1, #list)
      assert.equal(ids[1], list[1].id)
      _, list = mock.authed("GET", "/v1/transactions?status=CAPTURED&status=AUTHORIZATION_VOIDED")
      assert.equal(2, #list)
      _, list = mock.authed("GET", "/v1/transactions?amount.gte=500&amount.lte=700&limit=100")
      assert.equal(3, #list)
      _, list = mock.authed("GET", "/v1/transactions?amount=1200")
      assert.equal(ids[12], list[1].id)
      _, list = mock.authed("GET", "/v1/transactions?payment_product_type=vipps&limit=100")
      assert.equal(6, #list)
      _, list = mock.authed("GET", "/v1/transactions?payment_product=dintero_psp&currency=NOK&limit=100")
      assert.equal(6, #list)
      _, list = mock.authed("GET", "/v1/transactions?id=" .. ids[4] .. "&id=" .. ids[5])
      assert.equal(2, #list)
    end)

    it("filters by merchant reference, session, search and dates", function()
      local _, list = mock.authed("GET", "/v1/transactions?merchant_reference=ref-300")
      assert.equal(1, #list)
      _, list = mock.authed("GET", "/v1/transactions?session_id=" .. list[1].session_id)
      assert.equal(1, #list)
      _, list = mock.authed("GET", "/v1/transactions?search=REF-40")
      assert.equal(1, #list)
      _, list = mock.authed("GET",
        "/v1/transactions?created_at.gte=2000-01-01&created_at.lte=2999-01-01T00:00:00Z&limit=100")
      assert.equal(12, #list)
      _, list = mock.authed("GET", "/v1/transactions?created_at.lte=2000-01-01")
      assert.equal(0, #list)
      op({ id = ids[7] }, "capture", { amount = 700 })
      _, list = mock.authed("GET", "/v1/transactions?captured_at.gte=2000-01-01")
      assert.equal(1, #list)
      _, list = mock.authed("GET", "/v1/transactions?refunded_at.gte=2000-01-01")
      assert.equal(0, #list)
    end)
  end)
end)
