-- examples/openresty/callback.lua: the endpoint Dintero calls when a payment
-- is made (the session's url.callback_url).
--
-- 1. Verify the Dintero-Signature header (401 for anything else: a forged
--    call learns nothing). public_url is the scheme://host Dintero called;
--    behind a proxy or tunnel nginx sees another host, so it is configured.
-- 2. Answer 200 at once: Dintero retries until it gets a 2xx.
-- 3. Treat the callback only as a trigger: fetch the transaction from the API
--    and believe that, not the query parameters.
local dintero = require "dintero"
local shop = require "shop"

if not shop.signature_secret then
  ngx.log(ngx.ERR, "DINTERO_SIGNATURE_SECRET is not set; refusing callbacks")
  return ngx.exit(503)
end

local ok, msg = dintero.callback.verify_ngx {
  secret = shop.signature_secret,
  account_id = shop.account_id,
  public_url = shop.public_url,
}
if not ok then
  ngx.log(ngx.WARN, "callback refused: ", msg)
  return ngx.exit(ngx.HTTP_UNAUTHORIZED)
end

local args = ngx.req.get_uri_args()
local tx_id, ref = args.transaction_id, args.merchant_reference
ngx.say "OK"
ngx.eof() -- Dintero has its answer; the rest runs after the response

if type(tx_id) ~= "string" then return end
local tx, tmsg = shop.client().transactions:get(tx_id)
if not tx then
  ngx.log(ngx.ERR, "callback for ", tx_id, ": could not fetch the transaction: ", tmsg)
  return
end
ngx.log(ngx.NOTICE, "order ", tostring(ref), ": transaction ", tx.id, " is ", tostring(tx.status),
  " (", tostring(tx.amount), " ", tostring(tx.currency), ")")
-- A real shop marks the order paid here (when tx.status is AUTHORIZED or
-- CAPTURED and tx.amount is what the order costs). The example keeps it in
-- a shared dict so /receipt can show it.
ngx.shared.orders:set(tostring(ref), tostring(tx.status) .. " " .. tx.id)
