-- client.branding against the mock: logo and profile images (SVG bytes, no
-- token) and their URLs without a request.
local mock = require "support.mock"
local h = require "support.api_helpers"

describe("client.branding", function()
  local client

  setup(function() client = h.client() end)
  teardown(function() client:close() end)
  before_each(function() mock.reset() end)

  it("builds the logos URL without a request", function()
    local u = client.branding:logos_url { logos = { "visa", "mastercard" }, variant = "mono", color = "#ff0000",
      width = 300, template = "dintero_top_frame.svg" }
    assert.equals(mock.url .. "/v1/branding/logos/visa_mastercard/variant/mono/color/ff0000/width/300/dintero_top_frame.svg", u)
    assert.equals(0, #mock.requests())
    u = client.branding:logos_url { logos = { "vipps" } }
    assert.equals(mock.url .. "/v1/branding/logos/vipps/variant/colors/color/000000/width/600/logos.svg", u)
  end)

  it("downloads the logos SVG without a token", function()
    local svg, content_type, meta = client.branding:logos { logos = { "visa", "mastercard" }, width = 200,
      color = "rgb(10,20,30)" }
    assert.truthy(svg, content_type)
    assert.matches("^image/svg%+xml", content_type)
    assert.matches('<svg[^>]*width="200"', svg)
    assert.matches('id="logo%-visa"', svg)
    assert.matches('id="logo%-mastercard"', svg)
    assert.equals(200, meta.status)
    assert.is_nil(h.last_request("^/v1/branding/").headers.authorization)
  end)

  it("builds and downloads the profile image on either path", function()
    local u = client.branding:profile_image_url { profile_id = "T12345678.shop" }
    assert.equals(mock.url .. "/v1/branding/profiles/T12345678.shop/variant/colors/color/000000/width/600/logos.svg", u)
    u = client.branding:profile_image_url { profile_id = "T12345678.shop", path = "account" }
    assert.equals(mock.url ..
      "/v1/branding/accounts/T12345678/profiles/T12345678.shop/variant/colors/color/000000/width/600/logos.svg", u)
    local svg = assert(client.branding:profile_image { profile_id = "T12345678.shop" })
    assert.matches('data%-profile%-id="T12345678.shop"', svg)
    local acc = h.client { profile_image_path = "account" }
    svg = assert(acc.branding:profile_image { profile_id = "T12345678.shop", variant = "mono" })
    assert.matches('data%-variant="mono"', svg)
    assert.equals("/v1/branding/accounts/T12345678/profiles/T12345678.shop/variant/mono/color/000000/width/600/logos.svg",
      h.last_request("^/v1/branding/").path)
    acc:close()
  end)

  it("refuses bad style values locally, naming the field", function()
    local cases = {
      { { logos = {} }, "logos" },
      { { logos = { "visa/../x" } }, "logos" },
      { { logos = { "visa" }, width = 0 }, "width" },
      { { logos = { "visa" }, width = 10.5 }, "width" },
      { { logos = { "visa" }, color = "red" }, "color" },
      { { logos = { "visa" }, template = "../x" }, "template" },
    }
    for _, c in ipairs(cases) do
      local ok, _, err = client.branding:logos(c[1])
      assert.is_nil(ok)
      assert.equals(c[2], err.field)
    end
    local ok, _, err = client.branding:profile_image_url { profile_id = "P99999999.x" }
    assert.is_nil(ok)
    assert.equals("profile_id", err.field)
    assert.has_error(function() client.branding:logos { logo = { "visa" } } end)
  end)

  it("answers an unknown profile with 404", function()
    local ok, _, err = client.branding:profile_image { profile_id = "T12345678.not.a.profile" }
    assert.is_nil(ok)
    assert.equals("api", err.kind)
    assert.equals(404, err.status)
  end)
end)
