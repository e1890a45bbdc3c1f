-- The Transaction object: the decoded transaction (tx.id, tx.status,
-- tx.amount, tx.events ...) plus methods that act on it and refresh it in
-- place: capture, refund, void, extend_authorization, update, refresh.
--
-- Amounts left to capture or refund are computed from the events (successful
-- CAPTURE, REFUND and VOID events, and INITIATE_* events of operations still
-- pending after a 202), so tx:capture(n) can refuse an amount above what is
-- left before anything is sent. Every check runs on what the object knows: call
-- tx:refresh() first when another process may have changed the transaction.
local base = require "dintero.objects.base"
local validate = require "dintero.validate"
local core = require "dintero.core"

local M = {}

local null = core.json.null
local present = validate.present

local Methods = {}
local Transaction = { __index = Methods }
M.class = Transaction

local CAPTURABLE = { AUTHORIZED = true, PARTIALLY_CAPTURED = true, PARTIALLY_CAPTURED_REFUNDED = true }
local REFUNDABLE = {
  CAPTURED = true, PARTIALLY_CAPTURED = true, PARTIALLY_CAPTURED_REFUNDED = true, PARTIALLY_REFUNDED = true,
}
local FAILED = { FAILED = true, DECLINED = true }

--- Wraps a decoded transaction. pending marks an operation accepted with 202.
function M.new(client, data, pending)
  local tx = base.new(Transaction, client, data)
  tx.pending = pending or nil
  return tx
end

--- True when v is a Transaction object.
function M.is(v) return type(v) == "table" and getmetatable(v) == Transaction end

local function events(tx)
  local list = rawget(tx, "events")
  if type(list) ~= "table" then return {} end
  return list
end

local function amount_of(ev)
  local a = ev.amount
  if validate.is_integer(a) then return a end
  return 0
end

-- Sums of completed and of pending (202, not yet completed) operations, and
-- the number of pending operations.
local function totals(tx)
  local done = { CAPTURE = 0, REFUND = 0, VOID = 0 }
  local waiting = { CAPTURE = 0, REFUND = 0, VOID = 0 }
  local completed, npending = {}, 0
  for _, ev in ipairs(events(tx)) do
    if type(ev) == "table" and present(ev.correlation_request_id) then completed[ev.correlation_request_id] = true end
  end
  for _, ev in ipairs(events(tx)) do
    if type(ev) == "table" and ev.success ~= false then
      local name = ev.event
      if done[name] then done[name] = done[name] + amount_of(ev) end
      local initiated = type(name) == "string" and name:match "^INITIATE_(%u+)$"
      if initiated and waiting[initiated] and not (present(ev.request_id) and completed[ev.request_id]) then
        waiting[initiated] = waiting[initiated] + amount_of(ev)
        npending = npending + 1
      end
    end
  end
  return done, waiting, npending
end

local function nonneg(v) if v < 0 then return 0 end return v end

local function authorized_amount(tx)
  local a = rawget(tx, "amount")
  if validate.is_integer(a) then return a end
  return 0
end

--- Sum of the successful CAPTURE events.
function Methods:captured_amount()
  base.check(self, Transaction, "captured_amount")
  return (totals(self)).CAPTURE
end

--- Sum of the successful REFUND events.
function Methods:refunded_amount()
  base.check(self, Transaction, "refunded_amount")
  return (totals(self)).REFUND
end

--- What can still be captured: the authorized amount less captures, voids
-- and pending captures; 0 in a status that allows no capture.
function Methods:capturable_amount()
  base.check(self, Transaction, "capturable_amount")
  if not CAPTURABLE[self.status] then return 0 end
  local done, waiting = totals(self)
  return nonneg(authorized_amount(self) - done.CAPTURE - done.VOID - waiting.CAPTURE)
end

--- What can still be refunded: captures less refunds and pending refunds;
-- 0 in a status that allows no refund.
function Methods:refundable_amount()
  base.check(self, Transaction, "refundable_amount")
  if not REFUNDABLE[self.status] then return 0 end
  local done, waiting = totals(self)
  return nonneg(done.CAPTURE - done.REFUND - waiting.REFUND)
end

-- True when an INITIATE_* event (an operation answered with 202) has no
-- completing event yet.
local function has_pending(tx)
  local _, _, npending = totals(tx)
  return npending > 0
end

-- Refills tx from a fresh Transaction object returned by the namespace.
local function adopt(tx, fresh, meta)
  base.fill(tx, base.raw(fresh))
  tx.pending = (fresh.pending or (meta and meta.pending) or has_pending(tx)) or nil
  return tx, meta
end

--- The decoded table of the last response.
function Methods:raw()
  base.check(self, Transaction, "raw")
  return base.raw(self)
end

--- True for a transaction that was not paid (status FAILED or DECLINED), e.g.
-- a merchant-initiated payment that the issuer declined (HTTP 200).
function Methods:failed()
  base.check(self, Transaction, "failed")
  return FAILED[self.status] == true
end

--- The error table of the last event that carries one ({code, message, type,
-- retry_policy ...}), or nil.
function Methods:payment_error()
  base.check(self, Transaction, "payment_error")
  local list = events(self)
  for i = #list, 1, -1 do
    local ev = list[i]
    if type(ev) == "table" and type(ev.error) == "table" then return ev.error end
  end
  return nil
end

--- The retry policy of the payment error: the first retry code
-- ("DO_NOT_RETRY", "RETRY_IMMEDIATELY", "RETRY_AFTER_DELAY") and retry_after
-- (seconds, when given); nil when the error has no policy.
function Methods:retry_policy()
  base.check(self, Transaction, "retry_policy")
  local e = self:payment_error()
  local policy = e and e.retry_policy
  if type(policy) ~= "table" then return nil end
  local codes = policy.retry_codes
  local code = type(codes) == "table" and codes[1] or nil
  if type(code) ~= "string" then return nil end
  local after = policy.retry_after
  if after == null then after = nil end
  return code, after
end

--- May a failed merchant-initiated payment be tried again? true (and the
-- delay in seconds, 0 for RETRY_IMMEDIATELY) only when the retry policy says
-- so; false for DO_NOT_RETRY, for no policy and for a transaction that did not
-- fail. Retrying against DO_NOT_RETRY can get a card blocked.
function Methods:may_retry()
  base.check(self, Transaction, "may_retry")
  if not self:failed() then return false end
  local code, after = self:retry_policy()
  if code == "RETRY_IMMEDIATELY" then return true, 0 end
  if code == "RETRY_AFTER_DELAY" then return true, after end
  return false
end

local function items_sum(items)
  local sum = 0
  for _, it in ipairs(items) do sum = sum + it.amount end
  return sum
end

-- Turns tx:capture / tx:refund arguments into a body table; raises on misuse.
local function body_of(fname, arg)
  if type(arg) == "number" then return { amount = arg } end
  if type(arg) == "table" then
    local body = {}
    for k, v in pairs(arg) do body[k] = v end
    return body
  end
  error(("%s: expected an amount (integer) or a table {amount=, items=, ...}, got %s"):format(fname, type(arg)), 3)
end

-- Fills body.amount from the items when missing; returns the fail triple on
-- a bad item.
local function amount_from_items(body)
  if body.amount ~= nil or not present(body.items) then return end
  local r1, r2, r3 = validate.operation_items(body.items, "items")
  if r2 then return r1, r2, r3 end
  body.amount = items_sum(body.items)
end

-- Checks body.amount against what is left (kind "validation", field "amount").
local function within(tx, body, left, what)
  if left == 0 then
    return validate.fail("amount", ("nothing left to %s on %s (status %s)"):format(
      what, tostring(tx.id), tostring(tx.status)), { code = "NOTHING_TO_" .. what:upper() })
  end
  local r1, r2, r3 = validate.amount(body.amount, "amount", true)
  if r2 then return r1, r2, r3 end
  if body.amount > left then
    return validate.fail("amount", ("%s exceeds the %s amount %s of %s (status %s)"):format(
      base.show_amount(body.amount), what == "capture" and "capturable" or "refundable",
      base.show_amount(left), tostring(tx.id), tostring(tx.status)),
      { code = what:upper() .. "_AMOUNT_EXCEEDS_LEFT" })
  end
end

--- tx:capture() captures what remains authorized; tx:capture(5000) or
-- tx:capture{amount=, items=, capture_reference=, final_capture=, metadata=}
-- (amount defaults to the sum of items, else to what remains). Refreshes tx
-- and returns it, meta; or the fail triple.
function Methods:capture(arg, opts)
  local client = base.check(self, Transaction, "capture")
  local body = arg == nil and {} or body_of("tx:capture", arg)
  local r1, r2, r3 = amount_from_items(body)
  if r2 then return r1, r2, r3 end
  local left = self:capturable_amount()
  if body.amount == nil then body.amount = left end
  r1, r2, r3 = within(self, body, left, "capture")
  if r2 then return r1, r2, r3 end
  local fresh, meta, err = client.transactions:capture(self.id, body, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- tx:refund(1000) or tx:refund{amount=, reason=, refund_reference=, items=,
-- metadata=}. The amount is never implied (a forgotten argument must not
-- refund everything): give it, or items whose amounts add up to it.
function Methods:refund(arg, opts)
  local client = base.check(self, Transaction, "refund")
  if arg == nil then error("tx:refund: an amount (or {amount=, ...}) is required", 2) end
  local body = body_of("tx:refund", arg)
  local r1, r2, r3 = amount_from_items(body)
  if r2 then return r1, r2, r3 end
  if body.amount == nil then return validate.fail("amount", "is required") end
  r1, r2, r3 = within(self, body, self:refundable_amount(), "refund")
  if r2 then return r1, r2, r3 end
  local fresh, meta, err = client.transactions:refund(self.id, body, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- Voids what remains authorized.
function Methods:void(opts)
  local client = base.check(self, Transaction, "void")
  local fresh, meta, err = client.transactions:void(self.id, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- tx:extend_authorization{reason=, reference=, amount=, final_authorization=,
-- items=, description=} (all optional).
function Methods:extend_authorization(args, opts)
  local client = base.check(self, Transaction, "extend_authorization")
  local fresh, meta, err = client.transactions:extend_authorization(self.id, args, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- tx:update{merchant_reference_2 = "..."} or tx:update("...").
function Methods:update(args, opts)
  local client = base.check(self, Transaction, "update")
  local fresh, meta, err = client.transactions:update(self.id, args, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- Fetches the transaction again (opts.includes as for get).
function Methods:refresh(opts)
  local client = base.check(self, Transaction, "refresh")
  local fresh, meta, err = client.transactions:get(self.id, opts)
  if not fresh then return nil, meta, err end
  base.fill(self, base.raw(fresh))
  self.pending = has_pending(self) or nil
  return self, meta
end

function Transaction.__tostring(tx)
  local f = function(k) return tostring(rawget(tx, k)) end
  return ("dintero.Transaction(%s %s %s %s%s)"):format(f "id", f "status", base.show_amount(rawget(tx, "amount")),
    f "currency", rawget(tx, "pending") and " pending" or "")
end

M.Methods = Methods
return M
