-- Auth routes: POST /v1/accounts/{oid}/auth/token (all grant types, simplified as
-- documented in docs/mock.md) and POST /v1/accounts/{aid}/auth/mfa/challenge.
--
-- client_credentials checks HTTP Basic credentials and the audience; the other
-- grants need a Bearer token issued by this mock. The MFA flow: a password grant
-- for username "mfa@example.com" answers 403 mfa_required with an mfa_token; the
-- challenge turns that into an oob_code; grant "mfa-oob" with both gives a token.
local MFA_USER = "mfa@example.com"

local function b64decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  s = s:gsub("[^%w%+/=]", ""):gsub("=+$", "")
  local bits = s:gsub(".", function(c)
    local n = alphabet:find(c, 1, true) - 1
    local r = ""
    for i = 5, 0, -1 do r = r .. (((n >> i) & 1 == 1) and "1" or "0") end
    return r
  end)
  return (bits:gsub("%d%d%d?%d?%d?%d?%d?%d?", function(b)
    if #b ~= 8 then return "" end
    return string.char(tonumber(b, 2))
  end))
end

-- Parses "Basic base64(id:secret)"; returns id, secret or nil.
local function basic_credentials(header)
  local b64 = header and header:match("^[Bb]asic%s+(%S+)%s*$")
  if not b64 then return nil end
  local id, secret = b64decode(b64):match("^([^:]*):(.*)$")
  return id, secret
end

local function token_response(api, rec, extra)
  local token = api.app:issue_token(rec)
  local body = { access_token = token, token_type = "Bearer",
                 expires_in = math.tointeger(rec.ttl or api.config.token_ttl) or
                   math.floor(rec.ttl or api.config.token_ttl) }
  for k, v in pairs(extra or {}) do body[k] = v end
  return 200, body
end

local function check_audience(api, req, oid)
  local aud = req.json.audience
  local want = "https://api.dintero.com/v1/accounts/" .. oid
  if aud == nil then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "audience is required (" .. want .. ")")
  end
  if aud ~= want then
    return api.fail(403, "INVALID_AUDIENCE", "audience must be " .. want)
  end
end

local function client_credentials(api, req, oid)
  local id, secret = basic_credentials(req.headers.authorization)
  if not id then
    return api.fail(401, "UNAUTHORIZED", "client_credentials needs HTTP Basic client credentials")
  end
  local cfg = api.config
  if id ~= cfg.client_id or secret ~= cfg.client_secret or oid ~= cfg.account_id then
    return api.fail(401, "UNAUTHORIZED", "invalid client credentials")
  end
  local st, body = check_audience(api, req, oid)
  if st then return st, body end
  return token_response(api, { account = oid, client_id = id, grant = "client_credentials" })
end

-- Grants other than client_credentials authenticate with a Bearer token of this mock.
local function bearer_of(api, req, oid)
  local rec, msg = api.app:bearer(req)
  if not rec then return nil, api.fail(401, "UNAUTHORIZED", msg) end
  if rec.account ~= oid then
    return nil, api.fail(401, "UNAUTHORIZED", "access token is not valid for account " .. oid)
  end
  return rec
end

local function mfa_state(api)
  api.state.mfa = api.state.mfa or { tokens = {}, oob = {} }
  return api.state.mfa
end

local function refresh_state(api)
  api.state.refresh_tokens = api.state.refresh_tokens or {}
  return api.state.refresh_tokens
end

local function issue_with_refresh(api, oid, rec, grant)
  local rt = "mock_rt_" .. api.random_string(40)
  refresh_state(api)[rt] = { account = oid, client_id = rec.client_id }
  return token_response(api, { account = oid, client_id = rec.client_id, grant = grant },
    { refresh_token = rt })
end

local function password(api, req, oid, rec)
  local b = req.json
  if type(b.username) ~= "string" or type(b.password) ~= "string" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "username and password are required")
  end
  local st, body = check_audience(api, req, oid)
  if st then return st, body end
  if b.username:lower() == MFA_USER then
    local mfa_token = "mock_mfa_" .. api.random_string(24)
    mfa_state(api).tokens[mfa_token] = { account = oid, client_id = rec.client_id }
    return 403, { error = { code = "mfa_required", message = "multi-factor authentication required" },
                  mfa_token = mfa_token }
  end
  return issue_with_refresh(api, oid, rec, "password")
end

local function refresh(api, req, oid, rec)
  local rt = req.json.refresh_token
  local known = type(rt) == "string" and refresh_state(api)[rt]
  if not known or known.account ~= oid then
    return api.fail(400, "INVALID_GRANT", "unknown refresh_token")
  end
  return token_response(api, { account = oid, client_id = rec.client_id, grant = "refresh_token" })
end

local function mfa_oob(api, req, oid, rec)
  local b, mfa = req.json, mfa_state(api)
  local pending = type(b.mfa_token) == "string" and mfa.tokens[b.mfa_token]
  local oob = type(b.oob_code) == "string" and mfa.oob[b.oob_code]
  if not pending or not oob or oob.mfa_token ~= b.mfa_token then
    return api.fail(400, "INVALID_GRANT", "unknown or mismatched mfa_token / oob_code")
  end
  mfa.tokens[b.mfa_token], mfa.oob[b.oob_code] = nil, nil
  return issue_with_refresh(api, oid, rec, "mfa-oob")
end

-- Grants that only need a valid Bearer token (and, for some, a field or two).
local function simple_grant(fields)
  return function(api, req, oid, rec)
    for _, f in ipairs(fields) do
      if type(req.json[f]) ~= "string" then
        return api.fail(400, "INVALID_REQUEST_PARAMETER", f .. " is required")
      end
    end
    return token_response(api, { account = oid, client_id = rec.client_id, grant = req.json.grant_type })
  end
end

local BEARER_GRANTS = {
  password = password,
  refresh_token = refresh,
  ["mfa-oob"] = mfa_oob,
  mfa_oob = mfa_oob,
  authorization_code = simple_grant { "verification_code" },
  account_user_token = simple_grant {},
}

local function token(api, req)
  api.app.stats.token_requests = api.app.stats.token_requests + 1
  local oid = req.params.oid
  if type(req.json) ~= "table" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "a JSON body with grant_type is required")
  end
  local grant = req.json.grant_type
  if grant == "client_credentials" then return client_credentials(api, req, oid) end
  local handler = BEARER_GRANTS[grant]
  if not handler then
    return api.fail(400, "UNSUPPORTED_GRANT_TYPE", "unsupported grant_type " .. tostring(grant))
  end
  local rec, st, body = bearer_of(api, req, oid)
  if not rec then return st, body end
  return handler(api, req, oid, rec)
end

local function challenge(api, req)
  local b = req.json
  local pending = type(b) == "table" and type(b.mfa_token) == "string" and
    mfa_state(api).tokens[b.mfa_token]
  if not pending then return api.fail(400, "INVALID_REQUEST_PARAMETER", "unknown mfa_token") end
  if b.challenge_type ~= nil and b.challenge_type ~= "oob" then
    return api.fail(400, "INVALID_REQUEST_PARAMETER", "challenge_type must be oob")
  end
  local oob = "mock_oob_" .. api.random_string(16)
  mfa_state(api).oob[oob] = { mfa_token = b.mfa_token }
  return 200, { oob_code = oob, challenge_type = "oob", oob_channel = b.oob_channel or "sms" }
end

return function(api)
  api.route("POST", "/v1/accounts/{oid}/auth/token", function(req) return token(api, req) end,
    { auth = false })
  api.route("POST", "/v1/accounts/{aid}/auth/mfa/challenge",
    function(req) return challenge(api, req) end, { auth = false })
end
