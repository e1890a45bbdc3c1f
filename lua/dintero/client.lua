-- The client object returned by dintero.new: options, the transport, the
-- access token, and the namespaces (client.sessions, client.transactions ...).
--
-- Credentials go into the C transport at creation and are not kept in any Lua
-- table, so neither tostring(client), pairs(client) nor an error can show
-- them. The table has no __gc of its own (Lua 5.1 tables cannot have one): the
-- transport userdata owns every resource and releases it on close or collection.
local core = require "dintero.core"
local options = require "dintero.options"
local request = require "dintero.request"

local M = {}

local Client = {}
Client.__index = Client

local NAMESPACES = { "auth", "sessions", "transactions", "payouts", "approvals", "settlements", "reports", "branding" }

local function lua_version()
  if rawget(_G, "jit") then return rawget(_G, "jit").version end
  return _VERSION
end

local function default_user_agent()
  return ("dintero-lua/%s (%s; %s)"):format(core.version, lua_version(), (core.curl_version:match "^%S+" or "libcurl"))
end

local SYSTEM_HEADERS = {
  { "name", "Dintero-System-Name" }, { "version", "Dintero-System-Version" },
  { "plugin_name", "Dintero-System-Plugin-Name" }, { "plugin_version", "Dintero-System-Plugin-Version" },
}

--- The header lines every request carries, built once: the set for requests
-- without a body and the set for requests with one (Content-Type, and an
-- empty Expect: that stops libcurl's 100-continue round trip). The transport
-- only reads these lists, so calls without headers of their own share them.
-- The User-Agent travels as one of these lines rather than through libcurl's
-- CURLOPT_USERAGENT, which formats the header anew on every request.
local function static_headers(o)
  local lines = { "Accept: application/json", "User-Agent: " .. o.user_agent }
  for _, pair in ipairs(SYSTEM_HEADERS) do
    local v = o.system and o.system[pair[1]]
    if v then lines[#lines + 1] = pair[2] .. ": " .. v end
  end
  local with_body = { "Content-Type: application/json", "Expect:" }
  for _, line in ipairs(lines) do with_body[#with_body + 1] = line end
  -- Each line's lower-case name, for calls whose own headers replace some.
  local names = {}
  for _, line in ipairs(with_body) do names[line] = line:match("^[^:]+"):lower() end
  return lines, with_body, names
end

local function ngx_available()
  return (pcall(require, "dintero.ngx.transport"))
end

local function public_options(o)
  local copy = {}
  for k, v in pairs(o) do
    if k ~= "client_secret" then copy[k] = v end
  end
  return copy
end

local function attach_namespaces(client)
  for _, name in ipairs(NAMESPACES) do
    local ok, mod = pcall(require, "dintero." .. name)
    if ok then
      client[name] = mod.new(client)
    elseif not tostring(mod):find("module 'dintero." .. name .. "' not found", 1, true) then
      error(mod, 0)
    end
  end
end

function M.new(opts)
  local o = options.check(opts)
  o.user_agent = o.user_agent or default_user_agent()
  local transport = core.transport {
    timeout = o.timeout, connect_timeout = o.connect_timeout, ca_file = o.ca_file, proxy = o.proxy,
    max_response_bytes = o.max_response_bytes,
    max_header_bytes = o.max_header_bytes, max_header_count = o.max_header_count,
    client_id = o.client_id, client_secret = o.client_secret,
  }
  local plain_lines, body_lines, line_names = static_headers(o)
  local self = setmetatable({
    account_id = o.account_id,
    options = public_options(o),
    _transport = transport,
    _static_headers = plain_lines,
    _static_body_headers = body_lines,
    _static_header_names = line_names,
    _sleep = core.sleep,
  }, Client)
  -- Inside OpenResty the cosocket transport wraps the libcurl one: it sends
  -- over ngx.socket.tcp where the phase allows and falls back to libcurl
  -- elsewhere, sharing the token state kept in the C transport.
  if o.transport == "ngx" or (o.transport == "auto" and rawget(_G, "ngx") and ngx_available()) then
    self._transport, self._sleep = require("dintero.ngx.transport").wrap(transport, o)
  end
  attach_namespaces(self)
  return self
end

local function check_open(self)
  if self._closed then error("dintero: client is closed", 3) end
end

--- See docs/architecture.md for the spec fields.
function Client:request(spec)
  check_open(self)
  if type(spec) ~= "table" then error("client:request: spec table expected", 2) end
  return request.run(self, spec)
end

local function token_failure(msg)
  return core.fail { kind = "auth", message = msg, retryable = false }
end

--- Fetches a new client-credentials token and stores it in the transport.
function Client:_fetch_token()
  local body, msg, err = request.run(self, {
    method = "POST", host = "api", path = "/v1/accounts/{aid}/auth/token",
    params = { aid = self.account_id },
    body = { grant_type = "client_credentials", audience = self.options.audience },
    auth = "basic", class = "idempotent", error_kind = "auth", secret_body = true,
  })
  if not body then return nil, msg, err end
  if type(body) ~= "table" or type(body.access_token) ~= "string" or body.access_token == ""
    or type(body.expires_in) ~= "number" or body.expires_in <= 0 then
    return token_failure "token endpoint answered without access_token and expires_in"
  end
  self._transport:store_token(body.access_token, body.expires_in)
  return true
end

--- Fetches when the token is missing or expired, refreshes ahead of expiry,
-- and keeps using a still-valid token when the early refresh fails (the next
-- call tries again). Checks the state itself: under a lock it may find that
-- another caller has just stored a token.
local function refresh_token(self)
  local state = self._transport:token_state()
  if state == "fresh" then return true end
  local ok, msg, err = self:_fetch_token()
  if ok or state == "due" then return true end
  return nil, msg, err
end

--- Makes sure a usable token is stored. A transport whose callers can
-- interleave (OpenResty light threads, nginx workers) offers token_flight:
-- one caller fetches while the others wait and then find the token fresh.
-- The libcurl transport blocks, so its callers never interleave.
function Client:_ensure_token()
  local t = self._transport
  if t:token_state() == "fresh" then return true end
  if t.token_flight then return t:token_flight(refresh_token, self) end
  return refresh_token(self)
end

--- The current access token and its remaining lifetime in seconds,
-- fetched when needed.
function Client:_token()
  check_open(self)
  local ok, msg, err = self:_ensure_token()
  if not ok then return nil, msg, err end
  return self._transport:token()
end

--- Runs requests at once over libcurl's multi interface; results come back in
-- order, each as {body, meta} or {nil, msg, err} packed in a table
-- {ok=, body=, meta=, msg=, err=}.
function Client:parallel(specs, opts)
  check_open(self)
  return require("dintero.parallel").run(self, specs, opts or {})
end

function Client:close()
  if self._closed then return end
  self._closed = true
  self._transport:close()
end

Client.__close = Client.close
Client.__gc = Client.close

function Client:__tostring()
  local api = self.options.api_url
  return ("dintero.Client(%s %s%s)"):format(self.account_id, api, self._closed and " closed" or "")
end

M.Client = Client
return M
