-- client:parallel: many requests at once over libcurl's multi interface.
-- The same rules as one request (request.lua, retry.lua): the token is
-- fetched once for the whole batch, a 401 is replayed once, retryable failures
-- are sent again in a later round after the longest backoff any of them asked
-- for. Results come back in the order of the specs.
local core = require "dintero.core"
local request = require "dintero.request"
local retry = require "dintero.retry"

local M = {}

local function result_ok(body, meta) return { ok = true, body = body, meta = meta } end
local function result_fail(_, msg, err) return { ok = false, msg = msg, err = err } end

local function prepare(client, specs)
  local built, out = {}, {}
  local needs_token = false
  for i, spec in ipairs(specs) do
    request.defaults(spec)
    needs_token = needs_token or spec.auth == true
    local req, err = request.build(client, spec)
    if req then built[i] = req else out[i] = result_fail(core.fail { kind = "validation", message = err }) end
  end
  return built, out, needs_token
end

-- One round: sends every index in `todo`, returns the indexes to send again.
local function round(client, specs, built, out, todo, state)
  local reqs = {}
  for j, i in ipairs(todo) do reqs[j] = built[i] end
  local results = client._transport:perform_many(reqs, state.concurrency)
  local again, wait = {}, 0
  for j, i in ipairs(todo) do
    local res, spec = results[j], specs[i]
    local delay, after
    if not res.fail and res.status >= 200 and res.status < 300 then
      out[i] = result_ok(res.body, request.meta(res, state.attempt))
    elseif res.status == 401 and spec.auth == true and not state.replayed[i] then
      state.replayed[i] = true
      client._transport:drop_token(res.token_generation)
      again[#again + 1] = i
    else
      delay, after = retry.next_delay(spec.class, res, state.attempt, client.options)
      if delay then
        wait = math.max(wait, delay)
        again[#again + 1] = i
      else
        out[i] = result_fail(request.failure(spec, res, after))
      end
    end
  end
  return again, wait
end

function M.run(client, specs, opts)
  if type(specs) ~= "table" then error("client:parallel: list of request specs expected", 3) end
  local built, out, needs_token = prepare(client, specs)
  local todo = {}
  for i = 1, #specs do if built[i] then todo[#todo + 1] = i end end
  local state = { concurrency = opts.concurrency or 8, attempt = 1, replayed = {} }
  while #todo > 0 do
    if needs_token then
      local ok, msg, err = client:_ensure_token()
      if not ok then
        for _, i in ipairs(todo) do out[i] = result_fail(nil, msg, err) end
        break
      end
    end
    local wait
    todo, wait = round(client, specs, built, out, todo, state)
    if wait > 0 then client._sleep(wait) end
    state.attempt = state.attempt + 1
  end
  return out
end

return M
