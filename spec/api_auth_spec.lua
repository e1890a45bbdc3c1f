-- client.auth against the mock: the cached client-credentials token, the
-- other grants (password, refresh_token, authorization_code,
-- account_user_token), the MFA flow and the signature secret.
local mock = require "support.mock"
local h = require "support.api_helpers"

local function token_requests()
  return mock.stats().token_requests
end

describe("client.auth", function()
  local client

  before_each(function()
    mock.reset()
    client = h.client()
  end)
  after_each(function() client:close() end)

  it("token() returns the cached client-credentials token", function()
    local t, msg = client.auth:token()
    assert.truthy(t, msg)
    assert.equals("string", type(t.access_token))
    assert.equals("Bearer", t.token_type)
    assert.truthy(t.expires_in > 0 and t.expires_in <= 14400)
    if math.type then assert.equals("integer", math.type(t.expires_in)) end
    local n = token_requests()
    local again = assert(client.auth:token())
    assert.equals(t.access_token, again.access_token)
    assert.equals(n, token_requests())
  end)

  it("token() returns kind auth for refused credentials, without the secret in the message", function()
    local bad = h.client { client_secret = "wrong-secret-value" }
    local t, msg, err = bad.auth:token()
    assert.is_nil(t)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.is_nil(msg:find("wrong-secret-value", 1, true))
    bad:close()
  end)

  it("password grant gives a token and a refresh token; refresh_token uses it", function()
    local res, meta = client.auth:password { username = "user@example.com", password = "pw" }
    assert.truthy(res, meta)
    assert.equals("string", type(res.access_token))
    assert.equals("string", type(res.refresh_token))
    local body = h.body_of(h.last_request("/auth/token$"))
    assert.equals("password", body.grant_type)
    assert.equals("user@example.com", body.username)
    assert.equals("https://api.dintero.com/v1/accounts/T12345678", body.audience)
    local fresh = assert(client.auth:refresh_token { refresh_token = res.refresh_token })
    assert.equals("string", type(fresh.access_token))
    assert.equals("refresh_token", h.body_of(h.last_request("/auth/token$")).grant_type)
    local ok, _, err = client.auth:refresh_token { refresh_token = "mock_rt_unknown" }
    assert.is_nil(ok)
    assert.equals("auth", err.kind)
    assert.equals("INVALID_GRANT", err.code)
  end)

  it("does not replace the client's own token", function()
    local own = assert(client.auth:token()).access_token
    assert(client.auth:password { username = "user@example.com", password = "pw" })
    assert.equals(own, assert(client.auth:token()).access_token)
  end)

  it("walks the MFA flow: mfa_required -> challenge -> mfa-oob", function()
    local ok, msg, err = client.auth:password { username = "mfa@example.com", password = "pw" }
    assert.is_nil(ok)
    assert.equals("auth", err.kind)
    assert.equals(403, err.status)
    assert.equals("mfa_required", err.code)
    assert.matches("mfa_required", msg)
    assert.equals("string", type(err.body.mfa_token))
    assert.equals(err.body.mfa_token, err.mfa_token)
    local ch = assert(client.auth:mfa_challenge { mfa_token = err.mfa_token, oob_channel = "email" })
    assert.equals("string", type(ch.oob_code))
    local cbody = h.body_of(h.last_request("/auth/mfa/challenge$"))
    assert.equals("oob", cbody.challenge_type)
    assert.equals("email", cbody.oob_channel)
    local res = assert(client.auth:mfa_oob { mfa_token = err.mfa_token, oob_code = ch.oob_code, binding_code = "123" })
    assert.equals("string", type(res.access_token))
    assert.equals("mfa-oob", h.body_of(h.last_request("/auth/token$")).grant_type)
  end)

  it("lets the grant spellings be changed per client or per call", function()
    local _, _, err = client.auth:password { username = "mfa@example.com", password = "pw" }
    local ch = assert(client.auth:mfa_challenge { mfa_token = err.mfa_token })
    client.auth.grants.mfa_oob = "mfa_oob"
    assert(client.auth:mfa_oob { mfa_token = err.mfa_token, oob_code = ch.oob_code })
    assert.equals("mfa_oob", h.body_of(h.last_request("/auth/token$")).grant_type)
    local res = client.auth:account_user_token { token = assert(client.auth:token()).access_token,
      grant_type = "account_user" }
    assert.is_nil(res) -- the mock knows only account_user_token
    assert.equals("account_user", h.body_of(h.last_request("/auth/token$")).grant_type)
  end)

  it("account_user_token sends the given JWT as the Bearer", function()
    local jwt = assert(client.auth:token()).access_token
    local res = assert(client.auth:account_user_token { token = jwt })
    assert.equals("string", type(res.access_token))
    assert.equals("account_user_token", h.body_of(h.last_request("/auth/token$")).grant_type)
    local ok, _, err = client.auth:account_user_token { token = "not-a-token-of-this-mock" }
    assert.is_nil(ok)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
  end)

  it("authorization_code grant", function()
    local res = assert(client.auth:authorization_code { ident_type = "email", ident = "a@b.example",
      verification_code = "123456" })
    assert.equals("string", type(res.access_token))
    local body = h.body_of(h.last_request("/auth/token$"))
    assert.equals("authorization_code", body.grant_type)
    assert.equals("email", body.ident_type)
  end)

  it("refuses missing grant fields locally and unknown arguments by raising", function()
    local ok, _, err = client.auth:password { username = "x" }
    assert.is_nil(ok)
    assert.equals("password", err.field)
    ok, _, err = client.auth:mfa_oob { mfa_token = "m" }
    assert.is_nil(ok)
    assert.equals("oob_code", err.field)
    assert.has_error(function() client.auth:password { user = "x", password = "y" } end)
  end)

  it("creates and reads the callback signature secret (checkout host)", function()
    local rec, meta = client.auth:create_signature_secret()
    assert.truthy(rec, meta)
    assert.equals("string", type(rec.signature.secret))
    assert.equals("/v1/admin/signature", h.last_request("/admin/signature$", "POST").path)
    local got = assert(client.auth:signature_secret())
    assert.equals(rec.id, got.id)
    assert.equals(rec.signature.secret, got.signature.secret)
  end)
end)
