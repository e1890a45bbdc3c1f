-- Builds the Dintero-Signature header of a callback (dintero-api.md section 7)
-- with the mock's own SHA-256, so the library's verifier is checked against an
-- independent implementation.
local sha256 = require "dintero.mock.sha256"
local url = require "dintero.mock.url"

local M = {}

--- The canonical form of a query string: pairs parsed like URLSearchParams,
-- stable-sorted by name, re-serialised form-encoded.
function M.canonical_query(q)
  local list = url.parse_pairs(q)
  for i, p in ipairs(list) do p[3] = i end        -- original position keeps the sort stable
  table.sort(list, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[3] < b[3]
  end)
  return url.build_query(list)
end

--- The string that is signed: t, account, METHOD, hostname, pathname, query.
function M.canonical(opts)
  return table.concat({
    tostring(opts.t), opts.account_id, opts.method:upper(),
    opts.hostname, opts.pathname, M.canonical_query(opts.query or ""),
  }, "\n")
end

--- Header value `t=<t>,v0-hmac-sha256=<hex>` for opts = {secret, t, account_id,
-- method, url} (url is the full URL as called; its hostname is used without port).
function M.header(opts)
  local u = assert(url.split(opts.url))
  local canonical = M.canonical {
    t = opts.t, account_id = opts.account_id, method = opts.method,
    hostname = u.hostname, pathname = u.path, query = u.query,
  }
  return string.format("t=%d,v0-hmac-sha256=%s", opts.t, sha256.hmac_hex(opts.secret, canonical))
end

return M
