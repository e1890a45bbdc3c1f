-- Local checks run before a request is sent. Each check returns nothing when
-- the value is fine, or the fail triple (nil, "validation: <field>: <problem>",
-- err) with err.kind == "validation" and err.field naming the field, so that a
-- bad amount is refused with a clear message and nothing reaches Dintero.
--
-- Amounts are integer minor units. On Lua 5.3+ math.type tells integers from
-- floats, so 100.0 is refused too: it would be encoded as 100.0 and a float
-- that slipped in usually means a division somewhere upstream.
local core = require "dintero.core"
local order_sums = require "dintero.order"

local M = {}

local null = core.json.null
local mtype = math.type
local MAX_EXACT = 2 ^ 53
-- The largest amount sent: every integer up to it is exact as a double, so
-- the API (and any JSON parser on the way) reads the amount that was meant,
-- and Lua 5.1/LuaJIT (doubles only) check the same range as 5.3+.
local MAX_AMOUNT = 9007199254740991 -- 2^53 - 1

--- The fail triple for field with problem. extra fields (e.g. a code such as
-- "CAPTURE_AMOUNT_EXCEEDS_LEFT") are set on err after the message line is
-- built, so the line stays "validation: <field>: <problem>".
function M.fail(field, problem, extra)
  local r1, line, err = core.fail {
    kind = "validation", message = field .. ": " .. problem, field = field, retryable = false,
  }
  for k, v in pairs(extra or {}) do err[k] = v end
  return r1, line, err
end

local function present(v) return v ~= nil and v ~= null end
M.present = present

--- True when v is an integer number (a float with an integral value counts
-- only on Lua 5.1 and LuaJIT, which have no integer subtype).
function M.is_integer(v)
  if type(v) ~= "number" then return false end
  if mtype then return mtype(v) == "integer" end
  return v == v and v % 1 == 0 and v >= -MAX_EXACT and v <= MAX_EXACT
end

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

--- A non-negative integer amount (positive when opts.positive).
function M.amount(v, field, positive)
  if not M.is_integer(v) or v < 0 then
    return M.fail(field, "must be a non-negative integer in minor units (e.g. 29990 for 299.90), got " .. show(v))
  end
  if v > MAX_AMOUNT then return M.fail(field, "must be at most 9007199254740991 (2^53 - 1), got " .. show(v)) end
  if positive and v == 0 then return M.fail(field, "must be greater than 0") end
end

--- An optional amount: absent is fine.
function M.optional_amount(v, field, positive)
  if not present(v) then return end
  return M.amount(v, field, positive)
end

function M.currency(v, field)
  if type(v) ~= "string" or not v:match "^%u%u%u$" then
    return M.fail(field, "must be a three-letter ISO 4217 code in capitals (e.g. NOK), got " .. show(v))
  end
end

function M.required_string(v, field)
  if type(v) ~= "string" or v == "" then return M.fail(field, "is required (a non-empty string)") end
end

function M.optional_string(v, field, max)
  if not present(v) then return end
  if type(v) ~= "string" then return M.fail(field, "must be a string, got " .. type(v)) end
  if max and #v > max then return M.fail(field, ("must be at most %d characters"):format(max)) end
end

--- An id of the client's account: "<account_id>.<rest>". Session and
-- transaction ids carry the account prefix, so an id of another account (or
-- of the other environment, T vs P) is refused before it is sent.
function M.account_id(client, v, field)
  if type(v) ~= "string" or v == "" then return M.fail(field, "must be a non-empty string") end
  local prefix = client.account_id .. "."
  if v:sub(1, #prefix) ~= prefix or #v == #prefix then
    return M.fail(field, ("must be an id of account %s (starting with %q), got %s"):format(
      client.account_id, prefix, show(v)))
  end
end

--- Integer limit between lo and hi (absent is fine).
function M.limit(v, lo, hi, field)
  if v == nil then return end
  if not M.is_integer(v) or v < lo or v > hi then
    return M.fail(field or "limit", ("must be an integer from %d to %d, got %s"):format(lo, hi, show(v)))
  end
end

local LOOPBACK = { localhost = true, ["127.0.0.1"] = true, ["[::1]"] = true }

local function is_loopback(host)
  host = host:lower()
  return LOOPBACK[host] or host:match "^127%.%d+%.%d+%.%d+$" ~= nil
end

--- The client talks to a loopback server (the mock), where plain-http
-- callback and return URLs on loopback are allowed for local testing.
local function local_client(client)
  local o = client.options
  return o.api_loopback or o.checkout_loopback
end

--- callback_url / return_url: Dintero only calls https URLs.
function M.https_url(client, v, field)
  if not present(v) then return end
  if type(v) ~= "string" then return M.fail(field, "must be a URL string") end
  local scheme, authority = v:match "^(%a[%w+.-]*)://([^/?#]*)"
  authority = authority and authority:gsub("^.*@", "")
  local host = authority and (authority:match "^(%[[^%]]*%])" or authority:match "^([^:]+)")
  if not scheme or not host then return M.fail(field, "must be an absolute https URL, got " .. show(v)) end
  scheme = scheme:lower()
  if scheme == "https" then return end
  if scheme == "http" and is_loopback(host) and local_client(client) then return end
  return M.fail(field, "must be an https URL (Dintero only calls https), got " .. show(v))
end

-- Checks a list of order items under prefix; returns the first problem.
local function check_items(items, prefix)
  if not present(items) then return end
  if type(items) ~= "table" then return M.fail(prefix, "must be a list of items") end
  for i, it in ipairs(items) do
    local f = ("%s[%d]"):format(prefix, i)
    if type(it) ~= "table" then return M.fail(f, "must be a table") end
    local r1, r2, r3 = M.optional_amount(it.amount, f .. ".amount")
    if r2 then return r1, r2, r3 end
    r1, r2, r3 = M.optional_amount(it.vat_amount, f .. ".vat_amount")
    if r2 then return r1, r2, r3 end
  end
end

local function first(...)
  for i = 1, select("#", ...) do
    local check = select(i, ...)
    local r1, r2, r3 = check()
    if r2 then return r1, r2, r3 end
  end
end

-- strict-session-amounts: amount = items + shipping_option (vat likewise).
local function check_sums(order, prefix)
  if type(order.items) ~= "table" then return end
  local amount, vat = order_sums.sum(order)
  if not amount then return end -- a bad line amount was reported by check_items
  local ok = order.amount == amount or (order.partial_payment == true and order.amount <= amount)
  if not ok then
    return M.fail(prefix .. ".amount", ("must equal the sum of items and shipping_option (%d), got %s"):format(
      amount, show(order.amount)), { code = "AMOUNT_MISMATCH" })
  end
  if present(order.vat_amount) and order.vat_amount ~= vat then
    local problem = "must equal the sum of the vat_amount of items and shipping_option (%d), got %s"
    return M.fail(prefix .. ".vat_amount", problem:format(vat, show(order.vat_amount)), { code = "AMOUNT_MISMATCH" })
  end
end

--- Checks an order. o = {prefix = "order", required = bool (create: amount,
-- currency and merchant_reference required), strict = bool (sums)}.
function M.order(order, o)
  local p = o.prefix or "order"
  if type(order) ~= "table" then
    if o.required then return M.fail(p, "is required (a table)") end
    if order == nil then return end
    return M.fail(p, "must be a table")
  end
  local amount_check = o.required and M.amount or M.optional_amount
  local r1, r2, r3 = first(
    function() return amount_check(order.amount, p .. ".amount") end,
    function()
      if o.required or present(order.currency) then return M.currency(order.currency, p .. ".currency") end
    end,
    function()
      if o.required then return M.required_string(order.merchant_reference, p .. ".merchant_reference") end
    end,
    function() return M.optional_amount(order.vat_amount, p .. ".vat_amount") end,
    function() return check_items(order.items, p .. ".items") end,
    function()
      local so = order.shipping_option
      if not present(so) then return end
      if type(so) ~= "table" then return M.fail(p .. ".shipping_option", "must be a table") end
      local a, b, c = M.optional_amount(so.amount, p .. ".shipping_option.amount")
      if b then return a, b, c end
      return M.optional_amount(so.vat_amount, p .. ".shipping_option.vat_amount")
    end)
  if r2 then return r1, r2, r3 end
  if o.strict and present(order.amount) then return check_sums(order, p) end
end

--- Checks the url block of a session: return_url required when need_return.
function M.session_urls(client, urls, prefix, need_return)
  if not present(urls) then
    if need_return then return M.fail(prefix .. ".return_url", "is required") end
    return
  end
  if type(urls) ~= "table" then return M.fail(prefix, "must be a table {return_url, callback_url}") end
  if need_return and not present(urls.return_url) then
    return M.fail(prefix .. ".return_url", "is required")
  end
  local r1, r2, r3 = M.https_url(client, urls.return_url, prefix .. ".return_url")
  if r2 then return r1, r2, r3 end
  return M.https_url(client, urls.callback_url, prefix .. ".callback_url")
end

--- Checks capture/refund items: line_id strings and integer amounts.
function M.operation_items(items, prefix)
  if not present(items) then return end
  if type(items) ~= "table" then return M.fail(prefix, "must be a list of items") end
  for i, it in ipairs(items) do
    local f = ("%s[%d]"):format(prefix, i)
    if type(it) ~= "table" then return M.fail(f, "must be a table") end
    local r1, r2, r3 = M.amount(it.amount, f .. ".amount")
    if r2 then return r1, r2, r3 end
  end
end

return M
