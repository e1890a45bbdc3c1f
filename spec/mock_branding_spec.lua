-- Mock checkout branding images over HTTP: SVG that reflects logos, variant, colour,
-- width and template; no token needed; 400 naming the bad path segment.
local mock = require "support.mock"

local function logos_path(logos, variant, color, width, template)
  return ("/v1/branding/logos/%s/variant/%s/color/%s/width/%s/%s"):format(
    logos, variant or "colors", color or "ff0000", width or "300", template or "logos.svg")
end

local function style(variant, color, width, template)
  return ("/variant/%s/color/%s/width/%s/%s"):format(
    variant or "mono", color or "333333", width or "240", template or "logos.svg")
end

-- The ids of the logo groups, in document order.
local function logo_ids(svg)
  local out = {}
  for name in svg:gmatch '<g id="logo%-([^"]+)"' do out[#out + 1] = name end
  return out
end

local function assert_invalid(field, status, body)
  assert.equal(400, status)
  assert.equal("INVALID_REQUEST_PARAMETER", body.error.code)
  assert.equal(field, body.error.errors[1].field)
  assert.equal(field, body.error.message:sub(1, #field))
end

describe("mock branding", function()
  describe("payment logos", function()
    it("answers an SVG with the width and one group per logo, without a token", function()
      local status, svg, headers = mock.get(logos_path("visa_mastercard_vipps_swish_walley"))
      assert.equal(200, status)
      assert.equal("image/svg+xml", headers["content-type"])
      assert.truthy(svg:find('^<svg xmlns="http://www.w3.org/2000/svg" width="300"'))
      assert.same({ "visa", "mastercard", "vipps", "swish", "walley" }, logo_ids(svg))
      assert.truthy(svg:find('data-template="logos.svg"', 1, true))
      assert.is_nil(svg:find('id="dintero-frame"', 1, true))
    end)

    it("adds the Dintero frame for the frame templates", function()
      for _, template in ipairs { "dintero_top_frame.svg", "dintero_left_frame.svg" } do
        local status, svg = mock.get(logos_path("visa", nil, nil, nil, template))
        assert.equal(200, status)
        assert.truthy(svg:find('data-template="' .. template .. '"', 1, true))
        assert.truthy(svg:find('<g id="dintero-frame" fill="#ff0000">', 1, true))
      end
    end)

    it("paints brand colours for colors and the requested colour for mono", function()
      local _, svg = mock.get(logos_path("visa", "colors", "ff0000"))
      assert.truthy(svg:find('<g id="logo-visa" fill="#1a1f71"', 1, true))
      for _, variant in ipairs { "mono", "logomark" } do
        _, svg = mock.get(logos_path("visa", variant, "00ff00"))
        assert.truthy(svg:find('<g id="logo-visa" fill="#00ff00"', 1, true))
        assert.truthy(svg:find('data-variant="' .. variant .. '"', 1, true))
      end
      assert.equal(200, (mock.get(logos_path("visa", "darkcolors"))))
    end)

    it("takes rgb() and rgba() colours, encoded or not", function()
      local _, svg = mock.get(logos_path("visa", "mono", "rgb(10%2C20%2C30)"))
      assert.truthy(svg:find('fill="rgb(10,20,30)"', 1, true))
      assert.equal(200, (mock.get(logos_path("visa", "mono", "rgba(10,20,30,0.5)"))))
      assert.equal(200, (mock.get(logos_path("visa", "mono", "fff"))))
    end)

    it("refuses a bad variant, colour, width, template or logo list, naming it", function()
      assert_invalid("variant", mock.get(logos_path("visa", "rainbow")))
      assert_invalid("color", mock.get(logos_path("visa", "mono", "%23ff0000")))
      assert_invalid("color", mock.get(logos_path("visa", "mono", "red")))
      for _, width in ipairs { "0", "wide", "-5", "10001", "1.5" } do
        assert_invalid("width", mock.get(logos_path("visa", nil, nil, width)))
      end
      assert_invalid("template", mock.get(logos_path("visa", nil, nil, nil, "logos.png")))
      assert_invalid("logos", mock.get(logos_path("visa__mastercard")))
      assert_invalid("logos", mock.get(logos_path("visa_")))
    end)
  end)

  describe("profile images", function()
    it("answers an SVG for a profile, on the spec path and on the plugin path", function()
      for _, path in ipairs {
        "/v1/branding/profiles/T12345678.abc123" .. style(),
        "/v1/branding/accounts/T12345678/profiles/T12345678.abc123" .. style(),
      } do
        local status, svg, headers = mock.get(path)
        assert.equal(200, status)
        assert.equal("image/svg+xml", headers["content-type"])
        assert.truthy(svg:find('width="240"', 1, true))
        assert.truthy(svg:find('data-profile-id="T12345678.abc123"', 1, true))
        assert.same({ "visa", "mastercard", "vipps", "swish" }, logo_ids(svg))
      end
    end)

    it("answers 404 for a malformed profile id or one of another account", function()
      local status, body = mock.get("/v1/branding/profiles/not-a-profile" .. style())
      assert.equal(404, status)
      assert.equal("NOT_FOUND", body.error.code)
      assert.equal(404, (mock.get("/v1/branding/accounts/T12345678/profiles/T87654321.abc" .. style())))
    end)

    it("validates the style segments like the logos image", function()
      assert_invalid("width", mock.get("/v1/branding/profiles/T12345678.abc" .. style(nil, nil, "0")))
      assert_invalid("template",
        mock.get("/v1/branding/accounts/T12345678/profiles/T12345678.abc" .. style(nil, nil, nil, "x.svg")))
    end)
  end)
end)
