-- Mock routes for settlement report configurations and report metadata (api host).
--
-- State (per account, see docs/mock-seed.md):
--   api.state.report_configs[aid] = { config items in creation order }
--   api.state.reports[aid]        = { ReportMetadata items, any order }
-- Both lists page with an id cursor: `starting_after` is the id of the last item of the
-- previous page, and the response carries it only when more items follow.
local checks = require "dintero.mock.checks"
local invalid = checks.invalid
local is_object = checks.is_object
local uuid = checks.uuid

local FILETYPES = { csv = true, xlsx = true, pdf = true, json = true }
local DESTINATION_TYPES = { account_email = true, email = true }

local function list_of(api, area, aid)
  api.state[area] = api.state[area] or {}
  api.state[area][aid] = api.state[area][aid] or {}
  return api.state[area][aid]
end

local function parse_limit(value, max, default)
  if value == nil then return default end
  local n = math.tointeger(tonumber(value))
  if n and n >= 1 and n <= max then return n end
end

-- One page of `list` after the item whose id is `after`. Returns the page and the cursor
-- for the next one (nil on the last page), or nil when `after` names no item.
local function page_after(api, list, after, limit)
  local start = 0
  if after then
    start = nil
    for i, item in ipairs(list) do
      if item.id == after then start = i break end
    end
    if not start then return nil end
  end
  local page = api.array()
  for i = start + 1, math.min(start + limit, #list) do page[#page + 1] = list[i] end
  local next_cursor = start + limit < #list and page[#page].id or nil
  return page, next_cursor
end

local function is_array(v)
  return type(v) == "table" and (next(v) == nil or v[1] ~= nil)
end

local function check_filetypes(v)
  if not is_array(v) or #v == 0 then return "must be a non-empty array" end
  for _, t in ipairs(v) do
    if not FILETYPES[t] then return "unknown filetype " .. tostring(t) .. " (csv, xlsx, pdf, json)" end
  end
end

local function check_destinations(v)
  if not is_array(v) then return "must be an array (empty: store only)" end
  for i, d in ipairs(v) do
    if type(d) ~= "table" or not DESTINATION_TYPES[d.destination_type] then
      return ("[%d].destination_type must be account_email or email"):format(i)
    end
    if d.destination_type == "email"
        and (type(d.destination_value) ~= "string" or not d.destination_value:find("@", 1, true)) then
      return ("[%d].destination_value must be an email address"):format(i)
    end
  end
end

local function check_filters(v)
  if v == nil then return nil end
  if not is_array(v) then return "must be an array" end
  for i, f in ipairs(v) do
    if type(f) ~= "table" or f.filter ~= "payout_destination_id" or type(f.value) ~= "string" then
      return ("[%d] must be {filter: \"payout_destination_id\", value: string}"):format(i)
    end
  end
end

-- Returns nil when body is a valid report configuration, else field, reason.
local function check_config(body)
  local why = check_filetypes(body.filetypes)
  if why then return "filetypes", why end
  why = check_destinations(body.destinations)
  if why then return "destinations", why end
  if not is_array(body.providers) then return "providers", "must be an array (empty: all)" end
  for _, p in ipairs(body.providers) do
    if type(p) ~= "string" then return "providers", "must hold strings" end
  end
  why = check_filters(body.filters)
  if why then return "filters", why end
  if body.send_every ~= nil and type(body.send_every) ~= "number" then
    return "send_every", "must be a number of milliseconds"
  end
end

-- Copies the writable fields of body onto item.
local function apply(api, item, body)
  item.filetypes = api.array(body.filetypes)
  item.destinations = api.array(body.destinations)
  item.providers = api.array(body.providers)
  item.filters = body.filters and api.array(body.filters) or nil
  item.send_every = body.send_every
  item.updated_at = api.iso8601()
  return item
end

local function read_body(api, req)
  local body = req.json
  if not is_object(api, body) then return nil, invalid(api, "body", "must be a JSON object") end
  local field, why = check_config(body)
  if field then return nil, invalid(api, field, why) end
  return body
end

local function create_config(api, req)
  local body, status, err = read_body(api, req)
  if not body then return status, err end
  local item = apply(api, { id = uuid(), account_id = req.params.aid }, body)
  item.created_at = item.updated_at
  local list = list_of(api, "report_configs", req.params.aid)
  list[#list + 1] = item
  return 200, item
end

local function find_config(api, req)
  for i, item in ipairs(list_of(api, "report_configs", req.params.aid)) do
    if item.id == req.params.id then return item, i end
  end
end

local function config_not_found(api)
  return api.fail(404, "NOT_FOUND", "report configuration not found")
end

local function get_config(api, req)
  local item = find_config(api, req)
  if not item then return config_not_found(api) end
  return 200, item
end

local function update_config(api, req)
  local item = find_config(api, req)
  if not item then return config_not_found(api) end
  local body, status, err = read_body(api, req)
  if not body then return status, err end
  return 200, apply(api, item, body)
end

local function delete_config(api, req)
  local item, i = find_config(api, req)
  if not item then return config_not_found(api) end
  table.remove(list_of(api, "report_configs", req.params.aid), i)
  return 200, item
end

local function list_configs(api, req)
  local limit = parse_limit(req.query.limit, 1000, 100)
  if not limit then return invalid(api, "limit", "must be an integer from 1 to 1000") end
  local list = list_of(api, "report_configs", req.params.aid)
  local items, cursor = page_after(api, list, req.query.starting_after, limit)
  if not items then return invalid(api, "starting_after", "unknown cursor") end
  return 200, { items = items, starting_after = cursor }
end

local function newest_first(a, b)
  if a.created_at ~= b.created_at then return a.created_at > b.created_at end
  return a.id > b.id
end

local function list_reports(api, req)
  local limit = parse_limit(req.query.limit, 100, 10)
  if not limit then return invalid(api, "limit", "must be an integer from 1 to 100") end
  local list = {}
  for i, r in ipairs(list_of(api, "reports", req.params.aid)) do list[i] = r end
  table.sort(list, newest_first)
  local reports, cursor = page_after(api, list, req.query.starting_after, limit)
  if not reports then return invalid(api, "starting_after", "unknown cursor") end
  return 200, { reports = reports, starting_after = cursor }
end

return function(api)
  local configs = "/v1/accounts/{aid}/settlements/reports/configuration"
  local function on(method, path, handler)
    api.route(method, path, function(req) return handler(api, req) end, { auth = true })
  end
  on("GET", configs, list_configs)
  on("POST", configs, create_config)
  on("GET", configs .. "/{id}", get_config)
  on("PUT", configs .. "/{id}", update_config)
  on("DELETE", configs .. "/{id}", delete_config)
  on("GET", "/v1/accounts/{aid}/reports/metadata", list_reports)
end
