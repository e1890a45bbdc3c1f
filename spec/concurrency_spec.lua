-- Concurrency: coroutines sharing one client, and separate clients in two OS
-- threads (a small C harness embedding Lua 5.4, spec/support/two_threads.c).
local dintero = require "dintero"
local mock = require "support.mock"

local function new_client()
  return dintero.new {
    account_id = mock.credentials.account_id, client_id = mock.credentials.client_id,
    client_secret = mock.credentials.client_secret, api_url = mock.url, checkout_url = mock.url,
  }
end

local function token_requests()
  return mock.stats().token_requests
end

describe("concurrency", function()
  before_each(function() mock.reset() end)

  it("coroutines sharing one client stay correct and fetch the token once", function()
    local client = new_client()
    local ids = {}
    for i = 1, 8 do
      local status, s = mock.authed("POST", "/v1/sessions-profile", {
        profile_id = "T12345678.p", url = { return_url = "https://shop.example/r" },
        order = { amount = 1000 + i, currency = "NOK", merchant_reference = "co-" .. i } })
      assert.equal(200, status)
      ids[i] = mock.pay(s.id, "authorized").id
    end
    local before = token_requests()
    local results = {}
    local workers = {}
    for i = 1, 8 do
      workers[i] = coroutine.create(function()
        for round = 1, 5 do
          local tx = assert(client:request { method = "GET", host = "checkout", path = "/v1/transactions/{id}",
            params = { id = ids[i] } })
          results[#results + 1] = { i = i, amount = tx.amount, id = tx.id, round = round }
          coroutine.yield()
        end
      end)
    end
    local alive = true
    while alive do
      alive = false
      for _, co in ipairs(workers) do
        if coroutine.status(co) ~= "dead" then
          assert(coroutine.resume(co))
          alive = true
        end
      end
    end
    assert.equal(40, #results)
    for _, r in ipairs(results) do
      assert.equal(ids[r.i], r.id)
      assert.equal(1000 + r.i, r.amount)
    end
    assert.equal(1, token_requests() - before)
    client:close()
  end)

  it("separate clients in two OS threads do not interfere", function()
    if not (rawget(_G, "_VERSION") == "Lua 5.4" and not rawget(_G, "jit")) then
      pending "the harness embeds Lua 5.4"
      return
    end
    local bin = "build/two_threads"
    local ok = os.execute(("cc -O1 -Wall -Wextra -I/usr/include/lua5.4 -o %s spec/support/two_threads.c"
      .. " -llua5.4 -lpthread 2>&1"):format(bin))
    assert.truthy(ok == true or ok == 0, "harness builds")
    local p = assert(io.popen(("%s %s %s 200 2>&1"):format(bin, ".", mock.url)))
    local out = p:read "*a"
    local closed, _, code = p:close()
    assert.truthy((closed == true or closed == 0) and (code == nil or code == 0), out)
    assert.matches("thread 1: ok 200", out)
    assert.matches("thread 2: ok 200", out)
  end)
end)
