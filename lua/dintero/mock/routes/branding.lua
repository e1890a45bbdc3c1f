-- Mock routes for checkout branding images (checkout host, no auth): SVG documents
-- that reflect every input, so a client test can see what it asked for in what it got.
--
-- The SVG is a placeholder, not Dintero's artwork: one <g id="logo-NAME"> per logo, the
-- requested width on the root, the template and variant as data attributes.
local checks = require "dintero.mock.checks"
local invalid = checks.invalid

local VARIANTS = { colors = true, mono = true, logomark = true, darkcolors = true }
local TEMPLATES = {
  ["logos.svg"] = "logos",
  ["dintero_top_frame.svg"] = "top",
  ["dintero_left_frame.svg"] = "left",
}
local MAX_WIDTH = 10000

-- Brand colours for the "colors" variants; unknown logos fall back to the request colour.
local BRAND = {
  visa = "#1a1f71", mastercard = "#eb001b", vipps = "#ff5b24", swish = "#4eb0ce",
  klarna = "#ffb3c7", walley = "#000000", instabank = "#0a2f5c", collector = "#000000",
  mobilepay = "#5a78ff", amex = "#2e77bb",
}

-- A profile's payment options live in Backoffice; the mock shows a fixed set.
local PROFILE_LOGOS = { "visa", "mastercard", "vipps", "swish" }

-- Hex without '#' (3, 4, 6 or 8 digits) or rgb()/rgba(); returns the CSS colour.
local function css_color(c)
  if c:match "^%x+$" and (#c == 3 or #c == 4 or #c == 6 or #c == 8) then return "#" .. c end
  if c:match "^rgba?%([%d%.%s,%%]+%)$" then return c end
end

local function split_logos(s)
  local out = {}
  for name in (s .. "_"):gmatch "([^_]*)_" do
    if not name:match "^[%w%-%.]+$" then return nil end
    out[#out + 1] = name:lower()
  end
  return out
end

-- Checks the variant/color/width/template segments shared by both image routes.
-- Returns a table of the parsed inputs, or nil, field, reason.
local function read_style(p)
  if not VARIANTS[p.variant] then
    return nil, "variant", "must be one of colors, mono, logomark, darkcolors"
  end
  local color = css_color(p.color)
  if not color then return nil, "color", "must be hex without # or rgb()/rgba()" end
  local width = p.width:match "^%d+$" and tonumber(p.width)
  if not width or width < 1 or width > MAX_WIDTH then
    return nil, "width", ("must be an integer from 1 to %d"):format(MAX_WIDTH)
  end
  local template = TEMPLATES[p.template]
  if not template then
    return nil, "template", "must be logos.svg, dintero_top_frame.svg or dintero_left_frame.svg"
  end
  return { variant = p.variant, color = color, width = math.tointeger(width), template = template,
           template_name = p.template }
end

local function fill_for(style, name)
  if style.variant == "colors" or style.variant == "darkcolors" then
    return BRAND[name] or style.color
  end
  return style.color
end

local function logo_group(style, name, x, slot, height)
  return ('  <g id="logo-%s" fill="%s" transform="translate(%d 0)">'
      .. '<rect width="%d" height="%d" rx="4"/><text x="4" y="%d" fill="#ffffff">%s</text></g>')
    :format(name, fill_for(style, name), x, slot - 4, height, height - 6, name)
end

-- Frames take a band of the image for the Dintero mark: on top, or on the left.
local function layout(style)
  local w = style.width
  if style.template == "top" then return { x = 0, y = 24, w = w, band = { w, 20 } } end
  if style.template == "left" then
    local band = math.min(80, w // 4)
    return { x = band, y = 0, w = w - band, band = { band, 32 } }
  end
  return { x = 0, y = 0, w = w }
end

local function render(style, logos, extra)
  local box = layout(style)
  local slot = math.max(8, box.w // #logos)
  local height = 32
  local lines = {
    ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"'
      .. ' data-variant="%s" data-template="%s"%s>')
      :format(style.width, box.y + height, style.width, box.y + height,
        style.variant, style.template_name, extra or ""),
  }
  if box.band then
    lines[#lines + 1] = ('  <g id="dintero-frame" fill="%s"><rect width="%d" height="%d"/></g>')
      :format(style.color, box.band[1], box.band[2])
  end
  lines[#lines + 1] = ('  <g id="logos" transform="translate(%d %d)">'):format(box.x, box.y)
  for i, name in ipairs(logos) do
    lines[#lines + 1] = logo_group(style, name, (i - 1) * slot, slot, height)
  end
  lines[#lines + 1] = "  </g>"
  lines[#lines + 1] = "</svg>\n"
  return table.concat(lines, "\n")
end

local SVG = { ["content-type"] = "image/svg+xml" }

local function logos_image(api, req)
  local logos = split_logos(req.params.logos)
  if not logos then return invalid(api, "logos", "must be logo names joined by _") end
  local style, field, why = read_style(req.params)
  if not style then return invalid(api, field, why) end
  return 200, render(style, logos), SVG
end

-- Profile ids are "<account id>.<suffix>"; under /accounts/{aid} the prefix must match.
local function profile_image(api, req)
  local id, aid = req.params.profile_id, req.params.aid
  local owner = id:match "^([PT]%d%d%d%d%d%d%d%d)%.[%w%-_]+$"
  if not owner or (aid and owner ~= aid) then
    return api.fail(404, "NOT_FOUND", "checkout profile not found")
  end
  local style, field, why = read_style(req.params)
  if not style then return invalid(api, field, why) end
  return 200, render(style, PROFILE_LOGOS, (' data-profile-id="%s"'):format(id)), SVG
end

return function(api)
  local style = "/variant/{variant}/color/{color}/width/{width}/{template}"
  local function on(path, handler)
    api.route("GET", path, function(req) return handler(api, req) end, { auth = false })
  end
  on("/v1/branding/logos/{logos}" .. style, logos_image)
  on("/v1/branding/profiles/{profile_id}" .. style, profile_image)
  on("/v1/branding/accounts/{aid}/profiles/{profile_id}" .. style, profile_image)
end
