-- Single flight inside one nginx worker: when many light threads find the
-- access token missing or due at the same moment, one of them fetches it and
-- the others wait on a semaphore, then re-check and find it fresh. Without
-- this, every request arriving in the same instant would call the token
-- endpoint (with cosockets they interleave; with libcurl they could not).
--
-- The function run under the lock must re-check the token state itself: a
-- waiter that gets the lock after the fetcher finds nothing left to do.
local M = {}

local Lock = {}
Lock.__index = Lock

local function pack(...)
  return { n = select("#", ...), ... }
end

--- A lock whose waiters give up after `timeout` seconds and run anyway: a
-- stuck fetch must not stall every request, and a second fetch is harmless.
function M.new(timeout)
  local semaphore = require "ngx.semaphore" -- lazy: this file loads outside nginx too
  return setmetatable({ sema = semaphore.new(1), timeout = timeout }, Lock)
end

--- Runs fn(...) holding the lock (only in phases that can yield); the lock is
-- released even when fn raises, and the error is raised again.
function Lock:run(fn, ...)
  local held = self.sema:wait(self.timeout)
  local r = pack(pcall(fn, ...))
  if held then self.sema:post(1) end
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

return M
