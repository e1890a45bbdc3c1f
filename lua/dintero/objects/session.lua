-- The Session object: the decoded session (session.id, session.order,
-- session.transaction_id, session.events ...) plus update, cancel, refresh
-- and transaction.
--
-- The one field of our own is `checkout_url`: the page to send the shopper
-- to, from the create response. The API's own `url` field changes shape
-- between calls (the create response's `url` is that page URL; a fetched
-- session's `url` is {return_url, callback_url}), so checkout_url is kept
-- across refreshes and is the one to use.
local base = require "dintero.objects.base"
local validate = require "dintero.validate"

local M = {}

local present = validate.present

local Methods = {}
local Session = { __index = Methods }
M.class = Session

local KEEP = { checkout_url = true }

--- Wraps a decoded session (or a create response {id, url, publish, session?}).
function M.new(client, data)
  return base.new(Session, client, data)
end

--- Wraps a create response: its fields, the included session's fields (which
-- do not overwrite id, url and publish), and checkout_url.
function M.created(client, body)
  local data = {}
  if type(body.session) == "table" then
    for k, v in pairs(body.session) do data[k] = v end
  end
  for k, v in pairs(body) do
    if k ~= "session" then data[k] = v end
  end
  local s = base.new(Session, client, data, body)
  if type(body.url) == "string" then s.checkout_url = body.url end
  return s
end

function M.is(v) return type(v) == "table" and getmetatable(v) == Session end

-- Refills s from a fresh Session object, keeping checkout_url.
local function adopt(s, fresh, meta)
  base.fill(s, base.raw(fresh), KEEP)
  return s, meta
end

--- The decoded table of the last response.
function Methods:raw()
  base.check(self, Session, "raw")
  return base.raw(self)
end

--- session:update{order = {...}, remove_lock=, express=} with the query flags
-- update_without_lock / force_shipping_address_callback in the same table or
-- in opts. Refreshes the session from the answer.
function Methods:update(args, opts)
  local client = base.check(self, Session, "update")
  local fresh, meta, err = client.sessions:update(self.id, args, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- Cancels the session (voids an INITIATED or AUTHORIZED transaction).
function Methods:cancel(opts)
  local client = base.check(self, Session, "cancel")
  local fresh, meta, err = client.sessions:cancel(self.id, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- Fetches the session again (opts.includes as for get).
function Methods:refresh(opts)
  local client = base.check(self, Session, "refresh")
  local fresh, meta, err = client.sessions:get(self.id, opts)
  if not fresh then return nil, meta, err end
  return adopt(self, fresh, meta)
end

--- The session's Transaction (fetched; the session is refreshed first when it
-- does not know its transaction_id yet). A session that has not been paid
-- gives the fail triple with kind "validation" and code "NO_TRANSACTION".
function Methods:transaction(opts)
  local client = base.check(self, Session, "transaction")
  if not present(self.transaction_id) then
    local ok, msg, err = self:refresh()
    if not ok then return nil, msg, err end
  end
  if not present(self.transaction_id) then
    return validate.fail("transaction_id", ("session %s has no transaction yet (not paid)"):format(
      tostring(self.id)), { code = "NO_TRANSACTION" })
  end
  return client.transactions:get(self.transaction_id, opts)
end

function Session.__tostring(s)
  local order = rawget(s, "order")
  local amount, currency = "", ""
  if type(order) == "table" then
    amount, currency = " " .. base.show_amount(order.amount), " " .. tostring(order.currency)
  end
  local state = ""
  if present(rawget(s, "cancelled_at")) then state = " cancelled"
  elseif present(rawget(s, "transaction_id")) then state = " paid " .. tostring(rawget(s, "transaction_id")) end
  return ("dintero.Session(%s%s%s%s)"):format(tostring(rawget(s, "id")), amount, currency, state)
end

M.Methods = Methods
return M
