-- Transaction routes: get, update (merchant_reference_2), list with the filters
-- and paging of dintero-api.md section 4.4, and the operations capture, refund,
-- void and authorization (the state machine lives in payments.lua).
local payments = require "dintero.mock.payments"

-- The transaction of req.params.id for the caller's account, or nil + 404.
local function find(api, req)
  local s = payments.state(api)
  local tx = s.transactions[req.params.id]
  local meta = tx and s.tx_meta[tx.id]
  if not tx or meta.account ~= req.account then
    return nil, api.fail(404, "NOT_FOUND", "transaction " .. tostring(req.params.id) .. " not found")
  end
  return tx
end

local function get(api, req)
  local tx, st, err = find(api, req)
  if not tx then return st, err end
  return 200, payments.view(api, tx, req.query_all.includes)
end

local function update(api, req)
  local tx, st, err = find(api, req)
  if not tx then return st, err end
  local b = req.json
  if type(b) ~= "table" or type(b.merchant_reference_2) ~= "string" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "merchant_reference_2: is required and must be a string")
  end
  tx.merchant_reference_2 = b.merchant_reference_2
  tx.updated_at = api.iso8601()
  return 200, payments.view(api, tx)
end

local function operation(kind)
  return function(api, req)
    local tx, st, err = find(api, req)
    if not tx then return st, err end
    if kind == "authorization" then return payments.authorization(api, tx, req) end
    return payments.operate(api, tx, kind, req)
  end
end

----------------------------------------------------------------------------------
-- Listing

-- Fields compared for equality; repeated query keys are ORed.
local EQUAL = {
  id = function(tx) return tx.id end,
  status = function(tx) return tx.status end,
  session_id = function(tx) return tx.session_id end,
  currency = function(tx) return tx.currency end,
  payment_product = function(tx) return tx.payment_product end,
  payment_product_type = function(tx) return tx.payment_product_type end,
  merchant_reference = function(tx) return tx.merchant_reference end,
  merchant_reference_2 = function(tx) return tx.merchant_reference_2 end,
  card_brand = function(tx) return tx.card and tx.card.brand end,
  customer_id = function(tx) return tx.customer and tx.customer.customer_id end,
  store_id = function(tx) return tx.store and tx.store.id end,
  payment_operation = function(tx) return tx.payment_operation end,
  channel = function(tx) return tx.channel end,
  payout_correlation_id = function(tx) return tx.metadata and tx.metadata.payout_correlation_id end,
}

-- Event times of successful events of one kind, in epoch seconds.
local function event_times(api, tx, name)
  local list = {}
  for _, ev in ipairs(tx.events) do
    if ev.event == name and ev.success then list[#list + 1] = api.parse_time(ev.created_at) end
  end
  return list
end

local RANGES = {
  created_at = function(api, tx) return { api.parse_time(tx.created_at) } end,
  captured_at = function(api, tx) return event_times(api, tx, "CAPTURE") end,
  refunded_at = function(api, tx) return event_times(api, tx, "REFUND") end,
}

-- Compiles the query into a list of predicates; returns it or nil, fail pair.
local function compile_filters(api, req)
  local preds = {}
  for name, values in pairs(req.query_all) do
    local base = name:gsub("%[%]$", "")
    local field = EQUAL[base]
    if field then
      local set = {}
      for _, v in ipairs(values) do for x in v:gmatch("[^,]+") do set[x] = true end end
      preds[#preds + 1] = function(tx) return set[field(tx)] == true end
    end
  end
  local function num(name)
    local v = req.query[name]
    if v == nil then return true end
    local n = math.tointeger(tonumber(v))
    if not n then return nil, name end
    return n
  end
  for _, op in ipairs { { "amount", function(a, b) return a == b end },
                        { "amount.gte", function(a, b) return a >= b end },
                        { "amount.lte", function(a, b) return a <= b end } } do
    local n, bad = num(op[1])
    if not n then return nil, api.fail(400, "INVALID_REQUEST_PARAMETER", bad .. " must be an integer") end
    if n ~= true then preds[#preds + 1] = function(tx) return op[2](tx.amount, n) end end
  end
  for field, times in pairs(RANGES) do
    for _, suffix in ipairs { "gte", "lte" } do
      local v = req.query[field .. "." .. suffix]
      if v then
        local t = api.parse_time(v)
        if not t then
          return nil, api.fail(400, "INVALID_REQUEST_PARAMETER",
            field .. "." .. suffix .. " must be an ISO 8601 date or date-time")
        end
        preds[#preds + 1] = function(tx)
          for _, x in ipairs(times(api, tx)) do
            if (suffix == "gte" and x >= t) or (suffix == "lte" and x <= t) then return true end
          end
          return false
        end
      end
    end
  end
  local search = req.query.search
  if search and search ~= "" then
    local needle = search:lower()
    preds[#preds + 1] = function(tx)
      local c, sa = tx.customer or {}, tx.shipping_address or {}
      for _, hay in ipairs { tx.id, tx.session_id, tx.merchant_reference, tx.merchant_reference_2,
                             c.email, c.phone_number, c.customer_id,
                             (sa.first_name or "") .. " " .. (sa.last_name or "") } do
        if type(hay) == "string" and hay:lower():find(needle, 1, true) then return true end
      end
      return false
    end
  end
  return preds
end

local function list(api, req)
  local limit = req.query.limit and math.tointeger(tonumber(req.query.limit))
  if req.query.limit and (not limit or limit < 1 or limit > 100) then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "limit must be an integer from 1 to 100")
  end
  limit = limit or 10
  local preds, st, body = compile_filters(api, req)
  if not preds then return st, body end
  local s = payments.state(api)
  local start = #s.tx_order
  local after = req.query.starting_after
  if after then
    start = nil
    for i = #s.tx_order, 1, -1 do
      if s.tx_order[i] == after then start = i - 1; break end
    end
    if not start then
      return api.fail(400, "INVALID_REQUEST_PARAMETER", "starting_after: unknown transaction " .. after)
    end
  end
  local out = api.array()
  for i = start, 1, -1 do                          -- newest first
    local tx = s.transactions[s.tx_order[i]]
    if s.tx_meta[tx.id].account == req.account then
      local ok = true
      for _, p in ipairs(preds) do if not p(tx) then ok = false; break end end
      if ok then
        out[#out + 1] = payments.view(api, tx, req.query_all.includes)
        if #out >= limit then break end
      end
    end
  end
  return 200, out
end

return function(api)
  local function r(method, path, fn)
    api.route(method, path, function(req) return fn(api, req) end)
  end
  r("GET", "/v1/transactions", list)
  r("GET", "/v1/transactions/{id}", get)
  r("PUT", "/v1/transactions/{id}", update)
  for _, kind in ipairs { "capture", "refund", "void", "authorization" } do
    r("POST", "/v1/transactions/{id}/" .. kind, operation(kind))
  end
end
