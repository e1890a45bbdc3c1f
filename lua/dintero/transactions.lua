-- client.transactions: get, list / each, capture, refund, void, extend
-- authorization and update (checkout host). Every answer is a Transaction
-- object (objects/transaction.lua).
--
-- Capture, refund, void and authorization are payment writes: never retried
-- once the request may have reached Dintero (docs/errors.md). They may answer
-- 202 Accepted: the operation completes later. Then the transaction is
-- fetched again so the caller gets its current state, with tx.pending = true
-- and meta.pending = true.
local core = require "dintero.core"
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"
local tx_obj = require "dintero.objects.transaction"

local M = {}

local Transactions = {}
Transactions.__index = Transactions

function M.new(client)
  return setmetatable({ _client = client }, Transactions)
end

local DEFAULT_LIMIT = 10      -- the API's page size when none is given
local EACH_LIMIT = 100        -- each() asks for full pages: fewer round trips

-- A transaction id argument: raises when not a string, refuses another
-- account's id.
local function tx_id(client, fname, id)
  call.string_arg(fname, "transaction_id", id, 3)
  return validate.account_id(client, id, "transaction_id")
end

local function get(client, id, opts)
  return client:request(call.apply(client, opts, {
    method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = id },
  }))
end

--- client.transactions:get(transaction_id [, opts]); opts.includes e.g.
-- { "card.payment_token", "session", "events.request_headers" }.
function Transactions:get(id, opts)
  local client = call.self(self, Transactions, "transactions.get")
  opts = call.opts("transactions.get", opts)
  local r1, r2, r3 = tx_id(client, "transactions.get", id)
  if r2 then return r1, r2, r3 end
  local res, meta, err = get(client, id, opts)
  if not res then return nil, meta, err end
  return tx_obj.new(client, res), meta
end

-- The query of a list call: the filters as given (list values repeat the
-- key), with `cursor` renamed to starting_after.
local function list_query(filters)
  local q = call.copy(filters) or {}
  if q.cursor ~= nil then
    q.starting_after = q.cursor
    q.cursor = nil
  end
  return q
end

-- One page: Transaction objects and the cursor of the next page (the id of the
-- last item; nil when the page is not full, which is how the end shows).
local function page(client, filters, opts)
  local q = list_query(filters)
  local r1, r2, r3 = validate.limit(q.limit, 1, 100)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "checkout", path = "/v1/transactions", query = q,
  }))
  if not res then return nil, meta, err end
  if type(res) ~= "table" then
    return core.fail { kind = "json", message = "GET /v1/transactions: expected a JSON array of transactions" }
  end
  local items = {}
  for i, t in ipairs(res) do items[i] = tx_obj.new(client, t) end
  local last = items[#items]
  local next_cursor
  if last and #items >= (q.limit or DEFAULT_LIMIT) then next_cursor = last.id end
  return items, next_cursor, res
end

--- client.transactions:list([filters [, opts]]) -> transactions, next_cursor, body.
-- filters are the query parameters of GET /v1/transactions (docs/api.md),
-- e.g. { status = {"AUTHORIZED", "CAPTURED"}, ["created_at.gte"] = "2026-01-01",
-- limit = 50 }; pass the returned cursor back as filters.cursor (or
-- starting_after) for the next page. next_cursor is nil on the last page.
--- for tx in client.transactions:each([filters [, opts]]) do ... end: every
-- transaction matching the filters, fetched page by page (limit = page size,
-- 100 by default). A failing page raises the err table (see pager.lua).
pager.define(Transactions, {
  name = "transactions", page = page, each_limit = EACH_LIMIT,
  cursor_key = "starting_after", query = list_query,
})

-- The answer of a payment write: a Transaction, fetched again after a 202
-- (or when the answer carries no transaction). If that fetch fails the write
-- still happened: the object is built from what we have and meta.refresh_error
-- says why it may be stale.
local function written(client, id, res, meta, opts)
  local pending = meta.pending
  if not pending and type(res) == "table" and res.id ~= nil then
    return tx_obj.new(client, res), meta
  end
  local fresh, _, err = get(client, id, { includes = opts.includes })
  if fresh then return tx_obj.new(client, fresh, pending), meta end
  meta.refresh_error = err
  local data = (type(res) == "table" and res.id ~= nil) and res or { id = id }
  return tx_obj.new(client, data, pending), meta
end

local function amount_body(fname, arg)
  if type(arg) == "number" then return { amount = arg } end
  if type(arg) ~= "table" then
    error(("%s: expected an amount (integer) or a table {amount=, ...}, got %s"):format(fname, type(arg)), 3)
  end
  return call.copy(arg)
end

local function operation(client, kind, id, body, opts)
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "checkout", path = "/v1/transactions/{id}/" .. kind, params = { id = id },
    body = body, class = "payment",
  }))
  if not res then return nil, meta, err end
  return written(client, id, res, meta, opts)
end

-- Local checks of a capture or refund body.
local function check_amount_body(body)
  local r1, r2, r3 = validate.amount(body.amount, "amount", true)
  if r2 then return r1, r2, r3 end
  return validate.operation_items(body.items, "items")
end

--- client.transactions:capture(transaction_id, amount | {amount=, items=,
-- capture_reference=, final_capture=, metadata=} [, opts]). The amount is
-- required here; tx:capture() on an object can default it to what is left.
function Transactions:capture(id, args, opts)
  local client = call.self(self, Transactions, "transactions.capture")
  local body = amount_body("transactions.capture", args)
  opts = call.opts("transactions.capture", opts)
  local r1, r2, r3 = tx_id(client, "transactions.capture", id)
  if r2 then return r1, r2, r3 end
  r1, r2, r3 = check_amount_body(body)
  if r2 then return r1, r2, r3 end
  return operation(client, "capture", id, body, opts)
end

--- client.transactions:refund(transaction_id, amount | {amount=, reason=,
-- refund_reference=, items=, metadata=} [, opts]).
function Transactions:refund(id, args, opts)
  local client = call.self(self, Transactions, "transactions.refund")
  local body = amount_body("transactions.refund", args)
  opts = call.opts("transactions.refund", opts)
  local r1, r2, r3 = tx_id(client, "transactions.refund", id)
  if r2 then return r1, r2, r3 end
  r1, r2, r3 = check_amount_body(body)
  if r2 then return r1, r2, r3 end
  return operation(client, "refund", id, body, opts)
end

--- client.transactions:void(transaction_id [, opts]): releases what remains
-- authorized.
function Transactions:void(id, opts)
  local client = call.self(self, Transactions, "transactions.void")
  opts = call.opts("transactions.void", opts)
  local r1, r2, r3 = tx_id(client, "transactions.void", id)
  if r2 then return r1, r2, r3 end
  return operation(client, "void", id, nil, opts)
end

--- client.transactions:extend_authorization(transaction_id [, {reason=,
-- reference=, amount=, final_authorization=, items=, description=}] [, opts]):
-- POST /v1/transactions/{id}/authorization (extend a Klarna authorization,
-- update the authorized amount, or authorize an ON_HOLD dintero.external one).
function Transactions:extend_authorization(id, args, opts)
  local client = call.self(self, Transactions, "transactions.extend_authorization")
  if args ~= nil then call.table_arg("transactions.extend_authorization", "args", args) end
  opts = call.opts("transactions.extend_authorization", opts)
  local r1, r2, r3 = tx_id(client, "transactions.extend_authorization", id)
  if r2 then return r1, r2, r3 end
  local body = call.copy(args) or {}
  r1, r2, r3 = validate.optional_amount(body.amount, "amount", true)
  if r2 then return r1, r2, r3 end
  r1, r2, r3 = validate.operation_items(body.items, "items")
  if r2 then return r1, r2, r3 end
  return operation(client, "authorization", id, body, opts)
end

--- client.transactions:update(transaction_id, {merchant_reference_2 = "..."} | "..." [, opts]).
function Transactions:update(id, args, opts)
  local client = call.self(self, Transactions, "transactions.update")
  local body
  if type(args) == "string" then body = { merchant_reference_2 = args }
  else body = call.copy(call.table_arg("transactions.update", "args", args)) end
  opts = call.opts("transactions.update", opts)
  local r1, r2, r3 = tx_id(client, "transactions.update", id)
  if r2 then return r1, r2, r3 end
  r1, r2, r3 = validate.required_string(body.merchant_reference_2, "merchant_reference_2")
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "PUT", host = "checkout", path = "/v1/transactions/{id}", params = { id = id },
    body = body, class = "idempotent",
  }))
  if not res then return nil, meta, err end
  return written(client, id, res, meta, opts)
end

return M
