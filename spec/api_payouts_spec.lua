-- client.payouts against the mock: fund transfers (idempotent on
-- fund_transfer_id), seller balances and transfers.
local mock = require "support.mock"
local h = require "support.api_helpers"

local function transfer(id, amount)
  return {
    fund_transfer_id = id, source_payout_destination_id = "seller-a",
    destination_payout_destination_id = "seller-b", amount = amount or 10000, currency = "NOK",
    reference = "rebate " .. id,
  }
end

local function balance(client, seller, currency)
  for _, b in ipairs(assert(client.payouts:balances(seller))) do
    if b.currency == currency then return b.amount end
  end
end

describe("client.payouts", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("balances lists one balance per currency", function()
    local list, meta = client.payouts:balances("seller-b")
    assert.truthy(list, meta)
    assert.equals(2, #list)
    assert.equals("NOK", list[1].currency)
    assert.equals(120000, list[1].amount)
    assert.equals("seller-b", list[1].payout_destination_id)
    assert.matches("^/v2/accounts/T12345678/payout/payout%-destinations/seller%-b/balances$",
      h.last_request("/balances$").path)
  end)

  it("fund_transfer moves money once per fund_transfer_id (POST /v2/.../fund-transfers)", function()
    local a, b = balance(client, "seller-a", "NOK"), balance(client, "seller-b", "NOK")
    local ft, meta = client.payouts:fund_transfer(transfer("ft-1"))
    assert.truthy(ft, meta)
    assert.equals("ft-1", ft.fund_transfer_id)
    assert.equals("payout-destination", ft.type)
    assert.equals("T12345678", ft.account_id)
    assert.truthy(ft.created_at)
    local again = assert(client.payouts:fund_transfer(transfer("ft-1")))
    assert.equals(ft.created_at, again.created_at)
    assert.equals(a - 10000, balance(client, "seller-a", "NOK"))
    assert.equals(b + 10000, balance(client, "seller-b", "NOK"))
    assert.equals("/v2/accounts/T12345678/payout/fund-transfers", h.last_request("/fund%-transfers$").path)
  end)

  it("is retried after a 503 because it is idempotent", function()
    local quick = h.client { retry_base = 0.01, retry_cap = 0.01 }
    mock.fault { method = "POST", path = "/v2/accounts/T12345678/payout/fund-transfers", status = 503 }
    local ft, meta = quick.payouts:fund_transfer(transfer("ft-2"))
    assert.truthy(ft, meta)
    assert.equals(2, meta.attempts)
    quick:close()
  end)

  it("surfaces the server's refusals with their codes", function()
    local ok, _, err = client.payouts:fund_transfer(transfer("ft-3", 1000000000))
    assert.is_nil(ok)
    assert.equals(400, err.status)
    assert.equals("INSUFFICIENT_FUNDS", err.code)
    assert(client.payouts:fund_transfer(transfer("ft-4", 100)))
    ok, _, err = client.payouts:fund_transfer(transfer("ft-4", 200))
    assert.is_nil(ok)
    assert.equals(409, err.status)
    assert.equals("CONFLICT", err.code)
    local bad = transfer("ft-5")
    bad.destination_payout_destination_id = "seller-unknown"
    ok, _, err = client.payouts:fund_transfer(bad)
    assert.is_nil(ok)
    assert.equals("INVALID_REQUEST_PARAMETER", err.code)
  end)

  it("balances of an unknown seller: 404", function()
    local ok, _, err = client.payouts:balances("nobody")
    assert.is_nil(ok)
    assert.equals("api", err.kind)
    assert.equals(404, err.status)
  end)

  it("transfers filters by currency and shows fund transfers in the ledger", function()
    assert(client.payouts:fund_transfer(transfer("ft-6", 500)))
    local entries = assert(client.payouts:transfers { payout_destination_id = "seller-a", currency = "NOK", limit = 1 })
    assert.equals("fund_transfer", entries[1].type)
    assert.equals(-500, entries[1].amount)
    assert.equals("ft-6", entries[1].fund_transfer_id)
    local q = h.last_request("/transfers$").query
    assert.matches("currency=NOK", q)
    assert.matches("limit=1", q)
    local ok, _, err = client.payouts:transfers { payout_destination_id = "seller-a", currency = "nok" }
    assert.is_nil(ok)
    assert.equals("currency", err.field)
  end)
end)
