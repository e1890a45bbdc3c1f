-- The request loop: one call of client:request from spec to result. It owns
-- the order of things (token, attempt, 401 replay, retry with backoff, log
-- event, error) and leaves each decision to its one home: retry.lua for what
-- is retried, token state in the C core, errors via response_error.lua. The
-- transport only performs single attempts, so the libcurl transport and the
-- OpenResty one share all of this.
local retry = require "dintero.retry"
local response_error = require "dintero.response_error"
local url = require "dintero.url"
local core = require "dintero.core"

local M = {}

local function validation(message)
  return core.fail { kind = "validation", message = message, retryable = false }
end

-- The client's static lines plus the call's own headers; a call's header
-- replaces a static one of the same name, so a per-call system name overrides
-- the client's instead of joining it. A call without headers of its own gets
-- the client's shared list as it is (no per-request copy).
local function header_lines(client, spec, has_body)
  local static = has_body and client._static_body_headers or client._static_headers
  if spec.headers == nil then return static end
  local lines, own = {}, {}
  for name, value in pairs(spec.headers) do
    if type(name) ~= "string" or not name:match "^[%w%-]+$" then
      return nil, "header name " .. tostring(name) .. " is not a valid token"
    end
    if type(value) == "table" then value = table.concat(value, ",") end
    value = tostring(value)
    if value:find "[%z\r\n]" then return nil, "header " .. name .. " contains CR, LF or NUL" end
    own[name:lower()] = name .. ": " .. value
  end
  for _, line in ipairs(static) do
    if not own[client._static_header_names[line]] then lines[#lines + 1] = line end
  end
  for _, line in pairs(own) do lines[#lines + 1] = line end
  return lines
end

-- The methods the transports send. Checked here, before anything is sent:
-- in a client:parallel batch a request refused later would come back after
-- the payments before it had already gone out.
local METHODS = { GET = true, POST = true, PUT = true, DELETE = true, PATCH = true }

--- Builds the transport request from a spec (see docs/architecture.md).
-- Everything that can be refused locally is refused here, before sending.
function M.build(client, spec)
  if not METHODS[spec.method] then
    return nil, "method must be one of GET, POST, PUT, DELETE, PATCH, got " .. tostring(spec.method)
  end
  if type(spec.path) ~= "string" then return nil, "path must be a string, got " .. type(spec.path) end
  local path, err = url.path(spec.path, spec.params)
  if not path then return nil, err end
  local query
  query, err = url.query(spec.query)
  if not query then return nil, err end
  local base = spec.host == "api" and client.options.api_url or client.options.checkout_url
  local lines
  lines, err = header_lines(client, spec, spec.body ~= nil)
  if not lines then return nil, err end
  return {
    method = spec.method,
    url = base .. path .. query,
    headers = lines,
    body = spec.body,
    auth = spec.auth,
    decode = spec.raw and "raw" or nil,
    -- A payment write never rides a kept-alive connection: libcurl replays a
    -- request whose reused connection turns out dead, which for a capture
    -- could mean capturing twice.
    fresh = spec.class == "payment" or nil,
  }
end

-- Keys whose values never go into a log event, wherever they appear in a
-- logged body (signature secrets, tokens, passwords).
local SECRET_KEYS = {
  secret = true, client_secret = true, access_token = true, refresh_token = true,
  password = true, mfa_token = true, oob_code = true, binding_code = true,
  -- card tokens: enough to charge the card again
  payment_token = true, recurrence_token = true,
}

local function redacted(v, depth)
  if type(v) ~= "table" then return v end
  if depth > 50 then return "<nested too deep to log>" end -- never unredacted
  local copy = {}
  for k, x in pairs(v) do
    copy[k] = SECRET_KEYS[k] and "***" or redacted(x, depth + 1)
  end
  return setmetatable(copy, getmetatable(v))
end

local function log(client, spec, res, attempt, extra)
  local logger = client.options.logger
  if not logger then return end
  local event = {
    event = "request", method = spec.method, host = spec.host, path = spec.path,
    status = res.status ~= 0 and res.status or nil, duration = res.seconds,
    attempt = attempt, reused = res.reused, request_id = response_error.request_id(res),
    error = res.fail, class = spec.class,
  }
  if extra then for k, v in pairs(extra) do event[k] = v end end
  if client.options.log_bodies and not spec.secret_body then
    event.request_body = redacted(spec.body, 0)
    event.response_body = redacted(res.body, 0)
  end
  local ok = pcall(logger, event)
  if not ok then client.options.logger = nil end -- a broken logger must not break payments
end

local function succeeded(res)
  return not res.fail and res.status >= 200 and res.status < 300
end

-- Response headers are stored under lower-case names; this lets
-- meta.headers["Retry-After"] find them too.
local HEADERS_MT = {
  __index = function(t, k)
    if type(k) == "string" then return rawget(t, k:lower()) end
  end,
}

--- The headers of a response, readable case-insensitively.
function M.headers(res)
  return setmetatable(res.headers or {}, HEADERS_MT)
end

--- The fail triple of an attempt that will not be sent again; after is the
-- Retry-After that was longer than the caller allows, if any.
function M.failure(spec, res, after)
  local kind = spec.error_kind or ((res.status == 401 and spec.auth == true) and "auth" or nil)
  local r1, r2, r3 = response_error.build(spec, res, kind)
  if after and r3 then r3.retry_after = after end
  return r1, r2, r3
end

--- The meta table of a successful attempt.
function M.meta(res, attempt)
  return {
    status = res.status, headers = M.headers(res), content_type = res.content_type,
    request_id = response_error.request_id(res), pending = res.status == 202 or nil,
    event_request_id = res.headers and rawget(res.headers, "event-request-id") or nil,
    attempts = attempt, reused = res.reused,
  }
end

--- Sends a built request with retries. Returns body, meta or the fail triple.
-- The 401 replay happens at most once per call and does not count as a retry.
function M.send(client, spec, req)
  local o, transport = client.options, client._transport
  local attempt, replayed = 0, false
  while true do
    attempt = attempt + 1
    if spec.auth == true then
      local ok, msg, err = client:_ensure_token()
      if not ok then return nil, msg, err end
    end
    local res = transport:perform(req)
    if succeeded(res) then
      log(client, spec, res, attempt)
      return res.body, M.meta(res, attempt)
    end
    if res.status == 401 and spec.auth == true and not replayed then
      -- Drop the token only if it is still the one this attempt used: a
      -- newer one fetched meanwhile is good.
      transport:drop_token(res.token_generation)
      replayed = true
      log(client, spec, res, attempt, { will_replay = true })
      attempt = attempt - 1
    else
      local delay, after = retry.next_delay(spec.class, res, attempt, o)
      log(client, spec, res, attempt, { retry_in = delay })
      if not delay then return M.failure(spec, res, after) end
      client._sleep(delay)
    end
  end
end

--- Fills a spec's defaults (one place for client:request and client:parallel):
-- the retry class from the method (POST is a payment write, the safe
-- default) and auth = true.
function M.defaults(spec)
  spec.class = spec.class or (spec.method == "GET" and "read" or spec.method == "POST" and "payment" or "idempotent")
  if spec.auth == nil then spec.auth = true end
  return spec
end

--- client:request(spec): builds, checks and sends.
function M.run(client, spec)
  M.defaults(spec)
  local req, err = M.build(client, spec)
  if not req then return validation(err) end
  return M.send(client, spec, req)
end

return M
