-- examples/checkout_session.lua: create a checkout session for an order and
-- send the shopper to its page. Shows dintero.new from environment variables,
-- dintero.order.fill (order.amount = items + shipping), the strict amounts
-- toggle, session.checkout_url, and reading the session back.
--
--   DINTERO_ACCOUNT_ID=T12345678 DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... \
--   DINTERO_PROFILE_ID=T12345678.xyz lua examples/checkout_session.lua
--
-- Without credentials it uses the mock's (start one with bin/dintero-mock and
-- point DINTERO_API_URL at it; DINTERO_CHECKOUT_URL defaults to the same URL).

-- Running from a source checkout: examples/example_env.lua makes the tree's
-- modules loadable and builds the client from the DINTERO_* environment.
package.path = ((arg and arg[0] or ""):match "^(.*)/[^/]*$" or ".") .. "/?.lua;" .. package.path
local example = require "example_env"
local dintero = example.dintero
local env = example.env
local account = example.account
local client = example.client({
  -- order.amount must add up: checked before sending, and by Dintero
  feature_toggles = { "strict-session-amounts" },
})

-- Amounts are integers in minor units: 29990 = 299.90 NOK.
local order = dintero.order.fill {
  currency = "NOK",
  merchant_reference = "order-" .. os.time(),
  items = {
    { id = "sku-socks", line_id = "1", description = "Wool socks", quantity = 2,
      amount = 29990, vat_amount = 5998, vat = 25 },
  },
  shipping_option = {
    id = "bring-home", line_id = "shipping", title = "Home delivery", operator = "Bring",
    amount = 9900, vat_amount = 1980, vat = 25,
  },
}

local session, msg = client.sessions:create {
  profile_id = env("DINTERO_PROFILE_ID", account .. ".default"),
  url = {
    return_url = env("DINTERO_RETURN_URL", "https://shop.example.com/order/return"),
    callback_url = env("DINTERO_CALLBACK_URL", "https://shop.example.com/dintero/callback"),
  },
  order = order,
}
if not session then
  io.stderr:write("could not create the session: ", msg, "\n")
  os.exit(1)
end

print("session created: " .. session.id)
print(("order: %s, %d %s (vat %d)"):format(order.merchant_reference, order.amount, order.currency, order.vat_amount))
print("checkout url: " .. session.checkout_url)   -- redirect the shopper here

-- Later (e.g. on the return URL) read it back; transaction_id appears once paid.
local fresh = assert(client.sessions:get(session.id))
print("session: " .. tostring(fresh))
print("paid: " .. tostring(fresh.transaction_id ~= nil and fresh.transaction_id ~= dintero.null))
client:close()
