-- The mock server process: startup flags, HTTP/1.1 framing (keep-alive, chunked
-- bodies, 100-continue), concurrency and shutdown. Runs on every Lua: the mock
-- process is always lua5.4, this file only talks HTTP to it.
local socket = require "socket"
local mock = require "support.mock"

local function read_response(c)
  local status_line = assert(c:receive("*l"))
  local headers = {}
  while true do
    local line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    headers[k:lower()] = v
  end
  local body = ""
  local n = tonumber(headers["content-length"] or "0")
  if n > 0 then body = assert(c:receive(n)) end
  return tonumber(status_line:match("^HTTP/1%.1 (%d+)")), headers, body
end

local function wait_gone(pid, seconds)
  local deadline = socket.gettime() + seconds
  while socket.gettime() < deadline do
    local f = io.open("/proc/" .. pid .. "/stat")
    if not f then return true end
    local stat = f:read("*a")
    f:close()
    if stat:match("^%d+ %b() Z") then return true end      -- zombie: exited
    socket.sleep(0.05)
  end
  return false
end

describe("mock server", function()
  before_each(function() mock.reset() end)

  it("listens on a free port printed by --print-port", function()
    assert.is_number(mock.port)
    assert.equal("http://127.0.0.1:" .. mock.port, mock.url)
  end)

  it("prints usage with --help and refuses unknown flags", function()
    local p = io.popen("lua5.4 " .. mock.root .. "/bin/dintero-mock --help")
    local out = p:read("*a")
    p:close()
    assert.truthy(out:find("--print-port", 1, true))
    local rc = os.execute("lua5.4 " .. mock.root .. "/bin/dintero-mock --bogus 2>/dev/null")
    assert.is_not.equal(0, rc)
    assert.is_not.equal(true, rc)
  end)

  it("answers unknown routes with 404 in the real error shape", function()
    local status, body, headers = mock.authed("GET", "/v1/nothing/here")
    assert.equal(404, status)
    assert.equal("NOT_FOUND", body.error.code)
    assert.is_string(body.error.message)
    assert.truthy(headers["content-type"]:find("application/json", 1, true))
    assert.is_string(headers["request-id"])
  end)

  it("answers a known path with the wrong method with 405", function()
    local status, body = mock.authed("DELETE", "/v1/sessions-profile")
    assert.equal(405, status)
    assert.equal("METHOD_NOT_ALLOWED", body.error.code)
  end)

  it("keeps a connection alive across requests", function()
    local before = mock.stats()
    local c = mock.connect()
    for _ = 1, 3 do
      c:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\n\r\n")
      local status, headers = read_response(c)
      assert.equal(401, status)
      assert.equal("keep-alive", headers.connection)
    end
    c:close()
    local after = mock.stats()
    assert.equal(before.connections + 1, after.connections)
    assert.equal(before.requests + 3, after.requests)
  end)

  it("closes after Connection: close and after HTTP/1.0 requests", function()
    local out = mock.raw("GET /v1/transactions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.truthy(out:find("^HTTP/1.1 401"))
    assert.truthy(out:lower():find("connection: close", 1, true))
    out = mock.raw("GET /v1/transactions HTTP/1.0\r\n\r\n")
    assert.truthy(out:find("^HTTP/1.1 401"))
  end)

  it("reads chunked request bodies", function()
    local body = '{"grant_type":"client_credentials","audience":"https://api.dintero.com/v1/accounts/T12345678"}'
    local chunked = string.format("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
      10, body:sub(1, 10), #body - 10, body:sub(11))
    local out = mock.raw("POST /v1/accounts/T12345678/auth/token HTTP/1.1\r\nHost: x\r\n" ..
      "Authorization: Basic bW9jay1jbGllbnQ6bW9jay1zZWNyZXQ=\r\nContent-Type: application/json\r\n" ..
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" .. chunked)
    assert.truthy(out:find("^HTTP/1.1 200"))
    assert.truthy(out:find('"access_token"', 1, true))
  end)

  it("answers Expect: 100-continue before the body is sent", function()
    local c = mock.connect()
    local body = '{"grant_type":"client_credentials","audience":"https://api.dintero.com/v1/accounts/T12345678"}'
    c:send("POST /v1/accounts/T12345678/auth/token HTTP/1.1\r\nHost: x\r\n" ..
      "Authorization: Basic bW9jay1jbGllbnQ6bW9jay1zZWNyZXQ=\r\nContent-Type: application/json\r\n" ..
      "Content-Length: " .. #body .. "\r\nExpect: 100-continue\r\n\r\n")
    assert.equal("HTTP/1.1 100 Continue", c:receive("*l"))
    assert.equal("", c:receive("*l"))
    c:send(body)
    local status = read_response(c)
    assert.equal(200, status)
    c:close()
  end)

  it("serves other connections while one client is stalled mid-request", function()
    local stalled = mock.connect()
    stalled:send("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"half")
    local idle = {}
    for i = 1, 20 do idle[i] = mock.connect() end
    local t0 = socket.gettime()
    local status = mock.get("/_mock/stats")
    assert.equal(200, status)
    assert.is_true(socket.gettime() - t0 < 1)
    for _, c in ipairs(idle) do c:close() end
    stalled:close()
  end)

  it("serves many connections at once", function()
    local conns = {}
    for i = 1, 40 do
      conns[i] = mock.connect()
      conns[i]:send("GET /v1/transactions HTTP/1.1\r\nHost: x\r\n\r\n")
    end
    for i = 40, 1, -1 do
      assert.equal(401, (read_response(conns[i])))
      conns[i]:close()
    end
  end)

  it("exits cleanly on SIGINT and SIGTERM", function()
    for _, sig in ipairs { "INT", "TERM" } do
      local m = mock.spawn {}
      assert.equal(200, (m.get("/_mock/stats")))
      local pid = m.pid
      os.execute("kill -" .. sig .. " " .. pid)
      assert.is_true(wait_gone(pid, 5))
      m.stop()
    end
  end)

  it("exits when the watched process is gone", function()
    local base = os.tmpname()
    os.execute("sleep 0.3 & echo $! > " .. base)
    local f = io.open(base)
    local watched = f:read("*n")
    f:close()
    os.execute("lua5.4 " .. mock.root .. "/bin/dintero-mock --port 0 --watch-pid " .. watched ..
      " >/dev/null 2>&1 & echo $! > " .. base)
    f = io.open(base)
    local pid = f:read("*n")
    f:close()
    os.remove(base)
    assert.is_true(wait_gone(pid, 5))
  end)
end)
