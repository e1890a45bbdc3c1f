-- client.sessions: checkout sessions (checkout host). create (from a profile
-- or with a full configuration), get, update, cancel, payment-token sessions
-- and merchant-initiated payments (sessions/pay).
--
-- Bodies are checked locally first (validate.lua): amounts, currency, urls
-- and, with the strict-session-amounts toggle, that order.amount adds up.
local call = require "dintero.call"
local validate = require "dintero.validate"
local session_obj = require "dintero.objects.session"
local tx_obj = require "dintero.objects.transaction"

local M = {}

local Sessions = {}
Sessions.__index = Sessions

function M.new(client)
  return setmetatable({ _client = client }, Sessions)
end

local function first_failure(...)
  for i = 1, select("#", ...) do
    local f = select(i, ...)
    local r1, r2, r3 = f()
    if r2 then return r1, r2, r3 end
  end
end

-- A session id argument: raises when not a string, refuses another account's id.
local function session_id(client, fname, id)
  call.string_arg(fname, "session_id", id, 3)
  return validate.account_id(client, id, "session_id")
end

-- Moves a query flag given in the body table to the query (it is not a body field).
local function take_flag(body, opts, name)
  local v = body[name]
  body[name] = nil
  if v == nil then v = opts[name] end
  if v ~= nil and type(v) ~= "boolean" then
    error(("dintero.sessions: %s must be a boolean"):format(name), 3)
  end
  return v
end

local function flags_query(flags)
  local q
  for k, v in pairs(flags) do
    if v ~= nil then
      q = q or {}
      q[k] = v
    end
  end
  return q
end

--- client.sessions:create(session [, opts]): POST /v1/sessions-profile when
-- session.profile_id is set, else POST /v1/sessions (configuration in the
-- body). opts.include_session (or session.include_session) asks for the whole
-- session in the answer. Returns a Session (session.id, session.checkout_url)
-- and meta.
function Sessions:create(session, opts)
  local client = call.self(self, Sessions, "sessions.create")
  call.table_arg("sessions.create", "session", session)
  opts = call.opts("sessions.create", opts, { include_session = true })
  local body = call.copy(session)
  local include = take_flag(body, opts, "include_session")
  local strict = call.toggle_on(client, opts, "strict-session-amounts")
  local r1, r2, r3 = first_failure(
    function() return validate.order(body.order, { required = true, strict = strict }) end,
    function() return validate.session_urls(client, body.url, "url", true) end,
    function()
      if body.profile_id ~= nil then return validate.required_string(body.profile_id, "profile_id") end
    end)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "checkout",
    path = body.profile_id ~= nil and "/v1/sessions-profile" or "/v1/sessions",
    query = flags_query { include_session = include }, body = body, class = "payment",
  }, true))
  if not res then return nil, meta, err end
  return session_obj.created(client, res), meta
end

--- client.sessions:get(session_id [, opts]); opts.includes e.g.
-- { "events.request_headers", "initiating_system_request_headers" }.
function Sessions:get(id, opts)
  local client = call.self(self, Sessions, "sessions.get")
  opts = call.opts("sessions.get", opts)
  local r1, r2, r3 = session_id(client, "sessions.get", id)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "checkout", path = "/v1/sessions/{id}", params = { id = id },
  }))
  if not res then return nil, meta, err end
  return session_obj.new(client, res), meta
end

--- client.sessions:update(session_id, {order=, remove_lock=, express=} [, opts]).
-- The query flags update_without_lock and force_shipping_address_callback go
-- in the first table or in opts. The session must be locked first unless
-- update_without_lock is true.
function Sessions:update(id, args, opts)
  local client = call.self(self, Sessions, "sessions.update")
  call.table_arg("sessions.update", "args", args)
  opts = call.opts("sessions.update", opts, { update_without_lock = true, force_shipping_address_callback = true })
  local body = call.copy(args)
  local query = flags_query {
    update_without_lock = take_flag(body, opts, "update_without_lock"),
    force_shipping_address_callback = take_flag(body, opts, "force_shipping_address_callback"),
  }
  local strict = call.toggle_on(client, opts, "strict-session-amounts")
  local r1, r2, r3 = session_id(client, "sessions.update", id)
  if r2 then return r1, r2, r3 end
  if body.order == nil then return validate.fail("order", "is required (a table)") end
  r1, r2, r3 = validate.order(body.order, { required = false, strict = strict })
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "PUT", host = "checkout", path = "/v1/sessions/{id}", params = { id = id },
    query = query, body = body, class = "idempotent",
  }, true))
  if not res then return nil, meta, err end
  return session_obj.new(client, res), meta
end

--- client.sessions:cancel(session_id [, opts]): voids an INITIATED or
-- AUTHORIZED transaction of the session; the answer has cancelled_at.
function Sessions:cancel(id, opts)
  local client = call.self(self, Sessions, "sessions.cancel")
  opts = call.opts("sessions.cancel", opts)
  local r1, r2, r3 = session_id(client, "sessions.cancel", id)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "checkout", path = "/v1/sessions/{id}/cancel", params = { id = id },
    class = "payment",
  }))
  if not res then return nil, meta, err end
  return session_obj.new(client, res), meta
end

-- Checks the `session` part of payment-token and pay bodies.
local function check_inner_session(client, s, need_return, strict)
  if type(s) ~= "table" then return validate.fail("session", "is required (a table)") end
  return first_failure(
    function() return validate.order(s.order, { prefix = "session.order", required = true, strict = strict }) end,
    function() return validate.session_urls(client, s.url, "session.url", need_return) end)
end

--- client.sessions:create_payment_token({session=, token_provider={payment_product_type=}} [, opts]):
-- a session that stores a card token without charging. Read the token later
-- with transactions:get(id, {includes = {"card.payment_token"}}).
function Sessions:create_payment_token(args, opts)
  local client = call.self(self, Sessions, "sessions.create_payment_token")
  call.table_arg("sessions.create_payment_token", "args", args)
  opts = call.opts("sessions.create_payment_token", opts, { include_session = true })
  local body = call.copy(args)
  local include = take_flag(body, opts, "include_session")
  local strict = call.toggle_on(client, opts, "strict-session-amounts")
  local r1, r2, r3 = first_failure(
    function() return check_inner_session(client, body.session, true, strict) end,
    function()
      local tp = body.token_provider
      if type(tp) ~= "table" then return validate.fail("token_provider", "is required ({payment_product_type=})") end
      return validate.required_string(tp.payment_product_type, "token_provider.payment_product_type")
    end)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "checkout", path = "/v1/sessions/payment-token",
    query = flags_query { include_session = include }, body = body, class = "payment",
  }, true))
  if not res then return nil, meta, err end
  return session_obj.created(client, res), meta
end

--- client.sessions:pay({session=, payment={payment_product_type=, operation=}} [, opts]):
-- creates and pays a merchant-initiated session (e.g. with a saved card
-- token in session.customer.tokens). Feature toggles such as
-- strict-merchant-reference go in opts.feature_toggles. A declined payment is
-- not an HTTP error: the answer is a Transaction with status FAILED; see
-- tx:failed(), tx:payment_error(), tx:retry_policy() and tx:may_retry().
function Sessions:pay(args, opts)
  local client = call.self(self, Sessions, "sessions.pay")
  call.table_arg("sessions.pay", "args", args)
  opts = call.opts("sessions.pay", opts)
  local body = call.copy(args)
  local strict = call.toggle_on(client, opts, "strict-session-amounts")
  local r1, r2, r3 = first_failure(
    function() return check_inner_session(client, body.session, false, strict) end,
    function()
      if type(body.payment) ~= "table" then
        return validate.fail("payment", "is required ({payment_product_type=, operation=})")
      end
      return validate.required_string(body.payment.payment_product_type, "payment.payment_product_type")
    end)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "checkout", path = "/v1/sessions/pay", body = body, class = "payment",
  }, true))
  if not res then return nil, meta, err end
  return tx_obj.new(client, res), meta
end

return M
