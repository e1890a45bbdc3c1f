-- Mock payout v2 and seller approvals over HTTP: balances, the paged seller ledger,
-- idempotent fund transfers that move seed balances, and the approval cases whose
-- status follows the AUTO_* markers. Seed data: docs/mock-seed.md.
local mock = require "support.mock"

local AID = "T12345678"
local PAYOUT = "/v2/accounts/" .. AID .. "/payout"
local APPROVALS = "/v1/accounts/" .. AID .. "/management/settings/approvals/payout-destinations"

local function balances(seller)
  return mock.authed("GET", PAYOUT .. "/payout-destinations/" .. seller .. "/balances")
end

-- The seller's balance in one currency (nil when it has none).
local function balance(seller, currency)
  local status, body = balances(seller)
  assert.equal(200, status)
  for _, b in ipairs(body.payout_destination_balances) do
    if b.currency == currency then return b.amount end
  end
end

local function transfers(seller, query)
  return mock.authed("GET", PAYOUT .. "/payout-destinations/" .. seller .. "/transfers" .. (query or ""))
end

local function transfer_body(extra)
  local body = {
    fund_transfer_id = "ft-1", type = "payout-destination",
    source_payout_destination_id = "seller-a", destination_payout_destination_id = "seller-b",
    amount = 1500, currency = "NOK", reference = "commission 2026-01",
  }
  for k, v in pairs(extra or {}) do body[k] = v end
  return body
end

local function fund_transfer(extra)
  return mock.authed("POST", PAYOUT .. "/fund-transfers", transfer_body(extra))
end

-- The raw body text of an authenticated GET, to tell `[]` from `{}`.
local function raw_body(path)
  local out = mock.raw("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " ..
    mock.token() .. "\r\nConnection: close\r\n\r\n", 5)
  return out:match("\r\n\r\n(.*)$")
end

local function assert_invalid(field, status, body)
  assert.equal(400, status)
  assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
  assert.equal(field, body.error.message:match("^([%w_%.]+):"))
  assert.equal(field, body.error.errors[1].field)
end

describe("mock payouts", function()
  before_each(function() mock.reset() end)

  describe("seller balances", function()
    it("lists the seeded NOK balance of seller-a with its ids", function()
      local status, body = balances("seller-a")
      assert.equal(200, status)
      assert.same({ {
        account_id = AID, payout_destination_config_id = "cfg-seller-a",
        payout_destination_id = "seller-a", currency = "NOK", amount = 222425,
      } }, body.payout_destination_balances)
    end)

    it("lists one balance per currency, sorted by currency", function()
      local _, body = balances("seller-b")
      local list = body.payout_destination_balances
      assert.equal(2, #list)
      assert.equal("NOK", list[1].currency)
      assert.equal(120000, list[1].amount)
      assert.equal("SEK", list[2].currency)
      assert.equal(45000, list[2].amount)
    end)

    it("answers 404 in the error shape for an unknown seller", function()
      local status, body = balances("nobody")
      assert.equal(404, status)
      assert.equal("NOT_FOUND", body.error.code)
      assert.is_string(body.error.message)
    end)

    it("needs a token for the same account", function()
      local status = mock.get(PAYOUT .. "/payout-destinations/seller-a/balances")
      assert.equal(401, status)
      status = mock.authed("GET", "/v2/accounts/T87654321/payout/payout-destinations/seller-a/balances")
      assert.equal(401, status)
    end)
  end)

  describe("seller transfers", function()
    it("pages the 25 seeded entries of seller-a newest first to the end", function()
      local seen, pages, query, last_time = {}, {}, "?limit=10", nil
      repeat
        local status, body = transfers("seller-a", query)
        assert.equal(200, status)
        pages[#pages + 1] = #body.entries
        for _, e in ipairs(body.entries) do
          assert.is_nil(seen[e.id])
          seen[e.id] = true
          assert.equal("seller-a", e.payout_destination_id)
          assert.equal("NOK", e.currency)
          if last_time then assert.is_true(e.created_at <= last_time) end
          last_time = e.created_at
        end
        query = body.next_page_token and "?limit=10&page=" .. body.next_page_token
      until not query
      assert.same({ 10, 10, 5 }, pages)
    end)

    it("defaults to 10 entries and omits the token on the last page", function()
      local _, body = transfers("seller-a")
      assert.equal(10, #body.entries)
      assert.is_string(body.next_page_token)
      _, body = transfers("seller-a", "?limit=1000")
      assert.equal(25, #body.entries)
      assert.is_nil(body.next_page_token)
    end)

    it("filters by currency", function()
      local _, body = transfers("seller-b", "?currency=SEK")
      assert.equal(2, #body.entries)
      for _, e in ipairs(body.entries) do assert.equal("SEK", e.currency) end
      _, body = transfers("seller-b", "?currency=NOK&limit=2")
      assert.equal(2, #body.entries)
      local _, rest = transfers("seller-b", "?currency=NOK&limit=2&page=" .. body.next_page_token)
      assert.equal(1, #rest.entries)
      assert.equal("NOK", rest.entries[1].currency)
      assert.is_nil(rest.next_page_token)
    end)

    it("refuses a bad limit, currency or page token, naming the parameter", function()
      for _, q in ipairs { "?limit=0", "?limit=1001", "?limit=ten", "?limit=2.5" } do
        assert_invalid("limit", transfers("seller-a", q))
      end
      assert_invalid("currency", transfers("seller-a", "?currency=nok"))
      assert_invalid("page", transfers("seller-a", "?page=not-a-token"))
      assert_invalid("page", transfers("seller-a", "?page=abcd"))
    end)

    it("answers 404 for an unknown seller", function()
      assert.equal(404, (transfers("nobody")))
    end)
  end)

  describe("fund transfers", function()
    it("answers the transfer with account, creation time and creator", function()
      local status, body = fund_transfer()
      assert.equal(200, status)
      local ft = body.fund_transfer
      for k, v in pairs(transfer_body()) do assert.equal(v, ft[k]) end
      assert.equal(AID, ft.account_id)
      assert.equal("mock-client", ft.created_by)
      assert.truthy(ft.created_at:match "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d")
    end)

    it("moves the amount from source to destination and records both ledger entries", function()
      fund_transfer()
      assert.equal(222425 - 1500, balance("seller-a", "NOK"))
      assert.equal(120000 + 1500, balance("seller-b", "NOK"))
      local _, a = transfers("seller-a", "?limit=1")
      local _, b = transfers("seller-b", "?limit=1")
      assert.equal(-1500, a.entries[1].amount)
      assert.equal(1500, b.entries[1].amount)
      for _, e in ipairs { a.entries[1], b.entries[1] } do
        assert.equal("fund_transfer", e.type)
        assert.equal("ft-1", e.fund_transfer_id)
        assert.equal("commission 2026-01", e.reference)
      end
    end)

    it("is idempotent on fund_transfer_id: a retry answers the same and moves nothing", function()
      local _, first = fund_transfer()
      local status, again = fund_transfer()
      assert.equal(200, status)
      assert.same(first, again)
      assert.equal(222425 - 1500, balance("seller-a", "NOK"))
      assert.equal(120000 + 1500, balance("seller-b", "NOK"))
      local _, a = transfers("seller-a", "?limit=1000")
      assert.equal(26, #a.entries)
    end)

    it("refuses the same id with a different body with 409 and moves nothing more", function()
      fund_transfer()
      local status, body = fund_transfer { amount = 2000 }
      assert.equal(409, status)
      assert.equal("CONFLICT", body.error.code)
      assert.equal(222425 - 1500, balance("seller-a", "NOK"))
    end)

    it("names each missing required field", function()
      for _, field in ipairs { "fund_transfer_id", "type", "source_payout_destination_id",
                               "destination_payout_destination_id", "amount", "currency",
                               "reference" } do
        local body = transfer_body()
        body[field] = nil
        assert_invalid(field, mock.authed("POST", PAYOUT .. "/fund-transfers", body))
      end
    end)

    it("refuses bad values, naming the field", function()
      local cases = {
        { "amount", { amount = 0 } }, { "amount", { amount = -5 } },
        { "amount", { amount = 10.5 } }, { "amount", { amount = "100" } },
        { "type", { type = "bank" } }, { "currency", { currency = "nok" } },
        { "reference", { reference = ("x"):rep(61) } },
        { "destination_payout_destination_id", { destination_payout_destination_id = "seller-a" } },
        { "source_payout_destination_id", { source_payout_destination_id = "nobody" } },
        { "destination_payout_destination_id", { destination_payout_destination_id = "nobody" } },
      }
      for _, c in ipairs(cases) do assert_invalid(c[1], fund_transfer(c[2])) end
      assert_invalid("body", mock.authed("POST", PAYOUT .. "/fund-transfers", "[1, 2]"))
      assert.equal(222425, balance("seller-a", "NOK"))
    end)

    it("accepts a 60-character reference", function()
      assert.equal(200, (fund_transfer { reference = ("x"):rep(60) }))
    end)

    it("refuses more than the source holds and leaves both balances alone", function()
      local status, body = fund_transfer { amount = 222426 }
      assert.equal(400, status)
      assert.equal("INSUFFICIENT_FUNDS", body.error.code)
      status, body = fund_transfer { fund_transfer_id = "ft-sek", currency = "SEK" }  -- seller-a has no SEK
      assert.equal(400, status)
      assert.equal("INSUFFICIENT_FUNDS", body.error.code)
      assert.equal(222425, balance("seller-a", "NOK"))
      assert.equal(120000, balance("seller-b", "NOK"))
    end)

    it("is undone by a reset", function()
      fund_transfer()
      mock.reset()
      assert.equal(222425, balance("seller-a", "NOK"))
      assert.equal(200, (fund_transfer()))
    end)

    it("needs a token", function()
      assert.equal(401, (mock.post(PAYOUT .. "/fund-transfers", transfer_body())))
    end)
  end)
end)

describe("mock seller approvals", function()
  before_each(function() mock.reset() end)

  local function approval(description, extra)
    local body = {
      payout_destination_id = "seller-new", payout_reference = "Mowber",
      payout_destination_name = "New Seller AS", payout_destination_description = description,
      country_code = "NO", organization_number = "999888777",
      bank_accounts = { { bank_account_number = "12345678903", bank_account_currency = "NOK" } },
      payout_interval_type = "daily",
    }
    for k, v in pairs(extra or {}) do body[k] = v end
    return mock.authed("POST", APPROVALS, body)
  end

  local function list(query)
    return mock.authed("GET", APPROVALS .. (query or ""))
  end

  it("lists the seeded ACTIVE cases of seller-a and seller-b", function()
    local status, body = list()
    assert.equal(200, status)
    assert.equal(2, #body.payout_destinations)
    assert.equal("seller-a", body.payout_destinations[1].payout_destination_id)
    assert.equal("ACTIVE", body.payout_destinations[2].case_status)
  end)

  it("decides case_status from the AUTO_* marker in the description", function()
    local expect = {
      ["Sells mowers AUTO_APPROVE"] = "ACTIVE",
      ["AUTO_DECLINE please"] = "DECLINED",
      ["AUTO_WAITING_FOR_SIGNATURE"] = "WAITING_FOR_SIGNATURE",
      ["A plain seller"] = "UNDER_MANUAL_REVIEW",
    }
    for description, case_status in pairs(expect) do
      local status, body = approval(description)
      assert.equal(200, status)
      assert.equal(case_status, body.case_status)
    end
  end)

  it("answers the case with id, times and a contract_url link", function()
    local _, body = approval("AUTO_WAITING_FOR_SIGNATURE")
    assert.is_string(body.id)
    assert.is_string(body.created_at)
    assert.equal("seller-new", body.payout_destination_id)
    assert.equal("Mowber", body.payout_reference)
    assert.equal(1, #body.bank_accounts)
    assert.equal("contract_url", body.links[1].rel)
    assert.truthy(body.links[1].href:match "^https://")
  end)

  it("enrols an approved seller as a payout destination that can receive money", function()
    assert.equal(404, (balances("seller-new")))
    approval("AUTO_APPROVE")
    assert.equal(200, (balances("seller-new")))
    assert.equal('{"payout_destination_balances":[]}',
      raw_body(PAYOUT .. "/payout-destinations/seller-new/balances"))
    fund_transfer { destination_payout_destination_id = "seller-new" }
    assert.equal(1500, balance("seller-new", "NOK"))
  end)

  it("does not enrol a seller that is not approved", function()
    approval("AUTO_DECLINE")
    assert.equal(404, (balances("seller-new")))
  end)

  it("filters by payout_destination_id and by repeated or comma-separated case_status", function()
    approval("AUTO_DECLINE")
    approval("AUTO_WAITING_FOR_SIGNATURE", { payout_destination_id = "seller-wait" })
    local _, body = list("?payout_destination_id=seller-new")
    assert.equal(1, #body.payout_destinations)
    assert.equal("DECLINED", body.payout_destinations[1].case_status)
    _, body = list("?case_status=DECLINED&case_status=WAITING_FOR_SIGNATURE")
    assert.equal(2, #body.payout_destinations)
    _, body = list("?case_status=ACTIVE,DECLINED")
    assert.equal(3, #body.payout_destinations)
    assert.equal('{"payout_destinations":[]}', raw_body(APPROVALS .. "?case_status=ARCHIVED"))
  end)

  it("refuses an unknown case_status", function()
    assert_invalid("case_status", list("?case_status=HAPPY"))
  end)

  it("names the field of an invalid application", function()
    local cases = {
      { "payout_destination_id", { payout_destination_id = ("s"):rep(41) } },
      { "payout_reference", { payout_reference = ("r"):rep(61) } },
      { "country_code", { country_code = "NOR" } },
      { "organization_number", { organization_number = 12 } },
      { "bank_accounts", { bank_accounts = { { a = 1 }, { b = 2 } } } },
      { "bank_accounts", { bank_accounts = "12345678903" } },
      { "payout_interval_type", { payout_interval_type = "yearly" } },
      { "payout_destination_description", { payout_destination_description = ("d"):rep(1001) } },
    }
    for _, c in ipairs(cases) do assert_invalid(c[1], approval("AUTO_APPROVE", c[2])) end
    local body = { payout_reference = "Mowber", country_code = "NO", organization_number = "1",
                   bank_accounts = { {} } }
    assert_invalid("payout_destination_id", mock.authed("POST", APPROVALS, body))
    local _, after = list()
    assert.equal(2, #after.payout_destinations)
  end)

  it("needs a token", function()
    assert.equal(401, (mock.get(APPROVALS)))
  end)
end)
