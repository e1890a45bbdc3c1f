-- examples/fund_transfer.lua: move money between two sellers of a split-payment
-- marketplace. Shows seller balances, a fund transfer with a caller-chosen
-- fund_transfer_id (stored before sending, so a retry after a timeout or crash
-- moves the money only once), a safe repeat of the same transfer, and the
-- seller's ledger with client.payouts:each_transfer.
--
--   DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... \
--   DINTERO_SOURCE_SELLER=seller-a DINTERO_DESTINATION_SELLER=seller-b lua examples/fund_transfer.lua [amount]

-- Running from a source checkout: examples/example_env.lua makes the tree's
-- modules loadable and builds the client from the DINTERO_* environment.
package.path = ((arg and arg[0] or ""):match "^(.*)/[^/]*$" or ".") .. "/?.lua;" .. package.path
local example = require "example_env"
local env = example.env
local client = example.client()
local source = env("DINTERO_SOURCE_SELLER", "seller-a")
local destination = env("DINTERO_DESTINATION_SELLER", "seller-b")
local amount = math.floor(tonumber(arg[1] or "") or 10000)   -- an integer: minor units
local currency = env("DINTERO_CURRENCY", "NOK")
math.randomseed(os.time())

local function balance(seller)
  for _, b in ipairs(assert(client.payouts:balances(seller))) do
    if b.currency == currency then return b.amount end
  end
  return 0
end

print(("before: %s %d %s, %s %d %s"):format(source, balance(source), currency, destination,
  balance(destination), currency))

-- Choose the id first and keep it with your own record of the transfer: it is
-- the idempotency key. Retrying with the same id and body is always safe.
local transfer = {
  fund_transfer_id = ("rebate-%s-%d"):format(os.date "!%Y%m%d%H%M%S", math.random(100000, 999999)),
  source_payout_destination_id = source,
  destination_payout_destination_id = destination,
  amount = amount, currency = currency,
  reference = "Marketing rebate",
}
local ft, msg = client.payouts:fund_transfer(transfer)
if not ft then
  io.stderr:write("fund transfer failed: ", msg, "\n")
  os.exit(1)
end
print(("transfer %s: %d %s from %s to %s, created %s"):format(ft.fund_transfer_id, ft.amount, ft.currency,
  ft.source_payout_destination_id, ft.destination_payout_destination_id, tostring(ft.created_at)))

local again = assert(client.payouts:fund_transfer(transfer))
print("repeated with the same id: same transfer = " .. tostring(again.created_at == ft.created_at))

print(("after: %s %d %s, %s %d %s"):format(source, balance(source), currency, destination,
  balance(destination), currency))

print("latest ledger entries of " .. destination .. ":")
local shown = 0
for entry in client.payouts:each_transfer { payout_destination_id = destination, currency = currency } do
  print(("  %-14s %8d %s  %s"):format(entry.type, entry.amount, entry.currency, tostring(entry.reference)))
  shown = shown + 1
  if shown == 3 then break end    -- each() is lazy: no further pages are fetched
end
client:close()
