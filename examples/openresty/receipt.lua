-- examples/openresty/receipt.lua: the return_url the shopper comes back to
-- (?merchant_reference=...&transaction_id=...). Shows what the callback
-- recorded and what the API says now; never trusts the query alone.
local shop = require "shop"

local args = ngx.req.get_uri_args()
local ref, tx_id = args.merchant_reference, args.transaction_id
local out = { merchant_reference = ref, recorded_by_callback = ref and ngx.shared.orders:get(ref) or nil }
if type(tx_id) == "string" then
  local tx, msg = shop.client().transactions:get(tx_id)
  if tx then
    out.transaction = { id = tx.id, status = tx.status, amount = tx.amount, currency = tx.currency }
  else
    out.error = msg
  end
end
return shop.json(200, out)
