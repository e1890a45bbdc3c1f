-- Mock routes for seller approvals (api host): the KYC cases that enrol a new seller
-- (payout destination) into Dintero Payout.
--
-- State: api.state.approvals[aid] = { cases in creation order }.
-- Test accounts (T...) decide the outcome from markers in payout_destination_description,
-- as the real service does; an ACTIVE case also enrols the seller in api.state.payouts so
-- that balances and fund transfers work for it straight away.
local checks = require "dintero.mock.checks"
local invalid = checks.invalid
local is_object = checks.is_object
local uuid = checks.uuid

local CASE_STATUSES = {
  ACTIVE = true, DECLINED = true, UNDER_MANUAL_REVIEW = true, AUTOMATIC_REVIEW = true,
  WAITING_FOR_SIGNATURE = true, WAITING_FOR_DECLARATION = true, ERROR = true,
  ARCHIVED = true, WAITING_FOR_DETAILS = true, TERMINATED = true,
}
local INTERVALS = { daily = true, weekly = true, monthly = true }

-- When a description carries several markers, the first one in this list wins.
local MARKERS = {
  { "AUTO_WAITING_FOR_SIGNATURE", "WAITING_FOR_SIGNATURE" },
  { "AUTO_APPROVE", "ACTIVE" },
  { "AUTO_DECLINE", "DECLINED" },
}

local function cases(api, aid)
  api.state.approvals = api.state.approvals or {}
  api.state.approvals[aid] = api.state.approvals[aid] or {}
  return api.state.approvals[aid]
end

local function check_string(body, field, max, optional)
  local v = body[field]
  if v == nil and optional then return nil end
  if type(v) ~= "string" or v == "" then return "is required and must be a non-empty string" end
  if max and (utf8.len(v) or #v) > max then
    return ("must be at most %d characters"):format(max)
  end
end

local STRING_FIELDS = {         -- field, max length, optional
  { "payout_destination_id", 40 },
  { "payout_reference", 60 },
  { "organization_number" },
  { "payout_destination_name", 60, true },
  { "payout_destination_description", 1000, true },
}

-- Returns nil when the body is a valid ApprovalsPayoutDestination, else field, reason.
local function check_case(body)
  for _, f in ipairs(STRING_FIELDS) do
    local why = check_string(body, f[1], f[2], f[3])
    if why then return f[1], why end
  end
  if type(body.country_code) ~= "string" or not body.country_code:match "^%a%a$" then
    return "country_code", "must be a two-letter ISO 3166-1 alpha-2 code"
  end
  local accounts = body.bank_accounts
  if type(accounts) ~= "table" or #accounts ~= 1 or type(accounts[1]) ~= "table" then
    return "bank_accounts", "must be an array of exactly one bank account object"
  end
  if body.payout_interval_type ~= nil and not INTERVALS[body.payout_interval_type] then
    return "payout_interval_type", "must be one of daily, weekly, monthly"
  end
  if body.form_submitter ~= nil and type(body.form_submitter) ~= "table" then
    return "form_submitter", "must be an object"
  end
end

local function decide_status(aid, description)
  if aid:sub(1, 1) ~= "T" then return "UNDER_MANUAL_REVIEW" end  -- markers are test-only
  for _, m in ipairs(MARKERS) do
    if (description or ""):find(m[1], 1, true) then return m[2] end
  end
  return "UNDER_MANUAL_REVIEW"
end

-- An approved seller becomes a payout destination with no money yet.
local function enrol(api, aid, id)
  api.state.payouts = api.state.payouts or {}
  local b = api.state.payouts[aid] or { destinations = {}, fund_transfers = {} }
  api.state.payouts[aid] = b
  b.destinations[id] = b.destinations[id] or {
    payout_destination_id = id,
    payout_destination_config_id = "cfg-" .. id,
    balances = {},
    entries = {},
  }
end

local function new_case(api, req, body)
  local aid, now = req.params.aid, api.iso8601()
  local case = {}
  for k, v in pairs(body) do case[k] = v end
  case.bank_accounts = api.array(body.bank_accounts)
  case.id = uuid()
  case.created_at, case.updated_at = now, now
  case.created_by = req.token and req.token.client_id or "mock-client"
  case.case_status = decide_status(aid, body.payout_destination_description)
  case.links = api.array {
    { rel = "contract_url", href = "https://onboarding.mock.dintero.invalid/contracts/" .. case.id },
  }
  return case
end

local function create(api, req)
  local body = req.json
  if not is_object(api, body) then return invalid(api, "body", "must be a JSON object") end
  local field, why = check_case(body)
  if field then return invalid(api, field, why) end
  local case = new_case(api, req, body)
  local list = cases(api, req.params.aid)
  list[#list + 1] = case
  if case.case_status == "ACTIVE" then enrol(api, req.params.aid, case.payout_destination_id) end
  return 200, case
end

-- case_status may repeat (?case_status=A&case_status=B) or be comma-separated.
local function wanted_statuses(req)
  local values = req.query_all and req.query_all.case_status
  if not values then return nil end
  local set = {}
  for _, v in ipairs(values) do
    for s in v:gmatch "[^,]+" do
      if not CASE_STATUSES[s] then return nil, s end
      set[s] = true
    end
  end
  return set
end

local function list(api, req)
  local statuses, bad = wanted_statuses(req)
  if bad then return invalid(api, "case_status", "unknown status " .. bad) end
  local id = req.query.payout_destination_id
  local out = api.array()
  for _, case in ipairs(cases(api, req.params.aid)) do
    if (not id or case.payout_destination_id == id)
        and (not statuses or statuses[case.case_status]) then
      out[#out + 1] = case
    end
  end
  return 200, { payout_destinations = out }
end

return function(api)
  local path = "/v1/accounts/{aid}/management/settings/approvals/payout-destinations"
  api.route("GET", path, function(req) return list(api, req) end, { auth = true })
  api.route("POST", path, function(req) return create(api, req) end, { auth = true })
end
