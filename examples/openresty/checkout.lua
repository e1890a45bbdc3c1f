-- examples/openresty/checkout.lua: GET /checkout?amount=12900&ref=order-1
-- creates a Dintero checkout session and redirects the shopper to it
-- (?format=json answers {session_id, url} instead, for a single-page shop).
--
-- The call waits on a cosocket: while Dintero answers, this nginx worker
-- serves other requests.
local shop = require "shop"

local args = ngx.req.get_uri_args()
local amount = tonumber(args.amount or "12900")
if not amount or amount <= 0 or amount % 1 ~= 0 then
  return shop.json(400, { error = "amount must be a whole number of minor units (øre)" })
end
local ref = args.ref or ("order-" .. ngx.var.request_id:sub(1, 12))

local session, msg, err = shop.client().sessions:create {
  url = {
    return_url = shop.public_url .. "/receipt",
    callback_url = shop.public_url .. "/callback", -- called by Dintero, verified in callback.lua
  },
  order = {
    amount = amount, currency = "NOK", merchant_reference = ref,
    items = { { id = "tshirt", line_id = "1", description = "T-shirt", quantity = 1,
                amount = amount, vat = 25, vat_amount = math.floor(amount / 5) } },
  },
  profile_id = args.profile_id, -- optional: a payment profile from the Dintero backoffice
}
if not session then return shop.api_failure("creating the session", msg, err) end

if args.format == "json" then
  return shop.json(200, { session_id = session.id, url = session.checkout_url, merchant_reference = ref })
end
return ngx.redirect(session.checkout_url, ngx.HTTP_SEE_OTHER)
