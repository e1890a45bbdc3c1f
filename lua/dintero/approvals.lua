-- client.approvals: seller approvals (api host): the cases that make a
-- seller a payout destination, and new applications.
--
-- On test accounts the description decides the outcome, as on the real
-- service: AUTO_APPROVE, AUTO_DECLINE or AUTO_WAITING_FOR_SIGNATURE in
-- payout_destination_description.
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"

local M = {}

local Approvals = {}
Approvals.__index = Approvals

function M.new(client)
  return setmetatable({ _client = client }, Approvals)
end

local PATH = "/v1/accounts/{aid}/management/settings/approvals/payout-destinations"

local function fetch(client, filters, opts)
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api", path = PATH, params = { aid = client.account_id },
    query = call.copy(filters),
  }))
  if not res then return nil, meta, err end
  return type(res) == "table" and res.payout_destinations or {}, nil, res
end

--- client.approvals:list([{payout_destination_id=, case_status={...}}] [, opts])
-- -> cases, nil, body. The API does not page this list, so the cursor is
-- always nil (the same shape as every other list).
function Approvals:list(filters, opts)
  local client = call.self(self, Approvals, "approvals.list")
  if filters ~= nil then call.table_arg("approvals.list", "filters", filters) end
  opts = call.opts("approvals.list", opts)
  return fetch(client, filters, opts)
end

--- for case in client.approvals:each([filters] [, opts]) do ... end
function Approvals:each(filters, opts)
  local client = call.self(self, Approvals, "approvals.each")
  if filters ~= nil then call.table_arg("approvals.each", "filters", filters) end
  opts = call.opts("approvals.each", opts)
  return pager.each_once(function() return fetch(client, filters, opts) end)
end

--- client.approvals:create({payout_destination_id=, payout_reference=,
-- country_code=, organization_number=, bank_accounts={...}, ...} [, opts])
-- -> the new case (id, case_status, links ...), meta. Each call opens a new
-- case, so it is never re-sent automatically once it may have arrived.
function Approvals:create(args, opts)
  local client = call.self(self, Approvals, "approvals.create")
  call.table_arg("approvals.create", "args", args)
  opts = call.opts("approvals.create", opts)
  local r1, r2, r3 = validate.required_string(args.payout_destination_id, "payout_destination_id")
  if r2 then return r1, r2, r3 end
  return client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = PATH, params = { aid = client.account_id },
    body = call.copy(args), class = "payment",
  }))
end

return M
