-- One benchmark peer in a process of its own, as bench/raw_curl.c is: one
-- untimed warm-up call (token fetch, connection, TLS session), then N timed
-- calls of one kind. Prints one line in raw_curl's format:
--   requests=N wall_s=... user_s=... sys_s=... bytes=0 connects=...
-- (CPU from getrusage, user + system; connects counts calls whose
-- meta says the connection was not reused). bench/requests.lua times it;
-- bench/instructions.lua runs it under callgrind at N and 2N calls.
--
--   lua5.4 bench/support/request_loop.lua MODE BASE_URL N [CA_FILE]
--
-- MODE: request (client:request), raw (client:request{raw = true}),
-- get (client.transactions:get), decode (core.json.decode of the body alone,
-- no I/O), cjson (lua-cjson's decode of the same body).
package.path = "bench/?.lua;" .. package.path
require "support.paths"

local common = require "support.common"
local nginx = require "support.nginx"
local dintero = require "dintero"

local mode, base, n, ca = arg[1], arg[2], tonumber(arg[3]), arg[4]
if ca == "" then ca = nil end
assert(mode and base and n, "usage: request_loop.lua MODE BASE_URL N [CA_FILE]")
local TX = "T12345678.5Yb000000000000000007Hq"

-- Runs one() once untimed, then n times timed, and prints the result line.
local function timed(one)
  local connects = 0
  assert(one())
  collectgarbage "collect"
  local s0 = common.cpu()
  local t0 = common.now()
  for _ = 1, n do
    if one() == "new" then connects = connects + 1 end
  end
  local t1 = common.now()
  local s1 = common.cpu()
  print(("requests=%d wall_s=%.6f user_s=%.6f sys_s=0 bytes=0 connects=%d"):format(n, t1 - t0, s1 - s0, connects))
end

local function decoder_loop(decode)
  local body = nginx.transaction_json()
  timed(function() return decode(body).id end)
end

local function client_loop()
  local client = dintero.new {
    account_id = nginx.ACCOUNT, client_id = "bench-client", client_secret = "bench-secret",
    api_url = base, checkout_url = base, ca_file = ca,
  }
  local raw = mode == "raw"
  local spec = { method = "GET", host = "checkout", path = "/v1/transactions/{id}", params = { id = TX } }
  local function one()
    if mode == "get" then
      local tx, err = client.transactions:get(TX)
      if not tx then error("dintero transactions:get failed: " .. tostring(err)) end
      return true
    end
    -- client:request fills in defaults on the spec it is given: a fresh one per call
    local s = { method = spec.method, host = spec.host, path = spec.path, params = spec.params, raw = raw }
    local body, meta = client:request(s)
    if not body or (raw and #body < 100) or (not raw and not body.id) then
      error("dintero request failed: " .. tostring(meta))
    end
    return meta.reused and true or "new"
  end
  timed(one)
  client:close()
end

if mode == "decode" then
  decoder_loop(require("dintero.core").json.decode)
elseif mode == "cjson" then
  decoder_loop(require("cjson").decode)
else
  assert(mode == "request" or mode == "raw" or mode == "get", "unknown mode " .. tostring(mode))
  client_loop()
end
