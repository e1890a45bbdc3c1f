-- Order totals: dintero.order.fill(order) sets order.amount and
-- order.vat_amount from the items and the shipping option, the rule Dintero
-- enforces with the strict-session-amounts feature toggle. Only integer sums:
-- amounts are minor units, and nothing here divides.
local core = require "dintero.core"

local M = {}

local null = core.json.null
local mtype = math.type

local function is_integer(v)
  if type(v) ~= "number" then return false end
  if mtype then return mtype(v) == "integer" end
  return v == v and v % 1 == 0
end

local function present(v) return v ~= nil and v ~= null end

-- Adds v (an optional integer amount) to sum; returns the sum, or nil and the
-- problem when v is not an integer.
local function add(sum, v)
  if not present(v) then return sum end
  if not is_integer(v) or v < 0 then return nil end
  return sum + v
end

--- amount, vat_amount, has_vat of an order: the items plus the shipping
-- option. has_vat is true when any line carries a vat_amount. Returns nil,
-- field when an amount is not a non-negative integer.
function M.sum(order)
  local amount, vat, has_vat = 0, 0, false
  local lines = {}
  for i, it in ipairs(type(order.items) == "table" and order.items or {}) do
    lines[#lines + 1] = { it, ("order.items[%d]"):format(i) }
  end
  if type(order.shipping_option) == "table" then
    lines[#lines + 1] = { order.shipping_option, "order.shipping_option" }
  end
  for _, line in ipairs(lines) do
    local it, name = line[1], line[2]
    if type(it) ~= "table" then return nil, name end
    amount = add(amount, it.amount)
    if not amount then return nil, name .. ".amount" end
    if present(it.vat_amount) then has_vat = true end
    vat = add(vat, it.vat_amount)
    if not vat then return nil, name .. ".vat_amount" end
  end
  return amount, vat, has_vat
end

--- Fills order.amount (and order.vat_amount, when any line has one) from the
-- items and shipping option; returns the order. Raises when a line amount is
-- not a non-negative integer (a programming error in the caller's cart code).
function M.fill(order)
  if type(order) ~= "table" then error("dintero.order.fill: order must be a table", 2) end
  local amount, vat, has_vat = M.sum(order)
  if not amount then
    error(("dintero.order.fill: %s must be a non-negative integer (minor units)"):format(vat), 2)
  end
  order.amount = amount
  if has_vat then order.vat_amount = vat end
  return order
end

return M
