-- Mock fault injection: statuses with Retry-After, counts and patterns, delays,
-- drops before and after the operation, stalled, truncated, malformed and
-- oversize answers, none of which may hold up other connections.
local socket = require "socket"
local mock = require "support.mock"

local function paid_tx()
  local _, s = mock.authed("POST", "/v1/sessions", {
    url = { return_url = "https://s.example/" },
    order = { amount = 1000, currency = "NOK", merchant_reference = "f" } })
  return mock.pay(s.id)
end

local function capture_raw(tx, amount)
  return "POST /v1/transactions/" .. tx.id .. "/capture HTTP/1.1\r\nHost: x\r\n" ..
    "Authorization: Bearer " .. mock.token() .. "\r\nContent-Type: application/json\r\n" ..
    "Content-Length: " .. #('{"amount":' .. amount .. '}') .. "\r\n\r\n" .. '{"amount":' .. amount .. '}'
end

local function status_of(tx)
  local _, t = mock.authed("GET", "/v1/transactions/" .. tx.id)
  return t.status
end

describe("mock faults", function()
  before_each(function()
    mock.reset()
    mock.token()
  end)

  it("answers the next request with the status, real error shape and Retry-After", function()
    local tx = paid_tx()
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", status = 503, retry_after = 2 }
    local status, body, headers = mock.authed("POST", "/v1/transactions/" .. tx.id .. "/capture", { amount = 100 })
    assert.equal(503, status)
    assert.equal("SERVICE_UNAVAILABLE", body.error.code)
    assert.is_string(body.error.message)
    assert.equal("2", headers["retry-after"])
    assert.equal("AUTHORIZED", status_of(tx))
    status = mock.authed("POST", "/v1/transactions/" .. tx.id .. "/capture", { amount = 100 })
    assert.equal(200, status)
  end)

  it("counts, matches methods and '*' segments only", function()
    mock.fault { method = "GET", path = "/v1/transactions/*", count = 2, status = 500 }
    mock.fault { method = "*", path = "/v1/sessions/*", status = 429, retry_after = 1 }
    assert.equal(200, (mock.authed("GET", "/v1/transactions")))            -- other segment count
    assert.equal(500, (mock.authed("GET", "/v1/transactions/a")))
    assert.equal(500, (mock.authed("GET", "/v1/transactions/b")))
    assert.equal(404, (mock.authed("GET", "/v1/transactions/c")))
    assert.equal(429, (mock.authed("PUT", "/v1/sessions/x", {})))
    assert.equal(404, (mock.authed("GET", "/v1/sessions/x")))
  end)

  it("simulates 401 once", function()
    mock.fault { method = "GET", path = "/v1/transactions", status = 401 }
    local tok = mock.token()
    local h = { authorization = "Bearer " .. tok }
    local status, body = mock.get("/v1/transactions", h)
    assert.equal(401, status)
    assert.equal("UNAUTHORIZED", body.error.code)
    assert.equal(200, (mock.get("/v1/transactions", h)))
  end)

  it("validates fault definitions and lists, clears them", function()
    assert.equal(400, (mock.post("/_mock/faults", { path = "/x" })))
    assert.equal(400, (mock.post("/_mock/faults", { method = "GET", path = "x" })))
    assert.equal(400, (mock.post("/_mock/faults", { method = "GET", path = "/x", action = "explode" })))
    assert.equal(400, (mock.post("/_mock/faults", { method = "GET", path = "/x", status = 1000 })))
    mock.fault { method = "GET", path = "/x", status = 500, count = 3 }
    local _, listed = mock.get("/_mock/faults")
    assert.equal(1, #listed.armed)
    assert.equal(3, listed.armed[1].count)
    mock.clear_faults()
    _, listed = mock.get("/_mock/faults")
    assert.equal(0, #listed.armed)
  end)

  it("delays the answer without blocking other connections", function()
    mock.fault { method = "GET", path = "/v1/transactions", delay_ms = 800 }
    local slow = mock.connect()
    slow:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " .. mock.token() .. "\r\n\r\n")
    socket.sleep(0.05)
    local t0 = socket.gettime()
    assert.equal(200, (mock.get("/_mock/stats")))
    assert.equal(200, (mock.authed("GET", "/v1/transactions")))
    assert.is_true(socket.gettime() - t0 < 0.5)
    local line = slow:receive("*l")
    assert.equal("HTTP/1.1 200 OK", line)
    assert.is_true(socket.gettime() - t0 > 0.6)
    slow:close()
  end)

  it("drop_before closes without answering and without performing", function()
    local tx = paid_tx()
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", action = "drop_before" }
    local out, why = mock.raw(capture_raw(tx, 100))
    assert.equal("", out)
    assert.equal("closed", why)
    assert.equal("AUTHORIZED", status_of(tx))
    local log = mock.requests()
    assert.equal(mock.json.null, log[#log - 1].status)
  end)

  it("drop_after performs the operation, then closes without answering", function()
    local tx = paid_tx()
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", action = "drop_after" }
    local out = mock.raw(capture_raw(tx, 1000))
    assert.equal("", out)
    assert.equal("CAPTURED", status_of(tx))
  end)

  it("perform=true performs the operation but answers the fault status", function()
    local tx = paid_tx()
    mock.fault { method = "POST", path = "/v1/transactions/*/capture", status = 502, perform = true }
    assert.equal(502, (mock.authed("POST", "/v1/transactions/" .. tx.id .. "/capture", { amount = 1000 })))
    assert.equal("CAPTURED", status_of(tx))
  end)

  it("stall sends headers and part of the body, then nothing, without blocking others", function()
    mock.fault { method = "GET", path = "/v1/transactions", action = "stall" }
    local c = mock.connect(0.5)
    c:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " .. mock.token() .. "\r\n\r\n")
    assert.equal("HTTP/1.1 200 OK", c:receive("*l"))
    local n
    repeat
      local line = c:receive("*l")
      n = n or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
    until line == ""
    local data, err, partial = c:receive(n)
    assert.is_nil(data)
    assert.equal("timeout", err)
    assert.is_true(#partial < n)
    assert.equal(200, (mock.get("/_mock/stats")))
    c:close()
  end)

  it("truncate declares more than it sends, then closes", function()
    mock.fault { method = "GET", path = "/v1/transactions", action = "truncate" }
    local out, why = mock.raw("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ..
      mock.token() .. "\r\n\r\n")
    assert.equal("closed", why)
    local head, body = out:match("^(.-\r\n\r\n)(.*)$")
    local n = tonumber(head:lower():match("content%-length:%s*(%d+)"))
    assert.is_true(#body < n)
  end)

  it("malformed answers 200 with a broken JSON body", function()
    mock.fault { method = "GET", path = "/v1/transactions", action = "malformed" }
    local status, body, headers = mock.authed("GET", "/v1/transactions")
    assert.equal(200, status)
    assert.is_string(body)
    assert.truthy(headers["content-type"]:find("json", 1, true))
    assert.is_false((pcall(mock.json.decode, body)))
  end)

  it("oversize streams a body of the requested size", function()
    mock.fault { method = "GET", path = "/v1/transactions", action = "oversize", size = 300000 }
    local status, body = mock.authed("GET", "/v1/transactions")
    assert.equal(200, status)
    assert.equal(300000, #mock.json.encode(body))     -- {"data":"xxx...x"}
  end)

  it("oversize defaults to 70 MiB and the server survives a client giving up", function()
    mock.fault { method = "GET", path = "/v1/transactions", action = "oversize" }
    local c = mock.connect()
    c:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " .. mock.token() .. "\r\n\r\n")
    local n
    repeat
      local line = c:receive("*l")
      n = n or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
    until line == ""
    assert.equal(70 * 1024 * 1024, n)
    assert.is_string(c:receive(100000))
    c:close()
    assert.equal(200, (mock.get("/_mock/stats")))
  end)

  it("does not apply to control routes and is forgotten by reset", function()
    mock.fault { method = "*", path = "/_mock/stats", status = 500 }
    assert.equal(200, (mock.get("/_mock/stats")))
    mock.fault { method = "GET", path = "/v1/transactions", status = 500 }
    mock.reset()
    assert.equal(200, (mock.authed("GET", "/v1/transactions")))
  end)
end)
