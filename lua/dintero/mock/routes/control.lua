-- Test-only control routes under /_mock/ (no auth): reset, simulated payments and
-- locks, fault injection, the request / callback logs, counters, clock and tokens.
-- See docs/mock.md for each route.
local payments = require "dintero.mock.payments"

local OUTCOMES = { authorized = true, declined = true, on_hold = true }

local function session_of(api, req)
  local rec = (api.state.sessions or {})[req.params.id]
  if not rec then return nil, api.fail(404, "NOT_FOUND", "session " .. req.params.id .. " not found") end
  return rec
end

local function pay(api, req)
  local rec, st, err = session_of(api, req)
  if not rec then return st, err end
  local b = type(req.json) == "table" and req.json or {}
  local outcome = b.outcome or "authorized"
  if not OUTCOMES[outcome] then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "outcome must be authorized, declined or on_hold")
  end
  if rec.data.cancelled_at then return api.fail(409, "SESSION_CANCELLED", "session is cancelled") end
  if rec.data.transaction_id then
    return api.fail(409, "SESSION_COMPLETED", "session already has transaction " .. rec.data.transaction_id)
  end
  local ptype = b.payment_product_type
  if ptype ~= nil and type(ptype) ~= "string" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "payment_product_type must be a string")
  end
  if not ptype and rec.token_provider then ptype = rec.token_provider.payment_product_type end
  local tx = payments.pay(api, rec, outcome, ptype or "dintero_psp.creditcard", req)
  return 200, payments.view(api, tx)
end

local function lock(api, req)
  local rec, st, err = session_of(api, req)
  if not rec then return st, err end
  if rec.data.cancelled_at or rec.data.transaction_id then
    return api.fail(409, "SESSION_CLOSED", "a cancelled or completed session cannot be locked")
  end
  rec.locked = true
  payments.session_event(api, rec, "PAY_LOCK_START")
  return 200, { id = rec.data.id, locked = true }
end

local function complete(api, req)
  local tx = payments.state(api).transactions[req.params.id]
  if not tx then return api.fail(404, "NOT_FOUND", "transaction " .. req.params.id .. " not found") end
  local events = payments.complete_pending(api, tx)
  return 200, { transaction = payments.view(api, tx), events = events }
end

local function add_fault(api, req)
  local fault, err = api.app.faults:add(req.json)
  if not fault then return api.fail(400, "INVALID_REQUEST_PARAMETER", err) end
  return 200, { armed = api.app.faults:describe() }
end

local function clock(api, req)
  local b = type(req.json) == "table" and req.json or {}
  local app = api.app
  if type(b.offset) == "number" then app.clock_offset = b.offset end
  if type(b.advance) == "number" then app.clock_offset = app.clock_offset + b.advance end
  return 200, { offset = app.clock_offset, now = api.iso8601() }
end

local function expire_tokens(api)
  local n = 0
  for _, rec in pairs(api.app.tokens) do rec.expires_at = 0; n = n + 1 end
  return 200, { expired = n }
end

local function stats(api)
  local s = api.app.stats
  local server = api.app.server
  return 200, { connections = s.connections, connections_accepted = s.connections_accepted,
                requests = s.requests, control_requests = s.control_requests,
                token_requests = s.token_requests,
                open_connections = server and server.open or 0 }
end

return function(api)
  local function r(method, path, fn)
    api.route(method, path, function(req) return fn(api, req) end, { auth = false })
  end
  r("POST", "/_mock/reset", function(a, req)
    local b = type(req.json) == "table" and req.json or {}
    a.app:reset(b.tokens == true)
    return 200, { reset = true }
  end)
  r("POST", "/_mock/sessions/{id}/pay", pay)
  r("POST", "/_mock/sessions/{id}/lock", lock)
  r("POST", "/_mock/transactions/{id}/complete", complete)
  r("POST", "/_mock/faults", add_fault)
  r("GET", "/_mock/faults", function(a) return 200, { armed = a.app.faults:describe() } end)
  r("DELETE", "/_mock/faults", function(a) a.app.faults:clear(); return 200, { armed = a.array() } end)
  r("GET", "/_mock/requests", function(a)
    local out = a.array()
    for i, rec in ipairs(a.app.requests) do out[i] = rec end
    return 200, out
  end)
  r("GET", "/_mock/callbacks", function(a) return 200, a.state.callbacks or a.array() end)
  r("GET", "/_mock/stats", stats)
  r("POST", "/_mock/clock", clock)
  r("POST", "/_mock/tokens/expire", expire_tokens)
  -- raises inside a handler: lets specs check that a crash answers 500 and the
  -- server keeps running
  r("POST", "/_mock/boom", function() error("boom (requested by POST /_mock/boom)") end)
end
