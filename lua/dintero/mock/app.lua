-- The mock's application: the route registrar and router, the state, the `api`
-- object handed to every routes/<area>.lua (the contract in docs/architecture.md),
-- authentication of Bearer tokens, the request log and the counters.
--
-- Transport-free: server.lua turns bytes into `req` tables and calls app:serve(req);
-- this file never touches a socket, which keeps it easy to reason about.
local socket = require "socket"
local json = require "dintero.mock.json"
local faults = require "dintero.mock.faults"

local M = {}
local App = {}
App.__index = App

-- Route modules shipped with the mock; any other file in routes/ is loaded too.
local ROUTE_MODULES = {
  "auth", "sessions", "transactions", "admin", "control",
  "payouts", "approvals", "settlements", "reports", "branding",
}

local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

--- A random string of n characters from [A-Za-z0-9].
local function random_string(n)
  local out = {}
  for i = 1, n do
    local k = math.random(#ALNUM)
    out[i] = ALNUM:sub(k, k)
  end
  return table.concat(out)
end

-- Days since 1970-01-01 of a civil date (H. Hinnant's algorithm): UTC without os.time,
-- which would apply the local time zone.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

--- ISO 8601 UTC text of epoch seconds t: 2026-01-31T12:00:00.123Z.
local function iso8601(t)
  local secs = math.floor(t)
  local ms = math.floor((t - secs) * 1000 + 0.5)
  if ms >= 1000 then ms = 999 end
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%03dZ", ms)
end

--- Parses an ISO 8601 date or date-time (UTC unless an offset is given) into epoch
-- seconds; returns nil when it is not one.
local function parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local t = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
  if rest == "" then return t end
  local h, mi, sec, tail = rest:match("^[Tt ](%d%d):(%d%d):?(%d*%.?%d*)(.*)$")
  if not h then return nil end
  t = t + tonumber(h) * 3600 + tonumber(mi) * 60 + (tonumber(sec) or 0)
  if tail == "" or tail == "Z" or tail == "z" then return t end
  local sign, oh, om = tail:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then return nil end
  local off = tonumber(oh) * 3600 + tonumber(om) * 60
  return sign == "+" and t - off or t + off
end

M.iso8601, M.parse_time, M.random_string = iso8601, parse_time, random_string

-- Error code used when a status is answered without a more specific one.
local STATUS_CODES = {
  [400] = "BAD_REQUEST", [401] = "UNAUTHORIZED", [403] = "FORBIDDEN", [404] = "NOT_FOUND",
  [405] = "METHOD_NOT_ALLOWED", [408] = "REQUEST_TIMEOUT", [409] = "CONFLICT",
  [413] = "PAYLOAD_TOO_LARGE", [415] = "UNSUPPORTED_MEDIA_TYPE", [429] = "TOO_MANY_REQUESTS",
  [431] = "REQUEST_HEADER_FIELDS_TOO_LARGE", [500] = "INTERNAL_ERROR", [502] = "BAD_GATEWAY",
  [503] = "SERVICE_UNAVAILABLE", [504] = "GATEWAY_TIMEOUT",
}
M.STATUS_CODES = STATUS_CODES

--- The real error shape: status, {error = {code, message[, errors]}}.
local function fail(status, code, message, errors)
  local e = { code = code or STATUS_CODES[status] or "ERROR", message = message or "error" }
  if errors then e.errors = json.array(errors) end
  return status, { error = e }
end

M.fail = fail

-- Splits a path into segments ("/a/b" -> {"a", "b"}).
local function segments(path)
  local list = {}
  for seg in path:gmatch("[^/]+") do list[#list + 1] = seg end
  return list
end

-- Compiles "/v1/sessions/{id}" into a matcher; literal segments score higher so
-- /v1/sessions/pay wins over /v1/sessions/{id}.
local function compile(pattern)
  local segs, names, score = segments(pattern), {}, 0
  for i, s in ipairs(segs) do
    local name = s:match("^{([%w_]+)}$")
    names[i] = name
    if not name then score = score + 2 ^ (#segs - i) end
  end
  return { segs = segs, names = names, score = score }
end

local function match(route, segs)
  if #segs ~= #route.segs then return nil end
  local params = {}
  for i, s in ipairs(route.segs) do
    local name = route.names[i]
    if name then
      params[name] = (segs[i]:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    elseif s ~= segs[i] then
      return nil
    end
  end
  return params
end

--- Creates an app for config = {account_id, client_id, client_secret, token_ttl, ...}.
function M.new(config)
  local self = setmetatable({
    config = config,
    routes = {},
    tokens = {},            -- access token -> {account, client_id, expires_at, grant}
    clock_offset = 0,
    epoch = 0,              -- bumped by reset; tasks of an older epoch stop writing state
    faults = faults.new(),
  }, App)
  self.api = self:make_api()
  self:reset_state()
  self:load_routes()
  self:seed()
  return self
end

function App:now()
  return socket.gettime() + self.clock_offset
end

-- The api object given to route modules; fields beyond the contract are extensions
-- documented in docs/architecture.md.
function App:make_api()
  local app = self
  local api = {
    state = {},
    json = json,
    array = json.array,
    fail = fail,
    iso8601 = function(t) return iso8601(t or app:now()) end,
    parse_time = parse_time,
    random_string = random_string,
    config = self.config,
    account_id = self.config.account_id,
    app = self,
  }
  function api.route(method, pattern, handler, opts)
    local r = compile(pattern)
    r.method, r.pattern, r.handler, r.opts = method:upper(), pattern, handler, opts or {}
    app.routes[#app.routes + 1] = r
  end
  function api.now() return app:now() end
  function api.new_id(account)
    return (account or app.config.account_id) .. "." .. random_string(24)
  end
  function api.base_url(req)
    local host = req and req.headers and req.headers.host
    if not host or not host:match("^[%w%.%-:%[%]]+$") then
      host = app.config.host .. ":" .. tostring(app.config.port)
    end
    return "http://" .. host
  end
  return api
end

-- Clears api.state in place, so a route module that kept a reference to it still
-- sees the live table.
function App:reset_state()
  local state = self.api.state
  for k in pairs(state) do state[k] = nil end
  self.epoch = self.epoch + 1
  self.requests = {}
  self.stats = { connections = 0, connections_accepted = 0, requests = 0,
                 control_requests = 0, token_requests = 0 }
  self.faults:clear()
end

--- Forgets all state (and tokens when forget_tokens) and re-seeds.
function App:reset(forget_tokens)
  self:reset_state()
  if forget_tokens then self.tokens = {} end
  self.clock_offset = 0
  self:seed()
end

local function module_missing(name, err)
  return tostring(err):find("module '" .. name:gsub("%p", "%%%0") .. "' not found", 1) ~= nil
end

-- Lists the .lua files beside the shipped route modules (no lfs: ask ls once).
local function extra_route_names()
  local path = package.searchpath("dintero.mock.routes.auth", package.path)
  if not path then return {} end
  local dir = path:gsub("auth%.lua$", "")
  local names = {}
  local p = io.popen("ls -1 '" .. dir:gsub("'", "") .. "' 2>/dev/null")
  if p then
    for line in p:lines() do
      local n = line:match("^([%w_]+)%.lua$")
      if n then names[#names + 1] = n end
    end
    p:close()
  end
  return names
end

function App:load_routes()
  local seen, names = {}, {}
  for _, n in ipairs(ROUTE_MODULES) do names[#names + 1] = n end
  for _, n in ipairs(extra_route_names()) do names[#names + 1] = n end
  for _, n in ipairs(names) do
    if not seen[n] then
      seen[n] = true
      local name = "dintero.mock.routes." .. n
      local ok, mod = pcall(require, name)
      if ok and type(mod) == "function" then
        local rok, err = pcall(mod, self.api)
        if not rok then io.stderr:write("dintero-mock: routes/", n, ": ", tostring(err), "\n") end
      elseif not ok and not module_missing(name, mod) then
        -- a broken route module must not take the whole mock down
        io.stderr:write("dintero-mock: cannot load ", name, ": ", tostring(mod), "\n")
      end
    end
  end
end

function App:seed()
  local ok, seed = pcall(require, "dintero.mock.seed")
  if ok and type(seed) == "function" then
    local sok, err = pcall(seed, self.api)
    if not sok then io.stderr:write("dintero-mock: seed: ", tostring(err), "\n") end
  elseif not ok and not module_missing("dintero.mock.seed", seed) then
    io.stderr:write("dintero-mock: cannot load seed: ", tostring(seed), "\n")
  end
end

--- Issues an access token; returns the token string and its record.
function App:issue_token(rec)
  local token = "mock_at_" .. random_string(40)
  rec.expires_at = self:now() + (rec.ttl or self.config.token_ttl)
  self.tokens[token] = rec
  return token, rec
end

-- Finds the Bearer token of a request: the record, or nil and a message.
function App:bearer(req)
  local auth = req.headers.authorization
  local token = auth and auth:match("^[Bb]earer%s+(%S+)%s*$")
  if not token then return nil, "missing Bearer access token" end
  local rec = self.tokens[token]
  if not rec then return nil, "invalid access token" end
  if rec.expires_at <= self:now() then return nil, "access token expired" end
  return rec
end

-- Authenticates req for a route needing a token; returns nil or a fail pair.
function App:authenticate(req)
  local rec, msg = self:bearer(req)
  if not rec then return fail(401, "UNAUTHORIZED", msg) end
  local aid = req.params.aid or req.params.oid
  if aid and aid ~= rec.account then
    return fail(401, "UNAUTHORIZED", "access token is not valid for account " .. aid)
  end
  req.account, req.token = rec.account, rec
  return nil
end

-- Finds the route for method + path: route, params; or nil, status.
function App:find(method, path)
  local segs, best, params, path_known = segments(path), nil, nil, false
  for _, r in ipairs(self.routes) do
    local p = match(r, segs)
    if p then
      path_known = true
      if (r.method == method or r.method == "*") and (not best or r.score > best.score) then
        best, params = r, p
      end
    end
  end
  if best then return best, params end
  return nil, path_known and 405 or 404
end

-- Encodes a handler result into status, body string, headers.
local function finish(status, body, headers)
  headers = headers or {}
  local out = {}
  for k, v in pairs(headers) do out[k:lower()] = v end
  if type(body) == "table" then
    body = json.encode(body)
    out["content-type"] = out["content-type"] or "application/json; charset=utf-8"
  elseif type(body) == "string" then
    out["content-type"] = out["content-type"] or "text/plain; charset=utf-8"
  else
    body = ""
  end
  return { status = math.tointeger(status) or 500, body = body, headers = out }
end
M.finish = finish

local function is_json_type(ct)
  ct = (ct or ""):lower()
  return ct:match("^application/json") or ct:match("^application/[%w.-]+%+json")
end

-- Checks the body of req and decodes req.json; returns nil or a fail pair.
local function parse_body(req)
  if req.body == "" then return nil end
  if not is_json_type(req.headers["content-type"]) then
    return fail(415, "UNSUPPORTED_MEDIA_TYPE",
      "request body must be application/json (got " .. tostring(req.headers["content-type"]) .. ")")
  end
  local v, err = json.decode(req.body)
  if v == nil then
    return fail(400, "INVALID_REQUEST_PARAMETER", "malformed JSON body: " .. tostring(err))
  end
  req.json = v
  return nil
end

--- Routes req and runs its handler; returns {status, body, headers}. Never raises.
function App:handle(req)
  local ok, res = xpcall(function()
    local route, params = self:find(req.method, req.path)
    if not route then
      if params == 405 then
        return finish(fail(405, "METHOD_NOT_ALLOWED", req.method .. " is not allowed on " .. req.path))
      end
      return finish(fail(404, "NOT_FOUND", "no route for " .. req.method .. " " .. req.path))
    end
    req.params = params
    if route.opts.auth ~= false then
      local st, body = self:authenticate(req)
      if st then return finish(st, body) end
    end
    if route.opts.raw_body ~= true then
      local st, body = parse_body(req)
      if st then return finish(st, body) end
    end
    return finish(route.handler(req))
  end, debug.traceback)
  if ok then return res end
  io.stderr:write("dintero-mock: handler error: ", tostring(res), "\n")
  return finish(fail(500, "INTERNAL_ERROR", "mock handler failed: " ..
    tostring(res):match("^[^\n]*")))
end

local function is_control(path)
  return path:sub(1, 7) == "/_mock/" or path == "/_mock"
end
M.is_control = is_control

-- Values never shown in the request log.
local SECRET_FIELDS = { "client_secret", "password", "access_token", "refresh_token",
                        "secret", "mfa_token", "oob_code", "binding_code", "token",
                        "payment_token", "recurrence_token" }

-- The end of the JSON string whose opening quote is at i: the index of its
-- closing quote, stepping over escapes (\" among them), or #s.
local function string_end(s, i)
  local j = i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if c == "\\" then j = j + 2
    elseif c == '"' then return j
    else j = j + 1 end
  end
  return #s
end

-- Every JSON string value of member f in s replaced by "***".
local function mask_json_member(s, f)
  local out, at = {}, 1
  while true do
    local _, colon_end = s:find('"' .. f .. '"%s*:%s*"', at)
    if not colon_end then break end
    out[#out + 1] = s:sub(at, colon_end) .. '***"'
    at = string_end(s, colon_end) + 1
  end
  out[#out + 1] = s:sub(at)
  return table.concat(out)
end

local function mask_text(s)
  for _, f in ipairs(SECRET_FIELDS) do
    s = mask_json_member(s, f)
    s = s:gsub("([?&]" .. f .. "=)[^&]*", "%1***")
  end
  return s
end

M.mask_text = mask_text

local function masked_headers(h)
  local out = {}
  for k, v in pairs(h) do
    if k == "authorization" or k == "cookie" or k == "x-api-key" then v = "***" end
    out[k] = v
  end
  return out
end

-- The request log keeps the newest entries only, so a long-running mock does not
-- grow without bound.
local MAX_LOG = 10000

-- Appends req (masked) and its answer to the request log.
function App:record(req, res)
  if #self.requests >= MAX_LOG then table.remove(self.requests, 1) end
  self.requests[#self.requests + 1] = {
    method = req.method, path = req.path, query = mask_text("?" .. (req.raw_query or "")):sub(2),
    headers = masked_headers(req.headers), body = mask_text(req.body or ""),
    status = (res and res.status ~= 0) and res.status or json.null, time = iso8601(self:now()),
  }
end

--- Counts a connection when it carries its first non-control request of an epoch,
-- so the fixture's own control calls do not disturb keep-alive assertions.
function App:count_connection(conn)
  if conn.counted_epoch ~= self.epoch then
    conn.counted_epoch = self.epoch
    self.stats.connections = self.stats.connections + 1
  end
end

--- Serves one parsed request: faults first, then the route. Returns the response
-- {status, body, headers} with fault fields (action, delay, size) when one applies.
function App:serve(req, conn)
  if is_control(req.path) then
    self.stats.control_requests = self.stats.control_requests + 1
    return self:handle(req)
  end
  self.stats.requests = self.stats.requests + 1
  req.id = "mock-req-" .. random_string(20)
  if conn then self:count_connection(conn) end
  local fault = self.faults:take(req.method, req.path)
  local res
  if fault and fault.action == "drop_before" then
    res = { status = 0, body = "", headers = {} }
  elseif fault and fault.status and not fault.perform and fault.action ~= "drop_after" then
    res = faults.response(fault)
  else
    req.async = fault and fault.action == "async" or nil
    res = self:handle(req)
    if fault and fault.status and fault.action ~= "drop_after" then
      res = faults.response(fault)   -- perform = true: done, but answered with the fault
    end
  end
  if fault then faults.decorate(res, fault) end
  res.headers["request-id"] = req.id
  self:record(req, res)
  return res
end

return M
