-- spec/support/tiny_server.lua - a tiny loopback HTTP/1.1 server for the
-- limits specs (spec/limits_spec.lua). Owns one listening socket on
-- 127.0.0.1 and answers one request per connection, then closes it.
--
--   lua5.4 spec/support/tiny_server.lua PORTFILE [IDLE_SECONDS]
--
-- Writes the chosen port to PORTFILE once it listens (the spec polls for it)
-- and exits after IDLE_SECONDS (default 60) without a connection, on GET
-- /quit, or when killed. Runs on any Lua with luasocket.
--
-- Routes (GET, the path decides the answer; everything else is 404):
--   /ok                          200, {"ok":true}
--   /headers/N                   200 with N extra "X-Filler-i: v" headers
--   /bigheader/BYTES             200 with one "X-Big" header of BYTES bytes of value
--   /spread/BYTES                200 with BYTES of header values spread over 2 KiB headers
--   /body/N                      200 with a JSON string body of N bytes and Content-Length
--   /chunked/N                   the same body, chunked (no Content-Length)
--   /deep/N                      200 with N nested JSON arrays
local socket = require "socket"

local portfile, idle = arg[1], tonumber(arg[2] or "60")
assert(portfile, "usage: tiny_server.lua PORTFILE [IDLE_SECONDS]")

local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0.5)
local _, port = server:getsockname()
do
  local tmp = portfile .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(tostring(port), "\n")
  f:close()
  assert(os.rename(tmp, portfile))
end

-- A JSON string literal of exactly n bytes (n >= 2).
local function json_body(n)
  return '"' .. ("a"):rep(n - 2) .. '"'
end

local function answer(path)
  local head, body = {}, '{"ok":true}'
  local n = tonumber(path:match "^/%a+/(%d+)$")
  local chunked = false
  if path == "/ok" or path == "/quit" then
    head = {}
  elseif path:match "^/headers/%d+$" then
    for i = 1, n do head[#head + 1] = ("X-Filler-%d: value %d"):format(i, i) end
  elseif path:match "^/bigheader/%d+$" then
    head[1] = "X-Big: " .. ("b"):rep(n)
  elseif path:match "^/spread/%d+$" then
    local left, i = n, 0
    while left > 0 do
      i = i + 1
      local k = left > 2048 and 2048 or left
      head[#head + 1] = ("X-Spread-%d: %s"):format(i, ("s"):rep(k))
      left = left - k
    end
  elseif path:match "^/body/%d+$" then
    body = json_body(n)
  elseif path:match "^/deep/%d+$" then
    body = ("["):rep(n) .. ("]"):rep(n)
  elseif path:match "^/chunked/%d+$" then
    body, chunked = json_body(n), true
  else
    return "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      .. "Connection: close\r\n\r\n{}"
  end
  local lines = { "HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close" }
  for _, h in ipairs(head) do lines[#lines + 1] = h end
  if chunked then
    lines[#lines + 1] = "Transfer-Encoding: chunked"
    local parts, i = {}, 1
    while i <= #body do
      local piece = body:sub(i, i + 999)
      parts[#parts + 1] = ("%x\r\n%s\r\n"):format(#piece, piece)
      i = i + 1000
    end
    parts[#parts + 1] = "0\r\n\r\n"
    return table.concat(lines, "\r\n") .. "\r\n\r\n" .. table.concat(parts)
  end
  lines[#lines + 1] = "Content-Length: " .. #body
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

local deadline = socket.gettime() + idle
while socket.gettime() < deadline do
  local conn = server:accept()
  if conn then
    deadline = socket.gettime() + idle
    conn:settimeout(5)
    local line = conn:receive "*l"
    local path = line and line:match "^%u+ (%S+) HTTP/1%.%d$" or "/"
    repeat
      local h = conn:receive "*l"
    until h == nil or h == ""
    -- The client may hang up once a limit fires; ignore send errors.
    conn:send(answer(path))
    conn:close()
    if path == "/quit" then break end
  end
end
server:close()
os.remove(portfile)
