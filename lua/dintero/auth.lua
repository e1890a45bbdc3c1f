-- client.auth: access tokens (api host) and the callback signature secret.
--
-- token() is the client's own cached client-credentials token (kept by the
-- client, fetched or refreshed when needed). The other grants ask the token
-- endpoint for a token of someone else (a user, a refresh token, an MFA
-- challenge); Dintero authenticates those requests with a Bearer JWT, by
-- default the client's own token, or the one given as args.bearer. Their
-- answers are returned as decoded ({access_token, token_type, expires_in,
-- refresh_token?}) and are not stored: the client keeps using its own token.
--
-- The spellings of two grant types are not settled in Dintero's docs
-- (dintero-api.md section 13): client.auth.grants holds the ones sent and can
-- be changed per client, or per call with args.grant_type.
local call = require "dintero.call"
local validate = require "dintero.validate"

local M = {}

local Auth = {}
Auth.__index = Auth

function M.new(client)
  return setmetatable({
    _client = client,
    grants = { mfa_oob = "mfa-oob", account_user_token = "account_user_token" },
  }, Auth)
end

--- client.auth:token() -> {access_token=, token_type="Bearer", expires_in=}
-- (expires_in: seconds left), or the fail triple (kind "auth" when the
-- credentials are refused). The table holds a secret: do not log it.
function Auth:token()
  local client = call.self(self, Auth, "auth.token")
  local token, left, err = client:_token()
  if not token then return nil, left, err end
  if type(left) == "number" then left = math.floor(left) end
  return { access_token = token, token_type = "Bearer", expires_in = left }
end

-- The Bearer for a grant request: args.bearer, or the client's own token.
local function bearer(client, args)
  if args.bearer ~= nil then return args.bearer end
  local token, msg, err = client:_token()
  if not token then return nil, msg, err end
  return token
end

-- Adds err.mfa_token when the endpoint asks for multi-factor authentication.
local function mfa_hint(body, msg, err)
  if type(err) == "table" and err.code == "mfa_required" and type(err.body) == "table" then
    err.mfa_token = err.body.mfa_token
  end
  return body, msg, err
end

-- POSTs a grant to the token endpoint with Bearer auth. Token requests with
-- one-time codes (refresh tokens, MFA and verification codes) are never
-- re-sent once they may have arrived: the "payment" retry class.
local function grant(client, args, body, opts)
  local token, msg, err = bearer(client, args)
  if not token then return nil, msg, err end
  if type(token) ~= "string" or token == "" or token:find "[%c ]" then
    return validate.fail("bearer", "must be a JWT string")
  end
  local headers = { Authorization = "Bearer " .. token }
  local res, meta, e = client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = "/v1/accounts/{oid}/auth/token",
    params = { oid = args.oid or client.account_id }, body = body, headers = headers,
    auth = false, class = "payment", error_kind = "auth", secret_body = true,
  }))
  return mfa_hint(res, meta, e)
end

local GRANT_ARGS = {
  bearer = true, oid = true, audience = true, grant_type = true,
}

-- Checks the argument table of a grant method; raises on misuse.
local function grant_args(fname, args, fields)
  call.table_arg(fname, "args", args, 3)
  for k in pairs(args) do
    if not GRANT_ARGS[k] and not fields[k] then
      error(("%s: unknown argument '%s'"):format(fname, tostring(k)), 3)
    end
  end
  return args
end

local function required(args, names)
  for _, name in ipairs(names) do
    local r1, r2, r3 = validate.required_string(args[name], name)
    if r2 then return r1, r2, r3 end
  end
end

local function body_of(client, args, grant_type, names, audience)
  local body = { grant_type = args.grant_type or grant_type }
  for _, name in ipairs(names) do body[name] = args[name] end
  if audience then body.audience = args.audience or client.options.audience end
  return body
end

--- client.auth:password{username=, password= [, audience=, bearer=, oid=]} ->
-- the token response. With MFA on, the fail triple has err.code ==
-- "mfa_required" and err.mfa_token (also err.body.mfa_token): continue with
-- mfa_challenge and mfa_oob.
function Auth:password(args, opts)
  local client = call.self(self, Auth, "auth.password")
  grant_args("auth.password", args, { username = true, password = true })
  opts = call.opts("auth.password", opts)
  local r1, r2, r3 = required(args, { "username", "password" })
  if r2 then return r1, r2, r3 end
  local body = body_of(client, args, "password", { "username", "password" }, true)
  local res, meta, err = grant(client, args, body, opts)
  return res, meta, err
end

--- client.auth:authorization_code{ident_type=, ident=, verification_code= [, audience=, bearer=]}.
function Auth:authorization_code(args, opts)
  local client = call.self(self, Auth, "auth.authorization_code")
  grant_args("auth.authorization_code", args, { ident_type = true, ident = true, verification_code = true })
  opts = call.opts("auth.authorization_code", opts)
  local r1, r2, r3 = required(args, { "verification_code" })
  if r2 then return r1, r2, r3 end
  local body = body_of(client, args, "authorization_code", { "ident_type", "ident", "verification_code" }, true)
  local res, meta, err = grant(client, args, body, opts)
  return res, meta, err
end

--- client.auth:refresh_token{refresh_token= [, bearer=]}: the Bearer must be a
-- token of the client that obtained the refresh token (default: this client's).
function Auth:refresh_token(args, opts)
  local client = call.self(self, Auth, "auth.refresh_token")
  grant_args("auth.refresh_token", args, { refresh_token = true })
  opts = call.opts("auth.refresh_token", opts)
  local r1, r2, r3 = required(args, { "refresh_token" })
  if r2 then return r1, r2, r3 end
  local res, meta, err = grant(client, args, body_of(client, args, "refresh_token", { "refresh_token" }), opts)
  return res, meta, err
end

--- client.auth:account_user_token{token= [, audience=]}: exchanges an account
-- user's JWT (or an external ID token with an email claim) for an access
-- token; that JWT is the Bearer.
function Auth:account_user_token(args, opts)
  local client = call.self(self, Auth, "auth.account_user_token")
  grant_args("auth.account_user_token", args, { token = true })
  opts = call.opts("auth.account_user_token", opts)
  local r1, r2, r3 = required(args, { "token" })
  if r2 then return r1, r2, r3 end
  local a = call.copy(args)
  a.bearer, a.token = args.token, nil
  local body = body_of(client, a, self.grants.account_user_token, {}, true)
  local res, meta, err = grant(client, a, body, opts)
  return res, meta, err
end

--- client.auth:mfa_challenge{mfa_token= [, oob_channel = "sms"|"email", bearer=]}
-- -> {oob_code, ...}: sends the one-time code to the user.
function Auth:mfa_challenge(args, opts)
  local client = call.self(self, Auth, "auth.mfa_challenge")
  grant_args("auth.mfa_challenge", args, { mfa_token = true, oob_channel = true, challenge_type = true })
  opts = call.opts("auth.mfa_challenge", opts)
  local r1, r2, r3 = required(args, { "mfa_token" })
  if r2 then return r1, r2, r3 end
  local headers = args.bearer and { Authorization = "Bearer " .. args.bearer } or nil
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = "/v1/accounts/{aid}/auth/mfa/challenge",
    params = { aid = args.oid or client.account_id }, headers = headers, auth = false,
    body = { mfa_token = args.mfa_token, challenge_type = args.challenge_type or "oob",
             oob_channel = args.oob_channel },
    class = "payment", error_kind = "auth", secret_body = true,
  }))
  return res, meta, err
end

--- client.auth:mfa_oob{oob_code=, mfa_token= [, binding_code=, bearer=]} ->
-- the token response (grant client.auth.grants.mfa_oob, "mfa-oob").
function Auth:mfa_oob(args, opts)
  local client = call.self(self, Auth, "auth.mfa_oob")
  grant_args("auth.mfa_oob", args, { oob_code = true, mfa_token = true, binding_code = true })
  opts = call.opts("auth.mfa_oob", opts)
  local r1, r2, r3 = required(args, { "oob_code", "mfa_token" })
  if r2 then return r1, r2, r3 end
  local body = body_of(client, args, self.grants.mfa_oob, { "oob_code", "mfa_token", "binding_code" })
  local res, meta, err = grant(client, args, body, opts)
  return res, meta, err
end

--- client.auth:create_signature_secret([opts]) -> {id, created_at, created_by,
-- signature = {type, secret}}: POST /v1/admin/signature (checkout host).
-- From then on Dintero signs callbacks (Dintero-Signature); creating a new
-- one rotates it. Keep signature.secret for dintero.callback.verify.
function Auth:create_signature_secret(opts)
  local client = call.self(self, Auth, "auth.create_signature_secret")
  opts = call.opts("auth.create_signature_secret", opts)
  return client:request(call.apply(client, opts, {
    method = "POST", host = "checkout", path = "/v1/admin/signature", class = "payment", secret_body = true,
  }))
end

--- client.auth:signature_secret([opts]) -> the current secret record (GET /v1/admin/signature).
function Auth:signature_secret(opts)
  local client = call.self(self, Auth, "auth.signature_secret")
  opts = call.opts("auth.signature_secret", opts)
  return client:request(call.apply(client, opts, {
    method = "GET", host = "checkout", path = "/v1/admin/signature", secret_body = true,
  }))
end

return M
