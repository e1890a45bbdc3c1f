-- client.approvals against the mock: list (filters) and create (the test
-- account's AUTO_* outcomes).
local mock = require "support.mock"
local h = require "support.api_helpers"

local function application(id, description)
  return {
    payout_destination_id = id, payout_reference = "ref-" .. id, country_code = "NO",
    organization_number = "999888777", payout_destination_name = "Seller " .. id,
    payout_destination_description = description,
    bank_accounts = { { bank_account_number = "12345678903", bank_account_currency = "NOK",
      bank_account_country_code = "NO" } },
  }
end

describe("client.approvals", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("lists the seeded cases and filters by seller and case_status (repeated key)", function()
    local cases, cursor, body = client.approvals:list()
    assert.equals(2, #cases)
    assert.is_nil(cursor)
    assert.equals("table", type(body.payout_destinations))
    cases = assert(client.approvals:list { payout_destination_id = "seller-b" })
    assert.equals(1, #cases)
    assert.equals("seller-b", cases[1].payout_destination_id)
    cases = assert(client.approvals:list { case_status = { "DECLINED", "ACTIVE" } })
    assert.equals(2, #cases)
    assert.equals("case_status=DECLINED&case_status=ACTIVE",
      h.last_request("/payout%-destinations$", "GET").query)
  end)

  it("creates cases whose outcome follows the description on test accounts", function()
    local c, meta = client.approvals:create(application("seller-c", "AUTO_APPROVE"))
    assert.truthy(c, meta)
    assert.equals("ACTIVE", c.case_status)
    assert.truthy(c.id)
    assert.equals("contract_url", c.links[1].rel)
    c = assert(client.approvals:create(application("seller-d", "AUTO_DECLINE")))
    assert.equals("DECLINED", c.case_status)
    c = assert(client.approvals:create(application("seller-e", "please review")))
    assert.equals("UNDER_MANUAL_REVIEW", c.case_status)
    assert.equals(5, #assert(client.approvals:list()))
    -- an approved seller becomes a payout destination
    assert.same({}, assert(client.payouts:balances("seller-c")))
  end)

  it("surfaces server-side validation and refuses a missing id locally", function()
    local app = application("seller-f")
    app.country_code = "Norway"
    local ok, _, err = client.approvals:create(app)
    assert.is_nil(ok)
    assert.equals(400, err.status)
    assert.equals("INVALID_REQUEST_PARAMETER", err.code)
    ok, _, err = client.approvals:create { payout_reference = "x" }
    assert.is_nil(ok)
    assert.equals("payout_destination_id", err.field)
  end)

  it("refuses an unknown case_status on the server", function()
    local ok, _, err = client.approvals:list { case_status = "NOPE" }
    assert.is_nil(ok)
    assert.equals(400, err.status)
  end)
end)
