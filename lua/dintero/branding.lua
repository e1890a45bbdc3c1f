-- client.branding: the checkout images (checkout host, no token): payment
-- method logos and a checkout profile's image, as SVG bytes, or just their
-- URLs for an <img src=...> in the shop's own pages (no request made).
--
-- The profile image has two documented paths: the API spec's
-- /v1/branding/profiles/{profile_id}/... (the default) and the plugins'
-- /v1/branding/accounts/{aid}/profiles/{profile_id}/...; choose with the
-- client option profile_image_path = "account" or per call with
-- args.path = "account".
local call = require "dintero.call"
local validate = require "dintero.validate"
local url = require "dintero.url"

local M = {}

local Branding = {}
Branding.__index = Branding

function M.new(client)
  return setmetatable({ _client = client }, Branding)
end

--- Used for any style field the caller leaves out.
M.DEFAULTS = { variant = "colors", color = "000000", width = 600, template = "logos.svg" }

local STYLE = "/variant/{variant}/color/{color}/width/{width}/{template}"
local PATHS = {
  logos = "/v1/branding/logos/{logos}" .. STYLE,
  profile = "/v1/branding/profiles/{profile_id}" .. STYLE,
  account = "/v1/branding/accounts/{aid}/profiles/{profile_id}" .. STYLE,
}

local ARGS = {
  logos = true, variant = true, color = true, width = true, template = true, profile_id = true, path = true,
}

local function check_keys(fname, args)
  call.table_arg(fname, "args", args, 3)
  for k in pairs(args) do
    if not ARGS[k] then error(("%s: unknown argument '%s'"):format(fname, tostring(k)), 3) end
  end
end

-- The style parameters with defaults applied and checked, or the fail triple.
local function style(args)
  local p = {}
  for k, v in pairs(M.DEFAULTS) do p[k] = v end
  for _, k in ipairs { "variant", "color", "width", "template" } do
    if args[k] ~= nil then p[k] = args[k] end
  end
  if type(p.color) == "string" then p.color = p.color:gsub("^#", "") end
  if type(p.variant) ~= "string" or not p.variant:match "^%a+$" then
    return validate.fail("variant", "must be a name such as colors, mono, logomark or darkcolors")
  end
  if type(p.color) ~= "string" or not (p.color:match "^%x+$" and (#p.color == 3 or #p.color == 4 or
      #p.color == 6 or #p.color == 8) or p.color:match "^rgba?%([%d%s%.,%%]+%)$") then
    return validate.fail("color", "must be hex (e.g. \"ff0000\" or \"#f00\") or rgb(...)/rgba(...)")
  end
  if not validate.is_integer(p.width) or p.width < 1 then
    return validate.fail("width", "must be a positive integer (pixels)")
  end
  if type(p.template) ~= "string" or not p.template:match "^[%w_%-]+%.svg$" then
    return validate.fail("template", "must be a template file name such as logos.svg or dintero_top_frame.svg")
  end
  return p
end

local function logos_param(logos)
  if type(logos) == "string" then return logos end
  if type(logos) ~= "table" or #logos == 0 then return nil end
  for _, name in ipairs(logos) do
    if type(name) ~= "string" or not name:match "^[%w%.%-]+$" then return nil end
  end
  return table.concat(logos, "_")
end

-- The full URL for the logos image, or nil + fail triple.
local function logos_url(client, args)
  local p, msg, err = style(args)
  if not p then return nil, msg, err end
  p.logos = logos_param(args.logos)
  if not p.logos or not p.logos:match "^[%w%.%-]+[%w%.%-_]*$" then
    return validate.fail("logos", "must be a list of logo names such as {\"visa\", \"mastercard\"}")
  end
  local path, perr = url.path(PATHS.logos, p)
  if not path then return validate.fail("logos", perr) end
  return client.options.checkout_url .. path
end

local function profile_url(client, args)
  local p, msg, err = style(args)
  if not p then return nil, msg, err end
  local r1, r2, r3 = validate.account_id(client, args.profile_id, "profile_id")
  if r2 then return r1, r2, r3 end
  local which = args.path or client.options.profile_image_path or "profile"
  if not PATHS[which] or which == "logos" then
    return validate.fail("path", "must be \"profile\" or \"account\"")
  end
  p.profile_id, p.aid = args.profile_id, client.account_id
  local path, perr = url.path(PATHS[which], p)
  if not path then return validate.fail("profile_id", perr) end
  return client.options.checkout_url .. path
end

-- Downloads an image URL: bytes, content_type, meta.
local function download(client, full, opts)
  local base = client.options.checkout_url
  local res, meta, err = client:request(call.apply(client, opts, {
    method = "GET", host = "checkout", path = full:sub(#base + 1), auth = false, raw = true,
  }))
  if not res then return nil, meta, err end
  return res, meta.content_type, meta
end

--- client.branding:logos_url{logos = {"visa", "mastercard"}, variant=, color=,
-- width=, template=} -> the image URL (no request).
function Branding:logos_url(args)
  local client = call.self(self, Branding, "branding.logos_url")
  check_keys("branding.logos_url", args)
  return logos_url(client, args)
end

--- client.branding:profile_image_url{profile_id=, variant=, color=, width=,
-- template=, path = "profile"|"account"} -> the image URL (no request).
function Branding:profile_image_url(args)
  local client = call.self(self, Branding, "branding.profile_image_url")
  check_keys("branding.profile_image_url", args)
  return profile_url(client, args)
end

--- client.branding:logos({...} [, opts]) -> SVG bytes, content_type, meta.
function Branding:logos(args, opts)
  local client = call.self(self, Branding, "branding.logos")
  check_keys("branding.logos", args)
  opts = call.opts("branding.logos", opts)
  local full, msg, err = logos_url(client, args)
  if not full then return nil, msg, err end
  return download(client, full, opts)
end

--- client.branding:profile_image({profile_id=, ...} [, opts]) -> SVG bytes, content_type, meta.
function Branding:profile_image(args, opts)
  local client = call.self(self, Branding, "branding.profile_image")
  check_keys("branding.profile_image", args)
  opts = call.opts("branding.profile_image", opts)
  local full, msg, err = profile_url(client, args)
  if not full then return nil, msg, err end
  return download(client, full, opts)
end

return M
