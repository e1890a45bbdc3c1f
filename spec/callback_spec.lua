-- dintero.callback: Dintero-Signature verification (dintero-api.md section 7),
-- signing, webhook signatures, callback parsing and the express answers.
-- Vectors other than the official one were computed independently with Node
-- (new URL(u); u.searchParams.sort(); crypto.createHmac) and openssl dgst.
local callback = require "dintero.callback"
local core = require "dintero.core"

-- Official vector: docs and S4.
local OFFICIAL = {
  secret = "123",
  t = 1582236537,
  account_id = "P00000000",
  method = "GET",
  url = "https://example.com/callback?B=123&A=992",
  canonical = "1582236537\nP00000000\nGET\nexample.com\n/callback\nA=992&B=123",
  hex = "6bed2ab1b919d460ef7465a20dc6c97260dca73fab6647106ca525f0908df64a",
}
local OFFICIAL_HEADER = "t=1582236537,v0-hmac-sha256=" .. OFFICIAL.hex

-- Node-computed vectors: secret "s3cr3t-ø", t 1700000000, account T12345678, GET.
local SECRET = "s3cr3t-ø"
local T = 1700000000
local ACCOUNT = "T12345678"
local NODE = {
  { "https://example.com/callback?B=123&A=992",
    "5ac04e99e18e0490fb5a2d779927f6bded25664888c8291db733065776a155ed" },
  { "https://Example.COM:8443/callback?B=123&A=992",
    "5ac04e99e18e0490fb5a2d779927f6bded25664888c8291db733065776a155ed" },
  { "https://shop.example.com/cb/dintero?note=hello world&sym=:~!*'()&merchant_reference=ord-1",
    "fa2775fc937fd738571f0e9aec3eeb2fb0d7f3d1e896f65c84bce0f1c9c2d687",
    "merchant_reference=ord-1&note=hello+world&sym=%3A%7E%21*%27%28%29" },
  { "https://shop.example.com/cb?name=Ærlig øl 🍺&city=Tromsø&enc=%C3%A6+x",
    "0dbada0652e480b98652c891c060267a0f75aee4e1399492cc33ad0bb1137dd4",
    "city=Troms%C3%B8&enc=%C3%A6+x&name=%C3%86rlig+%C3%B8l+%F0%9F%8D%BA" },
  { "https://shop.example.com/cb?b=2&a=1&b=1&a=0&transaction_id=T1.x&session_id=T1.s",
    "09485e51bf4917bd23160cead1b9934b769639588770442f4322cffa528530c9",
    "a=1&a=0&b=2&b=1&session_id=T1.s&transaction_id=T1.x" },
  { "https://shop.example.com/cb", "e0db0fe816a1f9946053f45c6860cf5a1e08462bf64053848ea34510920e854c", "" },
  { "https://shop.example.com/cb?", "e0db0fe816a1f9946053f45c6860cf5a1e08462bf64053848ea34510920e854c", "" },
  { "https://shop.example.com/cb?method=POST&report_event=CAPTURE&report_event=REFUND"
      .. "&time=1700000000&transaction_id=T12345678.abc",
    "3fee4aa2d848b95ad55679382cc31bd748ee8fdec6d1d7d90f69968776cfc4f4" },
}

local function header(t, ...)
  local parts = { "t=" .. t }
  for _, h in ipairs { ... } do parts[#parts + 1] = "v0-hmac-sha256=" .. h end
  return table.concat(parts, ",")
end

local NIL = {} -- in verify{...} overrides: remove the field

local function verify(over)
  local o = {
    secret = OFFICIAL.secret, account_id = OFFICIAL.account_id, method = OFFICIAL.method,
    url = OFFICIAL.url, signature = OFFICIAL_HEADER, now = OFFICIAL.t,
  }
  for k, v in pairs(over or {}) do
    if v == NIL then o[k] = nil else o[k] = v end
  end
  return callback.verify(o)
end

local function assert_rejected(reason, ok, msg, err)
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.equal("signature: ", msg:sub(1, 11))
  assert.equal("signature", err.kind)
  assert.equal(reason, err.reason)
  assert.equal(msg, tostring(err))
  assert.equal(core.error_mt, getmetatable(err))
  -- never the expected value nor the secret
  assert.is_nil(msg:find(OFFICIAL.hex, 1, true))
  assert.is_nil(msg:find(SECRET, 1, true))
end

describe("dintero.core HMAC", function()
  it("computes RFC 4231 / RFC 2202 test case 2", function()
    assert.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      core.hmac_sha256_hex("Jefe", "what do ya want for nothing?"))
    assert.equal("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
      core.hmac_sha1_hex("Jefe", "what do ya want for nothing?"))
  end)

  it("handles empty keys, NUL bytes and long keys", function()
    assert.equal(64, #core.hmac_sha256_hex("", ""))
    assert.are_not.equal(core.hmac_sha256_hex("k", "a\0b"), core.hmac_sha256_hex("k", "a\0c"))
    assert.equal(64, #core.hmac_sha256_hex(("k"):rep(1000), "m"))
  end)

  it("compares in constant time with equal_ct", function()
    assert.is_true(core.equal_ct("abc", "abc"))
    assert.is_false(core.equal_ct("abc", "abd"))
    assert.is_false(core.equal_ct("abc", "abcd"))
    assert.is_true(core.equal_ct("", ""))
  end)
end)

describe("dintero.core.signature", function()
  local s = core.signature

  it("builds the official canonical string", function()
    assert.equal(OFFICIAL.canonical, s.canonical("1582236537", "P00000000", "GET", OFFICIAL.url))
    assert.equal(OFFICIAL.hex, core.hmac_sha256_hex("123", OFFICIAL.canonical))
  end)

  it("gives 1475110307... when the query is left unsorted (the negative vector)", function()
    local unsorted = "1582236537\nP00000000\nGET\nexample.com\n/callback\nB=123&A=992"
    assert.equal("1475110307", core.hmac_sha256_hex("123", unsorted):sub(1, 10))
  end)

  it("splits URLs: no port, no userinfo, lower-case host, fragment dropped", function()
    assert.same({ "example.com", "/a/b", "x=1" }, { s.split_url "HTTPS://u:p@Example.COM:8443/a/b?x=1#f" })
    assert.same({ "[::1]", "/p", "" }, { s.split_url "http://[::1]:80/p" })
    assert.same({ "h", "", "q=1" }, { s.split_url "https://h?q=1" })
    assert.is_nil((s.split_url "/callback?x=1"))
    assert.is_nil((s.split_url "https:///path"))
  end)

  it("uses / for an empty path and upper-cases the method", function()
    assert.equal("1\nA\nPOST\nh\n/\n", s.canonical("1", "A", "post", "https://H"))
  end)

  it("refuses line breaks in the fields", function()
    assert.is_nil((s.canonical("1", "A\nB", "GET", "https://h/")))
    assert.is_nil((s.canonical("1", "A", "GET\n", "https://h/")))
  end)

  it("canonicalises queries like URLSearchParams", function()
    local cases = {
      { "", "" },
      { "&&", "" },
      { "a", "a=" },
      { "=x", "=x" },
      { "=", "=" }, -- fuzz finding: all-empty pairs (NULL + 0 under UBSan)
      { "&=&=", "=&=" },
      { "a=1=2", "a=1%3D2" },
      { "b=1&a=2&b=0", "a=2&b=1&b=0" },
      { "c=%zz&d=%4", "c=%25zz&d=%254" },
      { "d=a+b%20c%2B", "d=a+b+c%2B" },
      { "f=%FF&g=%C3", "f=%EF%BF%BD&g=%EF%BF%BD" },
      { "s=%ED%A0%80", "s=%EF%BF%BD%EF%BF%BD%EF%BF%BD" },
      { "k=~!*'()/:?@", "k=%7E%21*%27%28%29%2F%3A%3F%40" },
      { "n=%00", "n=%00" },
      -- UTF-16 order: U+1F600 (lead unit D83D) sorts before U+FFFF
      { "%EF%BF%BF=1&%F0%9F%98%80=2&%7A=3&%C3%A9=4", "z=3&%C3%A9=4&%F0%9F%98%80=2&%EF%BF%BF=1" },
    }
    for _, c in ipairs(cases) do assert.equal(c[2], s.canonical_query(c[1]), c[1]) end
  end)

  it("keeps a sorted query stable (idempotent)", function()
    local q = "z=1&a=%E2%82%AC&a=+&m=%F0%9F%98%80"
    local once = s.canonical_query(q)
    assert.equal(once, s.canonical_query(once))
  end)

  it("parses headers", function()
    local t, v0, n = s.parse_header(" t=12 , v1=zz,v0-hmac-sha256=" .. OFFICIAL.hex:upper() .. ", ")
    assert.equal("12", t)
    assert.equal(12, n)
    assert.same({ OFFICIAL.hex }, v0)
    assert.same({ nil, "missing_header" }, { s.parse_header "  " })
    assert.same({ nil, "malformed_header" }, { s.parse_header "t=12" })
  end)
end)

describe("dintero.callback.verify", function()
  it("accepts the official vector", function()
    assert.is_true(verify())
  end)

  it("accepts every Node-computed vector (port, case, special characters, UTF-8, repeats)", function()
    for _, v in ipairs(NODE) do
      assert.is_true(callback.verify {
        secret = SECRET, account_id = ACCOUNT, method = "GET", url = v[1],
        signature = header(T, v[2]), now = T,
      }, v[1])
      if v[3] then
        local canonical = callback.canonical { t = T, account_id = ACCOUNT, method = "GET", url = v[1] }
        assert.equal(v[3], canonical:match "\n([^\n]*)$")
      end
    end
  end)

  it("rejects the unsorted-query signature", function()
    local bad = "14751103071159adc7aafc1c83d88e87665953dd149f9d3b58433f5f2d20f85e"
    assert_rejected("mismatch", verify { signature = header(OFFICIAL.t, bad) })
  end)

  it("rejects a tampered path, method, account, timestamp, query or host", function()
    assert_rejected("mismatch", verify { url = "https://example.com/callback2?B=123&A=992" })
    assert_rejected("mismatch", verify { method = "POST" })
    assert_rejected("mismatch", verify { account_id = "P00000001" })
    assert_rejected("mismatch", verify { signature = header(OFFICIAL.t + 1, OFFICIAL.hex), now = OFFICIAL.t + 1 })
    assert_rejected("mismatch", verify { url = "https://example.com/callback?B=124&A=992" })
    assert_rejected("mismatch", verify { url = "https://example.com/callback?B=123&A=992&C=1" })
    assert_rejected("mismatch", verify { url = "https://evil.example.com/callback?B=123&A=992" })
    assert_rejected("mismatch", verify { secret = "1234" })
  end)

  it("accepts what only differs in what the algorithm ignores", function()
    assert.is_true(verify { url = "https://EXAMPLE.com:443/callback?A=992&B=123#frag" })
    assert.is_true(verify { method = "get" })
  end)

  it("checks the time window in both directions", function()
    assert.is_true(verify { now = OFFICIAL.t + 300 })
    assert.is_true(verify { now = OFFICIAL.t - 300 })
    local ok, msg, err = verify { now = OFFICIAL.t + 301 }
    assert_rejected("outside_time_window", ok, msg, err)
    assert.truthy(msg:find("301 s old", 1, true))
    ok, msg, err = verify { now = OFFICIAL.t - 301 }
    assert_rejected("outside_time_window", ok, msg, err)
    assert.truthy(msg:find("in the future", 1, true))
    assert.is_true(verify { now = OFFICIAL.t + 3600, tolerance = 3600 })
    assert_rejected("outside_time_window", verify { now = OFFICIAL.t + 1, tolerance = 0 })
  end)

  it("uses os.time() when now is not given", function()
    assert_rejected("outside_time_window", verify { now = NIL })
    local h = callback.sign { secret = "k", account_id = "T1", method = "GET", url = "https://h/cb" }
    assert.is_true(callback.verify {
      secret = "k", account_id = "T1", method = "GET", url = "https://h/cb", signature = h,
    })
  end)

  it("accepts several v0 values and lists of secrets (rotation)", function()
    local other = ("0"):rep(64)
    assert.is_true(verify { signature = header(OFFICIAL.t, other, OFFICIAL.hex) })
    assert.is_true(verify { signature = header(OFFICIAL.t, OFFICIAL.hex, other) })
    assert.is_true(verify { secret = { "old", "123" } })
    assert.is_true(verify { secret = { "123", "new" } })
    assert_rejected("mismatch", verify { secret = { "old", "new" } })
    assert_rejected("mismatch", verify { signature = header(OFFICIAL.t, other, other) })
  end)

  it("accepts upper-case hex, spaces after commas and unknown keys", function()
    assert.is_true(verify { signature = "t=1582236537, v0-hmac-sha256=" .. OFFICIAL.hex:upper() })
    assert.is_true(verify { signature = "v1-future=abc,t=1582236537,\tv0-hmac-sha256=" .. OFFICIAL.hex .. "," })
  end)

  it("reports a missing header", function()
    assert_rejected("missing_header", verify { signature = NIL })
    assert_rejected("missing_header", verify { signature = "" })
    assert_rejected("missing_header", verify { signature = "   " })
  end)

  it("reports malformed headers", function()
    local bad = {
      "garbage", "t=1582236537", "v0-hmac-sha256=" .. OFFICIAL.hex,
      "t=abc,v0-hmac-sha256=" .. OFFICIAL.hex, "t=,v0-hmac-sha256=" .. OFFICIAL.hex,
      "t=-1,v0-hmac-sha256=" .. OFFICIAL.hex, "t=1582236537,v0-hmac-sha256=" .. OFFICIAL.hex:sub(2),
      "t=1582236537,v0-hmac-sha256=" .. OFFICIAL.hex .. "0",
      "t=1582236537,v0-hmac-sha256=" .. ("g"):rep(64),
      "t=1,t=1582236537,v0-hmac-sha256=" .. OFFICIAL.hex,
      "t=1234567890123456789,v0-hmac-sha256=" .. OFFICIAL.hex,
      "t=1582236537;v0-hmac-sha256=" .. OFFICIAL.hex,
      "t=1582236537," .. ("v0-hmac-sha256=" .. OFFICIAL.hex .. ","):rep(17),
    }
    for _, h in ipairs(bad) do assert_rejected("malformed_header", verify { signature = h }) end
  end)

  it("raises on misuse, naming the field", function()
    local function raises(field, over)
      local ok, e = pcall(verify, over)
      assert.is_false(ok)
      assert.truthy(tostring(e):find(field, 1, true), tostring(e))
    end
    raises("secret", { secret = false })
    raises("secret", { secret = "" })
    raises("secret", { secret = { "a", 1 } })
    raises("secret", { secret = {} })
    raises("account_id", { account_id = false })
    raises("account_id", { account_id = 12345678 })
    raises("account_id", { account_id = "P0\n" })
    raises("method", { method = false })
    raises("url", { url = false })
    raises("url", { url = "/callback?B=123" })
    raises("now", { now = "soon" })
    raises("tolerance", { tolerance = -1 })
    raises("signature", { signature = 12 })
    assert.has_error(function() callback.verify() end)
    assert.has_error(function() callback.verify "t=1" end)
  end)

  it("points misuse errors at the caller", function()
    local ok, e = pcall(callback.verify, { secret = "x" })
    assert.is_false(ok)
    assert.is_nil(tostring(e):find("callback.lua", 1, true))
  end)
end)

describe("dintero.callback.sign", function()
  it("reproduces the official header", function()
    assert.equal(OFFICIAL_HEADER, callback.sign {
      secret = "123", account_id = "P00000000", method = "GET", url = OFFICIAL.url, time = OFFICIAL.t,
    })
  end)

  it("round-trips with verify for GET and POST and many URLs", function()
    local urls = {
      "https://shop.example.com/cb?transaction_id=T1.a&merchant_reference=o 1&z=%7E",
      "http://localhost:8080/dintero/callback",
      "https://h.example/p/a%20th?x=1&x=2&x=0&y=%C3%A6%C3%B8%C3%A5&e=",
      "https://h.example/?method=POST&includes=session&q=:@/?",
    }
    for _, url in ipairs(urls) do
      for _, method in ipairs { "GET", "POST" } do
        local h = callback.sign { secret = SECRET, account_id = ACCOUNT, method = method, url = url, time = T }
        assert.truthy(h:find "^t=1700000000,v0%-hmac%-sha256=%x+$")
        assert.is_true(callback.verify {
          secret = SECRET, account_id = ACCOUNT, method = method, url = url, signature = h, now = T + 10,
        })
        assert_rejected("mismatch", callback.verify {
          secret = SECRET, account_id = ACCOUNT, method = method == "GET" and "POST" or "GET", url = url,
          signature = h, now = T,
        })
      end
    end
  end)

  it("signs with every secret of a list", function()
    local h = callback.sign {
      secret = { "a", "b" }, account_id = ACCOUNT, method = "GET", url = "https://h/", time = T,
    }
    local _, n = h:gsub("v0%-hmac%-sha256=", "")
    assert.equal(2, n)
    assert.is_true(callback.verify { secret = "b", account_id = ACCOUNT, method = "GET", url = "https://h/",
      signature = h, now = T })
  end)

  it("raises on misuse", function()
    assert.has_error(function() callback.sign { account_id = ACCOUNT, method = "GET", url = "https://h/" } end)
    assert.has_error(function() callback.sign { secret = "s", account_id = ACCOUNT, method = "GET", url = "h/" } end)
    assert.has_error(function()
      callback.sign { secret = "s", account_id = ACCOUNT, method = "GET", url = "https://h/", time = 1.5 }
    end)
  end)
end)

describe("dintero.callback.verify_webhook", function()
  -- printf '%s' "$BODY" | openssl dgst -sha1 -hmac 'whsec-1'
  local BODY = '{"id":"T12345678.abc","event":"TRANSACTION_CAPTURED"}'
  local SIG = "251b6fa6639b5748ea2eb2d7e624290e706be96f"

  it("verifies the hex HMAC-SHA1 of the raw body", function()
    assert.is_true(callback.verify_webhook { secret = "whsec-1", body = BODY, signature = SIG })
    assert.is_true(callback.verify_webhook { secret = "whsec-1", body = BODY, signature = " " .. SIG:upper() })
    assert.is_true(callback.verify_webhook { secret = { "old", "whsec-1" }, body = BODY, signature = SIG })
  end)

  it("agrees with openssl when it is installed", function()
    local p = io.popen("printf '%s' 'abc' | openssl dgst -sha1 -hmac 'k' 2>/dev/null")
    local out = p and p:read "*a" or ""
    if p then p:close() end
    local hex = out:match "(%x+)%s*$"
    if hex and #hex == 40 then
      assert.is_true(callback.verify_webhook { secret = "k", body = "abc", signature = hex })
    end
  end)

  it("rejects tampered bodies, other secrets, missing and malformed headers", function()
    assert_rejected("mismatch", callback.verify_webhook { secret = "whsec-1", body = BODY .. " ", signature = SIG })
    assert_rejected("mismatch", callback.verify_webhook { secret = "whsec-2", body = BODY, signature = SIG })
    assert_rejected("missing_header", callback.verify_webhook { secret = "whsec-1", body = BODY })
    assert_rejected("malformed_header",
      callback.verify_webhook { secret = "whsec-1", body = BODY, signature = SIG:sub(2) })
    assert_rejected("malformed_header",
      callback.verify_webhook { secret = "whsec-1", body = BODY, signature = "sha256=" .. SIG })
    assert.has_error(function() callback.verify_webhook { secret = "whsec-1", signature = SIG } end)
  end)
end)

describe("dintero.callback.verify_ngx", function()
  local function fake_ngx(t)
    return {
      req = {
        get_method = function() return t.method or "GET" end,
        get_headers = function() return t.headers or {} end,
      },
      var = { request_uri = t.uri, host = t.host or "example.com", scheme = t.scheme or "https" },
    }
  end
  local base = { secret = "123", account_id = "P00000000", now = OFFICIAL.t }
  local function with(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end

  it("reads method, URI, host and header from the request", function()
    local ngx = fake_ngx { uri = "/callback?B=123&A=992", headers = { ["dintero-signature"] = OFFICIAL_HEADER } }
    assert.is_true(callback.verify_ngx(with { ngx = ngx }))
  end)

  it("uses public_url behind a proxy", function()
    local ngx = fake_ngx { uri = "/callback?B=123&A=992", host = "app.internal", scheme = "http",
      headers = { ["dintero-signature"] = OFFICIAL_HEADER } }
    assert_rejected("mismatch", callback.verify_ngx(with { ngx = ngx }))
    assert.is_true(callback.verify_ngx(with { ngx = ngx, public_url = "https://example.com" }))
    assert.is_true(callback.verify_ngx(with { ngx = ngx, public_url = "https://example.com/" }))
    assert.is_true(callback.verify_ngx(with { ngx = ngx, public_url = function(n)
      return "https://example.com" .. n.var.request_uri
    end }))
  end)

  it("appends the request URI to a public_url path prefix", function()
    local h = callback.sign { secret = "123", account_id = "P00000000", method = "POST",
      url = "https://shop.example.com/api/cb?x=1", time = OFFICIAL.t }
    local ngx = fake_ngx { method = "POST", uri = "/cb?x=1", headers = { ["dintero-signature"] = h } }
    assert.is_true(callback.verify_ngx(with { ngx = ngx, public_url = "https://shop.example.com/api" }))
  end)

  it("joins a repeated header and reports a missing one", function()
    local ngx = fake_ngx { uri = "/callback?B=123&A=992", headers = {
      ["dintero-signature"] = { "t=1582236537", "v0-hmac-sha256=" .. OFFICIAL.hex } } }
    assert.is_true(callback.verify_ngx(with { ngx = ngx }))
    assert_rejected("missing_header", callback.verify_ngx(with { ngx = fake_ngx { uri = "/callback" } }))
  end)

  it("finds ngx in package.loaded", function()
    local saved = package.loaded.ngx
    package.loaded.ngx = fake_ngx {
      uri = "/callback?B=123&A=992", headers = { ["dintero-signature"] = OFFICIAL_HEADER },
    }
    local ok = callback.verify_ngx(with {})
    package.loaded.ngx = saved
    assert.is_true(ok)
  end)

  it("raises on misuse", function()
    local ngx = fake_ngx { uri = "/callback" }
    assert.has_error(function() callback.verify_ngx { account_id = "P00000000", ngx = ngx } end)
    assert.has_error(function() callback.verify_ngx(with { ngx = ngx, public_url = "example.com" }) end)
    assert.has_error(function() callback.verify_ngx(with { ngx = ngx, public_url = "https://e.com/?a=1" }) end)
  end)
end)

describe("dintero.callback.parse", function()
  it("reads a GET callback from a full URL", function()
    local r = callback.parse("https://shop.example.com/cb?merchant_reference=order+1&transaction_id=T12345678.abc"
      .. "&session_id=T12345678.ses&time=1700000000&event=CAPTURE&event_id=ev1&report_event=CAPTURE"
      .. "&report_event=REFUND&note=%C3%A6#frag")
    assert.equal("GET", r.method)
    assert.equal("T12345678.abc", r.transaction_id)
    assert.equal("T12345678.ses", r.session_id)
    assert.equal("order 1", r.merchant_reference)
    assert.equal(1700000000, r.time)
    assert.equal("CAPTURE", r.event)
    assert.equal("ev1", r.event_id)
    assert.equal("æ", r.params.note)
    assert.same({ "CAPTURE", "REFUND" }, r.params_all.report_event)
    assert.is_nil(r.error)
    assert.is_nil(r.transaction)
  end)

  it("reads sid, error and a bare query string", function()
    local r = callback.parse { query = "sid=T1.s&error=cancelled&merchant_reference=m" }
    assert.equal("T1.s", r.session_id)
    assert.equal("cancelled", r.error)
    assert.is_nil(r.transaction_id)
    assert.equal("m", callback.parse("/cb?merchant_reference=m").merchant_reference)
    assert.same({}, callback.parse("https://h/cb").params)
  end)

  it("decodes the body of a POST callback", function()
    local body = '{"id":"T12345678.abc","status":"AUTHORIZED","amount":29990,'
      .. '"session":{"id":"T12345678.ses"},"items":[]}'
    local r = assert(callback.parse { method = "post", url = "https://h/cb?method=POST&time=1", body = body })
    assert.equal("POST", r.method)
    assert.equal("AUTHORIZED", r.transaction.status)
    assert.equal(29990, r.transaction.amount)
    assert.equal("T12345678.ses", r.session.id)
    assert.equal("T12345678.abc", r.transaction_id)
    assert.equal(1, r.time)
  end)

  it("returns a json failure for a body that is not JSON", function()
    local r, msg, err = callback.parse("https://h/cb", "{not json")
    assert.is_nil(r)
    assert.equal("json", err.kind)
    assert.equal("json: ", msg:sub(1, 6))
  end)
end)

describe("express callback answers", function()
  local json = core.json

  it("builds the shipping options answer", function()
    local s = callback.shipping_options_response {
      shipping_options = {
        { id = "bring", line_id = "bring-1", amount = 9900, vat_amount = 1980, title = "Bring",
          operator = "Bring", countries = {} },
      },
      order = { amount = 39890, items = {} },
    }
    local v = json.decode(s)
    assert.equal(9900, v.shipping_options[1].amount)
    assert.equal(39890, v.order.amount)
    assert.truthy(s:find('"items":[]', 1, true))
    assert.truthy(s:find('"countries":[]', 1, true))
  end)

  it("keeps an empty list as []", function()
    assert.equal('{"shipping_options":[]}', callback.shipping_options_response { shipping_options = {} })
    assert.equal('{"shipping_options":[]}', callback.discount_codes_response {})
  end)

  it("builds the discount codes answer", function()
    local s = callback.discount_codes_response {
      order = { amount = 1000, discount_codes = { "SUMMER" }, discount_lines = {} },
      shipping_options = { { id = "p", line_id = "p", amount = 0, title = "Pick up", operator = "" } },
    }
    local v = json.decode(s)
    assert.equal("SUMMER", v.order.discount_codes[1])
    assert.equal(0, v.shipping_options[1].amount)
    assert.truthy(s:find('"discount_lines":[]', 1, true))
  end)

  it("writes integral float amounts as integers", function()
    local s = callback.shipping_options_response { shipping_options = { { id = "a", amount = 100.0 } } }
    assert.truthy(s:find('"amount":100[,}]'))
  end)

  it("refuses amounts that are not integers, naming the path", function()
    local ok, e = pcall(callback.shipping_options_response, { shipping_options = { { id = "a", amount = 99.5 } } })
    assert.is_false(ok)
    assert.truthy(tostring(e):find("shipping_options[1].amount", 1, true), tostring(e))
    ok, e = pcall(callback.discount_codes_response, { order = { items = { { vat_amount = "10" } } } })
    assert.is_false(ok)
    assert.truthy(tostring(e):find("order.items[1].vat_amount", 1, true), tostring(e))
    assert.has_error(function() callback.shipping_options_response {} end)
  end)
end)
