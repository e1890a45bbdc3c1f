-- Paging of every list: `list` returns one page and the cursor of the next
-- (nil at the end), `each` walks all pages lazily, stops fetching on break,
-- and raises the err table when a page fails.
local mock = require "support.mock"
local h = require "support.api_helpers"

local function count(pattern)
  local n = 0
  for _, r in ipairs(mock.requests()) do
    if r.path:find(pattern) and r.method == "GET" then n = n + 1 end
  end
  return n
end

-- n paid transactions, oldest first; returns their ids.
local function make_transactions(client, n)
  local ids = {}
  for i = 1, n do
    local s = h.session(client, h.order(1000 + i, "ref-" .. i))
    ids[i] = mock.pay(s.id).id
  end
  return ids
end

describe("paging", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  describe("transactions (bare array, starting_after = last id)", function()
    it("list gives a page and the next cursor; nil when the page is not full", function()
      local ids = make_transactions(client, 25)
      local page, cursor, body = client.transactions:list { limit = 10 }
      assert.equals(10, #page)
      assert.equals(ids[25], page[1].id)                -- newest first
      assert.equals(page[10].id, cursor)
      assert.equals(10, #body)
      page, cursor = client.transactions:list { limit = 10, cursor = cursor }
      assert.equals(ids[15], page[1].id)
      assert.equals("starting_after=" .. ids[16], h.last_request("^/v1/transactions$").query:match "starting_after=[^&]+")
      page, cursor = client.transactions:list { limit = 10, starting_after = cursor }
      assert.equals(5, #page)
      assert.is_nil(cursor)
    end)

    it("uses the API's default page size (10) to tell the end", function()
      make_transactions(client, 12)
      local page, cursor = client.transactions:list()
      assert.equals(10, #page)
      assert.truthy(cursor)
      page, cursor = client.transactions:list { cursor = cursor }
      assert.equals(2, #page)
      assert.is_nil(cursor)
    end)

    it("each walks every page in order and ends on an empty page", function()
      local ids = make_transactions(client, 20)
      local seen = {}
      for tx in client.transactions:each { limit = 10 } do seen[#seen + 1] = tx.id end
      assert.equals(20, #seen)
      for i = 1, 20 do assert.equals(ids[21 - i], seen[i]) end
      assert.equals(3, count "^/v1/transactions$")   -- 10, 10, then the empty page
    end)

    it("each is lazy: break stops fetching", function()
      make_transactions(client, 25)
      local n = 0
      for _ in client.transactions:each { limit = 10 } do
        n = n + 1
        if n == 3 then break end
      end
      assert.equals(3, n)
      assert.equals(1, count "^/v1/transactions$")
    end)

    it("each passes filters on every page", function()
      make_transactions(client, 5)
      for tx in client.transactions:each { status = { "AUTHORIZED" }, limit = 2 } do
        assert.equals("AUTHORIZED", tx.status)
      end
      for _, r in ipairs(mock.requests()) do
        if r.path == "/v1/transactions" then assert.matches("status=AUTHORIZED", r.query) end
      end
    end)

    it("raises the err table when a later page fails (pcall sees it)", function()
      make_transactions(client, 15)
      local seen = 0
      local ok, err = pcall(function()
        for _ in client.transactions:each { limit = 10 } do
          seen = seen + 1
          if seen == 10 then mock.fault { method = "GET", path = "/v1/transactions", status = 500 } end
        end
      end)
      assert.is_false(ok)
      assert.equals(10, seen)
      assert.equals("table", type(err))
      assert.equals("api", err.kind)
      assert.equals(500, err.status)
      assert.matches("^api: HTTP 500", tostring(err))
    end)

    it("raises a local validation failure from each as well", function()
      local ok, err = pcall(function()
        for _ in client.transactions:each { limit = 1000 } do end
      end)
      assert.is_false(ok)
      assert.equals("validation", err.kind)
      assert.equals("limit", err.field)
    end)
  end)

  describe("settlements (last_evaluated_key)", function()
    it("list pages with the key; each walks 25 items", function()
      local items, cursor = client.settlements:list()
      assert.equals(10, #items)
      assert.equals("stl-0001", items[1].id)
      assert.equals("table", type(cursor))
      assert.equals(items[10].id, cursor.id)
      local first_key = cursor
      items, cursor = client.settlements:list { cursor = cursor }
      local q = h.last_request("/settlements$").query
      assert.truthy(q:find("starting_after_id=" .. first_key.id, 1, true))
      assert.matches("starting_after_date=", q)
      assert.equals(10, #items)
      items, cursor = client.settlements:list { cursor = cursor }
      assert.equals(5, #items)
      assert.is_nil(cursor)
      local ids, n = {}, 0
      for s in client.settlements:each { limit = 7 } do
        assert.is_nil(ids[s.id])
        ids[s.id], n = true, n + 1
      end
      assert.equals(25, n)
      assert.truthy(ids["stl-0025"])
    end)
  end)

  describe("report metadata (response starting_after)", function()
    it("pages 10 + 5 and each sees 15", function()
      local reports, cursor = client.reports:list()
      assert.equals(10, #reports)
      assert.equals("rpt-0010", cursor)
      reports, cursor = client.reports:list { cursor = cursor }
      assert.equals(5, #reports)
      assert.is_nil(cursor)
      local n = 0
      for _ in client.reports:each { limit = 4 } do n = n + 1 end
      assert.equals(15, n)
    end)
  end)

  describe("report configurations", function()
    it("pages with starting_after", function()
      local cfg = client.settlements.report_configs
      assert(cfg:create { filetypes = { "csv" }, destinations = {}, providers = {} })
      assert(cfg:create { filetypes = { "pdf" }, destinations = {}, providers = {} })
      local items, cursor = cfg:list { limit = 2 }
      assert.equals(2, #items)
      assert.equals(items[2].id, cursor)
      items, cursor = cfg:list { limit = 2, cursor = cursor }
      assert.equals(1, #items)
      assert.is_nil(cursor)
      local n = 0
      for _ in cfg:each { limit = 1 } do n = n + 1 end
      assert.equals(3, n)
    end)
  end)

  describe("seller transfers (next_page_token)", function()
    it("pages seller-a's 25 ledger entries", function()
      local entries, cursor = client.payouts:transfers { payout_destination_id = "seller-a" }
      assert.equals(10, #entries)
      assert.truthy(cursor)
      entries = assert(client.payouts:transfers { payout_destination_id = "seller-a", cursor = cursor })
      assert.equals(10, #entries)
      assert.matches("page=", h.last_request("/transfers$").query)
      local n = 0
      for _ in client.payouts:each_transfer("seller-a") do n = n + 1 end
      assert.equals(25, n)
      n = 0
      for e in client.payouts:each_transfer { payout_destination_id = "seller-b", currency = "SEK", limit = 1 } do
        assert.equals("SEK", e.currency)
        n = n + 1
      end
      assert.equals(2, n)
    end)
  end)

  describe("approvals (one page)", function()
    it("list returns a nil cursor and each walks the list", function()
      local cases, cursor = client.approvals:list()
      assert.equals(2, #cases)
      assert.is_nil(cursor)
      local n = 0
      for _ in client.approvals:each() do n = n + 1 end
      assert.equals(2, n)
    end)
  end)
end)
