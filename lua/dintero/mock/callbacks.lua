-- Outgoing callbacks: calls the session's url.callback_url the way Dintero does
-- (dintero-api.md section 4.5), signed per section 7 when the account has a
-- signature secret, retried on 5xx / timeouts / connection errors, 4xx final.
--
-- Deliveries run as tasks on the event loop, so the pay call that triggers one is
-- answered first and a slow merchant endpoint never blocks the mock. For safety
-- the mock only ever connects to loopback: any other host is recorded as not
-- delivered and is never resolved or contacted.
local socket = require "socket"
local url = require "dintero.mock.url"
local signature = require "dintero.mock.signature"

local M = {}

-- Delay before attempt n+1 (seconds); the last value repeats.
M.SCHEDULE = { 0.2, 0.5, 1, 2 }

local function records(api)
  api.state.callbacks = api.state.callbacks or api.array()
  return api.state.callbacks
end

--- True for hosts the mock may contact: 127.0.0.0/8, ::1, localhost.
function M.is_loopback(hostname)
  hostname = hostname:lower()
  if hostname == "localhost" or hostname == "::1" or hostname == "0:0:0:0:0:0:0:1" then
    return true
  end
  local a, b, c, d = hostname:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return a == "127" and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256
end

-- The callback_url modifiers that change how a callback is made.
local function modifiers(cb_query)
  local m = { report_event = {} }
  for _, p in ipairs(url.parse_pairs(cb_query)) do
    local k, v = p[1], p[2]
    if k == "method" then m.post = v:upper() == "POST"
    elseif k == "report_error" then m.report_error = v == "true"
    elseif k == "report_event" then m.report_event[v:upper()] = true
    elseif k == "sid_parameter_name" then m.sid = v
    elseif k == "delay_callback" then m.delay = math.min(tonumber(v) or 0, 60)
    elseif k == "includes" then m.include_session = v == "session"
    end
  end
  return m
end

-- Builds the delivery for sess/tx with extra params {error=, event=, event_id=}.
local function build(api, sess, tx, m, extra)
  local cb = sess.data.url.callback_url
  local params = {
    { "transaction_id", tx and tx.id or nil },
    { m.sid == "sid" and "sid" or "session_id", sess.data.id },
    { "merchant_reference", (sess.data.order or {}).merchant_reference },
    { "time", api.iso8601() },
    { "error", extra.error }, { "event", extra.event }, { "event_id", extra.event_id },
  }
  local list = {}
  for _, p in ipairs(params) do
    if p[2] ~= nil then list[#list + 1] = { p[1], tostring(p[2]) } end
  end
  local sep = cb:find("?", 1, true) and (cb:match("[?&]$") and "" or "&") or "?"
  local full = cb .. sep .. url.build_query(list)
  local body
  if m.post then
    local payments = require "dintero.mock.payments"
    local view = tx and payments.view(api, tx, m.include_session and { "session" } or nil) or sess.data
    body = api.json.encode(view)
  end
  return {
    id = "mock-dlv-" .. api.random_string(20), url = full, method = m.post and "POST" or "GET",
    body = body, account = sess.account, delay = m.delay, event = extra.event,
    transaction_id = tx and tx.id, session_id = sess.data.id,
  }
end

-- Appends one attempt record (never blocks, never raises).
local function record(api, d, attempt, status, err, headers)
  local list = records(api)
  list[#list + 1] = {
    id = d.id, attempt = attempt, url = d.url, method = d.method, headers = headers or {},
    body = d.body or api.json.null, status = status or api.json.null, error = err or api.json.null,
    event = d.event or api.json.null, transaction_id = d.transaction_id or api.json.null,
    session_id = d.session_id, delivered = status ~= nil and status >= 200 and status < 300,
    at = api.iso8601(),
  }
end

-- The headers of one attempt (signature computed per attempt, with its own t).
local function headers_for(api, d)
  local u = url.split(d.url)
  local h = {
    ["host"] = u.host .. ((u.port ~= 80) and (":" .. u.port) or ""),
    ["event-delivery"] = d.id,
    ["user-agent"] = "dintero-mock-callbacks",
    ["connection"] = "close",
  }
  if d.body then
    h["content-type"] = "application/json; charset=utf-8"
    h["content-length"] = tostring(#d.body)
  end
  local secret = (api.state.signature_secrets or {})[d.account]
  if secret then
    h["dintero-signature"] = signature.header {
      secret = secret.signature.secret, t = math.floor(api.now()), account_id = d.account,
      method = d.method, url = d.url,
    }
  end
  return h
end

-- Connects without blocking the loop; returns the socket or nil, error.
local function connect(loop, host, port, timeout)
  local sock = (host:find(":", 1, true) and socket.tcp6 or socket.tcp)()
  sock:settimeout(0)
  local ok, err = sock:connect(host, port)
  if not ok and err == "timeout" then
    if not loop:wait_write(sock, timeout) then sock:close(); return nil, "timeout" end
    ok, err = sock:connect(host, port)
    if not ok and err == "already connected" then ok = true end
  end
  if not ok then sock:close(); return nil, err end
  return sock
end

-- Sends the request and reads the status line; returns status or nil, error.
local function exchange(loop, sock, request, deadline)
  local i = 1
  while i <= #request do
    local last, err, plast = sock:send(request, i)
    if last then i = last + 1
    elseif err == "timeout" then
      i = plast + 1
      if not loop:wait_write(sock, deadline - socket.gettime()) then return nil, "timeout" end
    else return nil, err end
  end
  local buf = ""
  while not buf:find("\r\n", 1, true) do
    local data, err, partial = sock:receive(4096)
    data = data or partial
    if data and #data > 0 then buf = buf .. data
    elseif err == "timeout" then
      if not loop:wait_read(sock, deadline - socket.gettime()) then return nil, "timeout" end
    else return nil, err or "closed" end
    if #buf > 8192 then break end
  end
  local status = buf:match("^HTTP/%d%.%d (%d%d%d)")
  if not status then return nil, "malformed response" end
  return tonumber(status)
end

-- One HTTP attempt; returns status or nil, error.
local function attempt_once(api, d, headers)
  local u = url.split(d.url)
  local host = u.hostname == "localhost" and "127.0.0.1" or u.hostname
  local timeout = api.config.callback_timeout or 3
  local deadline = socket.gettime() + timeout
  local loop = api.app.loop
  local sock, err = connect(loop, host, u.port, timeout)
  if not sock then return nil, err end
  local lines = { d.method .. " " .. u.path .. (u.query ~= "" and "?" .. u.query or "") .. " HTTP/1.1" }
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  local request = table.concat(lines, "\r\n") .. "\r\n\r\n" .. (d.body or "")
  local status, xerr = exchange(loop, sock, request, deadline)
  sock:close()
  return status, xerr
end

-- Runs all attempts of delivery d (a loop task).
local function run(api, d, epoch)
  local app = api.app
  if d.delay and d.delay > 0 then app.loop:sleep(d.delay) end
  local max = math.max(api.config.callback_retries or 5, 1)
  for attempt = 1, max do
    if app.epoch ~= epoch then return end            -- reset since: forget it
    local headers = headers_for(api, d)
    local status, err = attempt_once(api, d, headers)
    if app.epoch ~= epoch then return end
    record(api, d, attempt, status, err, headers)
    if status and status < 500 and status >= 200 then return end   -- 2xx done, 3xx/4xx final
    if attempt < max then
      app.loop:sleep(M.SCHEDULE[math.min(attempt, #M.SCHEDULE)])
    end
  end
end

-- Records or starts delivery d.
local function dispatch(api, d)
  local u = url.split(d.url)
  if not u then
    record(api, d, 1, nil, "not delivered: callback_url is not an absolute URL")
  elseif not M.is_loopback(u.hostname) then
    record(api, d, 1, nil, "not delivered: non-loopback host")
  elseif u.scheme ~= "http" then
    record(api, d, 1, nil, "not delivered: the mock only calls http:// callback URLs")
  elseif not api.app.loop then
    record(api, d, 1, nil, "not delivered: no event loop")
  else
    api.app.loop:spawn(run, api, d, api.app.epoch)
  end
end

local function callback_url(sess)
  local u = sess.data.url
  return type(u) == "table" and type(u.callback_url) == "string" and u.callback_url or nil
end

local function cb_query(cb)
  return cb:match("%?([^#]*)") or ""
end

--- A payment completed (authorized, on hold, or failed) for sess.
function M.payment(api, sess, tx)
  local cb = callback_url(sess)
  if not cb then return end
  local m = modifiers(cb_query(cb))
  local failed = tx.status == "FAILED" or tx.status == "DECLINED"
  if failed and not m.report_error then return end
  dispatch(api, build(api, sess, tx, m, { error = failed and "failed" or nil }))
end

--- A transaction event (CAPTURE, REFUND, VOID) happened; called back only when
-- the callback_url asks for it with report_event.
function M.event(api, sess, tx, ev)
  local cb = callback_url(sess)
  if not cb then return end
  local m = modifiers(cb_query(cb))
  if not m.report_event[ev.event] then return end
  dispatch(api, build(api, sess, tx, m, { event = ev.event, event_id = ev.id }))
end

--- The session was cancelled; called back only with report_error=true.
function M.cancelled(api, sess, tx)
  local cb = callback_url(sess)
  if not cb then return end
  local m = modifiers(cb_query(cb))
  if not m.report_error then return end
  dispatch(api, build(api, sess, tx, m, { error = "cancelled" }))
end

return M
