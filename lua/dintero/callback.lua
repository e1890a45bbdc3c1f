-- dintero.callback: what a shop needs when Dintero calls it.
--
-- verify / verify_ngx check the Dintero-Signature header of a session callback
-- (HMAC-SHA256 over "<t>\n<account>\n<METHOD>\n<hostname>\n<path>\n<sorted query>",
-- computed and compared in the C core); sign builds such a header for tests;
-- verify_webhook checks the event-signature of webhook subscriptions; parse
-- reads a callback's parameters and body; shipping_options_response and
-- discount_codes_response build the JSON answers of the express callbacks.
-- See docs/callbacks.md. Misuse raises; a request that fails verification
-- returns nil, "signature: <detail>", err with err.reason set.
local core = require "dintero.core"

local sig = core.signature

local M = {}

M.DEFAULT_TOLERANCE = 300

local function prefix(fn, msg)
  return "dintero.callback." .. fn .. ": " .. msg
end

local function fail(reason, message)
  return core.fail { kind = "signature", reason = reason, message = message }
end

local function nonempty_string(v)
  return type(v) == "string" and v ~= ""
end

-- A secret is a string or a non-empty list of strings (rotation: old and new).
local function check_secret(fn, secret)
  if nonempty_string(secret) then return nil end
  if type(secret) == "table" and #secret > 0 then
    for i = 1, #secret do
      if not nonempty_string(secret[i]) then
        return prefix(fn, ("secret[%d] must be a non-empty string"):format(i))
      end
    end
    return nil
  end
  return prefix(fn, "secret must be a non-empty string or a list of them")
end

local function check_fields(fn, opts, names)
  if type(opts) ~= "table" then return prefix(fn, "expects an options table") end
  for _, name in ipairs(names) do
    if name == "secret" then
      local msg = check_secret(fn, opts.secret)
      if msg then return msg end
    elseif not nonempty_string(opts[name]) then
      return prefix(fn, name .. " must be a non-empty string")
    elseif opts[name]:find "[\r\n]" then
      return prefix(fn, name .. " must not contain a line break")
    end
  end
  return nil
end

local function check_number(fn, opts, name)
  local v = opts[name]
  if v ~= nil and (type(v) ~= "number" or v ~= v or v < 0) then
    return prefix(fn, name .. " must be a non-negative number")
  end
  return nil
end

local function check_url(fn, url)
  if not sig.split_url(url) then
    return prefix(fn, "url must be absolute, as Dintero called it (https://host/path?query)")
  end
  return nil
end

-- The checks verify and verify_ngx share; returns an error message or nil.
local function check_verify(fn, o)
  local msg = check_fields(fn, o, { "secret", "account_id", "method", "url" })
    or check_url(fn, o.url)
    or check_number(fn, o, "now")
    or check_number(fn, o, "tolerance")
  if msg then return msg end
  if o.signature ~= nil and type(o.signature) ~= "string" then
    return prefix(fn, "signature must be a string (the Dintero-Signature header) or nil")
  end
  return nil
end

-- Runs a validated verification. Signature before time: a forged header's
-- timestamp means nothing, so "outside_time_window" only ever describes an
-- authentic but stale (or early) callback, i.e. a replay or a skewed clock.
local function run_verify(o)
  local header = o.signature
  if header == nil or not header:find "%S" then
    return fail("missing_header", "Dintero-Signature header is missing")
  end
  local t_str, v0, t = sig.parse_header(header)
  if not t_str then return fail(v0, "Dintero-Signature header is malformed") end
  local canonical = assert(sig.canonical(t_str, o.account_id, o.method, o.url))
  if not sig.match(canonical, o.secret, v0) then
    return fail("mismatch", "signature does not match the request")
  end
  local now = o.now or os.time()
  local tolerance = o.tolerance or M.DEFAULT_TOLERANCE
  local skew = now - t
  if skew > tolerance or -skew > tolerance then
    return fail("outside_time_window",
      ("callback timestamp is %d s %s, outside the %d s tolerance"):format(
        math.abs(skew), skew > 0 and "old" or "in the future", tolerance))
  end
  return true
end

--- verify{ secret, account_id, method, url, signature [, now] [, tolerance] }
-- Returns true, or nil, message, err (err.kind "signature", err.reason one of
-- missing_header, malformed_header, mismatch, outside_time_window).
function M.verify(opts)
  local msg = check_verify("verify", opts)
  if msg then error(msg, 2) end
  return run_verify(opts)
end

--- canonical{ t, account_id, method, url }: the string Dintero signs, for
-- debugging a proxy that rewrites the host or path.
function M.canonical(opts)
  local msg = check_fields("canonical", opts, { "account_id", "method", "url" })
    or check_url("canonical", opts.url)
  if msg then error(msg, 2) end
  local t = opts.t or opts.time
  if type(t) == "number" then t = ("%d"):format(t) end
  if type(t) ~= "string" or not t:find "^%d+$" then
    error(prefix("canonical", "t must be the digits of a unix time"), 2)
  end
  return assert(sig.canonical(t, opts.account_id, opts.method, opts.url))
end

--- sign{ secret, account_id, method, url [, time] }: a valid Dintero-Signature
-- header, "t=<time>,v0-hmac-sha256=<hex>" (one v0 per secret when secret is a list).
function M.sign(opts)
  local msg = check_fields("sign", opts, { "secret", "account_id", "method", "url" })
    or check_url("sign", opts.url)
    or check_number("sign", opts, "time")
  if msg then error(msg, 2) end
  local time = opts.time or os.time()
  if time ~= math.floor(time) then error(prefix("sign", "time must be an integer"), 2) end
  local t = ("%d"):format(time)
  local canonical = assert(sig.canonical(t, opts.account_id, opts.method, opts.url))
  local secrets = type(opts.secret) == "table" and opts.secret or { opts.secret }
  local parts = { "t=" .. t }
  for i = 1, #secrets do
    parts[#parts + 1] = "v0-hmac-sha256=" .. core.hmac_sha256_hex(secrets[i], canonical)
  end
  return table.concat(parts, ",")
end

---------------------------------------------------------------------------
-- OpenResty

local function ngx_signature(ngx)
  local h = ngx.req.get_headers()["dintero-signature"]
  -- a header sent twice arrives as a list; HTTP joins repeated fields with ","
  if type(h) == "table" then h = table.concat(h, ",") end
  return h
end

-- The URL Dintero called. public_url (string): the public base, scheme://host
-- with an optional path prefix, to which the request URI is appended.
-- public_url (function): called with ngx, returns the full URL.
local function ngx_url(ngx, public_url)
  local uri = ngx.var.request_uri
  if public_url == nil then
    return ngx.var.scheme .. "://" .. ngx.var.host .. uri
  elseif type(public_url) == "function" then
    return public_url(ngx)
  end
  return (public_url:gsub("/+$", "")) .. uri
end

--- verify_ngx{ secret, account_id [, public_url] [, now] [, tolerance] [, ngx] }
-- verify() with method, URL and header taken from the current nginx request.
function M.verify_ngx(opts)
  local msg = check_fields("verify_ngx", opts, { "secret", "account_id" })
  if msg then error(msg, 2) end
  local pu = opts.public_url
  if pu ~= nil and type(pu) ~= "function"
    and not (type(pu) == "string" and sig.split_url(pu) and not pu:find "[?#]") then
    error(prefix("verify_ngx", "public_url must be a base URL (https://host[/prefix]) or a function"), 2)
  end
  local ngx = opts.ngx or package.loaded.ngx or rawget(_G, "ngx")
  if type(ngx) ~= "table" then error(prefix("verify_ngx", "needs ngx (OpenResty)"), 2) end
  local o = {
    secret = opts.secret,
    account_id = opts.account_id,
    method = ngx.req.get_method(),
    url = ngx_url(ngx, pu),
    signature = ngx_signature(ngx),
    now = opts.now or (ngx.time and ngx.time()) or nil,
    tolerance = opts.tolerance,
  }
  msg = check_verify("verify_ngx", o)
  if msg then error(msg, 2) end
  return run_verify(o)
end

---------------------------------------------------------------------------
-- Webhook subscriptions: event-signature = hex HMAC-SHA1 of the raw body.

--- verify_webhook{ secret, body, signature }: true or nil, message, err.
function M.verify_webhook(opts)
  local msg = check_fields("verify_webhook", opts, { "secret" })
  if msg then error(msg, 2) end
  if type(opts.body) ~= "string" then error(prefix("verify_webhook", "body must be the raw body string"), 2) end
  local header = opts.signature
  if header ~= nil and type(header) ~= "string" then
    error(prefix("verify_webhook", "signature must be a string (the event-signature header) or nil"), 2)
  end
  if header == nil or not header:find "%S" then
    return fail("missing_header", "event-signature header is missing")
  end
  local hex = header:match "^%s*(%x+)%s*$"
  if not hex or #hex ~= 40 then return fail("malformed_header", "event-signature header is malformed") end
  hex = hex:lower()
  local secrets = type(opts.secret) == "table" and opts.secret or { opts.secret }
  local ok = false
  for i = 1, #secrets do
    -- no early exit: every secret costs the same whether or not one matched
    ok = core.equal_ct(core.hmac_sha1_hex(secrets[i], opts.body), hex) or ok
  end
  if not ok then return fail("mismatch", "event-signature does not match the body") end
  return true
end

---------------------------------------------------------------------------
-- Parsing callbacks

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The query part of a full URL, a "/path?query", a "?query" or a bare query.
local function query_of(s)
  local q = s:match "^[^#?]*%?([^#]*)"
  if q then return q end
  if s:find "^%a[%w+.-]*://" or s:sub(1, 1) == "/" then return "" end
  return (s:gsub("#.*$", ""))
end

local function parse_query(q)
  local first, all = {}, {}
  for piece in q:gmatch "[^&]+" do
    local name, value = piece:match "^([^=]*)=(.*)$"
    if not name then name, value = piece, "" end
    name, value = unescape(name), unescape(value)
    if first[name] == nil then first[name] = value end
    all[name] = all[name] or {}
    local list = all[name]
    list[#list + 1] = value
  end
  return first, all
end

local function decode_body(body)
  local json = core.json
  local ok, v, msg, err = pcall(json.decode, body)
  if not ok then msg = v end
  if ok and (v ~= nil or msg == nil) then return v end
  -- the codec reports nil, "json: <detail>" (and may add an err table)
  if ok and type(err) == "table" then return nil, msg, err end
  return core.fail { kind = "json", message = (tostring(msg):gsub("^json: ", "")) }
end

--- parse{ url (or query), body [, method] } or parse(url [, body])
-- Returns { method, transaction_id, session_id, merchant_reference, time,
-- error, event, event_id, params (first value per name), params_all (name ->
-- list), transaction (the POST body, decoded), session (transaction.session) };
-- a body that is not JSON returns nil, "json: ...", err.
function M.parse(a, b)
  local opts = a
  if type(a) == "string" then opts = { url = a, body = b } end
  if type(opts) ~= "table" then error(prefix("parse", "expects an options table or a url"), 2) end
  local url = opts.url or opts.query or ""
  if type(url) ~= "string" then error(prefix("parse", "url must be a string"), 2) end
  if opts.method ~= nil and type(opts.method) ~= "string" then error(prefix("parse", "method must be a string"), 2) end
  local body = opts.body
  if body ~= nil and type(body) ~= "string" and type(body) ~= "table" then
    error(prefix("parse", "body must be a string (raw JSON) or a decoded table"), 2)
  end
  local first, all = parse_query(query_of(url))
  local has_body = type(body) == "table" or (type(body) == "string" and body:find "%S" ~= nil)
  local r = {
    method = opts.method and opts.method:upper() or (has_body and "POST" or "GET"),
    transaction_id = first.transaction_id,
    session_id = first.session_id or first.sid,
    merchant_reference = first.merchant_reference,
    time = tonumber(first.time) or first.time, -- unix seconds; kept as text when not a number
    error = first.error,
    event = first.event,
    event_id = first.event_id,
    params = first,
    params_all = all,
  }
  if has_body then
    local tx, msg, err = body, nil, nil
    if type(body) == "string" then tx, msg, err = decode_body(body) end
    if tx == nil and msg then return nil, msg, err end
    r.transaction = tx
    if type(tx) == "table" and type(tx.session) == "table" then r.session = tx.session end
    r.transaction_id = r.transaction_id or (type(tx) == "table" and tx.id or nil)
  end
  return r
end

---------------------------------------------------------------------------
-- Answers to the express callbacks

-- Fields that are JSON arrays in Dintero's schemas, so an empty table stays [].
local LIST_FIELDS = {
  shipping_options = true, items = true, discount_lines = true, discount_codes = true,
  gift_cards = true, groups = true, splits = true, countries = true,
}

local function is_integer(v)
  return type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end

local to_integer = math.tointeger or function(v) return v end

-- Deep copy for the encoder: amounts checked and made integers, list fields
-- marked as arrays. Returns the copy or raises (caught by the caller).
local function normalise(v, path, key, depth)
  if depth > 64 then error(path .. ": nested too deeply (or a cycle)", 0) end
  if type(key) == "string" and key:find "amount$" and v ~= nil then
    if not is_integer(v) then
      error(path .. " must be an integer amount in minor units (e.g. 29990 = 299.90)", 0)
    end
    return to_integer(v)
  end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    local sub = type(k) == "number" and (path .. "[" .. tostring(k) .. "]") or (path .. "." .. tostring(k))
    out[k] = normalise(x, sub, k, depth + 1)
  end
  if LIST_FIELDS[key] or getmetatable(v) == core.json.array_mt then
    setmetatable(out, core.json.array_mt)
  end
  return out
end

local function respond(fn, fields)
  local ok, doc = pcall(function()
    local out = {}
    for name, v in pairs(fields) do out[name] = normalise(v, name, name, 1) end
    return out
  end)
  if not ok then return nil, prefix(fn, tostring(doc)) end
  local enc_ok, s, msg = pcall(core.json.encode, doc)
  if not enc_ok then return nil, prefix(fn, tostring(s)) end
  if not s then return nil, prefix(fn, tostring(msg)) end
  return s
end

--- shipping_options_response{ shipping_options = {...} [, order = ...] }
-- The JSON answer to the express shipping address callback.
function M.shipping_options_response(opts)
  if type(opts) ~= "table" or type(opts.shipping_options) ~= "table" then
    error(prefix("shipping_options_response", "shipping_options must be a list (may be empty)"), 2)
  end
  local s, msg = respond("shipping_options_response", {
    shipping_options = opts.shipping_options, order = opts.order,
  })
  if not s then error(msg, 2) end
  return s
end

--- discount_codes_response{ [order = ...] [, shipping_options = {...}] }
-- The JSON answer to the express discount codes callback.
function M.discount_codes_response(opts)
  if type(opts) ~= "table" then error(prefix("discount_codes_response", "expects an options table"), 2) end
  if opts.shipping_options ~= nil and type(opts.shipping_options) ~= "table" then
    error(prefix("discount_codes_response", "shipping_options must be a list"), 2)
  end
  local s, msg = respond("discount_codes_response", {
    shipping_options = opts.shipping_options or {}, order = opts.order,
  })
  if not s then error(msg, 2) end
  return s
end

return M
