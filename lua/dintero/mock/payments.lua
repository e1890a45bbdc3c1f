-- The payment model of the mock: creating a transaction when a session is paid,
-- and moving it through the states of dintero-api.md section 8 (capture, refund,
-- void, authorization). Shared by routes/sessions.lua (sessions/pay),
-- routes/control.lua (the simulated shopper) and routes/transactions.lua.
--
-- A transaction is stored as the JSON object the API returns (api.state.transactions)
-- plus bookkeeping the API does not show (api.state.tx_meta): amounts captured,
-- refunded and released, tokens, pending 202 operations.
local callbacks = require "dintero.mock.callbacks"

local M = {}

local function state(api)
  local s = api.state
  s.transactions = s.transactions or {}
  s.tx_meta = s.tx_meta or {}
  s.tx_order = s.tx_order or {}         -- ids, oldest first
  return s
end
M.state = state

--- Deep copy of a JSON-like value (keeps array marks).
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return setmetatable(out, getmetatable(v))
end
M.copy = copy

--- "dintero_psp.creditcard" -> "dintero_psp"; "vipps" -> "vipps".
function M.product_of(ptype)
  return (ptype:match("^([^.]+)") or ptype)
end

--- The status implied by the amounts (captured, refunded, released) of meta.
function M.derive_status(tx, meta)
  local remaining = tx.amount - meta.captured - meta.released
  if meta.captured == 0 then
    return meta.released > 0 and "AUTHORIZATION_VOIDED" or "AUTHORIZED"
  end
  if meta.refunded == 0 then
    return remaining > 0 and "PARTIALLY_CAPTURED" or "CAPTURED"
  end
  if remaining > 0 then return "PARTIALLY_CAPTURED_REFUNDED" end
  return meta.refunded < meta.captured and "PARTIALLY_REFUNDED" or "REFUNDED"
end

--- Appends an event to tx; returns it.
function M.add_event(api, tx, ev)
  ev.id = ev.id or ("mock-ev-" .. api.random_string(20))
  ev.created_at = ev.created_at or api.iso8601()
  ev.transaction_status = ev.transaction_status or tx.status
  if ev.success == nil then ev.success = true end
  ev.items = ev.items or api.array()
  tx.events[#tx.events + 1] = ev
  tx.updated_at = ev.created_at
  return ev
end

local DECLINE_ERROR = {
  code = "DECLINED", message = "payment declined by the issuer (mock decline trigger)",
}

local function decline_error(api)
  return { code = DECLINE_ERROR.code, message = DECLINE_ERROR.message,
           type = api.array { "DECLINED" },
           retry_policy = { retry_codes = api.array { "DO_NOT_RETRY" } } }
end

local function card_block(ptype)
  if not ptype:find("card") then return nil end
  return { brand = "Visa", masked_pan = "411111******1111", expiry_date = "12/30",
           type = "Credit", country = "NO", issuer = "Mock Bank" }
end

-- The static part of a new transaction, copied from the session.
local function new_tx(api, sess, ptype)
  local order = sess.data.order or {}
  local urls = sess.data.url or {}
  local now = api.iso8601()
  return {
    id = api.new_id(sess.account), created_at = now, updated_at = now,
    session_id = sess.data.id, status = "INITIATED",
    amount = order.amount, currency = order.currency,
    merchant_reference = order.merchant_reference, merchant_reference_2 = order.merchant_reference_2,
    items = copy(order.items) or api.array(), shipping_option = copy(order.shipping_option),
    shipping_address = copy(order.shipping_address), billing_address = copy(order.billing_address),
    customer = copy(sess.data.customer and {
      customer_id = sess.data.customer.customer_id, email = sess.data.customer.email,
      phone_number = sess.data.customer.phone_number }) or nil,
    payment_product = M.product_of(ptype), payment_product_type = ptype,
    payment_operation = sess.payment_operation,
    channel = (sess.data.configuration or {}).channel or "ecommerce",
    store = copy(order.store),
    url = { redirect_url = urls.return_url, callback_url = urls.callback_url },
    metadata = { ["session:profile_id"] = sess.data.profile_id },
    settlement_status = "NOT_SETTLED",
    events = api.array(), card = card_block(ptype),
  }
end

local function store(api, tx, meta)
  local s = state(api)
  s.transactions[tx.id] = tx
  s.tx_meta[tx.id] = meta
  s.tx_order[#s.tx_order + 1] = tx.id
end

--- Pays session record sess: outcome "authorized" | "declined" | "on_hold".
-- Creates and stores the transaction, updates the session, schedules the callback.
-- Returns the transaction.
function M.pay(api, sess, outcome, ptype, req)
  local tx = new_tx(api, sess, ptype)
  local meta = { account = sess.account, captured = 0, refunded = 0, released = 0,
                 pending = {},
                 tokens = { payment_token = "mock_pt_" .. api.random_string(24),
                            recurrence_token = "mock_rt_" .. api.random_string(24) } }
  local rid = req and req.id
  M.add_event(api, tx, { event = "INITIALIZE", amount = tx.amount, request_id = rid })
  if outcome == "declined" then
    tx.status = "FAILED"
    M.add_event(api, tx, { event = "AUTHORIZE", success = false, amount = tx.amount,
                           request_id = rid, error = decline_error(api) })
  elseif outcome == "on_hold" then
    tx.status = "ON_HOLD"
    M.add_event(api, tx, { event = "AUTHORIZE", amount = tx.amount, request_id = rid })
  else
    tx.status = "AUTHORIZED"
    M.add_event(api, tx, { event = "AUTHORIZE", amount = tx.amount, request_id = rid })
    if (sess.data.configuration or {}).auto_capture == true then
      meta.captured = tx.amount
      tx.status = M.derive_status(tx, meta)
      M.add_event(api, tx, { event = "CAPTURE", amount = tx.amount, request_id = rid,
                             items = copy(tx.items) })
    end
  end
  store(api, tx, meta)
  M.session_paid(api, sess, tx)
  callbacks.payment(api, sess, tx)
  return tx
end

--- Appends a session event {id, name, created_at, details?} to sess.
function M.session_event(api, sess, name, details)
  local ev = { id = "mock-sev-" .. api.random_string(20), name = name,
               created_at = api.iso8601(), details = details }
  sess.data.events[#sess.data.events + 1] = ev
  sess.data.updated_at = ev.created_at
  return ev
end

local SESSION_EVENT = { FAILED = "FAILED", ON_HOLD = "ON_HOLD" }

--- Records the payment on the session (events, transaction_id).
function M.session_paid(api, sess, tx)
  local name = SESSION_EVENT[tx.status] or "AUTHORIZED"
  M.session_event(api, sess, name, { transaction_id = tx.id })
  if tx.status ~= "FAILED" then
    sess.data.transaction_id = tx.id
    sess.locked = false
    M.session_event(api, sess, "COMPLETED", { transaction_id = tx.id })
  end
end

--- The public view of tx with query includes applied (a fresh table).
function M.view(api, tx, includes)
  local out = {}
  for k, v in pairs(tx) do out[k] = v end
  local want = {}
  for _, inc in ipairs(includes or {}) do
    for part in inc:gmatch("[^,]+") do want[part] = true end
  end
  local meta = state(api).tx_meta[tx.id]
  if tx.card and meta then
    local card = {}
    for k, v in pairs(tx.card) do card[k] = v end
    if want["card.payment_token"] then card.payment_token = meta.tokens.payment_token end
    if want["card.recurrence_token"] then card.recurrence_token = meta.tokens.recurrence_token end
    out.card = card
  end
  if want["events.success.true"] then
    local evs = api.array()
    for _, ev in ipairs(tx.events) do if ev.success then evs[#evs + 1] = ev end end
    out.events = evs
  end
  if want.session or want["session.events.latest"] then
    local sess = (api.state.sessions or {})[tx.session_id]
    out.session = sess and sess.data or nil
  end
  return out
end

----------------------------------------------------------------------------------
-- Operations. Each returns status, body like a route handler.

local function bad(api, code, msg)
  return api.fail(400, code, msg)
end

-- Validates an amount field: integer > 0.
local function check_amount(api, v, required)
  if v == nil and not required then return nil end
  if math.type(v) ~= "integer" or v <= 0 then
    return bad(api, "INVALID_REQUEST_PARAMETER", "amount must be an integer > 0 (minor units)")
  end
end

-- Validates optional items; their amounts must add up to amount.
local function check_items(api, items, amount)
  if items == nil then return nil end
  if type(items) ~= "table" then return bad(api, "INVALID_REQUEST_PARAMETER", "items must be an array") end
  local sum = 0
  for i, it in ipairs(items) do
    if type(it) ~= "table" or type(it.line_id) ~= "string" then
      return bad(api, "INVALID_REQUEST_PARAMETER", "items[" .. (i - 1) .. "].line_id is required")
    end
    if math.type(it.amount) ~= "integer" or it.amount < 0 then
      return bad(api, "INVALID_REQUEST_PARAMETER", "items[" .. (i - 1) .. "].amount must be an integer >= 0")
    end
    sum = sum + it.amount
  end
  if #items > 0 and sum ~= amount then
    return bad(api, "INVALID_REQUEST_PARAMETER",
      string.format("sum of items.amount (%d) must equal amount (%d)", sum, amount))
  end
end

local ALLOWED = {
  capture = { AUTHORIZED = true, PARTIALLY_CAPTURED = true, PARTIALLY_CAPTURED_REFUNDED = true },
  refund = { PARTIALLY_CAPTURED = true, PARTIALLY_CAPTURED_REFUNDED = true, CAPTURED = true,
             PARTIALLY_REFUNDED = true },
  void = { INITIATED = true, AUTHORIZED = true, PARTIALLY_CAPTURED = true,
           PARTIALLY_CAPTURED_REFUNDED = true },
  authorization = { AUTHORIZED = true, ON_HOLD = true },
}
M.ALLOWED = ALLOWED

local function illegal(api, op, tx)
  return bad(api, "INVALID_TRANSACTION_STATE",
    string.format("cannot %s a transaction in status %s", op, tx.status))
end

-- Applies an operation to the amounts; returns the event name and amount.
local APPLY = {
  capture = function(_, meta, op) meta.captured = meta.captured + op.amount; return "CAPTURE" end,
  refund = function(_, meta, op) meta.refunded = meta.refunded + op.amount; return "REFUND" end,
  void = function(tx, meta, op)
    op.amount = tx.amount - meta.captured - meta.released
    meta.released = meta.released + op.amount
    return "VOID"
  end,
}

-- Checks op against the current amounts; returns nil or a fail pair.
local function check_op(api, tx, meta, op)
  if not ALLOWED[op.kind][tx.status] then return illegal(api, op.kind, tx) end
  if op.kind == "capture" then
    local remaining = tx.amount - meta.captured - meta.released
    if op.amount > remaining then
      return bad(api, "CAPTURE_AMOUNT_EXCEEDS_AUTHORIZED", string.format(
        "capture amount %d exceeds the remaining authorized amount %d", op.amount, remaining))
    end
  elseif op.kind == "refund" then
    local refundable = meta.captured - meta.refunded
    if op.amount > refundable then
      return bad(api, "REFUND_AMOUNT_EXCEEDS_CAPTURED", string.format(
        "refund amount %d exceeds the refundable (captured) amount %d", op.amount, refundable))
    end
  end
end

-- Performs op now: amounts, status, event, callback. Returns the event.
local function perform(api, tx, meta, op, req, correlation)
  local name = APPLY[op.kind](tx, meta, op)
  tx.status = M.derive_status(tx, meta)
  local ev = M.add_event(api, tx, {
    event = name, amount = op.amount, request_id = req and req.id, items = copy(op.items),
    correlation_request_id = correlation, reference = op.reference, reason = op.reason,
  })
  if name == "CAPTURE" then tx.captured_at = tx.captured_at or ev.created_at end
  if name == "REFUND" then tx.refunded_at = tx.refunded_at or ev.created_at end
  local sess = (api.state.sessions or {})[tx.session_id]
  if sess then callbacks.event(api, sess, tx, ev) end
  return ev
end

--- Runs a capture/refund/void for route req on tx; with req.async (the "async"
-- fault) it is only initiated: 202, event-request-id header, status unchanged.
function M.operate(api, tx, kind, req)
  local meta = state(api).tx_meta[tx.id]
  local body = type(req.json) == "table" and req.json or {}
  local op = { kind = kind, amount = body.amount, items = body.items,
               reference = body.capture_reference or body.refund_reference, reason = body.reason }
  if kind ~= "void" then
    local st, err = check_amount(api, op.amount, true)
    if st then return st, err end
    st, err = check_items(api, op.items, op.amount)
    if st then return st, err end
  end
  local st, err = check_op(api, tx, meta, op)
  if st then return st, err end
  if req.async then
    meta.pending[#meta.pending + 1] = { op = op, request_id = req.id }
    M.add_event(api, tx, { event = "INITIATE_" .. kind:upper(), amount = op.amount,
                           request_id = req.id, items = copy(op.items) })
    return 202, M.view(api, tx), { ["event-request-id"] = req.id }
  end
  perform(api, tx, meta, op, req)
  return 200, M.view(api, tx, req.query_all and req.query_all.includes)
end

--- Completes the pending (202) operations of tx, in order; returns the events.
function M.complete_pending(api, tx)
  local meta = state(api).tx_meta[tx.id]
  local done = api.array()
  for _, p in ipairs(meta.pending) do
    if check_op(api, tx, meta, p.op) then
      done[#done + 1] = M.add_event(api, tx, { event = p.op.kind:upper(), success = false,
        amount = p.op.amount, correlation_request_id = p.request_id,
        error = { code = "INVALID_TRANSACTION_STATE", message = "no longer possible" } })
    else
      done[#done + 1] = perform(api, tx, meta, p.op, nil, p.request_id)
    end
  end
  meta.pending = {}
  return done
end

--- POST /v1/transactions/{id}/authorization: extend, update amount, or authorize
-- an ON_HOLD transaction.
function M.authorization(api, tx, req)
  local meta = state(api).tx_meta[tx.id]
  local body = type(req.json) == "table" and req.json or {}
  if not ALLOWED.authorization[tx.status] then return illegal(api, "update the authorization of", tx) end
  local st, err = check_amount(api, body.amount, false)
  if st then return st, err end
  local name = "EXTEND_AUTHORIZATION"
  if tx.status == "ON_HOLD" then
    name = "AUTHORIZE"
    tx.status = "AUTHORIZED"
  elseif body.amount then
    if body.amount < meta.captured then
      return bad(api, "INVALID_REQUEST_PARAMETER", "amount is below the captured amount")
    end
    name = "UPDATE_AUTHORIZATION"
    tx.amount = body.amount
    tx.status = M.derive_status(tx, meta)
  end
  M.add_event(api, tx, { event = name, amount = body.amount or tx.amount, request_id = req.id,
                         reason = body.reason, reference = body.reference })
  local sess = (api.state.sessions or {})[tx.session_id]
  if sess and name == "AUTHORIZE" then callbacks.payment(api, sess, tx) end
  return 200, M.view(api, tx)
end

--- Voids tx because its session is cancelled (INITIATED or AUTHORIZED only).
function M.void_for_cancel(api, tx, req)
  local meta = state(api).tx_meta[tx.id]
  if tx.status ~= "INITIATED" and tx.status ~= "AUTHORIZED" then return illegal(api, "void", tx) end
  perform(api, tx, meta, { kind = "void" }, req)
end

return M
