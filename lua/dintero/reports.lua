-- client.reports: the generated monthly transaction reports (report
-- metadata with a signed download URL each), and the test-account trigger
-- that generates a settlement report now (api host).
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"

local M = {}

local Reports = {}
Reports.__index = Reports

function M.new(client)
  return setmetatable({ _client = client }, Reports)
end

local EACH_LIMIT = 100

local function page(client, params, opts)
  local q = call.copy(params) or {}
  if q.cursor ~= nil then
    q.starting_after = q.cursor
    q.cursor = nil
  end
  local r1, r2, r3 = validate.limit(q.limit, 1, 100)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api", path = "/v1/accounts/{aid}/reports/metadata",
    params = { aid = client.account_id }, query = q,
  }))
  if not res then return nil, meta, err end
  local reports = type(res) == "table" and res.reports or {}
  local after = type(res) == "table" and res.starting_after or nil
  if not validate.present(after) then after = nil end
  return reports, after, res
end

--- client.reports:list([{limit=, cursor=}] [, opts]) -> reports, next_cursor, body.
-- Each report: {id, created_at, report_type, filetype, filename, signed_url}.
--- for report in client.reports:each([params] [, opts]) do ... end
-- A failing page raises the err table (see pager.lua).
pager.define(Reports, { name = "reports", page = page, each_limit = EACH_LIMIT })

--- client.reports:generate_test_report([{transaction_ids={...}} or
-- {number_of_transactions=, date_range={...}}] [, opts]) -> {message}, meta.
-- Test accounts only (T...): refused locally for a production account.
function Reports:generate_test_report(args, opts)
  local client = call.self(self, Reports, "reports.generate_test_report")
  if args ~= nil then call.table_arg("reports.generate_test_report", "args", args) end
  opts = call.opts("reports.generate_test_report", opts)
  if client.account_id:sub(1, 1) ~= "T" then
    return validate.fail("account_id", "generate_test_report is only available on test accounts (T...)")
  end
  local body = call.copy(args) or {}
  if body.transaction_ids ~= nil and (body.number_of_transactions ~= nil or body.date_range ~= nil) then
    return validate.fail("transaction_ids", "give transaction_ids alone, or number_of_transactions and/or date_range")
  end
  if body.number_of_transactions ~= nil then
    local r1, r2, r3 = validate.amount(body.number_of_transactions, "number_of_transactions", true)
    if r2 then return r1, r2, r3 end
  end
  return client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = "/v1/accounts/{aid}/settlements/reports/generate-test-report",
    params = { aid = client.account_id }, body = body, class = "idempotent",
  }))
end

return M
