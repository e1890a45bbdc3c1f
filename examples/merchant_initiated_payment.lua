-- examples/merchant_initiated_payment.lua: charge a saved card without the
-- customer present (subscriptions, top-ups). Shows client.sessions:pay with a
-- card token, the strict-merchant-reference feature toggle, and how a declined
-- payment arrives: HTTP 200 with a FAILED Transaction whose retry policy says
-- whether a retry is allowed (tx:failed(), tx:payment_error(),
-- tx:retry_policy(), tx:may_retry()). Never retry against DO_NOT_RETRY.
--
--   DINTERO_PAYMENT_TOKEN=... DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... \
--   lua examples/merchant_initiated_payment.lua
--
-- Against the mock it first saves a card with a payment-token session (the
-- mock pays it), reads the token from the transaction, then charges it; an
-- amount ending in 13 is declined by the mock.

-- Running from a source checkout: examples/example_env.lua makes the tree's
-- modules loadable and builds the client from the DINTERO_* environment.
package.path = ((arg and arg[0] or ""):match "^(.*)/[^/]*$" or ".") .. "/?.lua;" .. package.path
local example = require "example_env"
local dintero = example.dintero
local env = example.env
local checkout_url = example.checkout_url
local client = example.client({ system = { name = "example-shop", version = "1.0" } })
local order_fill = dintero.order.fill
local PRODUCT = "dintero_psp.creditcard"

local is_mock = example.is_mock

-- The saved card token: given, or (on the mock) created with a payment-token session.
local function saved_token()
  local given = env "DINTERO_PAYMENT_TOKEN"
  if given or not is_mock(checkout_url) then return assert(given, "set DINTERO_PAYMENT_TOKEN") end
  local s = assert(client.sessions:create_payment_token {
    session = {
      order = order_fill { currency = "NOK", merchant_reference = "save-card-" .. os.time(),
        items = { { id = "card", line_id = "1", description = "Save card", quantity = 1, amount = 0 } } },
      url = { return_url = "https://shop.example.com/card-saved" },
      customer = { customer_id = "customer-42" },
    },
    token_provider = { payment_product_type = PRODUCT },
  })
  assert(client:request { method = "POST", host = "checkout", path = "/_mock/sessions/{id}/pay",
    params = { id = s.id }, body = { outcome = "authorized" }, auth = false })
  local tx = assert(s:transaction { includes = { "card.payment_token" } })
  print("card saved: " .. tostring(tx.card.masked_pan) .. " (token kept server-side)")
  return tx.card.payment_token
end

local token = saved_token()

local function charge(amount, reference)
  return client.sessions:pay({
    session = {
      order = order_fill { currency = "NOK", merchant_reference = reference,
        items = { { id = "plan", line_id = "1", description = "Monthly plan", quantity = 1, amount = amount } } },
      customer = { customer_id = "customer-42", tokens = { [PRODUCT] = { payment_token = token } } },
    },
    payment = { payment_product_type = PRODUCT, operation = "unscheduled_purchase" },
  }, { feature_toggles = { "strict-success-merchant-reference" } })
end

local function report(tx)
  if not tx:failed() then
    print(("charged: %s"):format(tostring(tx)))
    return
  end
  local e = tx:payment_error() or {}
  local code, after = tx:retry_policy()
  local may, delay = tx:may_retry()
  print(("declined: %s (%s), retry policy %s%s -> %s"):format(tostring(e.code), tostring(e.message),
    tostring(code), after and (" after " .. after .. " s") or "",
    may and ("may retry in " .. tostring(delay) .. " s") or "do not retry"))
end

local stamp = os.time()
local tx, msg = charge(9900, "sub-" .. stamp)
if not tx then
  io.stderr:write("payment failed: ", msg, "\n")
  os.exit(1)
end
report(tx)
if tx.status == "AUTHORIZED" then assert(tx:capture()) print("captured: " .. tostring(tx)) end

if is_mock(checkout_url) then
  report(assert(charge(9913, "sub-" .. stamp .. "-b")))   -- the mock declines amounts ending in 13
end
client:close()
