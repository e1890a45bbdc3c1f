-- Mock robustness: bad input of every kind gets a clear answer in the real error
-- shape (or a closed connection), and the server keeps serving afterwards.
local socket = require "socket"
local mock = require "support.mock"

local function alive()
  local status = mock.get("/_mock/stats")
  assert.equal(200, status)
end

local function status_of(raw)
  return tonumber(raw:match("^HTTP/1%.1 (%d+)"))
end

local function body_of(raw)
  return mock.json.decode(raw:match("\r\n\r\n(.*)$"))
end

local function post_raw(path, body, headers)
  local h = "POST " .. path .. " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " ..
    mock.token() .. "\r\n"
  for k, v in pairs(headers or {}) do h = h .. k .. ": " .. v .. "\r\n" end
  return mock.raw(h .. "Content-Length: " .. #body .. "\r\n\r\n" .. body)
end

describe("mock robustness", function()
  before_each(function() mock.reset() end)
  after_each(alive)

  it("answers malformed JSON with 400 and a clear message", function()
    local out = post_raw("/v1/sessions", '{"order": {', { ["Content-Type"] = "application/json" })
    assert.equal(400, status_of(out))
    local b = body_of(out)
    assert.equal("INVALID_REQUEST_PARAMETER", b.error.code)
    assert.truthy(b.error.message:find("JSON", 1, true))
  end)

  it("answers a body that is not application/json with 415", function()
    local out = post_raw("/v1/sessions", "order=1", { ["Content-Type"] = "application/x-www-form-urlencoded" })
    assert.equal(415, status_of(out))
    assert.equal("UNSUPPORTED_MEDIA_TYPE", body_of(out).error.code)
    out = post_raw("/v1/sessions", "{}", {})
    assert.equal(415, status_of(out))
  end)

  it("answers bodies over 1 MiB with 413", function()
    local big = string.rep("x", 1024 * 1024 + 10)
    local out = post_raw("/v1/sessions", big, { ["Content-Type"] = "application/json" })
    assert.equal(413, status_of(out))
    assert.equal("PAYLOAD_TOO_LARGE", body_of(out).error.code)
    local chunked = "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for _ = 1, 20 do chunked = chunked .. "10000\r\n" .. string.rep("y", 65536) .. "\r\n" end
    out = mock.raw(chunked)
    assert.equal(413, status_of(out))
  end)

  it("answers heads over 64 KiB with 431", function()
    local out = mock.raw("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nX-Big: " ..
      string.rep("a", 70 * 1024) .. "\r\n\r\n")
    assert.equal(431, status_of(out))
    assert.equal("REQUEST_HEADER_FIELDS_TOO_LARGE", body_of(out).error.code)
  end)

  it("answers garbage with 400 and closes", function()
    for _, junk in ipairs { "HELLO\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9\r\n\r\n",
                            "get /x HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                            "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                            "POST /v1/sessions HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                            "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" } do
      local out, why = mock.raw(junk)
      assert.equal(400, status_of(out), junk)
      assert.equal("closed", why)
    end
    local out = mock.raw("POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert.equal(501, status_of(out))
  end)

  it("survives random bytes, half requests and abrupt closes", function()
    math.randomseed(42)
    for _ = 1, 20 do
      local c = mock.connect()
      local bytes = {}
      for i = 1, math.random(1, 4000) do bytes[i] = string.char(math.random(0, 255)) end
      c:send(table.concat(bytes))
      c:close()
    end
    for _, half in ipairs { "GET /v1/tra", "POST /v1/sessions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{",
                            "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab" } do
      local c = mock.connect()
      c:send(half)
      c:close()
    end
    local c = mock.connect()
    c:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\n\r\n")
    c:close()                                    -- gone before the answer is written
    socket.sleep(0.1)
  end)

  it("answers a crashing handler with 500 in the real shape and keeps running", function()
    local status, body = mock.post("/_mock/boom", {})
    assert.equal(500, status)
    assert.equal("INTERNAL_ERROR", body.error.code)
    assert.truthy(body.error.message:find("boom", 1, true))
  end)

  it("rejects missing fields and unknown routes clearly", function()
    local status, body = mock.authed("POST", "/v1/sessions-profile", {})
    assert.equal(400, status)
    assert.truthy(body.error.message:find("profile_id", 1, true))
    status, body = mock.authed("GET", "/v1/unknown")
    assert.equal(404, status)
    assert.truthy(body.error.message:find("/v1/unknown", 1, true))
  end)

  it("handles percent-encoded paths and odd queries", function()
    local status = mock.authed("GET", "/v1/transactions/%00%FF%2F?x&&=&y=%zz&limit=5")
    assert.equal(404, status)
    status = mock.authed("GET", "/v1/transactions?&&limit=5&status")
    assert.equal(200, status)
  end)

  it("records requests in the log with status, oldest first", function()
    mock.authed("GET", "/v1/transactions?limit=3")
    mock.get("/v1/sessions/x")
    local log = mock.requests()
    local n = #log
    assert.is_true(n >= 2)                      -- (a token request first when none is cached)
    assert.equal("GET", log[n - 1].method)
    assert.equal("/v1/transactions", log[n - 1].path)
    assert.equal("limit=3", log[n - 1].query)
    assert.equal(200, log[n - 1].status)
    assert.equal("/v1/sessions/x", log[n].path)
    assert.equal(401, log[n].status)
  end)
end)
