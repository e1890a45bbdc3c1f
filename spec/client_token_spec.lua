-- The access-token lifecycle against the mock: lazy fetch, caching, refresh
-- ahead of expiry, the 401 replay (once, never a loop), token endpoint errors.
local dintero = require "dintero"
local mock = require "support.mock"

local function new_client(server, extra)
  local o = {
    account_id = mock.credentials.account_id,
    client_id = mock.credentials.client_id,
    client_secret = mock.credentials.client_secret,
    api_url = server.url, checkout_url = server.url,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return dintero.new(o)
end

local function count(server, method, pattern)
  local n = 0
  for _, r in ipairs(server.requests()) do
    if r.method == method and r.path:find(pattern) then n = n + 1 end
  end
  return n
end

local LIST = { method = "GET", host = "checkout", path = "/v1/transactions" }

describe("token lifecycle", function()
  local client

  before_each(function()
    mock.reset()
    client = new_client(mock)
  end)
  after_each(function() client:close() end)

  it("is fetched lazily, on the first call that needs it", function()
    assert.equal(0, count(mock, "POST", "/auth/token$"))
    assert.truthy(client:request(LIST))
    assert.equal(1, count(mock, "POST", "/auth/token$"))
  end)

  it("uses Basic client credentials and the account audience", function()
    assert.truthy(client:request(LIST))
    local r = mock.requests()[1]
    assert.equal("/v1/accounts/T12345678/auth/token", r.path)
    -- the mock masks credentials in its log; the scheme is checked by the mock itself,
    -- which answers 401 to anything but Basic client credentials
    assert.truthy(r.headers.authorization)
    assert.equal(200, r.status)
    assert.truthy(r.body:find("https://api.dintero.com/v1/accounts/T12345678", 1, true))
  end)

  it("client:_token() returns the token and its remaining lifetime", function()
    local token, expires_in = client:_token()
    assert.is_string(token)
    assert.truthy(expires_in > 14000 and expires_in <= 14400)
  end)

  it("a 401 drops the token, fetches once more and replays the call once", function()
    assert.truthy(client:request(LIST))
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 401 }
    local body, msg = client:request(LIST)
    assert.truthy(body, msg)
    assert.equal(2, count(mock, "POST", "/auth/token$"))
    assert.equal(3, count(mock, "GET", "^/v1/transactions$"))
  end)

  it("a persistent 401 gives an auth error and no loop", function()
    mock.fault { method = "GET", path = "/v1/transactions", count = 10, status = 401 }
    local body, msg, err = client:request(LIST)
    assert.is_nil(body)
    assert.equal("auth", err.kind, msg)
    assert.equal(401, err.status)
    assert.equal(2, count(mock, "GET", "^/v1/transactions$"))
    assert.equal(2, count(mock, "POST", "/auth/token$"))
  end)

  it("token endpoint failures are kind auth with Dintero's code", function()
    local bad = new_client(mock, { client_secret = "wrong-secret" })
    local body, msg, err = bad:request(LIST)
    assert.is_nil(body)
    assert.equal("auth", err.kind)
    assert.truthy(err.status == 401 or err.status == 403, msg)
    assert.is_nil(msg:find("wrong-secret", 1, true))
    assert.equal(0, count(mock, "GET", "^/v1/transactions$"))
    bad:close()
  end)
end)

describe("token refresh ahead of expiry", function()
  local server, client

  setup(function()
    server = mock.spawn { "--token-ttl", "2" }
    client = new_client(server)
  end)
  teardown(function()
    client:close()
    server:stop()
  end)

  it("refreshes at half-life for a lifetime shorter than the 60 s margin", function()
    assert.truthy(client:request(LIST))
    assert.truthy(client:request(LIST))
    assert.equal(1, count(server, "POST", "/auth/token$"))
    require("dintero.core").sleep(1.2)
    assert.truthy(client:request(LIST))
    assert.equal(2, count(server, "POST", "/auth/token$"))
    -- No 401 was ever needed: the new token came before the old one expired.
    for _, r in ipairs(server.requests()) do assert.is_not.equal(401, r.status) end
  end)
end)

describe("the stored token's lifetime", function()
  it("is capped at a day and treats NaN or negative lifetimes as expired", function()
    local core = require "dintero.core"
    local t = core.transport {}
    t:store_token("tok-huge", 1e300)
    local state, _, left = t:token_state()
    assert.equal("fresh", state)
    assert.truthy(left <= 86400 and left > 86000, tostring(left))
    t:store_token("tok-nan", 0 / 0)
    assert.equal("expired", (t:token_state()))
    t:store_token("tok-neg", -5)
    assert.equal("expired", (t:token_state()))
    t:close()
  end)
end)

describe("numbers the C core is handed", function()
  it("refuses NaN and absurd transport options and sleeps no time for NaN", function()
    local core = require "dintero.core"
    for _, k in ipairs { "timeout", "connect_timeout", "max_response_bytes", "max_header_count" } do
      assert.has_error(function() core.transport { [k] = 0 / 0 } end)
      assert.has_error(function() core.transport { [k] = 1e300 } end)
    end
    local t0 = core.now()
    core.sleep(0 / 0)
    core.sleep(-1)
    assert.truthy(core.now() - t0 < 0.5)
  end)
end)
