-- Benchmark fixtures: realistic Dintero Checkout transactions (the Transaction
-- schema of docs/dintero-api.md section 9), deterministic, built from plain
-- Lua tables so that every JSON library can encode them. One transaction is
-- about 3 KB of JSON; a page of 100 (what GET /v1/transactions returns at
-- limit=100) about 300 KB. No nulls: dkjson cannot encode a light userdata.
local M = {}

local PRODUCTS = {
  { "dintero_psp", "dintero_psp.creditcard" },
  { "payex", "payex.vipps" },
  { "klarna", "klarna.klarna" },
  { "swish", "swish.swish" },
  { "vipps", "vipps" },
}

local STATUSES = { "AUTHORIZED", "CAPTURED", "PARTIALLY_CAPTURED", "REFUNDED", "AUTHORIZATION_VOIDED" }

local GOODS = {
  { "kaffe-500", "Kaffebønner, mørkbrent 500 g", 14990, "physical" },
  { "kopp-hvit", "Kaffekopp i hvitt porselen «Fjord»", 24900, "physical" },
  { "filter-4", "Kaffefilter nr. 4, 100 stk", 3990, "physical" },
  { "abonnement", "Abonnement: 2 kg hver måned", 59900, "service" },
  { "gavekort", "Digitalt gavekort – 500 kr", 50000, "gift_card" },
}

local function iso(day, sec)
  return string.format("2026-11-%02dT%02d:%02d:%02d.%03dZ", day, math.floor(sec / 3600) % 24,
    math.floor(sec / 60) % 60, sec % 60, (sec * 7) % 1000)
end

local function address(i, kind)
  return {
    first_name = ({ "Kari", "Ola", "Åse", "Bjørn" })[i % 4 + 1],
    last_name = ({ "Nordmann", "Hansen", "Ødegård", "Berg" })[(i + 1) % 4 + 1],
    address_line = string.format("Storgata %d", 10 + i % 90),
    address_line_2 = kind == "billing" and "Postboks " .. (100 + i) or "2. etasje",
    postal_code = string.format("%04d", 150 + i % 9000),
    postal_place = ({ "Oslo", "Bergen", "Trondheim", "Tromsø" })[i % 4 + 1],
    country = "NO",
    phone_number = string.format("+4799%06d", (i * 7919) % 1000000),
    email = string.format("kunde%d@example.no", i),
    business_name = i % 3 == 0 and "Kaffebaren AS" or "",
  }
end

local function items(i)
  local list = {}
  for k = 1, 2 + i % 2 do
    local g = GOODS[(i + k) % #GOODS + 1]
    local quantity = k == 2 and 1.5 or k
    local amount = math.floor(g[3] * quantity)
    list[k] = {
      id = g[1],
      line_id = tostring(k),
      description = g[2],
      quantity = quantity,
      amount = amount,
      vat_amount = math.floor(amount / 5),
      vat = 25,
      type = g[4],
      groups = { { id = "kaffe", name = "Kaffe og tilbehør" } },
      thumbnail_url = "https://cdn.example.no/img/" .. g[1] .. ".jpg",
      eligible_for_discount = k % 2 == 0,
    }
  end
  return list
end

local function events(i, total, day)
  local names = { "INITIALIZE", "AUTHORIZE", "CAPTURE" }
  local list = {}
  for k, name in ipairs(names) do
    list[k] = {
      id = string.format("%08x-%04x-4%03x-8%03x-%012x", i * 97 + k, k, i % 4096, k, i * 1000003 + k),
      name = name,
      success = true,
      created_at = iso(day, 3600 + i * 13 + k * 41),
      amount = name == "INITIALIZE" and 0 or total,
      transaction_status = name == "CAPTURE" and "CAPTURED" or "AUTHORIZED",
      request_id = string.format("req-%d-%d", i, k),
      correlation_id = string.format("corr-%d-%d", i, k),
    }
  end
  return list
end

--- One transaction; i (1, 2, ...) varies every field a little.
function M.transaction(i)
  local product = PRODUCTS[i % #PRODUCTS + 1]
  local day = 1 + i % 28
  local lines = items(i)
  local shipping = 9900
  local total = shipping
  for _, line in ipairs(lines) do total = total + line.amount end
  return {
    id = string.format("T12345678.5Yb%018dHq", i),
    created_at = iso(day, 3600 + i * 13),
    updated_at = iso(day, 3600 + i * 13 + 300),
    session_id = string.format("T12345678.5Xa%018dKz", i),
    status = STATUSES[i % #STATUSES + 1],
    amount = total,
    currency = "NOK",
    payment_product = product[1],
    payment_product_type = product[2],
    merchant_reference = string.format("order-%06d", 100000 + i),
    merchant_reference_2 = string.format("ERP-%d", 500000 + i * 3),
    channel = "checkout",
    customer = {
      customer_id = string.format("cust-%d", 9000 + i),
      email = string.format("kunde%d@example.no", i),
      phone_number = string.format("+4799%06d", (i * 7919) % 1000000),
    },
    shipping_address = address(i, "shipping"),
    billing_address = address(i + 1, "billing"),
    shipping_option = {
      id = "bring-pakke-i-postkassen",
      line_id = "shipping",
      amount = shipping,
      vat_amount = 1980,
      vat = 25,
      title = "Pakke i postkassen",
      description = "Levering 1–3 virkedager",
      operator = "Bring",
      delivery_method = "delivery",
      eta = { starts_at = iso(day, 7200), ends_at = iso(day, 79200) },
    },
    items = lines,
    events = events(i, total, day),
    url = {
      redirect_url = "https://shop.example.no/checkout/return?order=" .. (100000 + i),
      callback_url = "https://shop.example.no/api/dintero/callback?method=GET&order=" .. (100000 + i),
    },
    metadata = {
      ["session:profile_id"] = "T12345678.default",
      ["ext_shop_order_id"] = tostring(100000 + i),
      payout_correlation_id = string.format("payout-%d", i % 17),
    },
    card = {
      brand = ({ "VISA", "MASTERCARD" })[i % 2 + 1],
      masked_pan = string.format("4111 11** **** %04d", i % 10000),
      expiry_date = string.format("%02d/%02d", 1 + i % 12, 27 + i % 5),
      type = "CREDIT",
      country = "NO",
    },
    settlement_status = i % 3 == 0 and "SETTLED" or "UNSETTLED",
    payment_operation = "AUTHORIZE",
  }
end

--- A page of n transactions (a JSON array).
function M.page(n)
  local list = {}
  for i = 1, n do list[i] = M.transaction(i) end
  return list
end

return M
