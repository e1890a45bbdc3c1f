-- Client options: defaults and checks, done once at dintero.new so that a
-- typo or a bad value fails at creation with the field's name, never later in
-- the middle of a payment.
local M = {}

local ACCOUNT_PATTERN = "^[PT]%d%d%d%d%d%d%d%d$"

local DEFAULTS = {
  api_url = "https://api.dintero.com",
  checkout_url = "https://checkout.dintero.com",
  timeout = 30,
  connect_timeout = 10,
  retries = 2,
  retry_base = 0.5,
  retry_cap = 5,
  max_retry_after = 10,
  max_response_bytes = 64 * 1024 * 1024,
  max_header_bytes = 256 * 1024,
  max_header_count = 200,
}

-- name -> checker(value) returning an error detail or nil
local function is_string(v) if type(v) ~= "string" then return "must be a string" end end
local function non_empty(v)
  if type(v) ~= "string" or v == "" then return "must be a non-empty string" end
end
local function positive(v)
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then return "must be a positive number" end
end
local function is_bool(v) if type(v) ~= "boolean" then return "must be a boolean" end end
local function is_function(v)
  if type(v) ~= "function" then return "must be a function(event)" end
end
local function whole(lo, hi)
  return function(v)
    if type(v) ~= "number" or v % 1 ~= 0 or v < lo or v > hi then
      return ("must be a whole number from %d to %d"):format(lo, hi)
    end
  end
end
local function string_list(v)
  if type(v) ~= "table" then return "must be a list of strings" end
  for i, s in ipairs(v) do
    if type(s) ~= "string" or s:find "[,\r\n]" then return ("[%d] must be a string without commas or newlines"):format(i) end
  end
end

local SYSTEM_FIELDS = { name = true, version = true, plugin_name = true, plugin_version = true }
local function system_table(v)
  if type(v) ~= "table" then return "must be a table {name, version, plugin_name, plugin_version}" end
  for k, s in pairs(v) do
    if not SYSTEM_FIELDS[k] then return ("has unknown field '%s'"):format(tostring(k)) end
    if type(s) ~= "string" or s:find "[\r\n]" then return ("%s must be a string without CR or LF"):format(k) end
  end
end

local CHECKS = {
  account_id = function(v)
    if type(v) ~= "string" or not v:match(ACCOUNT_PATTERN) then
      return "must be T or P followed by 8 digits (T = test, P = production), e.g. T12345678"
    end
  end,
  client_id = non_empty,
  client_secret = non_empty,
  api_url = non_empty,
  checkout_url = non_empty,
  audience = non_empty,
  timeout = positive,
  connect_timeout = positive,
  retries = whole(0, 10),
  retry_base = positive,
  retry_cap = positive,
  max_retry_after = positive,
  ca_file = non_empty,
  proxy = is_string,
  user_agent = non_empty,
  system = system_table,
  logger = is_function,
  log_bodies = is_bool,
  insecure_http = is_bool,
  feature_toggles = string_list,
  max_response_bytes = whole(1024, 2 ^ 40),
  -- libcurl itself refuses a header section above 300 KiB, so more cannot be honoured.
  max_header_bytes = whole(1024, 300 * 1024),
  max_header_count = whole(1, 100000),
  profile_image_path = function(v)
    if v ~= "profile" and v ~= "account" then return "must be \"profile\" or \"account\"" end
  end,
  transport = function(v)
    if v ~= "auto" and v ~= "curl" and v ~= "ngx" then return "must be \"auto\", \"curl\" or \"ngx\"" end
  end,
  shared_dict = non_empty,
}

local REQUIRED = { "account_id", "client_id", "client_secret" }

local function fail(field, detail)
  error(("dintero.new: %s %s"):format(field, detail), 3)
end

local LOOPBACK = { localhost = true, ["127.0.0.1"] = true, ["[::1]"] = true }

-- Splits a base URL and enforces https unless the host is loopback or the
-- caller opted out explicitly; plain http to a real host would send the
-- credentials in clear text.
local function check_base(field, url, insecure)
  local scheme, host = url:match "^(https?)://([^/:]+)"
  if not scheme then
    host = url:match "^https?://(%[[^%]]+%])"
    scheme = url:match "^(https?)://"
  end
  if not scheme or not host then fail(field, "must be an http(s) URL like https://api.dintero.com") end
  if url:find "[\r\n%s]" then fail(field, "must not contain whitespace") end
  if url:find "[?#]" then fail(field, "must not contain a query or fragment") end
  local loop = LOOPBACK[host:lower()] or host:match "^127%.%d+%.%d+%.%d+$"
  if scheme == "http" and not loop and not insecure then
    fail(field, "uses plain http to a non-loopback host; use https (or insecure_http = true for a test proxy)")
  end
  return (url:gsub("/+$", "")), loop and true or false
end

--- Returns a new table with defaults applied; raises on the first bad field.
function M.check(opts)
  if type(opts) ~= "table" then error("dintero.new: options table expected", 3) end
  for k, v in pairs(opts) do
    local check = CHECKS[k]
    if not check then fail(tostring(k), "is not a known option (see docs/api.md)") end
    local problem = check(v)
    if problem then fail(k, problem) end
  end
  for _, k in ipairs(REQUIRED) do
    if opts[k] == nil then fail(k, "is required") end
  end
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  o.api_url, o.api_loopback = check_base("api_url", o.api_url, o.insecure_http)
  o.checkout_url, o.checkout_loopback = check_base("checkout_url", o.checkout_url, o.insecure_http)
  o.audience = o.audience or ("https://api.dintero.com/v1/accounts/" .. o.account_id)
  o.transport = o.transport or "auto"
  o.profile_image_path = o.profile_image_path or "profile"
  return o
end

return M
