-- Mock auth: the token endpoint (client credentials and the other grants, MFA),
-- Bearer checks on every route, expiry, and masking of secrets in the request log.
local socket = require "socket"
local mock = require "support.mock"

local AUD = "https://api.dintero.com/v1/accounts/T12345678"
local TOKEN_PATH = "/v1/accounts/T12345678/auth/token"

local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    for k = 3, 0, -1 do
      local idx = math.floor(n / 64 ^ k) % 64
      out[#out + 1] = chars:sub(idx + 1, idx + 1)
    end
    if not b then out[#out], out[#out - 1] = "=", "=" elseif not c then out[#out] = "=" end
  end
  return table.concat(out)
end

local function basic(id, secret) return { authorization = "Basic " .. b64(id .. ":" .. secret) } end

local function bearer(t) return { authorization = "Bearer " .. t } end

local function client_token(m, body, headers)
  return (m or mock).post(TOKEN_PATH, body or { grant_type = "client_credentials", audience = AUD },
    headers or basic("mock-client", "mock-secret"))
end

describe("mock auth", function()
  before_each(function() mock.reset() end)

  it("issues a Bearer token for client credentials", function()
    local status, body = client_token()
    assert.equal(200, status)
    assert.equal("Bearer", body.token_type)
    assert.equal(14400, body.expires_in)
    assert.is_string(body.access_token)
    assert.is_true(#body.access_token >= 20)
  end)

  it("issues a different random token each time", function()
    local _, a = client_token()
    local _, b = client_token()
    assert.is_not.equal(a.access_token, b.access_token)
  end)

  it("rejects wrong credentials with 401 in the real error shape", function()
    local status, body = client_token(nil, nil, basic("mock-client", "wrong"))
    assert.equal(401, status)
    assert.is_string(body.error.code)
    assert.is_string(body.error.message)
    status = client_token(nil, nil, {})
    assert.equal(401, status)
  end)

  it("rejects a wrong account in the path", function()
    local status = mock.post("/v1/accounts/T87654321/auth/token",
      { grant_type = "client_credentials", audience = "https://api.dintero.com/v1/accounts/T87654321" },
      basic("mock-client", "mock-secret"))
    assert.equal(401, status)
  end)

  it("checks the audience", function()
    local status, body = client_token(nil, { grant_type = "client_credentials" })
    assert.equal(400, status)
    assert.truthy(body.error.message:find("audience", 1, true))
    status = client_token(nil, { grant_type = "client_credentials",
                                 audience = "https://checkout.dintero.com/v1/accounts/T12345678" })
    assert.equal(403, status)
  end)

  it("rejects unknown grant types", function()
    local status, body = client_token(nil, { grant_type = "magic", audience = AUD })
    assert.equal(400, status)
    assert.equal("UNSUPPORTED_GRANT_TYPE", body.error.code)
  end)

  it("needs a valid Bearer token on API routes", function()
    local status, body = mock.get("/v1/transactions")
    assert.equal(401, status)
    assert.equal("UNAUTHORIZED", body.error.code)
    status = mock.get("/v1/transactions", bearer("not-a-token"))
    assert.equal(401, status)
    local _, tok = client_token()
    status = mock.get("/v1/transactions", bearer(tok.access_token))
    assert.equal(200, status)
  end)

  it("does not need a token on control routes", function()
    assert.equal(200, (mock.get("/_mock/stats")))
  end)

  it("expires tokens after --token-ttl", function()
    local m = mock.spawn { "--token-ttl", "1" }
    local _, tok = client_token(m)
    assert.equal(1, tok.expires_in)
    assert.equal(200, (m.get("/v1/transactions", bearer(tok.access_token))))
    socket.sleep(1.2)
    local status, body = m.get("/v1/transactions", bearer(tok.access_token))
    assert.equal(401, status)
    assert.truthy(body.error.message:find("expired", 1, true))
    m.stop()
  end)

  it("expires tokens on POST /_mock/tokens/expire and when the clock moves", function()
    local _, tok = client_token()
    assert.equal(200, (mock.post("/_mock/tokens/expire", {})))
    assert.equal(401, (mock.get("/v1/transactions", bearer(tok.access_token))))
    _, tok = client_token()
    mock.clock { advance = 14401 }
    assert.equal(401, (mock.get("/v1/transactions", bearer(tok.access_token))))
    mock.clock { offset = 0 }
  end)

  it("keeps issued tokens across a reset unless asked", function()
    local _, tok = client_token()
    mock.reset()
    assert.equal(200, (mock.get("/v1/transactions", bearer(tok.access_token))))
    mock.reset { tokens = true }
    assert.equal(401, (mock.get("/v1/transactions", bearer(tok.access_token))))
  end)

  it("takes other credentials from flags", function()
    local m = mock.spawn { "--account", "P00000001", "--client-id", "id2", "--client-secret", "s2" }
    local status, body = m.post("/v1/accounts/P00000001/auth/token",
      { grant_type = "client_credentials", audience = "https://api.dintero.com/v1/accounts/P00000001" },
      basic("id2", "s2"))
    assert.equal(200, status)
    local _, s = m.post("/v1/sessions", {
      url = { return_url = "https://shop.example/r" },
      order = { amount = 1, currency = "NOK", merchant_reference = "x" } },
      bearer(body.access_token))
    assert.truthy(s.id:find("^P00000001%."))
    m.stop()
  end)

  it("counts token requests in /_mock/stats", function()
    client_token()
    client_token(nil, nil, basic("x", "y"))
    assert.equal(2, mock.stats().token_requests)
  end)

  it("masks secrets in the request log", function()
    local _, tok = client_token()
    mock.get("/v1/transactions", bearer(tok.access_token))
    local log = mock.requests()
    assert.equal(2, #log)
    assert.equal("***", log[1].headers.authorization)
    assert.equal("***", log[2].headers.authorization)
    assert.is_nil(log[1].body:find("mock-secret", 1, true))
    for _, r in ipairs(log) do
      local text = mock.json.encode(r)
      assert.is_nil(text:find(tok.access_token, 1, true))
    end
    assert.equal(200, log[1].status)
  end)

  it("masks the whole of a secret that holds escaped quotes", function()
    mock.post(TOKEN_PATH, { grant_type = "password", username = "u", password = 'abc"TAIL\\"SECRET',
      refresh_token = 'x"TAIL2' }, basic("x", "y"))
    local body = mock.requests()[1].body
    assert.is_nil(body:find("TAIL", 1, true), body)
    assert.truthy(body:find('"password":"***"', 1, true), body)
    assert.truthy(body:find('"username":"u"', 1, true), body)
  end)

  describe("other grants", function()
    local client
    before_each(function()
      local _, t = client_token()
      client = t.access_token
    end)

    it("password grant issues a refresh token usable with refresh_token", function()
      local status, body = mock.post(TOKEN_PATH,
        { grant_type = "password", username = "a@example.com", password = "pw", audience = AUD },
        bearer(client))
      assert.equal(200, status)
      assert.is_string(body.refresh_token)
      local s2, b2 = mock.post(TOKEN_PATH, { grant_type = "refresh_token", refresh_token = body.refresh_token },
        bearer(client))
      assert.equal(200, s2)
      assert.is_string(b2.access_token)
      local s3 = mock.post(TOKEN_PATH, { grant_type = "refresh_token", refresh_token = "nope" }, bearer(client))
      assert.equal(400, s3)
    end)

    it("non-client grants need a Bearer token", function()
      local status = mock.post(TOKEN_PATH,
        { grant_type = "password", username = "a@example.com", password = "pw", audience = AUD })
      assert.equal(401, status)
    end)

    it("runs the MFA flow: mfa_required, challenge, mfa-oob", function()
      local status, body = mock.post(TOKEN_PATH,
        { grant_type = "password", username = "mfa@example.com", password = "pw", audience = AUD },
        bearer(client))
      assert.equal(403, status)
      assert.equal("mfa_required", body.error.code)
      assert.is_string(body.mfa_token)
      local s2, ch = mock.post("/v1/accounts/T12345678/auth/mfa/challenge",
        { challenge_type = "oob", oob_channel = "sms", mfa_token = body.mfa_token })
      assert.equal(200, s2)
      assert.is_string(ch.oob_code)
      local s3, tok = mock.post(TOKEN_PATH,
        { grant_type = "mfa-oob", mfa_token = body.mfa_token, oob_code = ch.oob_code }, bearer(client))
      assert.equal(200, s3)
      assert.is_string(tok.access_token)
      local s4 = mock.post(TOKEN_PATH,
        { grant_type = "mfa-oob", mfa_token = body.mfa_token, oob_code = ch.oob_code }, bearer(client))
      assert.equal(400, s4)
    end)

    it("accepts authorization_code and account_user_token", function()
      assert.equal(200, (mock.post(TOKEN_PATH, { grant_type = "authorization_code",
        verification_code = "123456", ident_type = "email", ident = "a@example.com", audience = AUD },
        bearer(client))))
      assert.equal(200, (mock.post(TOKEN_PATH, { grant_type = "account_user_token" }, bearer(client))))
    end)
  end)
end)
