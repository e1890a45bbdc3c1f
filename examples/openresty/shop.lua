-- examples/openresty/shop.lua: the shop's one Dintero client per nginx
-- worker, configured from the environment (nginx passes the variables named
-- by `env` directives in nginx.conf), plus small helpers the handlers share.
--
-- The client is created on first use inside a worker, never in the master
-- (init_by_lua): its libcurl handle must not be shared across fork. One
-- client per worker, not per request, so its token and kept-alive
-- connections serve every request of the worker.
local dintero = require "dintero"
-- luacheck: globals ngx (the handlers set ngx.status and response headers)

local M = {}

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

M.account_id = env("DINTERO_ACCOUNT_ID", "T12345678")
M.public_url = env("PUBLIC_URL", "http://127.0.0.1:8080")
M.signature_secret = env("DINTERO_SIGNATURE_SECRET")

local client

--- The worker's client (the OpenResty transport is chosen by itself: nginx is
-- running and dintero.ngx.transport is on the package path).
function M.client()
  if client then return client end
  client = dintero.new {
    account_id = M.account_id,
    client_id = env "DINTERO_CLIENT_ID",
    client_secret = env "DINTERO_CLIENT_SECRET",
    api_url = env "DINTERO_API_URL",          -- nil: https://api.dintero.com
    checkout_url = env "DINTERO_CHECKOUT_URL", -- nil: https://checkout.dintero.com
    shared_dict = "dintero",                   -- one token for all workers
    timeout = 15,
  }
  return client
end

--- Answers with a JSON document.
function M.json(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(dintero.json.encode(t))
  return ngx.exit(status)
end

--- Answers a failed API call: the message for the log, a short one for the shopper.
function M.api_failure(what, msg, err)
  ngx.log(ngx.ERR, what, " failed: ", msg)
  return M.json(502, { error = what .. " failed", kind = err and err.kind, request_id = err and err.request_id })
end

return M
