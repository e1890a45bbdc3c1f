-- Helpers shared by the spec/api_*_spec.lua files: a client for the suite's
-- mock, an order, a session, and a paid (AUTHORIZED) transaction.
local dintero = require "dintero"
local mock = require "support.mock"

local M = {}

--- A client pointing both hosts at the mock; extra options are merged in.
function M.client(extra)
  local o = {
    account_id = mock.credentials.account_id,
    client_id = mock.credentials.client_id,
    client_secret = mock.credentials.client_secret,
    api_url = mock.url, checkout_url = mock.url,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return dintero.new(o)
end

--- An order of one item (amount) and a shipping line of 0, totals filled.
function M.order(amount, reference)
  amount = amount or 29990
  return require("dintero.order").fill {
    currency = "NOK", merchant_reference = reference or "order-1",
    items = {
      { id = "sku-1", line_id = "1", description = "Socks", quantity = 1, amount = amount, vat_amount = 0, vat = 25 },
    },
  }
end

--- The body of a profile session for order (defaults to M.order()).
function M.session_body(order)
  return {
    profile_id = "T12345678.profile",
    url = { return_url = "https://shop.example/return", callback_url = "https://shop.example/callback" },
    order = order or M.order(),
  }
end

--- A new session (asserting success).
function M.session(client, order, opts)
  return assert(client.sessions:create(M.session_body(order), opts))
end

--- A paid session's transaction: AUTHORIZED for amount (default 29990).
function M.authorized(client, amount)
  local s = M.session(client, M.order(amount))
  mock.pay(s.id)
  return assert(client.transactions:get(assert(s:refresh()).transaction_id)), s
end

--- The last request the mock saw whose path matches pattern (and method).
function M.last_request(pattern, method)
  local found
  for _, r in ipairs(mock.requests()) do
    if r.path:find(pattern) and (not method or r.method == method) then found = r end
  end
  return found
end

--- Decodes a recorded request body.
function M.body_of(r)
  if type(r.body) ~= "string" or r.body == "" then return nil end
  return mock.json.decode(r.body)
end

return M
