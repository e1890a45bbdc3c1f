-- examples/demo.lua: the checkout flow a merchant lives through, step by step,
-- printed so a person can follow it (run it with `make demo`).
--
-- By default it starts its own mock Checkout API (lua5.4 bin/dintero-mock),
-- and stops it at the end, also when a step fails. The steps: get a token;
-- create a callback signature secret and listen for callbacks on 127.0.0.1;
-- create a checkout session; the customer pays (the mock's control route
-- stands in for the shopper); the signed callback arrives and is verified;
-- fetch the transaction; capture part of it, then the rest; refund part; list
-- the day's transactions; look at the settlements.
--
-- With DINTERO_ACCOUNT_ID, DINTERO_CLIENT_ID, DINTERO_CLIENT_SECRET and
-- DINTERO_PROFILE_ID set it talks to the real API instead: it prints the
-- checkout URL, waits for you to pay it (test card), and skips the steps that
-- only a local server can do (Dintero does not call 127.0.0.1, and creating a
-- signature secret would rotate your account's secret).
--
-- Secrets and tokens are never printed.

-- Running from a source checkout: use the tree's lua/ and the C module of `make build`.
local root = (arg and arg[0] or ""):match "^(.*)/examples/[^/]*$" or "."
local tag = rawget(_G, "jit") and "luajit" or _VERSION:match "%d+%.%d+"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = (os.getenv "DINTERO_BUILD_DIR" or (root .. "/build/" .. tag)) .. "/?.so;" .. package.cpath

local socket = require "socket"
local dintero = require "dintero"
local order_fill = dintero.order.fill

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

local REAL = env "DINTERO_CLIENT_SECRET" ~= nil

local step_no = 0
local function step(title, detail)
  step_no = step_no + 1
  print(("%2d. %-12s %s"):format(step_no, title, detail or ""))
end
local function more(detail) print(("    %-12s %s"):format("", detail)) end

-- Display only: the amounts themselves stay integers.
local function nok(minor) return ("%d.%02d NOK"):format(math.floor(minor / 100), minor % 100) end

------------------------------------------------------------------------------
-- The mock server process

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read "*a"
  f:close()
  return s
end

-- Starts bin/dintero-mock on a free port; returns {url, pid, files}. The mock
-- also watches this process ($PPID of the shell) and exits when it is gone.
local function start_mock()
  local base = os.tmpname()
  os.execute(("lua5.4 %s --port 0 --print-port --watch-pid $PPID > %s 2> %s & echo $! > %s"):format(
    shell_quote(root .. "/bin/dintero-mock"), shell_quote(base .. ".port"), shell_quote(base .. ".err"),
    shell_quote(base .. ".pid")))
  local deadline = socket.gettime() + 15
  while socket.gettime() < deadline do
    local port = tonumber((read_file(base .. ".port") or ""):match "^(%d+)\n")
    local pid = tonumber((read_file(base .. ".pid") or ""):match "(%d+)")
    if port and pid then return { url = "http://127.0.0.1:" .. port, pid = pid, base = base } end
    socket.sleep(0.05)
  end
  error("the mock did not start: " .. tostring(read_file(base .. ".err")))
end

local function stop_mock(m)
  if not m then return end
  os.execute("kill " .. m.pid .. " 2>/dev/null")
  for _, ext in ipairs { "", ".port", ".err", ".pid" } do os.remove(m.base .. ext) end
end

------------------------------------------------------------------------------
-- A tiny callback receiver (one request, luasocket)

local function listen()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  server:settimeout(15)
  return server, "http://127.0.0.1:" .. port
end

-- Accepts one request; answers 200; returns method, target, headers (lower-case).
local function receive_one(server)
  local conn = server:accept()
  if not conn then error("no callback arrived within 15 s") end
  conn:settimeout(5)
  local line = assert(conn:receive "*l")
  local method, target = line:match "^(%u+) (%S+) HTTP/1%.[01]$"
  local headers = {}
  while true do
    local l = conn:receive "*l"
    if not l or l == "" then break end
    local k, v = l:match "^([^:]+):%s*(.-)%s*$"
    if k then headers[k:lower()] = v end
  end
  local length = tonumber(headers["content-length"] or "0") or 0
  if length > 0 then conn:receive(length) end
  conn:send "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
  conn:close()
  return method, target, headers
end

------------------------------------------------------------------------------
-- The flow

local function new_client(api_url)
  return dintero.new {
    account_id = env("DINTERO_ACCOUNT_ID", "T12345678"),
    client_id = env("DINTERO_CLIENT_ID", "mock-client"),
    client_secret = env("DINTERO_CLIENT_SECRET", "mock-secret"),
    api_url = api_url or env "DINTERO_API_URL",
    checkout_url = api_url or env("DINTERO_CHECKOUT_URL", env "DINTERO_API_URL"),
    system = { name = "dintero-lua-demo", version = "1.0" },
    feature_toggles = { "strict-session-amounts" },
  }
end

local function ok_or_die(v, msg, ...)
  if v == nil then error(msg, 2) end
  return v, msg, ...
end

-- Waits (real API) until the shopper has paid the session; returns it.
local function wait_for_payment(session)
  local wait = tonumber(env("DINTERO_WAIT_SECONDS", "600"))
  local deadline = socket.gettime() + wait
  more(("waiting up to %d s for the payment (pay with a test card) ..."):format(wait))
  while socket.gettime() < deadline do
    ok_or_die(session:refresh())
    if session.transaction_id ~= nil and session.transaction_id ~= dintero.null then return session end
    socket.sleep(5)
  end
  error("the session was not paid in time")
end

local function run(ctx)
  local client = ctx.client

  local t = ok_or_die(client.auth:token())
  step("token", ("obtained, expires in %d s"):format(t.expires_in))

  local server, receiver, secret
  if not REAL then
    local rec = ok_or_die(client.auth:create_signature_secret())
    secret = rec.signature.secret
    server, receiver = listen()
    ctx.server = server
    step("callbacks", "signature secret created (" .. rec.id .. "); listening on " .. receiver)
  else
    step("callbacks", "skipped against the real API (see examples/callback_server.lua)")
  end

  local order = order_fill {
    currency = "NOK", merchant_reference = "demo-" .. os.time(),
    items = {
      { id = "sku-socks", line_id = "1", description = "Wool socks", quantity = 2, amount = 29990,
        vat_amount = 5998, vat = 25 },
    },
    shipping_option = { id = "home", line_id = "shipping", title = "Home delivery", operator = "Bring",
      amount = 9900, vat_amount = 1980, vat = 25 },
  }
  local session = ok_or_die(client.sessions:create {
    profile_id = env("DINTERO_PROFILE_ID", client.account_id .. ".default"),
    url = {
      return_url = env("DINTERO_RETURN_URL", "https://shop.example.com/order/return"),
      callback_url = receiver and (receiver .. "/dintero/callback") or nil,
    },
    order = order,
  })
  step("session", ("%s for order %s: %s"):format(session.id, order.merchant_reference, nok(order.amount)))
  more("checkout url: " .. session.checkout_url)

  local tx_id
  if REAL then
    step("customer", "open the checkout url above and pay")
    tx_id = wait_for_payment(session).transaction_id
  else
    ok_or_die(client:request { method = "POST", host = "checkout", path = "/_mock/sessions/{id}/pay",
      params = { id = session.id }, body = { outcome = "authorized" }, auth = false })
    step("customer", "paid at the checkout (the mock's control route stands in for the shopper)")

    local method, target, headers = receive_one(server)
    local verified, vmsg = dintero.callback.verify {
      secret = secret, account_id = client.account_id, method = method,
      url = receiver .. target, signature = headers["dintero-signature"],
    }
    if not verified then error("callback signature rejected: " .. vmsg) end
    step("callback", ("%s %s"):format(method, target:match "^[^?]*"))
    more("Dintero-Signature verified; the callback is only a trigger: fetch the transaction")
    tx_id = target:match "[?&]transaction_id=([^&]+)"
  end

  local tx = ok_or_die(client.transactions:get(tx_id))
  step("transaction", tostring(tx))

  ok_or_die(tx:capture(20000))
  step("capture", ("20000 (first parcel shipped): %s, %s left to capture"):format(tostring(tx),
    nok(tx:capturable_amount())))

  ok_or_die(tx:capture())
  step("capture", ("the rest: %s, captured %s"):format(tostring(tx), nok(tx:captured_amount())))

  ok_or_die(tx:refund { amount = 5000, reason = "one pair returned" })
  step("refund", ("5000: %s, %s still refundable"):format(tostring(tx), nok(tx:refundable_amount())))

  local today = os.date "!%Y-%m-%dT00:00:00Z"
  local n, shown = 0, {}
  for item in client.transactions:each { ["created_at.gte"] = today } do
    n = n + 1
    if n <= 3 then shown[#shown + 1] = tostring(item) end
  end
  step("today", ("%d transaction(s) since %s"):format(n, today))
  for _, line in ipairs(shown) do more(line) end

  local settlements = ok_or_die(client.settlements:list { limit = 3 })
  step("settlements", ("%d most recent"):format(#settlements))
  for _, s in ipairs(settlements) do
    more(("%s %s %-11s %s %d, fee %d, net %d"):format(s.id, tostring(s.settled_at):sub(1, 10),
      tostring(s.payment_provider), tostring(s.currency), s.amount or 0, s.fee or 0, s.net_amount or 0))
  end
  local first = settlements[1]
  if first and type(first.attachments) == "table" and first.attachments[1] then
    local a = first.attachments[1]
    local bytes, content_type = ok_or_die(client.settlements:attachment(first.id, a.id))
    more(("report %s: %s, %d bytes"):format(a.id, tostring(content_type), #bytes))
  end
end

local function main()
  print "dintero for Lua: the checkout flow"
  local ctx = {}
  if REAL then
    ctx.client = new_client()
    print(("real API, account %s"):format(ctx.client.account_id))
  else
    ctx.mock = start_mock()
    print(("mock server started on %s (pid %d)"):format(ctx.mock.url, ctx.mock.pid))
    ctx.client = new_client(ctx.mock.url)
  end
  local ok, err = xpcall(function() run(ctx) end, debug.traceback)
  if ctx.server then ctx.server:close() end
  if ctx.client then ctx.client:close() end
  stop_mock(ctx.mock)
  if ctx.mock then print "mock server stopped" end
  if not ok then
    io.stderr:write("demo failed: ", tostring(err), "\n")
    os.exit(1)
  end
  print "done"
end

main()
