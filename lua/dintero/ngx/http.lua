-- HTTP/1.1 framing over an nginx cosocket: the URL split, the request text,
-- and the response reader (status line, headers, Content-Length, chunked or
-- read-to-close bodies) with the same limits the libcurl transport enforces.
-- Connections, TLS and the result table are transport.lua's business; this
-- file only turns bytes into a response, so it can be read on its own.
local M = {}

local DEFAULT_PORT = { http = 80, https = 443 }
local LINE_MAX = 8192 -- a chunk-size or trailer line longer than this is an attack, not HTTP

--- Splits an absolute http(s) URL. Returns {scheme, tls, host, port,
-- connect_host, authority, target} or nil, message.
function M.split_url(url)
  local scheme, authority, rest = url:match "^(https?)://([^/?#]+)(.*)$"
  if not scheme then return nil, "URL must be absolute http(s): " .. url end
  local host, port = authority:match "^(%[[^%]]+%]):?(%d*)$"
  if not host then host, port = authority:match "^([^:]+):?(%d*)$" end
  if not host then return nil, "cannot read the host of " .. url end
  port = tonumber(port) or DEFAULT_PORT[scheme]
  if rest == "" then rest = "/" elseif rest:sub(1, 1) == "?" then rest = "/" .. rest end
  return {
    scheme = scheme, tls = scheme == "https", host = host, port = port, authority = authority,
    -- nginx resolves names only through a `resolver` directive; localhost
    -- is common for test servers and needs no DNS.
    connect_host = host:lower() == "localhost" and "127.0.0.1" or host,
    target = rest:gsub("#.*$", ""),
  }
end

local function bad_text(s)
  return s:find "[%z\r\n]" ~= nil
end

-- A curl-style line "Name:" with no value means "do not send this header".
local function header_line(line)
  if type(line) ~= "string" then return nil, "header lines must be strings" end
  if bad_text(line) then return nil, "a header value contains CR, LF or NUL" end
  local name, value = line:match "^([^:]+):%s*(.-)%s*$"
  if not name then return nil, "header line without a colon: " .. line end
  if value == "" then return "" end
  return name .. ": " .. value .. "\r\n"
end

--- Builds the request bytes. `extra` holds whole header lines (Host, User-Agent,
-- Authorization) built by the caller. Every line is checked for CR/LF/NUL
-- before anything is sent. Returns the text or nil, message.
function M.request_text(method, u, lines, extra, body)
  if bad_text(u.target) then return nil, "URL contains CR, LF or NUL" end
  local out = { method, " ", u.target, " HTTP/1.1\r\nHost: ", u.authority, "\r\n" }
  for _, list in ipairs { extra, lines or {} } do
    for _, line in ipairs(list) do
      local text, err = header_line(line)
      if not text then return nil, err end
      out[#out + 1] = text
    end
  end
  if body ~= "" or method == "POST" or method == "PUT" or method == "PATCH" then
    out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body
  return table.concat(out)
end

--- The failure kind of a cosocket error string.
function M.classify(err)
  if err == "timeout" then return "timeout" end
  return "dropped"
end

-- Sets the socket's timeout to what is left before the deadline (the whole
-- attempt has one budget, like libcurl's CURLOPT_TIMEOUT). False when spent.
local function arm(sock, deadline)
  local left = deadline - ngx.now()
  if left <= 0 then return false end
  sock:settimeout(math.max(1, math.floor(left * 1000)))
  return true
end
M.arm = arm

-- Reads up to a delimiter through a receiveuntil iterator, at most `max`
-- bytes (the sized form never buffers more than one piece). Returns the data,
-- or nil, fail, detail, got_any.
local function read_until(reader, sock, deadline, max, over_fail, over_msg)
  local parts, size = {}, 0
  while true do
    if not arm(sock, deadline) then return nil, "timeout", "timeout", size > 0 end
    local data, err, partial = reader(4096)
    if err then
      return nil, M.classify(err), err, size > 0 or (partial ~= nil and partial ~= "")
    end
    if not data then return table.concat(parts) end
    size = size + #data
    if size > max then return nil, over_fail, over_msg, true, table.concat(parts) end
    parts[#parts + 1] = data
  end
end

local function parse_status(line)
  local major, minor, status = (line or ""):match "^HTTP/(%d)%.(%d) (%d%d%d)"
  if not major then return nil end
  return tonumber(status), tonumber(major) * 10 + tonumber(minor)
end

-- Header lines to a table of lower-case name -> value; repeated names are
-- joined with ", " as HTTP allows (and as the C transport does).
local function parse_headers(head, max_count)
  local headers, count = {}, 0
  local status_line
  for line in (head .. "\r\n"):gmatch "(.-)\r\n" do
    count = count + 1
    if not status_line then
      status_line = line
    else
      local name, value = line:match "^([%w!#$%%&'*+%-.^_`|~]+):[ \t]*(.-)[ \t]*$"
      if name then
        name = name:lower()
        headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
      end
    end
  end
  -- The status line and the blank line count, as libcurl's header callback sees them.
  if count + 1 > max_count then return nil end
  return status_line, headers
end

-- One response head: status, version, headers. 1xx interim answers are skipped.
local function read_head(sock, deadline, limits)
  while true do
    local reader = sock:receiveuntil "\r\n\r\n"
    local head, fail, err, got, partial = read_until(reader, sock, deadline, limits.max_header_bytes,
      "headers", "response headers exceed max_header_bytes")
    if not head then
      return nil, fail, err, got, parse_status(partial and partial:match "^[^\r]*")
    end
    local status_line, headers = parse_headers(head, limits.max_header_count)
    local status, version = parse_status(status_line or head:match "^[^\r]*")
    if not status then return nil, "other", "malformed status line", true end
    if not status_line then
      return nil, "headers", "more response headers than max_header_count", true, status
    end
    if status >= 200 or status == 101 then
      return { status = status, version = version, headers = headers }
    end
  end
end

-- Keep-alive per RFC 9112: HTTP/1.1 unless "close"; HTTP/1.0 only when asked.
local function keepalive_allowed(r)
  local c = (r.headers.connection or ""):lower()
  if r.version >= 11 then return not c:find("close", 1, true) end
  return c:find("keep-alive", 1, true) ~= nil
end

local function read_exact(sock, deadline, n)
  if n == 0 then return "" end
  if not arm(sock, deadline) then return nil, "timeout", "timeout" end
  local data, err = sock:receive(n)
  if not data then return nil, M.classify(err), err end
  return data
end

local function read_chunk_size(lines, sock, deadline)
  local line, fail, err = read_until(lines, sock, deadline, LINE_MAX, "other", "chunk size line too long")
  if not line then return nil, fail, err end
  local size = tonumber(line:match "^%s*(%x+)", 16)
  if not size then return nil, "other", "malformed chunk size" end
  return size
end

-- Transfer-Encoding: chunked, then the trailer section (read and ignored).
local function read_chunked(sock, deadline, limits)
  local lines = sock:receiveuntil "\r\n"
  local parts, total = {}, 0
  while true do
    local size, fail, err = read_chunk_size(lines, sock, deadline)
    if not size then return nil, fail, err end
    if size == 0 then break end
    total = total + size
    if total > limits.max_response_bytes then return nil, "too_large", "response body exceeds max_response_bytes" end
    local data, f2, e2 = read_exact(sock, deadline, size + 2)
    if not data then return nil, f2, e2 end
    if data:sub(-2) ~= "\r\n" then return nil, "other", "malformed chunk" end
    parts[#parts + 1] = data:sub(1, -3)
  end
  local trailer_bytes = 0
  repeat
    local line, fail, err = read_until(lines, sock, deadline, LINE_MAX, "headers", "trailer line too long")
    if not line then return nil, fail, err end
    trailer_bytes = trailer_bytes + #line
    if trailer_bytes > limits.max_header_bytes then return nil, "headers", "trailers exceed max_header_bytes" end
  until line == ""
  return table.concat(parts)
end

-- No length and not chunked: the body ends when the server closes.
local function read_to_close(sock, deadline, limits)
  local parts, total = {}, 0
  while true do
    if not arm(sock, deadline) then return nil, "timeout", "timeout" end
    local data, err = sock:receiveany(65536)
    if not data then
      if err == "closed" then return table.concat(parts) end
      return nil, M.classify(err), err
    end
    total = total + #data
    if total > limits.max_response_bytes then return nil, "too_large", "response body exceeds max_response_bytes" end
    parts[#parts + 1] = data
  end
end

-- The length from a Content-Length value; a repeated header arrives joined
-- ("5, 5") and is accepted only when every copy agrees (RFC 9110 8.6).
local function content_length(value)
  local n
  for part in (value .. ","):gmatch "%s*([^,]-)%s*," do
    local v = part:match "^%d+$" and tonumber(part)
    if not v or (n and v ~= n) then return nil end
    n = v
  end
  return n
end

-- Returns body, reusable (may the connection carry another request) or
-- nil, fail, detail.
local function read_body(sock, deadline, limits, method, r)
  if method == "HEAD" or r.status == 204 or r.status == 304 or r.status < 200 then return "", true end
  local te = r.headers["transfer-encoding"]
  local body, fail, err
  if te and te:lower():find("chunked", 1, true) then
    body, fail, err = read_chunked(sock, deadline, limits)
    return body, body and true or fail, err
  end
  local cl = r.headers["content-length"]
  if not cl then
    body, fail, err = read_to_close(sock, deadline, limits)
    return body, body and false or fail, err
  end
  local n = content_length(cl)
  if not n then return nil, "other", "malformed Content-Length: " .. cl end
  if n > limits.max_response_bytes then return nil, "too_large", "response body exceeds max_response_bytes" end
  body, fail, err = read_exact(sock, deadline, n)
  return body, body and true or fail, err
end

--- Reads one response. limits = {max_header_bytes, max_header_count,
-- max_response_bytes}. Returns {status, headers, body, keepalive} or
-- nil, fail, detail, got_any (whether any response byte arrived), status.
function M.read_response(sock, deadline, limits, method)
  local r, fail, err, got, status = read_head(sock, deadline, limits)
  if not r then return nil, fail, err, got, status end
  local body, reusable, berr = read_body(sock, deadline, limits, method, r)
  if not body then return nil, reusable, berr, true, r.status end
  r.body = body
  r.keepalive = reusable and keepalive_allowed(r)
  return r
end

return M
