-- The C core client against the mock over real HTTP: creation and options,
-- URLs and headers, connection reuse, logging, close.
local dintero = require "dintero"
local mock = require "support.mock"

local function new_client(extra)
  local o = {
    account_id = mock.credentials.account_id,
    client_id = mock.credentials.client_id,
    client_secret = mock.credentials.client_secret,
    api_url = mock.url, checkout_url = mock.url,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return dintero.new(o)
end

local function last_request(pattern)
  local found
  for _, r in ipairs(mock.requests()) do
    if r.path:find(pattern) then found = r end
  end
  return found
end

describe("dintero.new", function()
  local base = { account_id = "T12345678", client_id = "a", client_secret = "b" }
  local function with(k, v)
    local o = {}
    for key, val in pairs(base) do o[key] = val end
    o[k] = v
    return o
  end

  it("refuses a malformed account_id, naming the field", function()
    assert.has_error(function() dintero.new(with("account_id", "X12345678")) end)
    local ok, err = pcall(dintero.new, with("account_id", "T1234"))
    assert.is_false(ok)
    assert.matches("account_id", err)
  end)

  it("names each missing required option", function()
    for _, k in ipairs { "account_id", "client_id", "client_secret" } do
      local ok, err = pcall(dintero.new, with(k, nil))
      assert.is_false(ok)
      assert.matches(k .. " is required", err, 1, true)
    end
  end)

  it("refuses unknown options (typos) and bad types", function()
    local ok, err = pcall(dintero.new, with("clientsecret", "x"))
    assert.is_false(ok)
    assert.matches("clientsecret", err)
    ok, err = pcall(dintero.new, with("timeout", -1))
    assert.is_false(ok)
    assert.matches("timeout", err)
    ok, err = pcall(dintero.new, with("retries", 1.5))
    assert.is_false(ok)
    assert.matches("retries", err)
    ok, err = pcall(dintero.new, with("system", { name = "shop", colour = "x" }))
    assert.is_false(ok)
    assert.matches("colour", err)
  end)

  it("refuses plain http to a non-loopback host unless insecure_http is set", function()
    local ok, err = pcall(dintero.new, with("api_url", "http://api.example.com"))
    assert.is_false(ok)
    assert.matches("api_url", err)
    local o = with("api_url", "http://api.example.com")
    o.insecure_http = true
    assert.truthy(dintero.new(o))
    assert.truthy(dintero.new(with("api_url", "http://127.0.0.1:1")))
  end)

  it("keeps the secret out of tostring and the client table", function()
    local c = dintero.new(with("client_secret", "very-secret-value"))
    assert.is_nil(tostring(c):find("very-secret-value", 1, true))
    local function scan(t, seen)
      seen = seen or {}
      if seen[t] then return end
      seen[t] = true
      for k, v in pairs(t) do
        assert.is_not.equal("very-secret-value", v, "found at " .. tostring(k))
        if type(v) == "table" then scan(v, seen) end
      end
    end
    scan(c)
    c:close()
  end)
end)

describe("client requests", function()
  local client

  before_each(function()
    mock.reset()
    client = new_client()
  end)
  after_each(function() client:close() end)

  it("fetches one token for 100 calls over one TCP connection", function()
    local before = mock.stats()
    for _ = 1, 100 do
      local body, msg = client:request { method = "GET", host = "api", path = "/v1/accounts/{aid}/reports/metadata",
        params = { aid = client.account_id } }
      assert.truthy(body, msg)
    end
    local after = mock.stats()
    assert.equal(1, after.token_requests - before.token_requests)
    assert.equal(1, after.connections - before.connections)
  end)

  it("percent-encodes path parameters so an id stays inside its segment", function()
    for _, id in ipairs { "../../v1/admin/signature", "a/b", "x?y=1", "z#frag", ".." } do
      local body, _, err = client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
        params = { id = id } }
      assert.is_nil(body)
      assert.equal(404, err.status)
      local r = last_request "^/v1/transactions/"
      assert.truthy(r, "request reached the transactions route")
      assert.is_nil(r.path:sub(#"/v1/transactions/" + 1):find("/", 1, true))
    end
  end)

  it("encodes repeated and dotted query keys", function()
    client:request { method = "GET", host = "checkout", path = "/v1/transactions",
      query = { status = { "AUTHORIZED", "CAPTURED" }, ["created_at.gte"] = "2026-01-01T00:00:00Z", limit = 5 } }
    local r = last_request "^/v1/transactions$"
    assert.truthy(r.query:find("status=AUTHORIZED&status=CAPTURED", 1, true))
    assert.truthy(r.query:find("created_at.gte=2026-01-01T00%3A00%3A00Z", 1, true))
    assert.truthy(r.query:find("limit=5", 1, true))
  end)

  it("refuses CR or LF in header values, ids and query values before sending", function()
    local before = #mock.requests()
    local cases = {
      { method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = "a\r\nX-Evil: 1" } },
      { method = "GET", host = "checkout", path = "/v1/transactions", query = { search = "a\nb" } },
      { method = "GET", host = "checkout", path = "/v1/transactions", headers = { ["X-Note"] = "a\r\nb" } },
    }
    for _, spec in ipairs(cases) do
      local body, msg, err = client:request(spec)
      assert.is_nil(body)
      assert.equal("validation", err.kind)
      assert.matches("CR", msg)
    end
    assert.equal(before, #mock.requests())
  end)

  it("sends the user agent and the Dintero-System headers", function()
    local c = new_client { system = { name = "shop", version = "1.2", plugin_name = "lua-plugin", plugin_version = "0.1" } }
    assert.truthy(c:request { method = "GET", host = "checkout", path = "/v1/transactions" })
    local h = last_request("^/v1/transactions$").headers
    assert.equal("shop", h["dintero-system-name"])
    assert.equal("1.2", h["dintero-system-version"])
    assert.equal("lua-plugin", h["dintero-system-plugin-name"])
    assert.equal("0.1", h["dintero-system-plugin-version"])
    assert.matches("^dintero%-lua/", h["user-agent"])
    assert.is_nil(h.expect)
    c:close()
  end)

  it("lets a call's own header replace a client header, without changing the next call's", function()
    local c = new_client { system = { name = "shop" } }
    assert.truthy(c:request { method = "GET", host = "checkout", path = "/v1/transactions",
      headers = { ["Dintero-System-Name"] = "kiosk", ["X-Trace"] = "t1" } })
    local h = last_request("^/v1/transactions$").headers
    assert.equal("kiosk", h["dintero-system-name"])
    assert.equal("t1", h["x-trace"])
    assert.truthy(c:request { method = "GET", host = "checkout", path = "/v1/transactions" })
    h = last_request("^/v1/transactions$").headers
    assert.equal("shop", h["dintero-system-name"])
    assert.is_nil(h["x-trace"])
    c:close()
  end)

  it("sends Content-Type with a body once, and a call's own Content-Type instead of it", function()
    local body = client:request { method = "POST", host = "checkout", path = "/v1/sessions-profile",
      body = { url = { return_url = "https://shop.example/return" }, order = { amount = 100, currency = "NOK" } },
      headers = { ["content-type"] = "application/json; charset=utf-8" } }
    local r = last_request "^/v1/sessions%-profile$"
    assert.truthy(r, tostring(body))
    assert.equal("application/json; charset=utf-8", r.headers["content-type"])
  end)

  it("fills every placeholder of a path template, again and again", function()
    for i = 1, 3 do
      local _, _, err = client:request { method = "GET", host = "checkout",
        path = "/v1/transactions/{id}/x/{n}/tail", params = { id = "T" .. i, n = i } }
      assert.equal(404, err.status)
      assert.equal("/v1/transactions/T" .. i .. "/x/" .. i .. "/tail", last_request("^/v1/transactions/T").path)
    end
    local _, msg, err = client:request { method = "GET", host = "checkout",
      path = "/v1/transactions/{id}/x/{n}", params = { id = "T1" } }
    assert.equal("validation", err.kind)
    assert.matches("path parameter n is missing", msg, 1, true)
  end)

  it("keeps the compiled path templates bounded when callers build paths at run time", function()
    local url = require "dintero.url"
    local function fill(from, to)
      for i = from, to do
        assert.equal("/v1/t" .. i .. "/x/7", url.path("/v1/t" .. i .. "/x/{n}", { n = 7 }))
      end
      collectgarbage "collect"
      return collectgarbage "count"
    end
    local first = fill(1, 1000)
    local later = fill(1001, 21000)
    assert.is_true(later - first < 128, ("grew %.1f KiB"):format(later - first))
    assert.equal("/v1/plain", url.path("/v1/plain", nil))
  end)

  it("refuses an unsupported method before sending", function()
    local before = #mock.requests()
    for _, m in ipairs { "HEAD", "get", "TRACE" } do
      local body, msg, err = client:request { method = m, host = "checkout", path = "/v1/transactions" }
      assert.is_nil(body)
      assert.equal("validation", err.kind)
      assert.matches("method must be one of GET, POST, PUT, DELETE, PATCH, got " .. m, msg, 1, true)
    end
    assert.equal(before, #mock.requests())
  end)

  it("sends ids of unreserved characters as they are and encodes everything else", function()
    local url = require "dintero.url"
    local plain = require("dintero.core").url_plain_segment
    -- the C fast path: unreserved characters only, never "." or ".."
    for _, id in ipairs { "T12345678.5Yb000000000000000007Hq", "a", "...", ".a", "a.", "A-Z_0~9" } do
      assert.is_true(plain(id), id)
      assert.equal(id, (url.segment("id", id)))
    end
    for _, v in ipairs { "", ".", "..", "a/b", "a b", "a\0b", "ø", "a%2F", 7, true } do
      assert.is_false(plain(v), tostring(v))
    end
    assert.equal("%2E", url.segment("id", "."))
    assert.equal("%2E%2E", url.segment("id", ".."))
    assert.equal("a%2Fb", url.segment("id", "a/b"))
    assert.equal("%C3%B8", url.segment("id", "ø"))
    assert.equal("7", url.segment("n", 7))
    assert.is_nil(url.segment("id", ""))
    assert.is_nil(url.segment("id", "a\0b"))
  end)

  it("finds the request id in response headers that lack some of its names", function()
    local response_error = require "dintero.response_error"
    local headers = setmetatable({ ["x-request-id"] = "r-1" }, { __index = function() error "miss went to __index" end })
    assert.equal("r-1", response_error.request_id { headers = headers })
    assert.is_nil(response_error.request_id { headers = setmetatable({}, getmetatable(headers)) })
  end)

  it("returns API errors as the fail triple with Dintero's code and the request id", function()
    local body, msg, err = client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
      params = { id = "T12345678.missing" } }
    assert.is_nil(body)
    assert.equal("api", err.kind)
    assert.equal(404, err.status)
    assert.matches("^api: HTTP 404", msg)
    assert.equal(msg, tostring(err))
    assert.is_false(err.retryable)
  end)

  it("gives each response its own header values, however often the names repeat", function()
    local seen = {}
    for _ = 1, 600 do
      local _, meta = client:request { method = "GET", host = "checkout", path = "/v1/transactions" }
      local id = meta.headers["request-id"]
      assert.truthy(id)
      assert.equal(id, meta.request_id)
      assert.is_nil(seen[id], "request id repeated: " .. id)
      seen[id] = true
      assert.matches("json", meta.headers["content-type"])
    end
  end)

  it("reads response headers case-insensitively", function()
    local _, meta = client:request { method = "GET", host = "checkout", path = "/v1/transactions" }
    assert.truthy(meta.headers["content-type"])
    assert.equal(meta.headers["content-type"], meta.headers["Content-Type"])
    assert.equal(meta.headers["content-type"], meta.headers["CONTENT-TYPE"])
    assert.matches("json", meta.content_type)
  end)

  it("logs one event per attempt without secrets", function()
    local events = {}
    local c = new_client { logger = function(e) events[#events + 1] = e end }
    mock.fault { method = "GET", path = "/v1/transactions", count = 1, status = 503 }
    assert.truthy(c:request { method = "GET", host = "checkout", path = "/v1/transactions" })
    -- token + 503 + 200
    assert.equal(3, #events)
    assert.equal(503, events[2].status)
    assert.equal(1, events[2].attempt)
    assert.equal(2, events[3].attempt)
    assert.is_true(events[3].reused)
    local token = select(1, c.auth and c.auth:token() or c:_token())
    token = type(token) == "table" and token.access_token or token
    for _, e in ipairs(events) do
      for _, v in pairs(e) do
        if type(v) == "string" then
          assert.is_nil(v:find(mock.credentials.client_secret, 1, true))
          assert.is_nil(v:find(token, 1, true))
        end
      end
      assert.is_number(e.duration)
    end
    c:close()
  end)

  it("close is idempotent and use after close raises", function()
    local c = new_client()
    c:close()
    c:close()
    assert.has_error(function() c:request { method = "GET", host = "checkout", path = "/v1/transactions" } end,
      "dintero: client is closed")
  end)

  it("decodes JSON straight to Lua values and returns other content as bytes", function()
    local body = client:request { method = "GET", host = "checkout", path = "/v1/transactions" }
    assert.equal("table", type(body))
    local svg, meta = client:request { method = "GET", host = "checkout", auth = false, raw = true,
      path = "/v1/branding/logos/visa_mastercard/variant/colors/color/000000/width/200/logos.svg" }
    assert.equal("string", type(svg), tostring(meta))
    assert.matches("<svg", svg)
    assert.matches("svg", meta.content_type)
  end)
end)
