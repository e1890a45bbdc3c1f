-- Per-call options accepted by every method: feature_toggles, system,
-- headers, includes (and the client-level defaults they override).
local mock = require "support.mock"
local h = require "support.api_helpers"

local function last_headers(pattern)
  return h.last_request(pattern).headers
end

describe("per-call options", function()
  before_each(function() mock.reset() end)

  it("sends the client's feature toggles on session endpoints; a call replaces them", function()
    local client = h.client { feature_toggles = { "strict-session-amounts" } }
    h.session(client)
    assert.equals("strict-session-amounts", last_headers("^/v1/sessions%-profile$")["dintero-feature-toggles"])
    h.session(client, nil, { feature_toggles = { "strict-session-amounts", "x-other" } })
    assert.equals("strict-session-amounts,x-other", last_headers("^/v1/sessions%-profile$")["dintero-feature-toggles"])
    h.session(client, nil, { feature_toggles = {} })
    assert.is_nil(last_headers("^/v1/sessions%-profile$")["dintero-feature-toggles"])
    client:close()
  end)

  it("sends toggles elsewhere only when the call asks", function()
    local client = h.client { feature_toggles = { "strict-session-amounts" } }
    local tx = h.authorized(client, 1000)
    assert(tx:refresh())
    assert.is_nil(last_headers("^/v1/transactions/[^/]+$")["dintero-feature-toggles"])
    assert(tx:refresh { feature_toggles = { "x-test" } })
    assert.equals("x-test", last_headers("^/v1/transactions/[^/]+$")["dintero-feature-toggles"])
    client:close()
  end)

  it("sends per-call system headers", function()
    local client = h.client()
    h.session(client, nil, { system = { name = "shop", version = "2.0", plugin_name = "plug", plugin_version = "1.1" } })
    local hd = last_headers("^/v1/sessions%-profile$")
    assert.equals("shop", hd["dintero-system-name"])
    assert.equals("2.0", hd["dintero-system-version"])
    assert.equals("plug", hd["dintero-system-plugin-name"])
    assert.equals("1.1", hd["dintero-system-plugin-version"])
    client:close()
  end)

  it("lets per-call system fields override the client's, field by field", function()
    local client = h.client { system = { name = "shop", version = "1" } }
    h.session(client)
    assert.equals("shop", last_headers("^/v1/sessions%-profile$")["dintero-system-name"])
    h.session(client, nil, { system = { name = "other" } })
    local hd = last_headers("^/v1/sessions%-profile$")
    assert.equals("other", hd["dintero-system-name"])
    assert.equals("1", hd["dintero-system-version"])
    client:close()
  end)

  it("adds extra headers and includes", function()
    local client = h.client()
    local tx = h.authorized(client, 1000)
    assert(client.transactions:get(tx.id, { headers = { ["X-Trace"] = "t-1" }, includes = { "session" } }))
    local r = h.last_request("^/v1/transactions/[^/]+$")
    assert.equals("t-1", r.headers["x-trace"])
    assert.equals("includes=session", r.query)
    assert(tx:capture(500, { includes = { "events.request_headers" } }))
    assert.equals("includes=events.request_headers", h.last_request("/capture$").query)
    client:close()
  end)
end)
