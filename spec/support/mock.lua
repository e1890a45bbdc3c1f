-- The shared mock server fixture of the spec suite (spec/helper.lua requires it).
--
-- Starts ONE `lua5.4 bin/dintero-mock` process for the whole run, lazily: the first
-- access to mock.url / mock.port (or a call of any helper) starts it. spec/helper.lua
-- calls mock.stop() when the suite ends; the mock also exits by itself when this
-- process is gone (--watch-pid), so no server outlives an aborted run.
--
-- Runs on Lua 5.1 - 5.4 and LuaJIT (luasocket + lua-cjson); the mock process itself
-- is always lua5.4. See docs/mock.md for the control routes these helpers call.
--
--   mock.start() / mock.stop() / mock.reset()       mock.url, mock.port
--   mock.fault{method=, path=, ...}                  mock.requests() / callbacks() / stats()
--   mock.pay(session_id, outcome, payment_product_type)   mock.lock(session_id)
--   mock.get(path) / mock.post(path, body) / mock.request(method, path, body, headers)
--     -> status, decoded body (or raw text), headers (lower-case names)
--   mock.authed(method, path, body, headers)         the same with a Bearer token
--   mock.token()                                     an access token for mock.credentials
--   mock.spawn(args)                                 an extra mock process with other flags
--   mock.connect() / mock.raw(bytes [, timeout])     raw TCP access (robustness specs)
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson_mod = require "cjson"

local cjson = cjson_mod.new and cjson_mod.new() or cjson_mod
local unpack = table.unpack or unpack   -- luacheck: ignore

local CREDENTIALS = { account_id = "T12345678", client_id = "mock-client", client_secret = "mock-secret" }

-- The repository root, from this file's own path (spec/support/mock.lua).
local function repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = src:match("^(.*)/spec/support/mock%.lua$")
  if root then return root end
  return src:match("^spec/support/") and "." or "."
end

local ROOT = repo_root()

-- lua-cjson decodes every number as a float; give integral ones the integer
-- subtype on 5.3+ so specs can compare them with integers of their own.
local tointeger = math.tointeger
local function integers(v)
  if type(v) == "number" and tointeger then return tointeger(v) or v end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
  end
  return v
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 3, 0, -1 do
      local idx = math.floor(n / 64 ^ k) % 64
      q[#q + 1] = chars:sub(idx + 1, idx + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

-- Starts a mock process with the extra argument list; returns pid, port, files.
local function launch(args)
  local base = os.tmpname()
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = shell_quote(a) end
  -- $PPID of this shell is the Lua process running the specs: the mock watches it.
  local cmd = string.format(
    "lua5.4 %s --port 0 --print-port --watch-pid $PPID %s > %s 2> %s & echo $! > %s",
    shell_quote(ROOT .. "/bin/dintero-mock"), table.concat(quoted, " "),
    shell_quote(base .. ".port"), shell_quote(base .. ".err"), shell_quote(base .. ".pid"))
  os.execute(cmd)
  local deadline = socket.gettime() + 15
  while socket.gettime() < deadline do
    local port = tonumber((read_file(base .. ".port") or ""):match("^(%d+)\n"))
    local pid = tonumber((read_file(base .. ".pid") or ""):match("(%d+)"))
    if port and pid then return pid, port, base end
    socket.sleep(0.02)
  end
  error("dintero-mock did not start: " .. tostring(read_file(base .. ".err")), 2)
end

-- Makes a function usable as inst.f(...) and inst:f(...).
local function method(inst, f)
  return function(first, ...)
    if first == inst then return f(...) end
    return f(first, ...)
  end
end

local function new_instance(args, lazy)
  local inst = { credentials = CREDENTIALS }
  local st = { args = args or {} }

  local function start()
    if st.pid then return inst end
    local pid, port, base = launch(st.args)
    st.pid, st.base = pid, base
    rawset(inst, "port", port)
    rawset(inst, "url", "http://127.0.0.1:" .. port)
    rawset(inst, "pid", pid)
    return inst
  end

  local function stop()
    if not st.pid then return end
    os.execute("kill " .. st.pid .. " 2>/dev/null")
    for _, ext in ipairs { "", ".port", ".err", ".pid" } do os.remove(st.base .. ext) end
    st.pid, st.token = nil, nil
    rawset(inst, "port", nil)
    rawset(inst, "url", nil)
    rawset(inst, "pid", nil)
  end

  -- A raw TCP connection to the mock (for keep-alive and robustness specs).
  local function connect(timeout)
    start()
    local c = assert(socket.connect("127.0.0.1", inst.port))
    c:settimeout(timeout or 5)
    return c
  end

  -- Sends bytes on a new connection and reads until the server closes or the
  -- timeout passes; returns everything read and the reason reading stopped.
  local function raw(bytes, timeout)
    local c = connect(timeout)
    c:send(bytes)
    local chunks = {}
    while true do
      local data, err, partial = c:receive(8192)
      data = data or partial
      if data and #data > 0 then chunks[#chunks + 1] = data end
      if err then
        c:close()
        return table.concat(chunks), err
      end
    end
  end

  -- One HTTP request to the mock; returns status, body (decoded when JSON), headers.
  local function request(method_, path, body, headers)
    start()
    local h = {}
    for k, v in pairs(headers or {}) do h[k:lower()] = v end
    local source
    if body ~= nil then
      if type(body) ~= "string" then body = cjson.encode(body) end
      h["content-type"] = h["content-type"] or "application/json"
      h["content-length"] = tostring(#body)
      source = ltn12.source.string(body)
    end
    local chunks = {}
    local old = http.TIMEOUT
    http.TIMEOUT = 30
    local ok, status, rh = http.request {
      url = inst.url .. path, method = method_, headers = h, source = source,
      sink = ltn12.sink.table(chunks),
    }
    http.TIMEOUT = old
    if not ok then error("mock request " .. method_ .. " " .. path .. " failed: " .. tostring(status), 2) end
    local text = table.concat(chunks)
    local lower = {}
    for k, v in pairs(rh or {}) do lower[k:lower()] = v end
    local decoded = text
    if (lower["content-type"] or ""):find("json", 1, true) then
      local dok, v = pcall(cjson.decode, text)
      if dok then decoded = integers(v) end
    end
    return status, decoded, lower
  end

  local function token(fresh)
    if st.token and not fresh then return st.token end
    local status, body = request("POST", "/v1/accounts/" .. CREDENTIALS.account_id .. "/auth/token", {
      grant_type = "client_credentials",
      audience = "https://api.dintero.com/v1/accounts/" .. CREDENTIALS.account_id,
    }, { authorization = "Basic " .. b64(CREDENTIALS.client_id .. ":" .. CREDENTIALS.client_secret) })
    if status ~= 200 then error("mock token request failed: " .. tostring(status), 2) end
    st.token = body.access_token
    return st.token
  end

  -- A request with the fixture's Bearer token (fetched again once on a 401).
  local function authed(method_, path, body, headers)
    local h = {}
    for k, v in pairs(headers or {}) do h[k] = v end
    h.authorization = "Bearer " .. token()
    local status, b, rh = request(method_, path, body, h)
    if status == 401 then
      h.authorization = "Bearer " .. token(true)
      status, b, rh = request(method_, path, body, h)
    end
    return status, b, rh
  end

  local function expect_ok(what, status, body)
    if status ~= 200 then
      error("mock " .. what .. " failed: " .. tostring(status) .. " " ..
        (type(body) == "table" and cjson.encode(body) or tostring(body)), 3)
    end
    return body
  end

  local api = {
    start = start, stop = stop, request = request, connect = connect, raw = raw, token = token, authed = authed,
    get = function(path, headers) return request("GET", path, nil, headers) end,
    post = function(path, body, headers) return request("POST", path, body or {}, headers) end,
    reset = function(opts) return expect_ok("reset", request("POST", "/_mock/reset", opts or {})) end,
    fault = function(t) return expect_ok("fault", request("POST", "/_mock/faults", t)) end,
    clear_faults = function() return expect_ok("clear_faults", request("DELETE", "/_mock/faults")) end,
    requests = function() return expect_ok("requests", request("GET", "/_mock/requests")) end,
    callbacks = function() return expect_ok("callbacks", request("GET", "/_mock/callbacks")) end,
    stats = function() return expect_ok("stats", request("GET", "/_mock/stats")) end,
    lock = function(sid) return expect_ok("lock", request("POST", "/_mock/sessions/" .. sid .. "/lock", {})) end,
    pay = function(sid, outcome, ptype)
      return expect_ok("pay", request("POST", "/_mock/sessions/" .. sid .. "/pay",
        { outcome = outcome or "authorized", payment_product_type = ptype }))
    end,
    expire_tokens = function() return expect_ok("expire", request("POST", "/_mock/tokens/expire", {})) end,
    clock = function(t) return expect_ok("clock", request("POST", "/_mock/clock", t)) end,
    -- a started extra process with other flags, e.g. mock.spawn{"--token-ttl", "2"}
    spawn = function(extra)
      if type(extra) == "string" then
        local list = {}
        for w in extra:gmatch("%S+") do list[#list + 1] = w end
        extra = list
      end
      return new_instance(extra, false).start()
    end,
  }
  for k, f in pairs(api) do inst[k] = method(inst, f) end
  inst.json = cjson
  inst.root = ROOT

  -- url / port start the process on first access.
  setmetatable(inst, { __index = function(_, k)
    if k == "url" or k == "port" or k == "pid" then
      start()
      return rawget(inst, k)
    end
  end })
  if lazy == false then return inst end
  return inst
end

return new_instance({}, true)
