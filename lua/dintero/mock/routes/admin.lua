-- The callback signature secret: POST /v1/admin/signature creates (or rotates)
-- it, GET reads it. Once an account has one, its callbacks carry Dintero-Signature.
local function secrets(api)
  api.state.signature_secrets = api.state.signature_secrets or {}
  return api.state.signature_secrets
end

return function(api)
  api.route("POST", "/v1/admin/signature", function(req)
    local rec = {
      id = "mock-sig-" .. api.random_string(16), created_at = api.iso8601(),
      created_by = req.token and req.token.client_id or "mock",
      signature = { type = "hmac-sha256", secret = api.random_string(48) },
    }
    secrets(api)[req.account] = rec
    return 200, rec
  end)
  api.route("GET", "/v1/admin/signature", function(req)
    local rec = secrets(api)[req.account]
    if not rec then return api.fail(404, "NOT_FOUND", "no signature secret; create one with POST") end
    return 200, rec
  end)
end
