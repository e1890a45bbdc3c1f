-- client.payouts: split-payment sellers (api host, /v2): fund transfers
-- between sellers, seller balances and the seller's ledger (transfers).
--
-- fund_transfer_id is required and never generated here: it is Dintero's
-- idempotency key, and only a caller-chosen id (stored with the caller's own
-- record of the transfer) makes a retry after a crash or timeout safe. With
-- it the request is in the "idempotent" retry class: sending the same body
-- again moves the money once.
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"

local M = {}

local Payouts = {}
Payouts.__index = Payouts

function M.new(client)
  return setmetatable({ _client = client }, Payouts)
end

local EACH_LIMIT = 100

local function first_failure(checks)
  for _, f in ipairs(checks) do
    local r1, r2, r3 = f()
    if r2 then return r1, r2, r3 end
  end
end

--- client.payouts:fund_transfer({fund_transfer_id=, source_payout_destination_id=,
-- destination_payout_destination_id=, amount=, currency=, reference=} [, opts])
-- -> the fund_transfer table (with account_id, created_at, created_by), meta.
-- type defaults to "payout-destination".
function Payouts:fund_transfer(args, opts)
  local client = call.self(self, Payouts, "payouts.fund_transfer")
  call.table_arg("payouts.fund_transfer", "args", args)
  opts = call.opts("payouts.fund_transfer", opts)
  local body = call.copy(args)
  if body.type == nil then body.type = "payout-destination" end
  local r1, r2, r3 = first_failure {
    function() return validate.required_string(body.fund_transfer_id, "fund_transfer_id") end,
    function() return validate.required_string(body.source_payout_destination_id, "source_payout_destination_id") end,
    function()
      return validate.required_string(body.destination_payout_destination_id, "destination_payout_destination_id")
    end,
    function() return validate.amount(body.amount, "amount", true) end,
    function() return validate.currency(body.currency, "currency") end,
    function() return validate.required_string(body.reference, "reference") end,
    function() return validate.optional_string(body.reference, "reference", 60) end,
  }
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = "/v2/accounts/{aid}/payout/fund-transfers",
    params = { aid = client.account_id }, body = body, class = "idempotent",
  }))
  if not res then return nil, meta, err end
  return type(res) == "table" and res.fund_transfer or res, meta
end

--- client.payouts:balances(payout_destination_id [, opts]) -> the list of
-- {account_id, payout_destination_id, payout_destination_config_id, currency,
-- amount}, one per currency; meta.
function Payouts:balances(seller, opts)
  local client = call.self(self, Payouts, "payouts.balances")
  call.string_arg("payouts.balances", "payout_destination_id", seller)
  opts = call.opts("payouts.balances", opts)
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api",
    path = "/v2/accounts/{aid}/payout/payout-destinations/{seller}/balances",
    params = { aid = client.account_id, seller = seller },
  }))
  if not res then return nil, meta, err end
  return type(res) == "table" and res.payout_destination_balances or res, meta
end

-- {payout_destination_id=, limit=, currency=, cursor|page=} from a seller id
-- or a table; raises on misuse.
local function transfer_args(fname, args)
  if type(args) == "string" then args = { payout_destination_id = args } end
  call.table_arg(fname, "args", args, 3)
  local q = call.copy(args)
  local seller = q.payout_destination_id
  call.string_arg(fname, "payout_destination_id", seller, 3)
  q.payout_destination_id = nil
  if q.cursor ~= nil then
    q.page = q.cursor
    q.cursor = nil
  end
  return seller, q
end

local function transfers_page(client, seller, q, opts)
  local r1, r2, r3 = validate.limit(q.limit, 1, 1000)
  if r2 then return r1, r2, r3 end
  if q.currency ~= nil then
    r1, r2, r3 = validate.currency(q.currency, "currency")
    if r2 then return r1, r2, r3 end
  end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api",
    path = "/v2/accounts/{aid}/payout/payout-destinations/{seller}/transfers",
    params = { aid = client.account_id, seller = seller }, query = q,
  }))
  if not res then return nil, meta, err end
  local entries = type(res) == "table" and res.entries or {}
  local next_token = type(res) == "table" and res.next_page_token or nil
  if not validate.present(next_token) then next_token = nil end
  return entries, next_token, res
end

--- client.payouts:transfers(payout_destination_id | {payout_destination_id=,
-- limit=, currency=, cursor=} [, opts]) -> entries, next_cursor, body. The
-- ledger entries of a seller, newest first; pass next_cursor back as cursor
-- (or page) for the next page.
function Payouts:transfers(args, opts)
  local client = call.self(self, Payouts, "payouts.transfers")
  local seller, q = transfer_args("payouts.transfers", args)
  opts = call.opts("payouts.transfers", opts)
  return transfers_page(client, seller, q, opts)
end

--- for entry in client.payouts:each_transfer(payout_destination_id | {...}) do ... end
-- A failing page raises the err table (see pager.lua).
function Payouts:each_transfer(args, opts)
  local client = call.self(self, Payouts, "payouts.each_transfer")
  local seller, base = transfer_args("payouts.each_transfer", args)
  opts = call.opts("payouts.each_transfer", opts)
  base.limit = base.limit or EACH_LIMIT
  return pager.each(function(cursor)
    local q = call.copy(base)
    if cursor ~= nil then q.page = cursor end
    return transfers_page(client, seller, q, opts)
  end)
end

return M
