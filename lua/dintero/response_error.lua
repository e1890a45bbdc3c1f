-- Turns a failed attempt (the transport's result table) into the library's
-- fail triple through core.fail, the one error builder shared with C.
-- Messages name what happened and what to do; they never carry credentials,
-- tokens or request bodies.
local core = require "dintero.core"
local retry = require "dintero.retry"

local M = {}

local UNKNOWN_OUTCOME = "the outcome is unknown: the request may have been performed;"
  .. " GET the transaction before trying again"

-- rawget: the header tables hold lower-case names, and by the time meta is
-- built they carry request.lua's case-insensitive __index, which a miss
-- would call (three misses per response without these headers).
local function request_id(res)
  local h = res.headers
  if not h then return nil end
  return rawget(h, "request-id") or rawget(h, "x-request-id") or rawget(h, "dintero-request-id")
end

local function api_error_fields(body)
  if type(body) ~= "table" or type(body.error) ~= "table" then return nil end
  local e = body.error
  local code = type(e.code) == "string" and e.code or nil
  local message = type(e.message) == "string" and e.message or nil
  return code, message
end

local TRANSPORT_KIND = {
  connect = "network", timeout = "timeout", tls = "tls", dropped = "network",
  too_large = "network", headers = "network", other = "network", invalid = "validation",
}

local TRANSPORT_CODE = {
  too_large = "RESPONSE_TOO_LARGE", headers = "RESPONSE_HEADERS_TOO_LARGE",
}

local function transport_failure(spec, res, what)
  local detail = ("%s: %s"):format(what, res.error or res.fail)
  if res.fail == "too_large" then
    detail = what .. ": response exceeds max_response_bytes"
  elseif res.fail == "headers" then
    detail = what .. ": response headers exceed max_header_count or max_header_bytes"
  end
  local unknown = retry.outcome_unknown(spec.class, res)
  if unknown then detail = detail .. "; " .. UNKNOWN_OUTCOME end
  return core.fail {
    kind = TRANSPORT_KIND[res.fail] or "network",
    code = TRANSPORT_CODE[res.fail],
    message = detail,
    retryable = not unknown and retry.retryable(spec.class == "payment" and "payment" or "read", res),
    outcome_unknown = unknown or nil,
  }
end

-- The text of a malformed body an error may carry: none for calls whose
-- bodies hold secrets (token grants, signature secrets), where a broken 200
-- may still hold a token. (A well-formed error answer of those calls is kept:
-- the MFA flow needs its mfa_token.)
local function error_body(spec, body)
  if spec.secret_body then return nil end
  return body
end

local function json_failure(spec, res, what)
  local detail = ("%s: HTTP %d with a body that is not valid JSON (%s)"):format(what, res.status, res.error)
  local performed = spec.class == "payment" and res.status >= 200 and res.status < 300
  if performed then
    detail = detail .. "; the server accepted the operation, GET the transaction for its state"
  end
  local unknown = retry.outcome_unknown(spec.class, res)
  return core.fail {
    kind = "json",
    status = res.status,
    message = detail,
    request_id = request_id(res),
    retryable = false,
    outcome_unknown = unknown or nil,
    body = error_body(spec, type(res.body) == "string" and res.body:sub(1, 512) or nil),
  }
end

local function http_failure(spec, res, what, kind)
  local code, message = api_error_fields(res.body)
  local unknown = retry.outcome_unknown(spec.class, res)
  local detail = message or ("%s answered HTTP %d"):format(what, res.status)
  if unknown then detail = detail .. "; " .. UNKNOWN_OUTCOME end
  return core.fail {
    kind = kind or "api",
    status = res.status,
    code = code,
    message = detail,
    request_id = request_id(res),
    retryable = not unknown and retry.retryable(spec.class, res),
    retry_after = res.headers and tonumber(res.headers["retry-after"]) or nil,
    outcome_unknown = unknown or nil,
    body = res.body,
  }
end

--- Builds the triple for a failed attempt. kind overrides "api" for HTTP
-- errors (the token endpoint reports kind "auth").
function M.build(spec, res, kind)
  local what = spec.method .. " " .. spec.path
  if res.fail == "json" then return json_failure(spec, res, what) end
  if res.fail then return transport_failure(spec, res, what) end
  return http_failure(spec, res, what, kind)
end

M.request_id = request_id

return M
