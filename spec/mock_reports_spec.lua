-- Mock settlement report configurations (CRUD, validation, paging) and report
-- metadata (paging) over HTTP. Seed data: docs/mock-seed.md.
local mock = require "support.mock"

local AID = "T12345678"
local CONFIGS = "/v1/accounts/" .. AID .. "/settlements/reports/configuration"
local METADATA = "/v1/accounts/" .. AID .. "/reports/metadata"
local SEEDED = "00000000-0000-4000-9000-000000000001"

local function config(extra)
  local body = {
    filetypes = { "csv", "xlsx" },
    destinations = { { destination_type = "email", destination_value = "finance@shop.example" } },
    providers = { "payex", "vipps" },
    filters = { { filter = "payout_destination_id", value = "seller-a" } },
  }
  for k, v in pairs(extra or {}) do body[k] = v end
  return body
end

local function create(extra)
  return mock.authed("POST", CONFIGS, config(extra))
end

local function assert_invalid(field, status, body)
  assert.equal(400, status)
  assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
  assert.equal(field, body.error.errors[1].field)
  assert.equal(field, body.error.message:sub(1, #field))
end

describe("mock report configurations", function()
  before_each(function() mock.reset() end)

  it("lists the seeded configuration", function()
    local status, body = mock.authed("GET", CONFIGS)
    assert.equal(200, status)
    assert.equal(1, #body.items)
    local item = body.items[1]
    assert.equal(SEEDED, item.id)
    assert.equal(AID, item.account_id)
    assert.same({ "csv" }, item.filetypes)
    assert.same({ { destination_type = "account_email" } }, item.destinations)
    assert.is_nil(body.starting_after)
  end)

  it("creates a configuration and reads it back", function()
    local status, item = create()
    assert.equal(200, status)
    assert.truthy(item.id:match "^%x+%-%x+%-%x+%-%x+%-%x+$")
    assert.equal(AID, item.account_id)
    assert.is_string(item.created_at)
    assert.same(config().destinations, item.destinations)
    assert.same({ "payex", "vipps" }, item.providers)
    local got_status, got = mock.authed("GET", CONFIGS .. "/" .. item.id)
    assert.equal(200, got_status)
    assert.same(item, got)
  end)

  it("accepts empty destinations and providers (store only, all providers)", function()
    local status, item = mock.authed("POST", CONFIGS,
      '{"filetypes":["pdf"],"destinations":[],"providers":[]}')
    assert.equal(200, status)
    assert.same({ "pdf" }, item.filetypes)
  end)

  it("names the invalid field on create", function()
    local cases = {
      { "filetypes", { filetypes = { "doc" } } },
      { "filetypes", { filetypes = "csv" } },
      { "destinations", { destinations = { { destination_type = "fax" } } } },
      { "destinations", { destinations = { { destination_type = "email" } } } },
      { "destinations", { destinations = "finance@shop.example" } },
      { "providers", { providers = "payex" } },
      { "filters", { filters = { { filter = "currency", value = "NOK" } } } },
      { "send_every", { send_every = "daily" } },
    }
    for _, c in ipairs(cases) do assert_invalid(c[1], create(c[2])) end
    for _, field in ipairs { "filetypes", "destinations", "providers" } do
      local body = config()
      body[field] = nil
      assert_invalid(field, mock.authed("POST", CONFIGS, body))
    end
    local _, body = mock.authed("GET", CONFIGS)
    assert.equal(1, #body.items)
  end)

  it("updates a configuration with PUT, validated like create", function()
    local _, item = create()
    local status, updated = mock.authed("PUT", CONFIGS .. "/" .. item.id,
      config { filetypes = { "xlsx" }, providers = { "klarna" } })
    assert.equal(200, status)
    assert.equal(item.id, updated.id)
    assert.equal(item.created_at, updated.created_at)
    assert.same({ "xlsx" }, updated.filetypes)
    local _, got = mock.authed("GET", CONFIGS .. "/" .. item.id)
    assert.same({ "klarna" }, got.providers)
    assert_invalid("filetypes", mock.authed("PUT", CONFIGS .. "/" .. item.id, config { filetypes = { "doc" } }))
  end)

  it("deletes a configuration, answering the deleted item", function()
    local status, item = mock.authed("DELETE", CONFIGS .. "/" .. SEEDED)
    assert.equal(200, status)
    assert.equal(SEEDED, item.id)
    assert.equal(404, (mock.authed("GET", CONFIGS .. "/" .. SEEDED)))
    assert.equal(404, (mock.authed("DELETE", CONFIGS .. "/" .. SEEDED)))
    local _, body = mock.authed("GET", CONFIGS)
    assert.equal(0, #body.items)
  end)

  it("answers 404 for an unknown id on GET, PUT and DELETE", function()
    local missing = CONFIGS .. "/11111111-1111-4111-8111-111111111111"
    local status, body = mock.authed("GET", missing)
    assert.equal(404, status)
    assert.equal("NOT_FOUND", body.error.code)
    assert.equal(404, (mock.authed("PUT", missing, config())))
    assert.equal(404, (mock.authed("DELETE", missing)))
  end)

  it("pages with starting_after until the last page", function()
    for _ = 1, 4 do create() end
    local seen, sizes, query = {}, {}, "?limit=2"
    repeat
      local status, body = mock.authed("GET", CONFIGS .. query)
      assert.equal(200, status)
      sizes[#sizes + 1] = #body.items
      for _, it in ipairs(body.items) do
        assert.is_nil(seen[it.id])
        seen[it.id] = true
      end
      query = body.starting_after and "?limit=2&starting_after=" .. body.starting_after
    until not query
    assert.same({ 2, 2, 1 }, sizes)
    local _, all = mock.authed("GET", CONFIGS)
    assert.equal(5, #all.items)              -- default limit 100
    assert.is_nil(all.starting_after)
  end)

  it("refuses a bad limit or an unknown cursor", function()
    assert_invalid("limit", mock.authed("GET", CONFIGS .. "?limit=1001"))
    assert_invalid("limit", mock.authed("GET", CONFIGS .. "?limit=0"))
    assert_invalid("starting_after", mock.authed("GET", CONFIGS .. "?starting_after=nope"))
  end)

  it("needs a token for the same account", function()
    assert.equal(401, (mock.get(CONFIGS)))
    assert.equal(401, (mock.authed("GET", "/v1/accounts/T87654321/settlements/reports/configuration")))
  end)
end)

describe("mock report metadata", function()
  before_each(function() mock.reset() end)

  it("answers 10 reports newest first with a cursor", function()
    local status, body = mock.authed("GET", METADATA)
    assert.equal(200, status)
    assert.equal(10, #body.reports)
    assert.equal("rpt-0001", body.reports[1].id)
    assert.equal("rpt-0010", body.starting_after)
    local r = body.reports[1]
    assert.equal("transactions", r.report_type)
    assert.equal("xlsx", r.filetype)
    assert.truthy(r.signed_url:match "^https://")
    assert.is_string(r.created_at)
    for i = 2, #body.reports do
      assert.is_true(body.reports[i].created_at < body.reports[i - 1].created_at)
    end
  end)

  it("pages through all 15 reports to the end", function()
    local ids, sizes, query = {}, {}, ""
    repeat
      local _, body = mock.authed("GET", METADATA .. query)
      sizes[#sizes + 1] = #body.reports
      for _, r in ipairs(body.reports) do ids[#ids + 1] = r.id end
      query = body.starting_after and "?starting_after=" .. body.starting_after
    until not query
    assert.same({ 10, 5 }, sizes)
    assert.equal(15, #ids)
    assert.equal("rpt-0015", ids[15])
    local _, one = mock.authed("GET", METADATA .. "?limit=100")
    assert.equal(15, #one.reports)
    assert.is_nil(one.starting_after)
  end)

  it("refuses a limit outside 1-100 or an unknown cursor", function()
    for _, q in ipairs { "?limit=0", "?limit=101", "?limit=many" } do
      assert_invalid("limit", mock.authed("GET", METADATA .. q))
    end
    assert_invalid("starting_after", mock.authed("GET", METADATA .. "?starting_after=rpt-9999"))
  end)

  it("needs a token", function()
    assert.equal(401, (mock.get(METADATA)))
  end)
end)
