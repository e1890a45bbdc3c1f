-- Session and Transaction objects: fields, methods that cannot be shadowed,
-- tostring, raw(), in-place refresh, amounts computed from events, and the
-- object methods against the mock.
local dintero = require "dintero"
local mock = require "support.mock"
local h = require "support.api_helpers"
local Transaction = require "dintero.objects.transaction"
local Session = require "dintero.objects.session"

local function count(pattern, method)
  local n = 0
  for _, r in ipairs(mock.requests()) do
    if r.path:find(pattern) and (not method or r.method == method) then n = n + 1 end
  end
  return n
end

describe("Transaction object", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  describe("fields and methods", function()
    local data = {
      id = "T12345678.abc", status = "AUTHORIZED", amount = 29990, currency = "NOK",
      capture = "a field named like a method", refund = 5, raw = "x",
      events = {
        { event = "AUTHORIZE", success = true, amount = 29990 },
      },
    }

    it("reads decoded fields directly", function()
      local tx = Transaction.new(client, data)
      assert.equals("AUTHORIZED", tx.status)
      assert.equals(29990, tx.amount)
    end)

    it("never lets a field shadow a method; the field stays in raw()", function()
      local tx = Transaction.new(client, data)
      assert.equals("function", type(tx.capture))
      assert.equals("function", type(tx.refund))
      assert.equals("function", type(tx.raw))
      assert.equals(data, tx:raw())
      assert.equals("a field named like a method", tx:raw().capture)
    end)

    it("keeps pairs() to the API's fields (no client, no functions)", function()
      local tx = Transaction.new(client, data)
      for k, v in pairs(tx) do
        assert.is_not.equals("function", type(v))
        assert.is_nil(({ capture = 1, refund = 1, raw = 1, _client = 1, _raw = 1 })[k])
      end
      local decoded = dintero.json.decode(dintero.json.encode(tx))
      assert.equals("T12345678.abc", decoded.id)
    end)

    it("shows type, id, status and amount in tostring", function()
      local tx = Transaction.new(client, data)
      assert.equals("dintero.Transaction(T12345678.abc AUTHORIZED 29990 NOK)", tostring(tx))
    end)

    it("raises when a method is called with '.'", function()
      local tx = Transaction.new(client, data)
      assert.has_error(function() tx.capture(1000) end)
      assert.has_error(function() tx.refresh() end)
    end)
  end)

  describe("amounts from events", function()
    local function tx_with(status, amount, events)
      return Transaction.new(client, { id = "T12345678.x", status = status, amount = amount, currency = "NOK",
        events = events })
    end

    it("sums successful CAPTURE and REFUND events only", function()
      local tx = tx_with("PARTIALLY_CAPTURED_REFUNDED", 10000, {
        { event = "AUTHORIZE", success = true, amount = 10000 },
        { event = "CAPTURE", success = true, amount = 3000 },
        { event = "CAPTURE", success = false, amount = 7000 },
        { event = "CAPTURE", success = true, amount = 2000 },
        { event = "REFUND", success = true, amount = 1000 },
        { event = "REFUND", success = false, amount = 4000 },
      })
      assert.equals(5000, tx:captured_amount())
      assert.equals(1000, tx:refunded_amount())
      assert.equals(5000, tx:capturable_amount())
      assert.equals(4000, tx:refundable_amount())
    end)

    it("counts nothing capturable or refundable in final states", function()
      for _, st in ipairs { "AUTHORIZATION_VOIDED", "REFUNDED", "FAILED", "DECLINED", "INITIATED", "ON_HOLD" } do
        local tx = tx_with(st, 10000, { { event = "CAPTURE", success = true, amount = 10000 } })
        assert.equals(0, tx:capturable_amount(), st)
      end
      assert.equals(0, tx_with("AUTHORIZED", 10000, {}):refundable_amount())
    end)

    it("leaves out voided amounts and pending (202) captures", function()
      local tx = tx_with("PARTIALLY_CAPTURED", 10000, {
        { event = "CAPTURE", success = true, amount = 2000 },
        { event = "INITIATE_CAPTURE", success = true, amount = 3000, request_id = "r1" },
        { event = "INITIATE_CAPTURE", success = true, amount = 1000, request_id = "r2" },
        { event = "CAPTURE", success = true, amount = 1000, correlation_request_id = "r2" },
      })
      assert.equals(3000, tx:captured_amount())
      assert.equals(4000, tx:capturable_amount())
    end)

    it("keeps amounts integers", function()
      local tx = tx_with("CAPTURED", 10000, { { event = "CAPTURE", success = true, amount = 10000 } })
      if math.type then assert.equals("integer", math.type(tx:refundable_amount())) end
    end)
  end)

  describe("methods against the mock", function()
    it("capture() with no amount captures what remains; refreshes in place and returns the object", function()
      local tx = h.authorized(client, 10000)
      local same, meta = tx:capture(2500)
      assert.equals(tx, same)
      assert.equals(200, meta.status)
      assert.equals("PARTIALLY_CAPTURED", tx.status)
      assert.equals(2500, tx:captured_amount())
      assert.equals(7500, tx:capturable_amount())
      assert(tx:capture())
      assert.same({ amount = 7500 }, h.body_of(h.last_request("/capture$", "POST")))
      assert.equals("CAPTURED", tx.status)
      assert.equals(0, tx:capturable_amount())
      assert.equals(10000, tx:refundable_amount())
    end)

    it("capture{items=} takes the amount from the items", function()
      local tx = h.authorized(client, 10000)
      assert(tx:capture { items = { { line_id = "1", amount = 4000, quantity = 1 } }, capture_reference = "c1" })
      local body = h.body_of(h.last_request("/capture$", "POST"))
      assert.equals(4000, body.amount)
      assert.equals("c1", body.capture_reference)
      assert.equals(4000, tx:captured_amount())
    end)

    it("refuses a capture above what is capturable locally: nothing is sent", function()
      local tx = h.authorized(client, 10000)
      assert(tx:capture(6000))
      local before = count("/capture$", "POST")
      local ok, msg, err = tx:capture(5000)
      assert.is_nil(ok)
      assert.equals("validation", err.kind)
      assert.equals("amount", err.field)
      assert.equals("CAPTURE_AMOUNT_EXCEEDS_LEFT", err.code)
      assert.matches("^validation: amount: 5000 exceeds the capturable amount 4000", msg)
      assert.equals(before, count("/capture$", "POST"))
    end)

    it("refuses capture after void locally", function()
      local tx = h.authorized(client, 10000)
      assert(tx:void())
      assert.equals("AUTHORIZATION_VOIDED", tx.status)
      local ok, msg, err = tx:capture()
      assert.is_nil(ok)
      assert.equals("validation", err.kind)
      assert.matches("nothing left to capture", msg)
      assert.equals(0, count("/capture$", "POST"))
    end)

    it("refund needs an explicit amount and stays within what was captured", function()
      local tx = h.authorized(client, 10000)
      assert.has_error(function() tx:refund() end)
      assert(tx:capture(6000))
      local ok, _, err = tx:refund(7000)
      assert.is_nil(ok)
      assert.equals("REFUND_AMOUNT_EXCEEDS_LEFT", err.code)
      ok, _, err = tx:refund { reason = "no amount" }
      assert.is_nil(ok)
      assert.equals("amount", err.field)
      assert(tx:refund { amount = 1000, reason = "returned" })
      assert.equals("PARTIALLY_CAPTURED_REFUNDED", tx.status)
      assert.equals(5000, tx:refundable_amount())
    end)

    it("extend_authorization, update and refresh", function()
      local tx = h.authorized(client, 10000)
      assert(tx:extend_authorization { reason = "waiting for stock" })
      assert.equals("EXTEND_AUTHORIZATION", tx.events[#tx.events].event)
      assert(tx:update "ref-2")
      assert.equals("ref-2", tx.merchant_reference_2)
      assert(tx:update { merchant_reference_2 = "ref-3" })
      assert.equals("ref-3", tx.merchant_reference_2)
      -- changed behind the object's back, then refreshed in place
      assert(client.transactions:capture(tx.id, 1000))
      assert.equals("AUTHORIZED", tx.status)
      local same = assert(tx:refresh { includes = { "session" } })
      assert.equals(tx, same)
      assert.equals("PARTIALLY_CAPTURED", tx.status)
      assert.equals(tx.session_id, tx.session.id)
    end)

    it("marks a 202 capture pending and refreshes it by GET", function()
      local tx = h.authorized(client, 10000)
      mock.fault { method = "POST", path = "/v1/transactions/*/capture", action = "async" }
      local same, meta = tx:capture(3000)
      assert.equals(tx, same)
      assert.is_true(meta.pending)
      assert.is_true(tx.pending)
      assert.matches(" pending%)$", tostring(tx))
      assert.equals(7000, tx:capturable_amount())
      mock.post("/_mock/transactions/" .. tx.id .. "/complete")
      assert(tx:refresh())
      assert.is_nil(tx.pending)
      assert.equals(3000, tx:captured_amount())
    end)

    it("returns the fail triple from the server unchanged", function()
      local tx = Transaction.new(client, { id = "T12345678.gone", status = "AUTHORIZED", amount = 100, events = {} })
      local ok, _, err = tx:capture(100)
      assert.is_nil(ok)
      assert.equals(404, err.status)
      ok, _, err = tx:refresh()
      assert.is_nil(ok)
      assert.equals("api", err.kind)
    end)
  end)
end)

describe("Session object", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("refresh replaces the fields in place and keeps checkout_url", function()
    local s = h.session(client)
    local page = s.checkout_url
    assert.equals("string", type(page))
    local same, meta = s:refresh()
    assert.equals(s, same)
    assert.equals(200, meta.status)
    assert.equals(page, s.checkout_url)
    assert.equals("table", type(s.url))
    assert.equals(29990, s.order.amount)
    assert.matches("^dintero%.Session%(T12345678%.%S+ 29990 NOK%)$", tostring(s))
  end)

  it("update and cancel act on the object", function()
    local s = h.session(client)
    assert(s:update({ order = h.order(12000) }, { update_without_lock = true }))
    assert.equals(12000, s.order.amount)
    assert(s:cancel())
    assert.truthy(s.cancelled_at)
    assert.matches(" cancelled%)$", tostring(s))
  end)

  it("transaction() fetches the session's transaction, or says it has none", function()
    local s = h.session(client)
    local none, msg, err = s:transaction()
    assert.is_nil(none)
    assert.equals("validation", err.kind)
    assert.equals("NO_TRANSACTION", err.code)
    assert.matches("no transaction", msg)
    mock.pay(s.id)
    local tx = assert(s:transaction())
    assert.is_true(Transaction.is(tx))
    assert.equals("AUTHORIZED", tx.status)
    assert.equals(tx.id, s.transaction_id)
  end)

  it("never lets a field shadow a method", function()
    local s = Session.new(client, { id = "T12345678.s", update = 1, cancel = 2, transaction = "x" })
    assert.equals("function", type(s.update))
    assert.equals("function", type(s.transaction))
    assert.equals("x", s:raw().transaction)
  end)
end)
