-- Seed data for the api-host areas of the mock: sellers with balances and ledgers,
-- seller approvals, settlements, report metadata and one report configuration.
--
-- Called by the server at start and after every POST /_mock/reset, on a fresh api.state.
-- Everything is deterministic except timestamps, which are relative to api.now() so the
-- data always looks recent ("the last 30 days"). docs/mock-seed.md lists what is here.
local DAY = 86400

-- 06:00 UTC, `days` days before the day of `now`: a fixed time of day makes equal
-- settlement dates share one settled_at, which exercises the cursor's id tie-break.
local function morning(now, days)
  local midnight = math.floor(now) - math.floor(now) % DAY
  return midnight - days * DAY + 6 * 3600
end

local function destination(id)
  return {
    payout_destination_id = id,
    payout_destination_config_id = "cfg-" .. id,
    balances = {},
    entries = {},
  }
end

-- Appends a ledger entry and keeps the balance equal to the sum of the ledger.
local function credit(api, aid, dest, t, currency, amount, kind, reference)
  local entries = dest.entries
  entries[#entries + 1] = {
    id = ("%s.le%04d"):format(dest.payout_destination_id, #entries + 1),
    account_id = aid,
    payout_destination_id = dest.payout_destination_id,
    type = kind,
    amount = amount,
    currency = currency,
    reference = reference,
    created_at = api.iso8601(t),
  }
  dest.balances[currency] = (dest.balances[currency] or 0) + amount
end

-- seller-a: 25 NOK entries (3 pages at limit 10); seller-b: NOK and SEK entries.
local function seed_payouts(api, aid, now)
  local a, b = destination("seller-a"), destination("seller-b")
  for i = 1, 25 do
    local t = now - (26 - i) * DAY
    if i % 5 == 0 then
      credit(api, aid, a, t, "NOK", -(500 + i), "fee", "fee " .. i)
    else
      credit(api, aid, a, t, "NOK", 10000 + i * 100, "payment", "order-a-" .. i)
    end
  end
  for i = 1, 3 do credit(api, aid, b, now - (10 - i) * DAY, "NOK", 20000 * i, "payment", "order-b-" .. i) end
  for i = 1, 2 do credit(api, aid, b, now - (5 - i) * DAY, "SEK", 15000 * i, "payment", "order-b-sek-" .. i) end
  api.state.payouts = { [aid] = {
    destinations = { ["seller-a"] = a, ["seller-b"] = b },
    fund_transfers = {},
  } }
end

local function approved_case(api, aid, id, name, t)
  return {
    id = ("00000000-0000-4000-8000-%012d"):format(id == "seller-a" and 1 or 2),
    created_at = api.iso8601(t), updated_at = api.iso8601(t), created_by = "mock-seed",
    payout_destination_id = id,
    payout_destination_name = name,
    payout_destination_description = "Seeded seller (AUTO_APPROVE)",
    payout_reference = "Mock Marketplace",
    country_code = "NO",
    organization_number = id == "seller-a" and "999999991" or "999999992",
    bank_accounts = { { bank_account_number = "12345678903", bank_account_number_type = "BBAN",
                        bank_account_country_code = "NO", bank_account_currency = "NOK" } },
    payout_interval_type = "weekly",
    case_status = "ACTIVE",
    links = { { rel = "contract_url",
                href = "https://onboarding.mock.dintero.invalid/contracts/" .. aid .. "/" .. id } },
  }
end

local function seed_approvals(api, aid, now)
  api.state.approvals = { [aid] = {
    approved_case(api, aid, "seller-a", "Seller A AS", now - 40 * DAY),
    approved_case(api, aid, "seller-b", "Seller B AB", now - 35 * DAY),
  } }
end

local PROVIDERS = { "dintero_psp", "payex", "vipps", "collector", "klarna" }

-- Settlement n (1 = newest): days n days ago, except every fifth shares the day of the one
-- before it; odd n pay seller-a, even n seller-b; every sixth is in SEK.
local function settlement(api, aid, now, n)
  local days = n - (n % 5 == 0 and 1 or 0)
  local settled = morning(now, days)
  local id = ("stl-%04d"):format(n)
  local amount = 100000 + n * 1234
  local fee = amount * 2 // 100
  return {
    id = id,
    account_id = aid,
    settled_at = api.iso8601(settled),
    settlement_date = os.date("!%Y-%m-%d", settled),
    created_at = api.iso8601(settled + 2 * 3600),
    payment_provider = PROVIDERS[(n - 1) % #PROVIDERS + 1],
    payout_destination_id = n % 2 == 1 and "seller-a" or "seller-b",
    reference = ("SETTLEMENT %d"):format(n),
    currency = n % 6 == 0 and "SEK" or "NOK",
    amount = amount,
    fee = fee,
    net_amount = amount - fee,
    attachments = api.array {
      { id = id .. "-csv", content_type = "text/csv", filename = id .. ".csv" },
      { id = id .. "-xml", content_type = "application/xml", filename = id .. ".xml" },
    },
  }
end

local function seed_settlements(api, aid, now)
  local list = {}
  for n = 1, 25 do list[n] = settlement(api, aid, now, n) end
  api.state.settlements = { [aid] = list }
end

-- 15 monthly transaction reports, newest first: 2 pages at the default limit of 10.
local function seed_reports(api, aid, now)
  local list = {}
  for n = 1, 15 do
    local id = ("rpt-%04d"):format(n)
    local filetype = n % 2 == 1 and "xlsx" or "csv"
    list[n] = {
      id = id,
      account_id = aid,
      created_at = api.iso8601(morning(now, n * 2)),
      report_type = "transactions",
      filetype = filetype,
      filename = id .. "." .. filetype,
      signed_url = ("https://reports.mock.dintero.invalid/%s/%s.%s?signature=mock"):format(aid, id, filetype),
    }
  end
  api.state.reports = { [aid] = list }
end

local function seed_report_configs(api, aid, now)
  local t = api.iso8601(now - 60 * DAY)
  api.state.report_configs = { [aid] = { {
    id = "00000000-0000-4000-9000-000000000001",
    account_id = aid,
    created_at = t, updated_at = t,
    filetypes = api.array { "csv" },
    destinations = api.array { { destination_type = "account_email" } },
    providers = api.array(),
    filters = api.array(),
  } } }
end

return function(api)
  -- The framework knows the configured account; T12345678 is the documented default.
  local aid = api.account_id or (api.config and api.config.account_id) or "T12345678"
  local now = api.now()
  seed_payouts(api, aid, now)
  seed_approvals(api, aid, now)
  seed_settlements(api, aid, now)
  seed_reports(api, aid, now)
  seed_report_configs(api, aid, now)
end
