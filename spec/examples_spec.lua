-- Runs each example script as a subprocess (the same Lua as the suite)
-- against the suite's mock and checks the exit status and the key output.
-- The demo starts and stops its own mock.
local mock = require "support.mock"

local function interpreter()
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. _VERSION:match "%d+%.%d+"
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs `lua examples/<name>.lua args...` with env; returns exit code, output.
local function run(name, env, args)
  local parts = { "env", "-u", "DINTERO_CLIENT_SECRET", "-u", "DINTERO_PROFILE_ID", "-u", "DINTERO_TRANSACTION_ID",
    "-u", "DINTERO_PAYMENT_TOKEN" }
  for k, v in pairs(env or {}) do parts[#parts + 1] = shell_quote(k .. "=" .. v) end
  parts[#parts + 1] = interpreter()
  parts[#parts + 1] = shell_quote("examples/" .. name .. ".lua")
  for _, a in ipairs(args or {}) do parts[#parts + 1] = shell_quote(a) end
  local p = assert(io.popen(table.concat(parts, " ") .. " 2>&1; echo \"__exit:$?\""))
  local out = p:read "*a"
  p:close()
  local code = tonumber(out:match "__exit:(%d+)%s*$")
  return code, (out:gsub("__exit:%d+%s*$", ""))
end

local function mock_env()
  return {
    DINTERO_API_URL = mock.url, DINTERO_CHECKOUT_URL = mock.url,
    DINTERO_ACCOUNT_ID = mock.credentials.account_id, DINTERO_CLIENT_ID = mock.credentials.client_id,
    DINTERO_CLIENT_SECRET = mock.credentials.client_secret,
  }
end

local function has(out, text)
  assert(out:find(text, 1, true), ("expected %q in the output:\n%s"):format(text, out))
end

-- A killed process whose parent is gone may linger as a zombie until init
-- reaps it (not every container's init does): count that as stopped.
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local stat = f:read "*a"
  f:close()
  return stat:match "^%d+ %b() (%a)" ~= "Z"
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read "*a"
  f:close()
  return s
end

describe("examples", function()
  before_each(function() mock.reset() end)

  it("checkout_session.lua creates a session and prints its checkout url", function()
    local code, out = run("checkout_session", mock_env())
    assert.equals(0, code, out)
    has(out, "session created: T12345678.")
    has(out, "checkout url: " .. mock.url .. "/v1/view/T12345678.")
    has(out, "39890 NOK (vat 7978)")
    has(out, "paid: false")
  end)

  it("capture_refund_void.lua captures, refunds and voids", function()
    local code, out = run("capture_refund_void", mock_env())
    assert.equals(0, code, out)
    has(out, "PARTIALLY_CAPTURED 50000 NOK")
    has(out, "CAPTURED 50000 NOK)  captured 50000, capturable 0")
    has(out, "PARTIALLY_REFUNDED 50000 NOK)  captured 50000, capturable 0, refundable 45000")
    has(out, "refund 1000000 refused: true (validation: amount:")
    has(out, "AUTHORIZATION_VOIDED 12000 NOK")
  end)

  it("merchant_initiated_payment.lua charges a saved card and handles a decline", function()
    local code, out = run("merchant_initiated_payment", mock_env())
    assert.equals(0, code, out)
    has(out, "card saved: 411111******1111")
    has(out, "AUTHORIZED 9900 NOK)")
    has(out, "captured: dintero.Transaction(")
    has(out, "declined: DECLINED")
    has(out, "retry policy DO_NOT_RETRY -> do not retry")
    assert.is_nil(out:find("mock_pt_", 1, true))          -- the token itself is not printed
  end)

  it("export_csv.lua writes settlements and reports to CSV", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. shell_quote(dir)))
    local code, out = run("export_csv", mock_env(), { dir, "2000-01-01" })
    assert.equals(0, code, out)
    has(out, "wrote 25 settlements since 2000-01-01")
    has(out, "wrote 15 reports")
    has(out, "saved attachment stl-0001-csv (text/csv")
    local csv = read(dir .. "/settlements.csv")
    local lines = 0
    for _ in csv:gmatch "\r\n" do lines = lines + 1 end
    assert.equals(26, lines)
    assert.matches("^id,settled_at,payment_provider,", csv)
    assert.matches("\r\nstl%-0001,", csv)
    assert.matches("^id,created_at,report_type,", read(dir .. "/reports.csv"))
    os.execute("rm -rf " .. shell_quote(dir))
  end)

  it("fund_transfer.lua moves money once per fund_transfer_id", function()
    local code, out = run("fund_transfer", mock_env(), { "10000" })
    assert.equals(0, code, out)
    has(out, "before: seller-a 222425 NOK, seller-b 120000 NOK")
    has(out, "same transfer = true")
    has(out, "after: seller-a 212425 NOK, seller-b 130000 NOK")
    has(out, "fund_transfer     10000 NOK  Marketing rebate")
  end)

  it("demo.lua walks the whole flow on its own mock and stops it", function()
    local code, out = run("demo", {})
    assert.equals(0, code, out)
    for _, text in ipairs {
      "mock server started on http://127.0.0.1:", "token        obtained, expires in", "signature secret created",
      "checkout url: http://127.0.0.1:", "paid at the checkout", "Dintero-Signature verified",
      "PARTIALLY_CAPTURED 39890 NOK", "CAPTURED 39890 NOK", "PARTIALLY_REFUNDED 39890 NOK",
      "1 transaction(s) since", "settlements  3 most recent", "report stl-0001-csv: text/csv",
      "mock server stopped", "done",
    } do has(out, text) end
    assert.is_nil(out:find("mock-secret", 1, true))
    local pid = out:match "%(pid (%d+)%)"
    assert.truthy(pid)
    assert.is_false(alive(pid))
  end)
end)
