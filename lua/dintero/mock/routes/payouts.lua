-- Mock routes for Dintero Payout v2 (api host): fund transfers between sellers,
-- seller balances and the seller ledger ("transfers").
--
-- State (per account, see docs/mock-seed.md):
--   api.state.payouts[aid] = {
--     destinations = { [payout_destination_id] = { payout_destination_id,
--       payout_destination_config_id, balances = { [currency] = integer },
--       entries = { ledger entries, oldest first } } },
--     fund_transfers = { [fund_transfer_id] = { transfer = {...}, fingerprint = "..." } },
--   }
-- The real service processes fund transfers asynchronously; the mock applies them at once
-- so that a test can read the moved balance right after the call.
local checks = require "dintero.mock.checks"
local invalid = checks.invalid
local is_object = checks.is_object

local MAX_LIMIT, DEFAULT_LIMIT = 1000, 10

-- A JSON number may decode as a float (10.0, 10.5); an amount is valid when integral
-- and is kept as a Lua integer so that it goes back on the wire without a fraction.
local function integer(v)
  if type(v) ~= "number" then return nil end
  return math.tointeger(v)
end

local function book(api, aid)
  api.state.payouts = api.state.payouts or {}
  local b = api.state.payouts[aid]
  if not b then
    b = { destinations = {}, fund_transfers = {} }
    api.state.payouts[aid] = b
  end
  return b
end

local function check_string(body, field, max)
  local v = body[field]
  if type(v) ~= "string" or v == "" then return "is required and must be a non-empty string" end
  if max and (utf8.len(v) or #v) > max then
    return ("must be at most %d characters"):format(max)
  end
end

-- Returns nil when the body is a valid fund transfer, else field, reason.
local function check_transfer(body)
  for _, f in ipairs { "fund_transfer_id", "source_payout_destination_id",
                       "destination_payout_destination_id" } do
    local why = check_string(body, f)
    if why then return f, why end
  end
  if body.type ~= "payout-destination" then return "type", 'must be "payout-destination"' end
  local amount = integer(body.amount)
  if not amount or amount < 1 then return "amount", "must be an integer >= 1" end
  if type(body.currency) ~= "string" or not body.currency:match "^%u%u%u$" then
    return "currency", "must be a 3-letter upper-case ISO 4217 code"
  end
  local why = check_string(body, "reference", 60)
  if why then return "reference", why end
  if body.source_payout_destination_id == body.destination_payout_destination_id then
    return "destination_payout_destination_id", "must differ from source_payout_destination_id"
  end
end

-- What makes two requests "the same transfer" for idempotency.
local function fingerprint(body)
  return table.concat({ body.fund_transfer_id, body.type, body.source_payout_destination_id,
    body.destination_payout_destination_id, tostring(integer(body.amount)), body.currency,
    body.reference }, "\0")
end

local function ledger_entry(aid, dest, transfer, amount)
  local entries = dest.entries
  local entry = {
    id = ("%s.le%04d"):format(dest.payout_destination_id, #entries + 1),
    account_id = aid,
    payout_destination_id = dest.payout_destination_id,
    type = "fund_transfer",
    amount = amount,                 -- signed: negative leaves the destination
    currency = transfer.currency,
    reference = transfer.reference,
    fund_transfer_id = transfer.fund_transfer_id,
    created_at = transfer.created_at,
  }
  entries[#entries + 1] = entry
  dest.balances[transfer.currency] = (dest.balances[transfer.currency] or 0) + amount
end

local function new_transfer(api, req, body)
  return {
    fund_transfer_id = body.fund_transfer_id,
    type = body.type,
    source_payout_destination_id = body.source_payout_destination_id,
    destination_payout_destination_id = body.destination_payout_destination_id,
    amount = integer(body.amount),
    currency = body.currency,
    reference = body.reference,
    account_id = req.params.aid,
    created_at = api.iso8601(),
    created_by = req.token and req.token.client_id or "mock-client",
  }
end

-- Checks that both sellers exist and the source can pay; returns them, or nil and a
-- fail pair.
local function parties(api, b, body)
  local src = b.destinations[body.source_payout_destination_id]
  if not src then
    return nil, invalid(api, "source_payout_destination_id", "unknown payout destination")
  end
  local dst = b.destinations[body.destination_payout_destination_id]
  if not dst then
    return nil, invalid(api, "destination_payout_destination_id", "unknown payout destination")
  end
  -- The mock keeps balances non-negative so that tests can provoke a refusal.
  if (src.balances[body.currency] or 0) < integer(body.amount) then
    local why = "exceeds the source balance in " .. body.currency
    return nil, api.fail(400, "INSUFFICIENT_FUNDS", "amount: " .. why,
      { { field = "amount", description = why } })
  end
  return src, dst
end

-- Answers an earlier transfer under the same id: the same answer for the same body (a
-- retry must not move money twice), 409 for another body (a caller bug, not a retry).
local function replay(api, done, body)
  if done.fingerprint ~= fingerprint(body) then
    return api.fail(409, "CONFLICT", "fund_transfer_id: already used for a different fund transfer")
  end
  return 200, { fund_transfer = done.transfer }
end

local function fund_transfer(api, req)
  local body = req.json
  if not is_object(api, body) then return invalid(api, "body", "must be a JSON object") end
  local field, why = check_transfer(body)
  if field then return invalid(api, field, why) end
  local b = book(api, req.params.aid)
  local done = b.fund_transfers[body.fund_transfer_id]
  if done then return replay(api, done, body) end
  local src, dst, err = parties(api, b, body)
  if not src then return dst, err end
  local transfer = new_transfer(api, req, body)
  ledger_entry(req.params.aid, src, transfer, -transfer.amount)
  ledger_entry(req.params.aid, dst, transfer, transfer.amount)
  b.fund_transfers[body.fund_transfer_id] = { transfer = transfer, fingerprint = fingerprint(body) }
  return 200, { fund_transfer = transfer }
end

local function balances(api, req)
  local dest = book(api, req.params.aid).destinations[req.params.payout_destination_id]
  if not dest then return api.fail(404, "NOT_FOUND", "payout destination not found") end
  local currencies = {}
  for currency in pairs(dest.balances) do currencies[#currencies + 1] = currency end
  table.sort(currencies)             -- a stable order makes responses comparable
  local out = api.array()
  for _, currency in ipairs(currencies) do
    out[#out + 1] = {
      account_id = req.params.aid,
      payout_destination_config_id = dest.payout_destination_config_id,
      payout_destination_id = dest.payout_destination_id,
      currency = currency,
      amount = dest.balances[currency],
    }
  end
  return 200, { payout_destination_balances = out }
end

-- The page token is the hex of the last entry id handed out: opaque to clients, stable
-- while new entries are appended (they sort first, before any cursor).
local function encode_token(id)
  return (id:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function decode_token(token)
  if #token % 2 ~= 0 or token:find "[^%x]" then return nil end
  return (token:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_limit(value)
  if value == nil then return DEFAULT_LIMIT end
  local n = math.tointeger(tonumber(value))
  if not n or n < 1 or n > MAX_LIMIT then return nil end
  return n
end

-- Newest first, optionally one currency only.
local function visible_entries(dest, currency)
  local out = {}
  for i = #dest.entries, 1, -1 do
    local e = dest.entries[i]
    if not currency or e.currency == currency then out[#out + 1] = e end
  end
  return out
end

local function index_after(list, id)
  for i, e in ipairs(list) do
    if e.id == id then return i end
  end
end

local function transfers(api, req)
  local dest = book(api, req.params.aid).destinations[req.params.payout_destination_id]
  if not dest then return api.fail(404, "NOT_FOUND", "payout destination not found") end
  local limit = parse_limit(req.query.limit)
  if not limit then return invalid(api, "limit", "must be an integer from 1 to 1000") end
  local currency = req.query.currency
  if currency and not currency:match "^%u%u%u$" then
    return invalid(api, "currency", "must be a 3-letter upper-case ISO 4217 code")
  end
  local list, start = visible_entries(dest, currency), 0
  if req.query.page then
    start = index_after(list, decode_token(req.query.page) or "")
    if not start then return invalid(api, "page", "unknown page token") end
  end
  local page = api.array()
  for i = start + 1, math.min(start + limit, #list) do page[#page + 1] = list[i] end
  local res = { entries = page }
  if start + limit < #list then res.next_page_token = encode_token(page[#page].id) end
  return 200, res
end

return function(api)
  local base = "/v2/accounts/{aid}/payout"
  api.route("POST", base .. "/fund-transfers", function(req)
    return fund_transfer(api, req)
  end, { auth = true })
  api.route("GET", base .. "/payout-destinations/{payout_destination_id}/balances", function(req)
    return balances(api, req)
  end, { auth = true })
  api.route("GET", base .. "/payout-destinations/{payout_destination_id}/transfers", function(req)
    return transfers(api, req)
  end, { auth = true })
end
