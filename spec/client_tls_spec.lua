-- TLS: verification is on by default and cannot be silently lost. A private
-- CA is refused until the client is given it with ca_file.
local dintero = require "dintero"
local mock = require "support.mock"
local tls = require "support.tls"

describe("TLS", function()
  local proxy

  setup(function() proxy = tls.start("127.0.0.1:" .. mock.port) end)
  teardown(function() proxy.stop() end)

  local function new_client(extra)
    local o = {
      account_id = mock.credentials.account_id, client_id = mock.credentials.client_id,
      client_secret = mock.credentials.client_secret, api_url = proxy.url, checkout_url = proxy.url, retries = 0,
    }
    for k, v in pairs(extra or {}) do o[k] = v end
    return dintero.new(o)
  end

  local LIST = { method = "GET", host = "checkout", path = "/v1/transactions" }

  it("refuses a server whose certificate is not trusted", function()
    local c = new_client()
    local body, msg, err = c:request(LIST)
    assert.is_nil(body)
    assert.equal("tls", err.kind, msg)
    assert.is_false(err.retryable)
    c:close()
  end)

  it("accepts it with ca_file, and keeps the connection", function()
    local c = new_client { ca_file = proxy.ca_file }
    local body, msg = c:request(LIST)
    assert.truthy(body, msg)
    local _, meta = c:request(LIST)
    assert.is_true(meta.reused)
    c:close()
  end)

  it("accepts gzip and decodes it before the JSON codec sees the body", function()
    local c = new_client { ca_file = proxy.ca_file }
    local body, meta = c:request(LIST)
    assert.truthy(body, meta)
    assert.equal("gzip", meta.headers["content-encoding"])
    assert.equal("table", type(body))
    c:close()
  end)

  it("checks the host name: localhost and 127.0.0.1 are in the certificate, other names are not", function()
    local c = new_client { ca_file = proxy.ca_file, checkout_url = "https://localhost:" .. proxy.port }
    assert.truthy(c:request(LIST))
    c:close()
  end)
end)
