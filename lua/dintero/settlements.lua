-- client.settlements: settlement reports per payout (api host): the list
-- with its last_evaluated_key paging, attachment downloads (bytes, not
-- JSON), and client.settlements.report_configs (report_configs.lua).
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"

local M = {}

local Settlements = {}
Settlements.__index = Settlements

function M.new(client)
  return setmetatable({
    _client = client,
    report_configs = require("dintero.report_configs").new(client),
  }, Settlements)
end

local EACH_LIMIT = 100

-- The query of a list call; a cursor (the previous page's
-- last_evaluated_key) becomes starting_after_id + starting_after_date.
local function list_query(filters)
  local q = call.copy(filters) or {}
  local cursor = q.cursor
  q.cursor = nil
  if cursor ~= nil then
    if type(cursor) ~= "table" then
      return validate.fail("cursor", "must be the last_evaluated_key table of the previous page")
    end
    q.starting_after_id = cursor.id
    q.starting_after_date = cursor.settled_at or cursor.created_at
  end
  return q
end

local function page(client, filters, opts)
  local q, msg, err = list_query(filters)
  if not q then return nil, msg, err end
  local r1, r2, r3 = validate.limit(q.limit, 1, 1000)
  if r2 then return r1, r2, r3 end
  local res, meta, e = client:request(call.apply(client, opts, {
    method = "GET", host = "api", path = "/v1/accounts/{aid}/settlements",
    params = { aid = client.account_id }, query = q,
  }))
  if not res then return nil, meta, e end
  local items = type(res) == "table" and res.items or {}
  local key = type(res) == "table" and res.last_evaluated_key or nil
  if type(key) ~= "table" then key = nil end
  return items, key, res
end

--- client.settlements:list([filters [, opts]]) -> items, next_cursor, body.
-- filters: limit (1-1000), ["created_at.gte"], ["created_at.lte"],
-- ["item_created_at.gte"], ["item_created_at.lte"], payment_provider (list),
-- payout_destination_id, search, and cursor = the next_cursor of the previous
-- page (its last_evaluated_key; nil after the last page).
--- for item in client.settlements:each([filters [, opts]]) do ... end
-- A failing page raises the err table (see pager.lua).
pager.define(Settlements, { name = "settlements", page = page, each_limit = EACH_LIMIT })

--- client.settlements:attachment(settlement_id, attachment_id [, opts]) ->
-- bytes, content_type, meta. The file as sent (CSV, XML, PDF ...).
function Settlements:attachment(settlement_id, attachment_id, opts)
  local client = call.self(self, Settlements, "settlements.attachment")
  call.string_arg("settlements.attachment", "settlement_id", settlement_id)
  call.string_arg("settlements.attachment", "attachment_id", attachment_id)
  opts = call.opts("settlements.attachment", opts)
  local bytes, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api",
    path = "/v1/accounts/{aid}/settlements/{settlement_id}/attachments/{attachment_id}",
    params = { aid = client.account_id, settlement_id = settlement_id, attachment_id = attachment_id },
    raw = true,
  }))
  if not bytes then return nil, meta, err end
  return bytes, meta.content_type, meta
end

return M
