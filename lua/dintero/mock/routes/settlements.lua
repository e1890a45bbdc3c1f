-- Mock routes for settlements (api host): the settlement list with its cursor paging,
-- the attachment download, and the test-report trigger.
--
-- State: api.state.settlements[aid] = { SettlementItem, ... } in any order; the list is
-- sorted on every request, so routes and the seed may append freely.
-- Attachment bytes are not stored: they are rendered from the settlement on download, so
-- they always agree with the item the client listed.
local checks = require "dintero.mock.checks"
local invalid = checks.invalid
local is_object = checks.is_object

local MAX_LIMIT, DEFAULT_LIMIT = 1000, 10
local DAY = 86400

local function settlements_of(api, aid)
  api.state.settlements = api.state.settlements or {}
  api.state.settlements[aid] = api.state.settlements[aid] or {}
  return api.state.settlements[aid]
end

local function parse_limit(value)
  if value == nil then return DEFAULT_LIMIT end
  local n = math.tointeger(tonumber(value))
  if n and n >= 1 and n <= MAX_LIMIT then return n end
end

-- Date filters compare instants (api.parse_time), so any ISO 8601 form works. A bare
-- date as the upper bound covers its whole day, as a person reading "lte 2026-01-31"
-- expects. Returns {gte, lte} or nil and the name of the unreadable parameter.
local function date_bounds(api, q, prefix)
  local out = {}
  for _, op in ipairs { "gte", "lte" } do
    local name = prefix .. "." .. op
    local v = q[name]
    if v ~= nil then
      out[op] = api.parse_time(v)
      if not out[op] then return nil, name end
      if op == "lte" and #v == 10 then out[op] = out[op] + DAY - 0.001 end
    end
  end
  return out
end

local function payment_providers(req)
  local values = req.query_all and req.query_all.payment_provider
  if not values then return nil end
  local set = {}
  for _, v in ipairs(values) do
    for p in v:gmatch "[^,]+" do set[p] = true end
  end
  return set
end

-- Returns the list filter, or nil, field, reason.
local function list_filter(api, req)
  local q = req.query
  local by_item = q["item_created_at.gte"] or q["item_created_at.lte"]
  if by_item and (q["created_at.gte"] or q["created_at.lte"]) then
    return nil, "item_created_at.gte", "cannot be combined with created_at.gte/created_at.lte"
  end
  local bounds, bad = date_bounds(api, q, by_item and "item_created_at" or "created_at")
  if not bounds then return nil, bad, "must be an ISO 8601 date or date-time" end
  return {
    -- The documented cursor date is settled_at, or created_at with item_created_at filters.
    key = by_item and "created_at" or "settled_at",
    gte = bounds.gte, lte = bounds.lte,
    providers = payment_providers(req),
    destination = q.payout_destination_id,
    search = q.search and q.search:lower(),
  }
end

local function matches(s, t, f)
  return (not f.gte or t >= f.gte) and (not f.lte or t <= f.lte)
    and (not f.providers or f.providers[s.payment_provider])
    and (not f.destination or s.payout_destination_id == f.destination)
    and (not f.search or s.id:lower():find(f.search, 1, true) ~= nil)
end

-- Newest first; the id breaks ties so that the (date, id) cursor is a total order.
local function newest_first(a, b)
  if a.t ~= b.t then return a.t > b.t end
  return a.item.id > b.item.id
end

local function after_cursor(row, cursor)
  return row.t < cursor.t or (row.t == cursor.t and row.item.id < cursor.id)
end

-- Returns the cursor (or nil without one), or false, field, reason.
local function read_cursor(api, req)
  local id, date = req.query.starting_after_id, req.query.starting_after_date
  if id == nil and date == nil then return nil end
  if id == nil or date == nil then
    return false, id and "starting_after_date" or "starting_after_id",
      "starting_after_id and starting_after_date must be used together"
  end
  local t = api.parse_time(date)
  if not t then return false, "starting_after_date", "must be an ISO 8601 date or date-time" end
  return { id = id, t = t }
end

-- The filtered rows {item, t} after the cursor, newest first.
local function select_rows(api, req, f, cursor)
  local rows = {}
  for _, s in ipairs(settlements_of(api, req.params.aid)) do
    local row = { item = s, t = api.parse_time(s[f.key]) or 0 }
    if matches(s, row.t, f) and (not cursor or after_cursor(row, cursor)) then
      rows[#rows + 1] = row
    end
  end
  table.sort(rows, newest_first)
  return rows
end

local function list(api, req)
  local limit = parse_limit(req.query.limit)
  if not limit then return invalid(api, "limit", "must be an integer from 1 to 1000") end
  local f, field, why = list_filter(api, req)
  if not f then return invalid(api, field, why) end
  local cursor, cfield, cwhy = read_cursor(api, req)
  if cursor == false then return invalid(api, cfield, cwhy) end
  local rows = select_rows(api, req, f, cursor)
  local items = api.array()
  for i = 1, math.min(limit, #rows) do items[i] = rows[i].item end
  local res = { items = items }
  if #rows > limit then
    local last = items[#items]
    res.last_evaluated_key = { id = last.id, [f.key] = last[f.key] }
  end
  return 200, res
end

local function csv(s)
  return table.concat({
    "settlement_id,settlement_date,payment_provider,payout_destination_id,currency,amount,fee,net_amount",
    table.concat({ s.id, s.settlement_date, s.payment_provider, s.payout_destination_id or "",
      s.currency, s.amount, s.fee, s.net_amount }, ","),
    "",
  }, "\n")
end

local function xml(s)
  return table.concat({
    '<?xml version="1.0" encoding="UTF-8"?>',
    ('<settlement id="%s" account_id="%s">'):format(s.id, s.account_id),
    ("  <settlement_date>%s</settlement_date>"):format(s.settlement_date),
    ("  <payment_provider>%s</payment_provider>"):format(s.payment_provider),
    ('  <amount currency="%s">%d</amount>'):format(s.currency, s.amount),
    ('  <fee currency="%s">%d</fee>'):format(s.currency, s.fee),
    ('  <net_amount currency="%s">%d</net_amount>'):format(s.currency, s.net_amount),
    "</settlement>",
    "",
  }, "\n")
end

local RENDER = { ["text/csv"] = csv, ["application/xml"] = xml }

local function find(items, id)
  for _, v in ipairs(items) do
    if v.id == id then return v end
  end
end

local function attachment(api, req)
  local s = find(settlements_of(api, req.params.aid), req.params.settlement_id)
  if not s then return api.fail(404, "NOT_FOUND", "settlement not found") end
  local a = find(s.attachments, req.params.attachment_id)
  if not a then return api.fail(404, "NOT_FOUND", "attachment not found") end
  local render = RENDER[a.content_type] or csv      -- an unknown type still gets bytes
  return 200, render(s), {
    ["content-type"] = a.content_type,
    ["content-disposition"] = ('attachment; filename="%s"'):format(a.filename),
  }
end

-- Body fields: transaction_ids alone, or number_of_transactions and/or date_range.
local function check_test_report(body)
  if body.transaction_ids ~= nil then
    if type(body.transaction_ids) ~= "table" then
      return "transaction_ids", "must be an array of strings"
    end
    if body.number_of_transactions ~= nil or body.date_range ~= nil then
      return "transaction_ids", "cannot be combined with number_of_transactions or date_range"
    end
  end
  local n = body.number_of_transactions
  if n ~= nil and (type(n) ~= "number" or not math.tointeger(n) or n < 1) then
    return "number_of_transactions", "must be an integer >= 1"
  end
  if body.date_range ~= nil and type(body.date_range) ~= "table" then
    return "date_range", "must be an object"
  end
end

-- The real service builds the report asynchronously; the mock only acknowledges.
local function generate_test_report(api, req)
  local body = req.json
  if body == nil then body = {} end
  if not is_object(api, body) then return invalid(api, "body", "must be a JSON object") end
  local field, why = check_test_report(body)
  if field then return invalid(api, field, why) end
  return 201, { message = "test settlement report generation started" }
end

return function(api)
  local base = "/v1/accounts/{aid}/settlements"
  api.route("GET", base, function(req) return list(api, req) end, { auth = true })
  api.route("GET", base .. "/{settlement_id}/attachments/{attachment_id}", function(req)
    return attachment(api, req)
  end, { auth = true })
  api.route("POST", base .. "/reports/generate-test-report", function(req)
    return generate_test_report(api, req)
  end, { auth = true })
end
