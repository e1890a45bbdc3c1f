-- The mock's HTTP/1.1 server: accepts connections, parses requests (keep-alive,
-- Content-Length and chunked bodies, Expect: 100-continue), hands them to the app
-- and writes the answers, carrying out injected faults (delay, drop, stall,
-- truncate, oversize) without ever blocking other connections: every connection
-- is a coroutine on the event loop (loop.lua) and every socket is non-blocking.
local socket = require "socket"
local url = require "dintero.mock.url"
local app_mod = require "dintero.mock.app"

local M = {}

local MAX_HEADER = 64 * 1024        -- larger heads get 431
local MAX_BODY = 1024 * 1024        -- larger bodies get 413
local IDLE_TIMEOUT = 120            -- a keep-alive connection with no request is closed
local REQUEST_TIMEOUT = 60          -- a started request must complete within this
local WRITE_TIMEOUT = 60
local STALL_SECONDS = 600           -- a stalled answer waits this long for the client to give up
local MAX_CONNECTIONS = 800         -- stays below select's FD_SETSIZE

local REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Payload Too Large", [415] = "Unsupported Media Type", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

local Conn = {}
Conn.__index = Conn

-- Reads more bytes into the buffer; true, or nil and "closed"/"timeout"/error.
function Conn:fill(deadline)
  while true do
    local data, err, partial = self.sock:receive(65536)
    data = data or partial
    if data and #data > 0 then
      self.buf = self.buf .. data
      return true
    end
    if err ~= "timeout" then return nil, err or "closed" end
    local ok, werr = self.loop:wait_read(self.sock, deadline - socket.gettime())
    if not ok then return nil, werr end
  end
end

-- Takes n bytes off the buffer, reading as needed.
function Conn:take(n, deadline)
  while #self.buf < n do
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
  end
  local s = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  return s
end

-- Takes one CRLF-terminated line (without the CRLF), at most max bytes.
function Conn:line(max, deadline)
  while true do
    local e = self.buf:find("\r\n", 1, true)
    if e then
      local s = self.buf:sub(1, e - 1)
      self.buf = self.buf:sub(e + 2)
      return s
    end
    if #self.buf > max then return nil, "too large" end
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
  end
end

-- Sends all of data; true or nil, error.
function Conn:send(data)
  local i, n = 1, #data
  while i <= n do
    local last, err, plast = self.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" then
      i = plast + 1
      if i <= n then
        local ok, werr = self.loop:wait_write(self.sock, WRITE_TIMEOUT)
        if not ok then return nil, werr end
      end
    else
      return nil, err
    end
  end
  return true
end

-- Reads the request head (request line + headers); returns the text or nil, why.
function Conn:read_head()
  local deadline = socket.gettime() + IDLE_TIMEOUT
  local started = false
  while true do
    self.buf = self.buf:gsub("^\r?\n", "")           -- stray CRLFs between requests
    local e = self.buf:find("\r\n\r\n", 1, true)
    if e then
      if e > MAX_HEADER then return nil, "too large" end
      local head = self.buf:sub(1, e + 1)
      self.buf = self.buf:sub(e + 4)
      return head
    end
    if #self.buf > MAX_HEADER then return nil, "too large" end
    if #self.buf > 0 and not started then
      started = true
      deadline = socket.gettime() + REQUEST_TIMEOUT
    end
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
  end
end

-- Parses a request head into a req table; nil, message when malformed.
local function parse_head(head)
  local line, rest = head:match("^([^\r\n]*)\r\n(.*)$")
  local method, target, version = (line or ""):match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then return nil, "malformed request line" end
  local headers = {}
  for hl in rest:gmatch("([^\r\n]*)\r\n") do
    local name, value = hl:match("^([!#$%%&'*+%-.^_`|~%w]+):%s*(.-)%s*$")
    if not name then return nil, "malformed header line" end
    name = name:lower()
    headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
  end
  target = target:gsub("^[Hh][Tt][Tt][Pp][Ss]?://[^/]*", "")   -- absolute-form
  local path, query = target:match("^([^?]*)%??(.*)$")
  if path:sub(1, 1) ~= "/" then return nil, "request target must start with /" end
  local first, all = url.parse_query(query)
  return {
    method = method, path = path, raw_query = query, query = first, query_all = all,
    headers = headers, version = version, params = {},
  }
end

-- Reads a chunked body; returns it or nil, status, message.
function Conn:read_chunked(deadline)
  local parts, total = {}, 0
  while true do
    local line, err = self:line(1024, deadline)
    if not line then return nil, err == "too large" and 400 or nil, "bad chunk size line" end
    local hex = line:match("^%s*(%x+)%s*;?[^;]*$") or line:match("^%s*(%x+)%s*;")
    local size = hex and #hex <= 8 and tonumber(hex, 16)
    if not size then return nil, 400, "bad chunk size" end
    if size == 0 then
      repeat                                   -- trailers, ignored
        local t = self:line(MAX_HEADER, deadline)
        if not t then return nil, nil, "closed" end
      until t == ""
      return table.concat(parts)
    end
    total = total + size
    if total > MAX_BODY then return nil, 413, "request body larger than 1 MiB" end
    local data = self:take(size + 2, deadline)
    if not data then return nil, nil, "closed" end
    parts[#parts + 1] = data:sub(1, size)
  end
end

-- Reads the body of req into req.body; returns true or nil, status, message.
function Conn:read_body(req)
  local deadline = socket.gettime() + REQUEST_TIMEOUT
  local te = req.headers["transfer-encoding"]
  local cl = req.headers["content-length"]
  if te then
    if not te:lower():match("chunked%s*$") then
      return nil, 501, "unsupported transfer-encoding: " .. te
    end
    self.must_close = cl ~= nil             -- both headers: smuggling-shaped, do not reuse
  elseif cl then
    if not cl:match("^%d+$") then return nil, 400, "bad content-length" end
    cl = tonumber(cl)
    if cl > MAX_BODY then return nil, 413, "request body larger than 1 MiB" end
  end
  if (te or (cl and cl > 0)) and (req.headers.expect or ""):lower() == "100-continue" then
    self:send("HTTP/1.1 100 Continue\r\n\r\n")
  end
  local body, status, msg
  if te then
    body, status, msg = self:read_chunked(deadline)
  elseif cl and cl > 0 then
    body, msg = self:take(cl, deadline)
  else
    body = ""
  end
  if not body then return nil, status, msg end
  req.body = body
  return true
end

local request_seq = 0

-- Serialises the status line and headers.
local function head_text(res, keep_alive, length)
  request_seq = request_seq + 1
  local lines = { string.format("HTTP/1.1 %d %s", res.status, REASONS[res.status] or "Status") }
  local h = res.headers
  h["content-length"] = tostring(length)
  h["connection"] = keep_alive and "keep-alive" or "close"
  h["date"] = os.date("!%a, %d %b %Y %H:%M:%S GMT")
  h["server"] = "dintero-mock"
  h["request-id"] = h["request-id"] or string.format("mock-req-%d-%s", request_seq,
    app_mod.random_string(8))
  for k, v in pairs(h) do
    lines[#lines + 1] = k .. ": " .. tostring(v):gsub("[\r\n]", " ")
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

-- Streams an oversize body of n bytes in pieces, never holding it all in memory.
function Conn:send_oversize(n)
  local open, close = '{"data":"', '"}'
  if n < #open + #close then open, close = "", "" end
  local piece = string.rep("x", 65536)
  if not self:send(open) then return end
  local left = n - #open - #close
  while left > 0 do
    local k = math.min(left, #piece)
    if not self:send(k == #piece and piece or piece:sub(1, k)) then return end
    left = left - k
  end
  self:send(close)
end

-- Waits until the client closes (or STALL_SECONDS pass), discarding input.
function Conn:linger()
  local deadline = socket.gettime() + STALL_SECONDS
  while socket.gettime() < deadline do
    local data, err = self.sock:receive(65536)
    if not data and err ~= "timeout" then return end       -- closed by the client
    if not data and not self.loop:wait_read(self.sock, deadline - socket.gettime()) then
      return
    end
  end
end

-- Writes res (carrying out its fault action); returns true when the connection
-- may serve another request.
function Conn:respond(res, keep_alive)
  if res.delay then self.loop:sleep(res.delay) end
  local action = res.action
  if action == "drop_before" or action == "drop_after" then return false end
  local body = res.body or ""
  if action == "oversize" then
    res.headers["content-type"] = "application/json; charset=utf-8"
    if not self:send(head_text(res, false, res.size)) then return false end
    self:send_oversize(res.size)
    return false
  elseif action == "truncate" then
    local declared = #body > 0 and #body or 64
    self:send(head_text(res, false, declared) .. body:sub(1, #body // 2))
    return false
  elseif action == "garbage" then
    -- the operation was performed; the answer is not HTTP (a broken middlebox)
    self:send("XYZ not an HTTP answer\r\n\r\n")
    return false
  elseif action == "stall" then
    if self:send(head_text(res, true, #body) .. body:sub(1, #body // 2)) then self:linger() end
    return false
  end
  if not self:send(head_text(res, keep_alive, #body) .. body) then return false end
  return keep_alive
end

-- Answers a request that could not be read (malformed, too large) and closes.
function Conn:reject(status, message)
  local res = app_mod.finish(app_mod.fail(status, nil, message))
  self:send(head_text(res, false, #res.body) .. res.body)
end

local function wants_keep_alive(req)
  local c = (req.headers.connection or ""):lower()
  if req.version == "1.0" then return c:find("keep%-alive") ~= nil end
  return not c:find("close")
end

-- Reads one request; returns req, or nil plus a status to answer (or none).
function Conn:read_request()
  local head, err = self:read_head()
  if not head then
    if err == "too large" then return nil, 431, "request head larger than 64 KiB" end
    return nil
  end
  local req, perr = parse_head(head)
  if not req then return nil, 400, perr end
  local ok, status, msg = self:read_body(req)
  if not ok then return nil, status, msg end
  return req
end

-- The life of one connection: requests until close, error or timeout.
local function serve_connection(server, sock)
  sock:settimeout(0)
  pcall(sock.setoption, sock, "tcp-nodelay", true)
  local c = setmetatable({ sock = sock, buf = "", loop = server.loop }, Conn)
  server.open = server.open + 1
  while true do
    local req, status, msg = c:read_request()
    if not req then
      if status then c:reject(status, msg) end
      break
    end
    local t0 = socket.gettime()
    local res = server.app:serve(req, c)
    local keep = wants_keep_alive(req) and not c.must_close
    local again = c:respond(res, keep)
    if server.log then
      server.log:write(string.format("%s %s%s %s %.1fms\n", req.method, req.path,
        req.raw_query ~= "" and app_mod.mask_text("?" .. req.raw_query) or "", tostring(res.action or res.status),
        (socket.gettime() - t0) * 1000))
      server.log:flush()
    end
    if not again then break end
  end
  sock:close()
  server.open = server.open - 1
end

local function accept_loop(server)
  local listener = server.listener
  while true do
    local client, err = listener:accept()
    if client then
      server.app.stats.connections_accepted = server.app.stats.connections_accepted + 1
      if server.open >= MAX_CONNECTIONS then
        client:close()                       -- over the limit: refuse rather than crash
      else
        server.loop:spawn(serve_connection, server, client)
      end
    elseif err == "timeout" then
      server.loop:wait_read(listener)
    else
      server.loop:sleep(0.05)                -- e.g. out of file descriptors: back off
    end
  end
end

--- Binds host:port (0 = any free port); returns the server or nil, message.
-- opts = {host, port, app, loop, log (a file or nil)}.
function M.listen(opts)
  local listener, err = socket.bind(opts.host, opts.port, 128)
  if not listener then return nil, err end
  listener:settimeout(0)
  local _, port = listener:getsockname()
  local server = { listener = listener, port = tonumber(port), app = opts.app,
                   loop = opts.loop, log = opts.log, open = 0 }
  server.loop:spawn(accept_loop, server)
  return server
end

function M.close(server)
  server.listener:close()
end

return M
