-- examples/example_env.lua: the set-up the example scripts share. Makes the
-- source tree's lua/ and the C module of `make build` loadable, reads the
-- DINTERO_* environment (defaulting to the mock's credentials) and builds the
-- client from it. Installed with luarocks, only the client part matters.
local M = {}

-- The repository root: the parent of the directory this file is in.
local root = (debug.getinfo(1, "S").source:match "^@(.*)/[^/]*$" or ".") .. "/.."
local tag = rawget(_G, "jit") and "luajit" or _VERSION:match "%d+%.%d+"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = (os.getenv "DINTERO_BUILD_DIR" or (root .. "/build/" .. tag)) .. "/?.so;" .. package.cpath

M.root = root
M.dintero = require "dintero"

--- An environment variable, or default when unset or empty.
function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

M.account = M.env("DINTERO_ACCOUNT_ID", "T12345678")
M.api_url = M.env "DINTERO_API_URL"
M.checkout_url = M.env("DINTERO_CHECKOUT_URL", M.api_url)

--- A client from the environment, with extra options (feature_toggles,
-- system ...) merged in.
function M.client(extra)
  local o = {
    account_id = M.account,
    client_id = M.env("DINTERO_CLIENT_ID", "mock-client"),
    client_secret = M.env("DINTERO_CLIENT_SECRET", "mock-secret"),
    api_url = M.api_url, checkout_url = M.checkout_url,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return M.dintero.new(o)
end

--- True when url points at a local mock server (loopback, plain http).
function M.is_mock(url)
  return url ~= nil and (url:match "^http://127%." or url:match "^http://localhost") ~= nil
end

return M
