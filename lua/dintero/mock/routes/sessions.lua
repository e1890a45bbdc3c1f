-- Session routes: create (from profile, plain, payment-token), get, update (with
-- the pay-lock rules), cancel, sessions/pay (merchant-initiated payment), and the
-- shopper view page the session url points at.
--
-- A session is kept as {data = <the JSON the API returns>, account, locked, kind}
-- in api.state.sessions[id].
local payments = require "dintero.mock.payments"
local url = require "dintero.mock.url"

local function sessions(api)
  api.state.sessions = api.state.sessions or {}
  api.state.session_order = api.state.session_order or {}
  return api.state.sessions
end

--- The Dintero-Feature-Toggles header as a set.
local function toggles(req)
  local set = {}
  for t in (req.headers["dintero-feature-toggles"] or ""):gmatch("[^,%s]+") do set[t] = true end
  return set
end

local function is_uint(v) return math.type(v) == "integer" and v >= 0 end

-- Collects validation problems of an order into errs ({field, description} tables).
local function check_order(order, required, errs, prefix)
  local function bad(field, desc) errs[#errs + 1] = { field = prefix .. field, description = desc } end
  if type(order) ~= "table" then bad("", "is required and must be an object"); return end
  if order.amount ~= nil or required then
    if not is_uint(order.amount) then bad("amount", "must be an integer >= 0 (minor units)") end
  end
  if order.currency ~= nil or required then
    if type(order.currency) ~= "string" or not order.currency:match("^%u%u%u$") then
      bad("currency", "must be a 3-letter ISO 4217 code in capitals")
    end
  end
  if order.merchant_reference ~= nil or required then
    if type(order.merchant_reference) ~= "string" or order.merchant_reference == "" then
      bad("merchant_reference", "is required and must be a non-empty string")
    end
  end
  if order.vat_amount ~= nil and not is_uint(order.vat_amount) then
    bad("vat_amount", "must be an integer >= 0")
  end
  if order.items ~= nil then
    if type(order.items) ~= "table" then bad("items", "must be an array") else
      for i, it in ipairs(order.items) do
        local f = "items[" .. (i - 1) .. "]."
        if type(it) ~= "table" then bad(f:sub(1, -2), "must be an object")
        else
          if it.amount ~= nil and not is_uint(it.amount) then bad(f .. "amount", "must be an integer >= 0") end
          if it.vat_amount ~= nil and not is_uint(it.vat_amount) then
            bad(f .. "vat_amount", "must be an integer >= 0")
          end
        end
      end
    end
  end
  local so = order.shipping_option
  if so ~= nil and (type(so) ~= "table" or (so.amount ~= nil and not is_uint(so.amount))) then
    bad("shipping_option.amount", "must be an integer >= 0")
  end
end

-- strict-session-amounts: amount (and vat_amount) = items + shipping_option.
local function check_sums(order, errs, prefix)
  if type(order) ~= "table" or type(order.items) ~= "table" then return end
  local amount, vat = 0, 0
  for _, it in ipairs(order.items) do
    amount = amount + (math.tointeger(it.amount) or 0)
    vat = vat + (math.tointeger(it.vat_amount) or 0)
  end
  local so = type(order.shipping_option) == "table" and order.shipping_option or {}
  amount = amount + (math.tointeger(so.amount) or 0)
  vat = vat + (math.tointeger(so.vat_amount) or 0)
  local ok = order.amount == amount or (order.partial_payment == true and order.amount <= amount)
  if not ok then
    errs[#errs + 1] = { field = prefix .. "amount", description = string.format(
      "must equal the sum of items.amount and shipping_option.amount (%d), got %s",
      amount, tostring(order.amount)) }
  end
  if order.vat_amount ~= nil and order.vat_amount ~= vat then
    errs[#errs + 1] = { field = prefix .. "vat_amount", description = string.format(
      "must equal the sum of items.vat_amount and shipping_option.vat_amount (%d), got %s",
      vat, tostring(order.vat_amount)) }
  end
end

local function check_urls(u, need_return, errs, prefix)
  if u == nil and not need_return then return end
  if type(u) ~= "table" then
    errs[#errs + 1] = { field = prefix .. "url", description = "is required and must be an object" }
    return
  end
  for _, k in ipairs { "return_url", "callback_url" } do
    local v = u[k]
    if (v ~= nil or (k == "return_url" and need_return)) and
       (type(v) ~= "string" or not url.split(v)) then
      errs[#errs + 1] = { field = prefix .. "url." .. k, description = "must be an absolute URL" }
    end
  end
end

-- The 400 answer naming the first problem; all of them in error.errors.
local function invalid(api, errs)
  local first = errs[1]
  return api.fail(400, "INVALID_REQUEST_PARAMETER", first.field .. ": " .. first.description, errs)
end

-- Validates a session body (create); returns nil or a fail pair.
local function validate_session(api, req, body, opts)
  local errs, p = {}, opts.prefix or ""
  if type(body) ~= "table" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "a JSON object body is required")
  end
  if opts.profile and (type(body.profile_id) ~= "string" or body.profile_id == "") then
    errs[#errs + 1] = { field = p .. "profile_id", description = "is required" }
  end
  check_urls(body.url, opts.need_return ~= false, errs, p)
  check_order(body.order, true, errs, p .. "order.")
  if #errs == 0 and toggles(req)["strict-session-amounts"] then check_sums(body.order, errs, p .. "order.") end
  if #errs > 0 then return invalid(api, errs) end
end

local SYSTEM_HEADERS = { "dintero-system-name", "dintero-system-version",
                         "dintero-system-plugin-name", "dintero-system-plugin-version" }

local function system_headers(req)
  local h = {}
  for _, k in ipairs(SYSTEM_HEADERS) do h[k] = req.headers[k] end
  return h
end

--- Stores a new session for body; returns the record.
local function new_session(api, req, body, kind)
  local id = api.new_id(req.account)
  local now = api.iso8601()
  local data = {
    id = id, created_at = now, updated_at = now, url = body.url or {}, order = body.order,
    customer = body.customer, profile_id = body.profile_id, configuration = body.configuration or {},
    express = body.express, metadata = body.metadata, expires_at = body.expires_at,
    checkboxes = body.checkboxes, merchant = body.merchant, events = api.array(),
  }
  local rec = { data = data, account = req.account, locked = false, kind = kind,
                system_headers = system_headers(req),
                payment_operation = body.payment_operation }
  sessions(api)[id] = rec
  local order = api.state.session_order
  order[#order + 1] = id
  payments.session_event(api, rec, "INITIATED")
  return rec
end

-- The session record for req.params.id of the caller's account, or nil + 404.
local function find(api, req)
  local rec = sessions(api)[req.params.id]
  if not rec or rec.account ~= req.account then
    return nil, api.fail(404, "NOT_FOUND", "session " .. tostring(req.params.id) .. " not found")
  end
  return rec
end

local function view(_, rec, req)
  local out = {}
  for k, v in pairs(rec.data) do out[k] = v end
  for _, inc in ipairs(req.query_all.includes or {}) do
    if inc:find("initiating_system_request_headers", 1, true) then
      out.initiating_system_request_headers = rec.system_headers
    end
  end
  return out
end

local function created(api, req, rec)
  local out = { id = rec.data.id, url = api.base_url(req) .. "/v1/view/" .. rec.data.id }
  if req.query.include_session == "true" then out.session = view(api, rec, req) end
  return 200, out
end

local function create(api, req, profile)
  local st, err = validate_session(api, req, req.json, { profile = profile })
  if st then return st, err end
  return created(api, req, new_session(api, req, req.json, profile and "profile" or "plain"))
end

local function payment_token(api, req)
  local b = req.json
  if type(b) ~= "table" or type(b.token_provider) ~= "table" or
     type(b.token_provider.payment_product_type) ~= "string" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "token_provider.payment_product_type is required")
  end
  local st, err = validate_session(api, req, b.session, { prefix = "session." })
  if st then return st, err end
  local rec = new_session(api, req, b.session, "payment_token")
  rec.token_provider = b.token_provider
  return created(api, req, rec)
end

local function update(api, req)
  local rec, st, err = find(api, req)
  if not rec then return st, err end
  if rec.data.cancelled_at then
    return api.fail(409, "SESSION_CANCELLED", "session is cancelled and cannot be updated")
  end
  if rec.data.transaction_id then
    return api.fail(409, "SESSION_COMPLETED", "session is completed (it has a transaction) and cannot be updated")
  end
  if not rec.locked and req.query.update_without_lock ~= "true" then
    return api.fail(409, "SESSION_NOT_LOCKED",
      "session must be locked before it is updated (or use ?update_without_lock=true)")
  end
  local b = req.json
  if type(b) ~= "table" or type(b.order) ~= "table" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "order: is required and must be an object")
  end
  local merged = payments.copy(rec.data.order or {})
  for k, v in pairs(b.order) do merged[k] = v end
  local errs = {}
  check_order(merged, false, errs, "order.")
  if #errs == 0 and toggles(req)["strict-session-amounts"] then check_sums(merged, errs, "order.") end
  if #errs > 0 then return invalid(api, errs) end
  rec.data.order = merged
  if b.remove_lock ~= false then rec.locked = false end
  payments.session_event(api, rec, "UPDATE_SESSION")
  return 200, view(api, rec, req)
end

local function cancel(api, req)
  local rec, st, err = find(api, req)
  if not rec then return st, err end
  if rec.data.cancelled_at then
    return api.fail(409, "SESSION_CANCELLED", "session is already cancelled")
  end
  local tx = rec.data.transaction_id and (api.state.transactions or {})[rec.data.transaction_id]
  if tx then
    if tx.status ~= "INITIATED" and tx.status ~= "AUTHORIZED" then
      return api.fail(400, "INVALID_TRANSACTION_STATE", string.format(
        "session cannot be cancelled: its transaction is %s (only INITIATED or AUTHORIZED are voided)",
        tx.status))
    end
    payments.void_for_cancel(api, tx, req)
  end
  rec.data.cancelled_at = api.iso8601()
  rec.data.cancelled_by = req.token and req.token.client_id or "mock"
  rec.locked = false
  payments.session_event(api, rec, "CANCELLED")
  require("dintero.mock.callbacks").cancelled(api, rec, tx)
  return 200, view(api, rec, req)
end

-- Decline triggers of sessions/pay: an amount ending in 13 (e.g. 1013), or any
-- customer token whose value (or token id) is "declined".
local function declined(body)
  local order = body.session.order
  if order.amount % 100 == 13 then return true end
  local function has(v, depth)
    if v == "declined" then return true end
    if type(v) == "table" and depth < 5 then
      for _, x in pairs(v) do if has(x, depth + 1) then return true end end
    end
    return false
  end
  local c = body.session.customer
  return type(c) == "table" and has(c.tokens, 0)
end

-- strict-merchant-reference / strict-success-merchant-reference checks.
local function reference_taken(api, req, ref)
  local t = toggles(req)
  if not t["strict-merchant-reference"] and not t["strict-success-merchant-reference"] then return false end
  for _, rec in pairs(sessions(api)) do
    if rec.account == req.account and (rec.data.order or {}).merchant_reference == ref then
      if t["strict-merchant-reference"] then return true end
      local tx = rec.data.transaction_id and api.state.transactions[rec.data.transaction_id]
      if tx and tx.status ~= "FAILED" then return true end
    end
  end
  return false
end

local function pay(api, req)
  local b = req.json
  if type(b) ~= "table" or type(b.session) ~= "table" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "session: is required and must be an object")
  end
  if type(b.payment) ~= "table" or type(b.payment.payment_product_type) ~= "string" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "payment.payment_product_type: is required")
  end
  local st, err = validate_session(api, req, b.session, { prefix = "session.", need_return = false })
  if st then return st, err end
  if reference_taken(api, req, b.session.order.merchant_reference) then
    return api.fail(400, "DUPLICATE_MERCHANT_REFERENCE", "session.order.merchant_reference " ..
      b.session.order.merchant_reference .. " is already used")
  end
  local rec = new_session(api, req, b.session, "pay")
  rec.payment_operation = b.payment.operation
  local tx = payments.pay(api, rec, declined(b) and "declined" or "authorized",
    b.payment.payment_product_type, req)
  local out = payments.view(api, tx)
  out.session_id, out.success, out.actions = rec.data.id, tx.status ~= "FAILED", api.array()
  return 200, out
end

local function view_page(api, req)
  local rec = sessions(api)[req.params.id]
  if not rec then return 404, "<h1>Unknown session</h1>", { ["content-type"] = "text/html" } end
  local o = rec.data.order or {}
  return 200, string.format("<!doctype html><title>Mock checkout</title><h1>Mock checkout</h1>" ..
    "<p>Session %s: %s %s, reference %s.</p><p>Pay with POST /_mock/sessions/%s/pay.</p>",
    rec.data.id, tostring(o.amount), tostring(o.currency), tostring(o.merchant_reference), rec.data.id),
    { ["content-type"] = "text/html; charset=utf-8" }
end

return function(api)
  local function r(method, path, fn, opts)
    api.route(method, path, function(req) return fn(api, req) end, opts)
  end
  r("POST", "/v1/sessions-profile", function(a, req) return create(a, req, true) end)
  r("POST", "/v1/sessions", function(a, req) return create(a, req, false) end)
  r("POST", "/v1/sessions/payment-token", payment_token)
  r("POST", "/v1/sessions/pay", pay)
  r("GET", "/v1/sessions/{id}", function(a, req)
    local rec, st, err = find(a, req)
    if not rec then return st, err end
    return 200, view(a, rec, req)
  end)
  r("PUT", "/v1/sessions/{id}", update)
  r("POST", "/v1/sessions/{id}/cancel", cancel)
  r("GET", "/v1/view/{id}", view_page, { auth = false })
end
