-- client.settlements.report_configs: which settlement reports Dintero sends,
-- in which file types and to whom (api host). list / each (starting_after
-- paging), create, get, update (PUT replaces the writable fields), delete.
local call = require "dintero.call"
local validate = require "dintero.validate"
local pager = require "dintero.pager"

local M = {}

local ReportConfigs = {}
ReportConfigs.__index = ReportConfigs

function M.new(client)
  return setmetatable({ _client = client }, ReportConfigs)
end

local PATH = "/v1/accounts/{aid}/settlements/reports/configuration"
local ITEM_PATH = PATH .. "/{id}"
local NAME = "settlements.report_configs."

local function page(client, params, opts)
  local q = call.copy(params) or {}
  if q.cursor ~= nil then
    q.starting_after = q.cursor
    q.cursor = nil
  end
  local r1, r2, r3 = validate.limit(q.limit, 1, 1000)
  if r2 then return r1, r2, r3 end
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "api", path = PATH, params = { aid = client.account_id }, query = q,
  }))
  if not res then return nil, meta, err end
  local items = type(res) == "table" and res.items or {}
  local after = type(res) == "table" and res.starting_after or nil
  if not validate.present(after) then after = nil end
  return items, after, res
end

--- client.settlements.report_configs:list([{limit=, cursor=}] [, opts]) ->
-- items, next_cursor, body.
--- for config in client.settlements.report_configs:each() do ... end
pager.define(ReportConfigs, { name = NAME:sub(1, -2), page = page })

-- Local checks of a configuration body.
local function check_config(body)
  if type(body.filetypes) ~= "table" or #body.filetypes == 0 then
    return validate.fail("filetypes", "is required (a non-empty list such as {\"csv\"})")
  end
  if body.destinations ~= nil and type(body.destinations) ~= "table" then
    return validate.fail("destinations", "must be a list of {destination_type=, destination_value=}")
  end
end

--- client.settlements.report_configs:create({filetypes={"csv"}, destinations={...},
-- providers={...}, filters={...}} [, opts]) -> the new configuration, meta.
function ReportConfigs:create(args, opts)
  local client = call.self(self, ReportConfigs, NAME .. "create")
  call.table_arg(NAME .. "create", "args", args)
  opts = call.opts(NAME .. "create", opts)
  local r1, r2, r3 = check_config(args)
  if r2 then return r1, r2, r3 end
  return client:request(call.apply(client, opts, {
    method = "POST", host = "api", path = PATH, params = { aid = client.account_id },
    body = call.copy(args), class = "payment",
  }))
end

local function item_request(client, method, id, body, opts)
  return client:request(call.apply(client, opts, {
    method = method, host = "api", path = ITEM_PATH, params = { aid = client.account_id, id = id },
    body = body,
  }))
end

--- client.settlements.report_configs:get(id [, opts]) -> configuration, meta.
function ReportConfigs:get(id, opts)
  local client = call.self(self, ReportConfigs, NAME .. "get")
  call.string_arg(NAME .. "get", "id", id)
  opts = call.opts(NAME .. "get", opts)
  local body, meta, err = item_request(client, "GET", id, nil, opts)
  return body, meta, err
end

--- client.settlements.report_configs:update(id, {filetypes=, destinations=, ...} [, opts]).
function ReportConfigs:update(id, args, opts)
  local client = call.self(self, ReportConfigs, NAME .. "update")
  call.string_arg(NAME .. "update", "id", id)
  call.table_arg(NAME .. "update", "args", args)
  opts = call.opts(NAME .. "update", opts)
  local r1, r2, r3 = check_config(args)
  if r2 then return r1, r2, r3 end
  local body, meta, err = item_request(client, "PUT", id, call.copy(args), opts)
  return body, meta, err
end

--- client.settlements.report_configs:delete(id [, opts]) -> the removed configuration, meta.
function ReportConfigs:delete(id, opts)
  local client = call.self(self, ReportConfigs, NAME .. "delete")
  call.string_arg(NAME .. "delete", "id", id)
  opts = call.opts(NAME .. "delete", opts)
  local body, meta, err = item_request(client, "DELETE", id, nil, opts)
  return body, meta, err
end

return M
