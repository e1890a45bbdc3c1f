-- Mock settlements over HTTP: the list with its last_evaluated_key cursor and filters,
-- raw attachment downloads, and the test-report trigger. Seed data: docs/mock-seed.md.
local mock = require "support.mock"

local AID = "T12345678"
local BASE = "/v1/accounts/" .. AID .. "/settlements"

local function list(query)
  return mock.authed("GET", BASE .. (query or ""))
end

-- Follows last_evaluated_key from `query` to the end; returns all items and page sizes.
local function all_pages(query)
  local items, sizes, q = {}, {}, query
  repeat
    local status, body = list(q)
    assert.equal(200, status)
    sizes[#sizes + 1] = #body.items
    for _, it in ipairs(body.items) do items[#items + 1] = it end
    local key = body.last_evaluated_key
    q = key and ("%s&starting_after_id=%s&starting_after_date=%s"):format(query, key.id,
      key.settled_at or key.created_at)
  until not q
  return items, sizes
end

local function ids(items)
  local out = {}
  for i, it in ipairs(items) do out[i] = it.id end
  return out
end

local function raw_body(path)
  local out = mock.raw("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " ..
    mock.token() .. "\r\nConnection: close\r\n\r\n", 5)
  return out:match("\r\n\r\n(.*)$")
end

local function assert_invalid(field, status, body)
  assert.equal(400, status)
  assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
  assert.equal(field, body.error.errors[1].field)
  assert.equal(field, body.error.message:sub(1, #field))
end

describe("mock settlements", function()
  before_each(function() mock.reset() end)

  describe("list", function()
    it("answers 10 items newest first by default, with a cursor", function()
      local status, body = list()
      assert.equal(200, status)
      assert.equal(10, #body.items)
      assert.equal("stl-0001", body.items[1].id)
      for i = 2, #body.items do
        assert.is_true(body.items[i].settled_at <= body.items[i - 1].settled_at)
      end
      local last = body.items[10]
      assert.same({ id = last.id, settled_at = last.settled_at }, body.last_evaluated_key)
    end)

    it("answers items with amounts, dates, provider, seller and attachments", function()
      local _, body = list("?limit=1")
      local s = body.items[1]
      assert.equal(AID, s.account_id)
      assert.equal("NOK", s.currency)
      assert.equal(101234, s.amount)
      assert.equal(s.amount - s.fee, s.net_amount)
      assert.equal("seller-a", s.payout_destination_id)
      assert.equal("dintero_psp", s.payment_provider)
      assert.equal(s.settlement_date, s.settled_at:sub(1, 10))
      assert.is_string(s.created_at)
      assert.same({ id = "stl-0001-csv", content_type = "text/csv", filename = "stl-0001.csv" },
        s.attachments[1])
      assert.equal("application/xml", s.attachments[2].content_type)
    end)

    it("pages through all 25 settlements and drops the key on the last page", function()
      local items, sizes = all_pages("?limit=10")
      assert.same({ 10, 10, 5 }, sizes)
      local _, one = list("?limit=1000")
      assert.same(ids(one.items), ids(items))
      assert.is_nil(one.last_evaluated_key)
    end)

    it("keeps items that share settled_at apart when a page ends between them", function()
      -- stl-0004 and stl-0005 share a day: pages of 4 end right between them.
      local items, sizes = all_pages("?limit=4")
      assert.equal(7, #sizes)
      assert.equal(25, #items)
      local _, one = list("?limit=25")
      assert.same(ids(one.items), ids(items))
    end)

    it("filters by repeated payment_provider and by seller", function()
      local _, body = list("?limit=1000&payment_provider=payex&payment_provider=vipps")
      assert.equal(10, #body.items)
      for _, s in ipairs(body.items) do
        assert.truthy(s.payment_provider == "payex" or s.payment_provider == "vipps")
      end
      _, body = list("?limit=1000&payout_destination_id=seller-a")
      assert.equal(13, #body.items)
      for _, s in ipairs(body.items) do assert.equal("seller-a", s.payout_destination_id) end
    end)

    it("searches in the settlement id, ignoring case", function()
      local _, body = list("?limit=1000&search=stl-001")
      assert.equal(10, #body.items)
      _, body = list("?search=STL-0007")
      assert.same({ "stl-0007" }, ids(body.items))
    end)

    it("filters on settled_at with created_at.gte/lte, a bare lte date covering its day", function()
      local _, top = list("?limit=3")
      local from, to = top.items[3].settlement_date, top.items[1].settlement_date
      local _, body = list(("?created_at.gte=%s&created_at.lte=%s"):format(from, to))
      assert.same({ "stl-0001", "stl-0002", "stl-0003" }, ids(body.items))
    end)

    it("filters on created_at with item_created_at and keys the cursor on created_at", function()
      local _, body = list("?limit=2&item_created_at.gte=2000-01-01")
      assert.equal(2, #body.items)
      assert.same({ id = body.items[2].id, created_at = body.items[2].created_at },
        body.last_evaluated_key)
      local items = all_pages("?limit=10&item_created_at.gte=2000-01-01")
      assert.equal(25, #items)
      _, body = list("?item_created_at.lte=2000-01-01")
      assert.equal(0, #body.items)
    end)

    it("answers an empty result as [] without a key", function()
      assert.equal('{"items":[]}', raw_body(BASE .. "?search=nothing-like-this"))
    end)

    it("refuses bad parameters, naming them", function()
      for _, q in ipairs { "?limit=0", "?limit=1001", "?limit=x" } do assert_invalid("limit", list(q)) end
      assert_invalid("starting_after_date", list("?starting_after_id=stl-0003"))
      assert_invalid("starting_after_id", list("?starting_after_date=2026-01-01"))
      assert_invalid("starting_after_date", list("?starting_after_id=a&starting_after_date=yesterday"))
      assert_invalid("created_at.gte", list("?created_at.gte=last-week"))
      assert_invalid("item_created_at.gte",
        list("?created_at.gte=2026-01-01&item_created_at.gte=2026-01-01"))
    end)

    it("needs a token for the same account", function()
      assert.equal(401, (mock.get(BASE)))
      assert.equal(401, (mock.authed("GET", "/v1/accounts/T87654321/settlements")))
    end)
  end)

  describe("attachments", function()
    it("downloads the CSV as text/csv bytes, not JSON", function()
      local status, body, headers = mock.authed("GET", BASE .. "/stl-0002/attachments/stl-0002-csv")
      assert.equal(200, status)
      assert.equal("text/csv", headers["content-type"])
      assert.truthy(headers["content-disposition"]:find('filename="stl-0002.csv"', 1, true))
      assert.is_string(body)
      local header, row = body:match "^([^\n]+)\n([^\n]+)\n$"
      assert.equal("settlement_id,settlement_date,payment_provider,payout_destination_id,"
        .. "currency,amount,fee,net_amount", header)
      assert.truthy(row:find("^stl%-0002,%d%d%d%d%-%d%d%-%d%d,payex,seller%-b,NOK,102468,2049,100419$"))
    end)

    it("downloads the XML as application/xml", function()
      local status, body, headers = mock.authed("GET", BASE .. "/stl-0006/attachments/stl-0006-xml")
      assert.equal(200, status)
      assert.equal("application/xml", headers["content-type"])
      assert.truthy(body:find('^<%?xml version="1.0"'))
      assert.truthy(body:find('<settlement id="stl-0006" account_id="T12345678">', 1, true))
      assert.truthy(body:find('<amount currency="SEK">107404</amount>', 1, true))
    end)

    it("answers 404 for an unknown settlement or attachment", function()
      local status, body = mock.authed("GET", BASE .. "/stl-9999/attachments/stl-9999-csv")
      assert.equal(404, status)
      assert.equal("NOT_FOUND", body.error.code)
      status = mock.authed("GET", BASE .. "/stl-0001/attachments/stl-0002-csv")
      assert.equal(404, status)
    end)

    it("needs a token", function()
      assert.equal(401, (mock.get(BASE .. "/stl-0001/attachments/stl-0001-csv")))
    end)
  end)

  describe("generate-test-report", function()
    local PATH = BASE .. "/reports/generate-test-report"

    it("answers 201 with a message, with or without a body", function()
      local status, body = mock.authed("POST", PATH, { number_of_transactions = 5 })
      assert.equal(201, status)
      assert.is_string(body.message)
      assert.equal(201, (mock.authed("POST", PATH, { transaction_ids = { "T12345678.abc" } })))
      assert.equal(201, (mock.authed("POST", PATH, { date_range = { from = "2026-01-01" } })))
      assert.equal(201, (mock.authed("POST", PATH)))
    end)

    it("refuses transaction_ids mixed with a count, and a bad count", function()
      assert_invalid("transaction_ids",
        mock.authed("POST", PATH, { transaction_ids = { "a" }, number_of_transactions = 2 }))
      assert_invalid("transaction_ids", mock.authed("POST", PATH, { transaction_ids = "a" }))
      assert_invalid("number_of_transactions", mock.authed("POST", PATH, { number_of_transactions = 0 }))
      assert_invalid("date_range", mock.authed("POST", PATH, { date_range = "last week" }))
    end)

    it("needs a token", function()
      assert.equal(401, (mock.post(PATH, {})))
    end)
  end)
end)
