-- Small helpers the api-host route modules share: the real validation error
-- shape, a JSON-object test and random ids.
local M = {}

--- A 400 in the real shape naming the offending field, in the message (for
-- people) and in errors[] (for code, like the real INVALID_REQUEST_PARAMETER
-- answers).
function M.invalid(api, field, why)
  return api.fail(400, "INVALID_REQUEST_PARAMETER", field .. ": " .. why,
    { { field = field, description = why } })
end

--- A decoded JSON object: arrays decode to tables too, so `[1]` or `[]` must not pass.
function M.is_object(api, v)
  return type(v) == "table" and v[1] == nil and getmetatable(v) ~= api.json.array_mt
end

--- A random version-4 UUID.
function M.uuid()
  return (("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"):gsub("[xy]", function(c)
    local v = c == "x" and math.random(0, 15) or math.random(8, 11)
    return ("%x"):format(v)
  end))
end

return M
