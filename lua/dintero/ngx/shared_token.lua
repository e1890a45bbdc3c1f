-- The access token shared between nginx workers through a lua_shared_dict
-- (option shared_dict = "<name>"). Each worker keeps using its own C token
-- state (the one policy, src/token.c); this file only moves a token between
-- that state and the dict, and holds a cross-worker lock so that one worker
-- fetches while the others wait and adopt its token.
--
-- Entry: key -> "<expires_at> <lifetime> <token>" (wall clock seconds, set with
-- the token's remaining lifetime as TTL so the dict forgets it by itself).
-- The token sits in nginx shared memory, readable by every worker of this
-- nginx and nothing else; credentials never go there.
local M = {}

local Shared = {}
Shared.__index = Shared

local POLL = 0.02 -- seconds between looks while another worker fetches

--- The shared view for the client options o (validated by options.lua).
function M.new(o)
  local dict = ngx.shared[o.shared_dict]
  if not dict then
    error(("dintero.new: shared_dict %q is not declared (add `lua_shared_dict %s 1m;` to the http block)")
      :format(o.shared_dict, o.shared_dict), 0)
  end
  -- One token per credentials and audience and API: clients of other
  -- accounts in the same nginx must never pick it up.
  local key = "dintero:token:" .. o.api_url .. "|" .. o.client_id .. "|" .. o.audience
  return setmetatable({
    dict = dict, key = key, lock_key = key .. "|lock",
    -- A lock outliving its holder (worker crash) expires after one token call's budget.
    lock_ttl = o.connect_timeout + o.timeout,
  }, Shared)
end

-- The same refresh margin as src/token.c: max(60 s, 10 %), at most half-life.
local function margin(lifetime)
  local early = math.max(60, lifetime * 0.1)
  if early >= lifetime then early = lifetime / 2 end
  return early
end

-- The dict's token and its seconds left, when it is fresh by that policy.
function Shared:fresh_entry()
  local v = self.dict:get(self.key)
  if type(v) ~= "string" then return nil end
  local expires_at, lifetime, token = v:match "^(%S+) (%S+) (.+)$"
  expires_at, lifetime = tonumber(expires_at), tonumber(lifetime)
  if not (expires_at and lifetime) then return nil end
  local left = expires_at - ngx.now()
  if left <= margin(lifetime) then return nil end
  return token, left
end

--- Stores the dict's token in the worker's C state when it is fresh and not
-- the one already held. True when the worker now has a shared token.
function Shared:adopt(curl)
  local token, left = self:fresh_entry()
  if not token then return false end
  -- Stored again even when it is the same token but the worker sees it as
  -- due: the C state then recomputes its margin from what is left.
  if curl:token() ~= token or curl:token_state() ~= "fresh" then curl:store_token(token, left) end
  return true
end

--- Publishes the worker's current token (just fetched) for the others.
function Shared:publish(curl)
  local token, left = curl:token()
  if not token or left <= 0 then return end
  self.dict:set(self.key, ("%.3f %.3f %s"):format(ngx.now() + left, left, token), left)
end

--- Forgets the shared token if it is `token` (the API rejected it with 401),
-- so no worker adopts it again.
function Shared:forget(token)
  local v = self.dict:get(self.key)
  if type(v) == "string" and token and v:match "^%S+ %S+ (.+)$" == token then self.dict:delete(self.key) end
end

--- Waits (when can_wait) until either another worker's fresh token can be
-- adopted ("adopted"), or this worker holds the fetch lock ("locked"), or the
-- wait is over ("busy": the holder is slow or stuck; the caller decides).
function Shared:acquire(curl, can_wait)
  local deadline = ngx.now() + self.lock_ttl
  while true do
    if self:adopt(curl) then return "adopted" end
    if self.dict:add(self.lock_key, true, self.lock_ttl) then
      -- The previous holder may have published and released in between.
      if not self:adopt(curl) then return "locked" end
      self:release()
      return "adopted"
    end
    if not can_wait or ngx.now() >= deadline then return "busy" end
    ngx.sleep(POLL)
  end
end

function Shared:release()
  self.dict:delete(self.lock_key)
end

return M
