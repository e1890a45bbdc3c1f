-- examples/callback_server.lua: a minimal receiver for Dintero's session
-- callbacks (luasocket, one request at a time). It shows the recommended
-- handling: verify the Dintero-Signature header (401 when it fails, so a
-- forged call gets nothing), answer 200 quickly, and then treat the callback
-- only as a trigger: fetch the transaction from the API instead of trusting
-- the callback's parameters.
--
--   DINTERO_SIGNATURE_SECRET=... DINTERO_ACCOUNT_ID=T12345678 \
--   PUBLIC_URL=https://shop.example.com PORT=8080 \
--   [DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... DINTERO_CHECKOUT_URL=...] \
--   lua examples/callback_server.lua [--once]
--
-- PUBLIC_URL is the scheme://host Dintero called: behind a proxy or tunnel
-- the host this process sees is not the one that was signed.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local socket = require "socket"
local dintero = require "dintero"

local SECRET = os.getenv "DINTERO_SIGNATURE_SECRET"
local ACCOUNT = os.getenv "DINTERO_ACCOUNT_ID" or "T12345678"
local PORT = tonumber(os.getenv "PORT" or "8080")
local once = arg and arg[1] == "--once"
assert(SECRET, "set DINTERO_SIGNATURE_SECRET to the secret from POST /v1/admin/signature")
local PUBLIC_URL = os.getenv "PUBLIC_URL" or ("http://localhost:" .. PORT)

-- The API client, when credentials are given; pcall so that the example also
-- runs (verify-only) where the client is not available.
local client
if os.getenv "DINTERO_CLIENT_ID" then
  local ok, c = pcall(dintero.new, {
    account_id = ACCOUNT,
    client_id = os.getenv "DINTERO_CLIENT_ID",
    client_secret = os.getenv "DINTERO_CLIENT_SECRET",
    checkout_url = os.getenv "DINTERO_CHECKOUT_URL",
    api_url = os.getenv "DINTERO_API_URL",
  })
  if ok then client = c else io.stderr:write("no API client: ", tostring(c), "\n") end
end

-- Reads one HTTP/1.1 request: method, target, headers (lower-case), body.
local function read_request(conn)
  local line = conn:receive "*l"
  if not line then return nil end
  local method, target = line:match "^(%u+) (%S+) HTTP/1%.%d$"
  if not method then return nil end
  local headers = {}
  while true do
    local h = conn:receive "*l"
    if not h or h == "" then break end
    local name, value = h:match "^([^:]+):%s*(.-)%s*$"
    if name then headers[name:lower()] = value end
  end
  local body = ""
  local n = tonumber(headers["content-length"] or "0") or 0
  if n > 0 then body = conn:receive(n) or "" end
  return { method = method, target = target, headers = headers, body = body }
end

local function answer(conn, status, text)
  local reason = ({ [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized" })[status] or "Error"
  conn:send(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, reason, #text, text))
end

-- After answering: the callback is only a trigger, the API is the truth.
local function fetch_transaction(id)
  if not (client and id) then return end
  local ok, tx, msg = pcall(function() return client.transactions:get(id) end)
  if not ok then
    print("  could not fetch the transaction: " .. tostring(tx))
  elseif tx then
    print(("  transaction %s: %s %s %s"):format(tx.id, tostring(tx.status), tostring(tx.amount),
      tostring(tx.currency)))
  else
    print("  could not fetch the transaction: " .. tostring(msg))
  end
end

local function handle(conn)
  local req = read_request(conn)
  if not req then return answer(conn, 400, "bad request\n") end
  local ok, msg = dintero.callback.verify {
    secret = SECRET,
    account_id = ACCOUNT,
    method = req.method,
    url = (PUBLIC_URL:gsub("/+$", "")) .. req.target,
    signature = req.headers["dintero-signature"],
  }
  if not ok then
    print(("%s %s -> 401 (%s)"):format(req.method, req.target, msg))
    return answer(conn, 401, "invalid signature\n")
  end
  answer(conn, 200, "ok\n")
  local cb = dintero.callback.parse { method = req.method, url = req.target, body = req.body }
  print(("%s %s -> 200 transaction %s (delivery %s)"):format(req.method, req.target,
    tostring(cb and cb.transaction_id), tostring(req.headers["event-delivery"])))
  fetch_transaction(cb and cb.transaction_id)
end

local server = assert(socket.bind("127.0.0.1", PORT))
print(("listening on http://127.0.0.1:%d, verifying as %s for account %s"):format(
  select(2, server:getsockname()), PUBLIC_URL, ACCOUNT))
repeat
  local conn = server:accept()
  if conn then
    conn:settimeout(10)
    handle(conn)
    conn:close()
  end
until once
server:close()
