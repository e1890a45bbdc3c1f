-- spec/limits_spec.lua - the library's input limits, end to end.
--
-- Owns one tiny loopback HTTP server process (spec/support/tiny_server.lua,
-- always run by lua5.4) for the HTTP limits: max_response_bytes,
-- max_header_count and max_header_bytes must turn an oversized answer into
-- a clean error (kind "network", code RESPONSE_TOO_LARGE /
-- RESPONSE_HEADERS_TOO_LARGE), never a crash, a hang or a truncated success,
-- and leave the client usable. The JSON depth limit (1000) is checked on
-- require("dintero").json and on a response body. The server runs in its own
-- process because client:request blocks this Lua state; it is killed in
-- teardown and also exits by itself after 60 idle seconds.
local dintero = require "dintero"
local socket = require "socket"

local json = dintero.json

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The server script, found next to this spec.
local function server_script()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/[^/]*$") or "."
  return dir .. "/support/tiny_server.lua"
end

-- Starts the server; returns {url, pid, portfile}.
local function start_server()
  local portfile = os.tmpname()
  os.remove(portfile)
  local pidfile = portfile .. ".pid"
  local cmd = ("sh -c %s >/dev/null 2>&1 &"):format(shell_quote(
    ("echo $$ > %s; exec lua5.4 %s %s 60"):format(shell_quote(pidfile), shell_quote(server_script()),
      shell_quote(portfile))))
  os.execute(cmd)
  local deadline = socket.gettime() + 10
  local port
  repeat
    port = tonumber((read_file(portfile) or ""):match "^(%d+)")
    if not port then socket.sleep(0.02) end
  until port or socket.gettime() > deadline
  local pid = tonumber((read_file(pidfile) or ""):match "^(%d+)")
  os.remove(pidfile)
  assert(port, "tiny_server did not start (is lua5.4 with luasocket installed?)")
  return { url = "http://127.0.0.1:" .. port, pid = pid, portfile = portfile }
end

local function stop_server(srv)
  if not srv then return end
  if srv.pid then os.execute(("kill %d 2>/dev/null"):format(srv.pid)) end
  os.remove(srv.portfile)
end

local function nested_arrays(n)
  return ("["):rep(n) .. ("]"):rep(n)
end

local function depth_of(v)
  local d = 0
  while type(v) == "table" do
    d = d + 1
    v = v[1]
  end
  return d
end

describe("JSON depth limit (require('dintero').json)", function()
  it("accepts 1000 nested arrays", function()
    local v, err = json.decode(nested_arrays(1000))
    assert.is_nil(err)
    assert.are.equal(1000, depth_of(v))
  end)

  it("refuses 1001 nested arrays with a message naming the depth", function()
    local v, err = json.decode(nested_arrays(1001))
    assert.is_nil(v)
    assert.is_string(err)
    assert.truthy(err:find("deep", 1, true), err)
    assert.truthy(err:find("1000", 1, true), err)
  end)

  it("counts objects and arrays alike", function()
    local doc = ('{"a":['):rep(500) .. ('1'):rep(1) .. (']}'):rep(500)
    assert.is_table((json.decode(doc)))
    local deeper = '[' .. doc .. ']'
    local v, err = json.decode(deeper)
    assert.is_nil(v)
    assert.truthy(err:find("deep", 1, true), err)
  end)

  it("refuses to encode a table nested deeper than 1000", function()
    local t = {}
    local c = t
    for _ = 1, 1001 do
      c[1] = {}
      c = c[1]
    end
    local s, err = json.encode(t)
    assert.is_nil(s)
    assert.truthy(err:find("deep", 1, true), err)
  end)
end)

describe("HTTP limits against a loopback server", function()
  local srv

  setup(function()
    srv = start_server()
  end)

  teardown(function()
    stop_server(srv)
  end)

  local function client(extra)
    local opts = {
      account_id = "T12345678", client_id = "x", client_secret = "y",
      api_url = srv.url, checkout_url = srv.url, retries = 0, timeout = 10, connect_timeout = 5,
    }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return dintero.new(opts)
  end

  local function get(c, path)
    return c:request { method = "GET", host = "checkout", path = path, auth = false }
  end

  local function assert_limit(code, c, path)
    local body, msg, err = get(c, path)
    assert.is_nil(body)
    assert.is_string(msg)
    assert.is_table(err, msg)
    assert.are.equal("network", err.kind, msg)
    assert.are.equal(code, err.code, msg)
    return msg, err
  end

  it("the server answers small requests", function()
    local body, meta = get(client(), "/ok")
    assert.are.same({ ok = true }, body)
    assert.are.equal(200, meta.status)
  end)

  describe("max_response_bytes", function()
    local c

    before_each(function()
      c = client { max_response_bytes = 2048 }
    end)

    it("accepts a body of exactly the limit", function()
      local body = get(c, "/body/2048")
      assert.are.equal(2046, #body)
      body = get(c, "/chunked/2048")
      assert.are.equal(2046, #body)
    end)

    it("refuses a larger body announced by Content-Length", function()
      local msg = assert_limit("RESPONSE_TOO_LARGE", c, "/body/2049")
      assert.truthy(msg:find("max_response_bytes", 1, true), msg)
    end)

    it("refuses a larger chunked body (no Content-Length)", function()
      assert_limit("RESPONSE_TOO_LARGE", c, "/chunked/65536")
    end)

    it("leaves the client usable after the refusal", function()
      assert_limit("RESPONSE_TOO_LARGE", c, "/chunked/4096")
      assert.are.same({ ok = true }, (get(c, "/ok")))
    end)
  end)

  describe("max_header_count", function()
    it("refuses 500 headers with the default limit (200)", function()
      local msg = assert_limit("RESPONSE_HEADERS_TOO_LARGE", client(), "/headers/500")
      assert.truthy(msg:find("max_header_count", 1, true), msg)
    end)

    it("accepts 150 headers with the default limit", function()
      local body, meta = get(client(), "/headers/150")
      assert.are.same({ ok = true }, body)
      assert.are.equal("value 150", meta.headers["x-filler-150"])
      assert.are.equal("value 1", meta.headers["x-filler-1"])
      assert.are.equal("value 1", meta.headers["X-Filler-1"])
    end)

    it("honours a smaller max_header_count", function()
      local c = client { max_header_count = 20 }
      assert_limit("RESPONSE_HEADERS_TOO_LARGE", c, "/headers/40")
      local body = get(c, "/headers/10")
      assert.are.same({ ok = true }, body)
    end)
  end)

  describe("max_header_bytes", function()
    it("refuses 300 KiB of headers with the default limit (256 KiB)", function()
      local msg = assert_limit("RESPONSE_HEADERS_TOO_LARGE", client(), "/spread/307200")
      assert.truthy(msg:find("max_header_bytes", 1, true), msg)
    end)

    it("refuses one 300 KiB header line", function()
      -- libcurl refuses a header line above its own 100 KiB limit before our
      -- header callback sees it (CURLE_OUT_OF_MEMORY in 7.88); src/http.c maps
      -- that to the same code.
      local msg, err = assert_limit("RESPONSE_HEADERS_TOO_LARGE", client(), "/bigheader/307200")
      assert.is_false(err.retryable, msg)
    end)

    it("honours a smaller max_header_bytes", function()
      local c = client { max_header_bytes = 4096 }
      assert_limit("RESPONSE_HEADERS_TOO_LARGE", c, "/bigheader/8000")
      local body, meta = get(c, "/bigheader/2000")
      assert.are.same({ ok = true }, body)
      assert.are.equal(2000, #meta.headers["x-big"])
    end)

    it("leaves the client usable after the refusal", function()
      local c = client { max_header_bytes = 4096, max_header_count = 20 }
      assert_limit("RESPONSE_HEADERS_TOO_LARGE", c, "/bigheader/8000")
      assert_limit("RESPONSE_HEADERS_TOO_LARGE", c, "/headers/40")
      local body, meta = get(c, "/ok")
      assert.are.same({ ok = true }, body)
      assert.is_nil(meta.headers["x-big"])
    end)
  end)

  describe("JSON depth in a response body", function()
    it("accepts 1000 levels and refuses 1001 with kind json", function()
      local c = client()
      local body = get(c, "/deep/1000")
      assert.are.equal(1000, depth_of(body))
      local none, msg, err = get(c, "/deep/1001")
      assert.is_nil(none)
      assert.are.equal("json", err.kind, msg)
      assert.truthy(msg:find("deep", 1, true), msg)
    end)
  end)
end)
