-- Local checks (validate.lua): every refusal returns the fail triple with kind
-- "validation" and err.field naming the field, and nothing reaches the
-- server. Misuse (wrong argument types, missing ids, unknown options) raises.
local dintero = require "dintero"
local mock = require "support.mock"
local h = require "support.api_helpers"
local order = require "dintero.order"

-- Requests the mock saw other than token calls.
local function sent()
  local n = 0
  for _, r in ipairs(mock.requests()) do
    if not r.path:find "/auth/token$" then n = n + 1 end
  end
  return n
end

local function refused(field, ok, msg, err)
  assert.is_nil(ok)
  assert.equals("table", type(err), msg)
  assert.equals("validation", err.kind)
  assert.equals(field, err.field)
  assert.is_false(err.retryable)
  assert.equals("validation: " .. field .. ": ", msg:sub(1, #field + 14))
  assert.equals(msg, tostring(err))
  assert.equals(0, sent())
end

describe("local validation", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  local function body_with(mutate)
    local b = h.session_body()
    mutate(b)
    return b
  end

  describe("amounts", function()
    it("refuses fractional, negative and string amounts, naming the field", function()
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = 99.5 end)))
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = -1 end)))
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = "100" end)))
      refused("order.items[1].amount", client.sessions:create(body_with(function(b) b.order.items[1].amount = 1.5 end)))
      refused("order.vat_amount", client.sessions:create(body_with(function(b) b.order.vat_amount = 0.5 end)))
      refused("order.shipping_option.amount", client.sessions:create(body_with(function(b)
        b.order.shipping_option = { id = "s", line_id = "s", amount = 9.9, title = "Post", operator = "Bring" }
      end)))
    end)

    it("refuses an integral float on Lua 5.3+ (100.0 is not an integer there)", function()
      if not math.type then return end -- 5.1 / LuaJIT have no integer subtype
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = 29990.0 end)))
    end)

    it("refuses amounts above 2^53 - 1 on every Lua, where a double can no longer hold each integer", function()
      local big = math.type and math.tointeger(2 ^ 53) or 2 ^ 53
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = big end)))
      local tx = h.authorized(client, 10000)
      mock.reset()
      refused("amount", client.transactions:capture(tx.id, big))
      assert.equal(0, #mock.requests())
    end)

    it("refuses a fractional capture or refund amount", function()
      local tx = h.authorized(client, 10000)
      mock.reset()
      refused("amount", client.transactions:capture(tx.id, 99.5))
      refused("amount", tx:capture(10.25))
      refused("amount", client.transactions:refund(tx.id, { amount = -5 }))
      refused("items[1].amount", client.transactions:capture(tx.id, { amount = 5, items = { { line_id = "1", amount = 0.5 } } }))
    end)
  end)

  describe("currency and required fields", function()
    it("wants three capital letters", function()
      for _, c in ipairs { "nok", "NO", "NOKK", 578 } do
        refused("order.currency", client.sessions:create(body_with(function(b) b.order.currency = c end)))
      end
    end)

    it("names missing required fields", function()
      refused("order.merchant_reference", client.sessions:create(body_with(function(b) b.order.merchant_reference = nil end)))
      refused("order", client.sessions:create(body_with(function(b) b.order = nil end)))
      refused("url.return_url", client.sessions:create(body_with(function(b) b.url.return_url = nil end)))
      refused("url.return_url", client.sessions:create(body_with(function(b) b.url = nil end)))
      refused("order.amount", client.sessions:create(body_with(function(b) b.order.amount = nil end)))
    end)

    it("checks fund transfers (fund_transfer_id is required: it makes retries safe)", function()
      local base = { fund_transfer_id = "ft-1", source_payout_destination_id = "seller-a",
        destination_payout_destination_id = "seller-b", amount = 100, currency = "NOK", reference = "r" }
      local function with(k, v)
        local t = {}
        for key, val in pairs(base) do t[key] = val end
        t[k] = v
        return t
      end
      refused("fund_transfer_id", client.payouts:fund_transfer(with("fund_transfer_id", nil)))
      refused("amount", client.payouts:fund_transfer(with("amount", 1.5)))
      refused("amount", client.payouts:fund_transfer(with("amount", 0)))
      refused("currency", client.payouts:fund_transfer(with("currency", "kr")))
      refused("reference", client.payouts:fund_transfer(with("reference", ("x"):rep(61))))
      refused("source_payout_destination_id", client.payouts:fund_transfer(with("source_payout_destination_id", nil)))
    end)
  end)

  describe("strict-session-amounts", function()
    local function mismatched(b) b.order.amount = b.order.amount + 1 end

    it("is checked locally when the toggle is on for the call", function()
      refused("order.amount", client.sessions:create(body_with(mismatched),
        { feature_toggles = { "strict-session-amounts" } }))
    end)

    it("is checked locally when the client enables it, and a call can switch it off", function()
      local strict = h.client { feature_toggles = { "strict-session-amounts" } }
      refused("order.amount", strict.sessions:create(body_with(mismatched)))
      local ok, _, err = strict.sessions:create(body_with(function(b) b.order.vat_amount = 7 end))
      assert.is_nil(ok)
      assert.equals("order.vat_amount", err.field)
      local s = assert(strict.sessions:create(body_with(mismatched), { feature_toggles = {} }))
      assert.truthy(s.id)
      strict:close()
    end)

    it("is left to the server without the toggle", function()
      assert(client.sessions:create(body_with(mismatched)))
    end)

    it("allows a partial payment below the sum", function()
      assert(client.sessions:create(body_with(function(b)
        b.order.amount = 100
        b.order.partial_payment = true
      end), { feature_toggles = { "strict-session-amounts" } }))
    end)

    it("applies to updates and merchant-initiated payments", function()
      local s = h.session(client)
      mock.reset()
      local o = h.order(5000)
      o.amount = 4000
      refused("order.amount", client.sessions:update(s.id, { order = o, update_without_lock = true },
        { feature_toggles = { "strict-session-amounts" } }))
      refused("session.order.amount", client.sessions:pay({ session = { order = o },
        payment = { payment_product_type = "dintero_psp.creditcard" } }, { feature_toggles = { "strict-session-amounts" } }))
    end)
  end)

  describe("ids carry the client's account prefix", function()
    it("refuses ids of another account or environment", function()
      refused("session_id", client.sessions:get("P12345678.abc"))
      refused("session_id", client.sessions:cancel("T87654321.abc"))
      refused("session_id", client.sessions:get("T12345678."))
      refused("transaction_id", client.transactions:get("abc"))
      refused("transaction_id", client.transactions:capture("P12345678.abc", 100))
      refused("transaction_id", client.transactions:void("P12345678.abc"))
      refused("transaction_id", client.transactions:update("P12345678.abc", "r"))
    end)
  end)

  describe("callback_url and return_url", function()
    it("must be https", function()
      refused("url.callback_url", client.sessions:create(body_with(function(b)
        b.url.callback_url = "http://shop.example/callback" end)))
      refused("url.return_url", client.sessions:create(body_with(function(b)
        b.url.return_url = "ftp://shop.example/return" end)))
      refused("url.return_url", client.sessions:create(body_with(function(b) b.url.return_url = "shop.example" end)))
    end)

    it("may be http on loopback while the client talks to a loopback server (the mock)", function()
      assert(client.sessions:create(body_with(function(b)
        b.url.callback_url = "http://127.0.0.1:9999/callback"
        b.url.return_url = "http://localhost/return"
      end)))
    end)

    it("may not be http on loopback for a client of the real service", function()
      local real = dintero.new { account_id = "T12345678", client_id = "x", client_secret = "y" }
      local ok, msg, err = real.sessions:create(body_with(function(b) b.url.callback_url = "http://127.0.0.1/cb" end))
      assert.is_nil(ok)
      assert.equals("url.callback_url", err.field, msg)
      real:close()
    end)
  end)

  describe("misuse raises", function()
    it("on wrong argument types and missing ids", function()
      assert.has_error(function() client.sessions:create("x") end)
      assert.has_error(function() client.sessions:get(nil) end)
      assert.has_error(function() client.transactions:get(42) end)
      assert.has_error(function() client.transactions:capture("T12345678.x", "100") end)
      assert.has_error(function() client.transactions:list("status") end)
      assert.has_error(function() client.payouts:balances() end)
      assert.has_error(function() client.settlements:attachment("stl-0001") end)
      assert.has_error(function() client.settlements.report_configs:get() end)
      assert.has_error(function() client.branding:logos() end)
      assert.has_error(function() client.auth:password() end)
    end)

    it("on unknown or mistyped options, naming them", function()
      local ok, err = pcall(client.transactions.get, client.transactions, "T12345678.x", { include = { "session" } })
      assert.is_false(ok)
      assert.matches("unknown option 'include'", err)
      ok, err = pcall(client.sessions.pay, client.sessions, {}, { feature_toggles = "strict-merchant-reference" })
      assert.is_false(ok)
      assert.matches("feature_toggles", err)
      ok, err = pcall(client.sessions.get, client.sessions, "T12345678.x", { system = { nmae = "shop" } })
      assert.is_false(ok)
      assert.matches("nmae", err)
    end)

    it("when a method is called with '.' instead of ':'", function()
      local ok, err = pcall(client.sessions.get, "T12345678.x")
      assert.is_false(ok)
      assert.matches("client.sessions:get", err, 1, true)
    end)

    it("points at the caller's line", function()
      local ok, err = pcall(function() client.transactions:get(nil) end)
      assert.is_false(ok)
      assert.matches("api_validation_spec.lua", err, 1, true)
    end)
  end)
end)

describe("dintero.order.fill", function()
  it("sets amount and vat_amount from the items and the shipping option and returns the order", function()
    local o = { currency = "NOK", items = { { amount = 1000, vat_amount = 200 }, { amount = 500, vat_amount = 100 } },
      shipping_option = { id = "s", amount = 99, vat_amount = 20 } }
    assert.equals(o, order.fill(o))
    assert.equals(1599, o.amount)
    assert.equals(320, o.vat_amount)
    if math.type then assert.equals("integer", math.type(o.amount)) end
  end)

  it("leaves vat_amount alone when no line has one", function()
    local o = order.fill { items = { { amount = 1000 } } }
    assert.equals(1000, o.amount)
    assert.is_nil(o.vat_amount)
  end)

  it("raises on a fractional line amount, naming it", function()
    local ok, err = pcall(order.fill, { items = { { amount = 10 }, { amount = 1.5 } } })
    assert.is_false(ok)
    assert.matches("order.items[2].amount", err, 1, true)
  end)

  it("is re-exported as dintero.order", function()
    assert.equals(order, dintero.order)
  end)
end)
