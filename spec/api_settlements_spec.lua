-- client.settlements and client.settlements.report_configs against the mock:
-- list filters, attachments as bytes, report configuration CRUD.
local mock = require "support.mock"
local h = require "support.api_helpers"

describe("client.settlements", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("lists settlements with filters (repeated payment_provider, dotted dates)", function()
    local items = assert(client.settlements:list {
      payment_provider = { "vipps", "payex" }, ["created_at.gte"] = "2000-01-01", limit = 100,
    })
    assert.truthy(#items > 0)
    for _, s in ipairs(items) do assert.truthy(s.payment_provider == "vipps" or s.payment_provider == "payex") end
    local q = h.last_request("/settlements$").query
    assert.matches("payment_provider=vipps&payment_provider=payex", q)
    assert.matches("created_at.gte=2000-01-01", q, 1, true)
    items = assert(client.settlements:list { payout_destination_id = "seller-a", limit = 100 })
    for _, s in ipairs(items) do assert.equals("seller-a", s.payout_destination_id) end
    items = assert(client.settlements:list { search = "0007" })
    assert.equals(1, #items)
    assert.equals("stl-0007", items[1].id)
  end)

  it("refuses a bad limit locally and a bad filter on the server", function()
    local ok, _, err = client.settlements:list { limit = 0 }
    assert.is_nil(ok)
    assert.equals("limit", err.field)
    ok, _, err = client.settlements:list { cursor = "stl-0001" }
    assert.is_nil(ok)
    assert.equals("cursor", err.field)
    ok, _, err = client.settlements:list { ["created_at.gte"] = "yesterday" }
    assert.is_nil(ok)
    assert.equals(400, err.status)
    assert.equals("INVALID_REQUEST_PARAMETER", err.code)
  end)

  it("downloads an attachment as bytes with its content type", function()
    local bytes, content_type, meta = client.settlements:attachment("stl-0001", "stl-0001-xml")
    assert.truthy(bytes, content_type)
    assert.equals("string", type(bytes))
    assert.matches("^application/xml", content_type)
    assert.matches("stl%-0001", bytes)
    assert.equals(200, meta.status)
    bytes, content_type = assert(client.settlements:attachment("stl-0002", "stl-0002-csv"))
    assert.matches("^text/csv", content_type)
    assert.matches("^settlement_id,", bytes)
  end)

  it("answers an unknown attachment with 404", function()
    local ok, _, err = client.settlements:attachment("stl-0001", "nope")
    assert.is_nil(ok)
    assert.equals("api", err.kind)
    assert.equals(404, err.status)
  end)
end)

describe("client.settlements.report_configs", function()
  local client, configs

  setup(function()
    client = h.client()
    configs = client.settlements.report_configs
  end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("lists the seeded configuration", function()
    local items, cursor = configs:list()
    assert.equals(1, #items)
    assert.is_nil(cursor)
    assert.equals("00000000-0000-4000-9000-000000000001", items[1].id)
  end)

  it("creates, gets, updates and deletes a configuration", function()
    local c, meta = configs:create {
      filetypes = { "csv", "xlsx" }, destinations = { { destination_type = "email", destination_value = "a@b.example" } },
      providers = { "vipps" }, filters = { { filter = "payout_destination_id", value = "seller-a" } },
    }
    assert.truthy(c, meta)
    assert.truthy(c.id)
    assert.equals("T12345678", c.account_id)
    local got = assert(configs:get(c.id))
    assert.equals("xlsx", got.filetypes[2])
    local updated = assert(configs:update(c.id, { filetypes = { "pdf" }, destinations = {}, providers = {} }))
    assert.equals("pdf", updated.filetypes[1])
    assert.equals("PUT", h.last_request("/configuration/").method)
    local removed = assert(configs:delete(c.id))
    assert.equals(c.id, removed.id)
    local ok, _, err = configs:get(c.id)
    assert.is_nil(ok)
    assert.equals(404, err.status)
  end)

  it("checks filetypes locally and the rest on the server", function()
    local ok, _, err = configs:create { destinations = {} }
    assert.is_nil(ok)
    assert.equals("filetypes", err.field)
    ok, _, err = configs:create { filetypes = { "doc" }, destinations = {}, providers = {} }
    assert.is_nil(ok)
    assert.equals(400, err.status)
    assert.equals("INVALID_REQUEST_PARAMETER", err.code)
  end)
end)
