-- client.reports against the mock: report metadata and the test report
-- trigger.
local dintero = require "dintero"
local mock = require "support.mock"
local h = require "support.api_helpers"

describe("client.reports", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("lists report metadata, newest first, with signed URLs", function()
    local reports, cursor, body = client.reports:list { limit = 3 }
    assert.equals(3, #reports)
    assert.equals("rpt-0001", reports[1].id)
    assert.equals("rpt-0003", cursor)
    assert.equals("rpt-0003", body.starting_after)
    assert.equals("string", type(reports[1].signed_url))
    assert.equals("/v1/accounts/T12345678/reports/metadata", h.last_request("/metadata$").path)
  end)

  it("refuses a limit above 100 locally", function()
    local ok, _, err = client.reports:list { limit = 101 }
    assert.is_nil(ok)
    assert.equals("limit", err.field)
  end)

  it("generates a test report (POST .../settlements/reports/generate-test-report)", function()
    local res, meta = client.reports:generate_test_report { number_of_transactions = 3 }
    assert.truthy(res, meta)
    assert.equals(201, meta.status)
    assert.equals("string", type(res.message))
    assert(client.reports:generate_test_report { transaction_ids = { "T12345678.a" } })
    assert(client.reports:generate_test_report())
    assert.equals("/v1/accounts/T12345678/settlements/reports/generate-test-report",
      h.last_request("generate%-test%-report$").path)
  end)

  it("refuses mixed arguments locally and is test-only", function()
    local ok, _, err = client.reports:generate_test_report { transaction_ids = {}, number_of_transactions = 2 }
    assert.is_nil(ok)
    assert.equals("transaction_ids", err.field)
    local prod = dintero.new { account_id = "P12345678", client_id = "x", client_secret = "y" }
    ok, _, err = prod.reports:generate_test_report()
    assert.is_nil(ok)
    assert.equals("validation", err.kind)
    prod:close()
  end)
end)
