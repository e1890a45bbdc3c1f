-- examples/capture_refund_void.lua: manage authorized transactions. Captures
-- part of one and then the rest, refunds part of it, and voids another, with
-- the Transaction object: tx:capture(n), tx:capture() (what remains),
-- tx:refund{...}, tx:void(), and the amounts left (tx:capturable_amount(),
-- tx:refundable_amount()). Amounts above what is left are refused locally.
--
--   DINTERO_TRANSACTION_ID=T12345678.xxx DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... \
--   lua examples/capture_refund_void.lua
--
-- Against the mock (DINTERO_API_URL=http://127.0.0.1:PORT) it creates and pays
-- two sessions itself through the mock's control route.

-- Running from a source checkout: examples/example_env.lua makes the tree's
-- modules loadable and builds the client from the DINTERO_* environment.
package.path = ((arg and arg[0] or ""):match "^(.*)/[^/]*$" or ".") .. "/?.lua;" .. package.path
local example = require "example_env"
local dintero = example.dintero
local env = example.env
local account = example.account
local checkout_url = example.checkout_url
local client = example.client()

local is_mock = example.is_mock

-- A paid (AUTHORIZED) transaction: on the mock, a session paid through its
-- control route (standing in for the shopper); otherwise the given id.
local function authorized_transaction(amount)
  if not is_mock(checkout_url) then
    return assert(client.transactions:get(assert(env "DINTERO_TRANSACTION_ID", "set DINTERO_TRANSACTION_ID")))
  end
  local session = assert(client.sessions:create {
    profile_id = account .. ".default",
    url = { return_url = "https://shop.example.com/return" },
    order = dintero.order.fill {
      currency = "NOK", merchant_reference = "order-" .. os.time(),
      items = { { id = "sku-1", line_id = "1", description = "Rain jacket", quantity = 1, amount = amount } },
    },
  })
  assert(client:request { method = "POST", host = "checkout", path = "/_mock/sessions/{id}/pay",
    params = { id = session.id }, body = { outcome = "authorized" }, auth = false })
  return assert(session:transaction())
end

local function show(step, tx)
  print(("%-24s %s  captured %d, capturable %d, refundable %d"):format(step, tostring(tx),
    tx:captured_amount(), tx:capturable_amount(), tx:refundable_amount()))
end

local tx = authorized_transaction(50000)
show("authorized", tx)
assert(tx:capture(20000))                 -- ship the first parcel
show("captured 20000", tx)
assert(tx:capture())                      -- the rest, whatever remains
show("captured the rest", tx)
assert(tx:refund { amount = 5000, reason = "one item returned" })
show("refunded 5000", tx)

-- A refund above what was captured never leaves this process:
local ok, msg = tx:refund(1000000)
print("refund 1000000 refused: " .. tostring(ok == nil) .. " (" .. msg .. ")")

if is_mock(checkout_url) then
  local other = authorized_transaction(12000)
  assert(other:void())                    -- the order was cancelled before shipping
  show("voided", other)
end
client:close()
