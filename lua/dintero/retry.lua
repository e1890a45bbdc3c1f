-- The retry policy: which failed attempts are tried again, and after how long.
-- One implementation, used by every transport (libcurl and OpenResty).
--
-- Classes: "read" (GET), "idempotent" (PUT, DELETE, the token call, fund
-- transfers keyed by fund_transfer_id) and "payment" (capture, refund, void,
-- extend authorization, sessions/pay, session create). A payment write is
-- retried only when the request certainly did not take effect: the connection
-- was never made, or the server said so (429 Too Many Requests, 503 Service
-- Unavailable). Anything else after the request may have reached the server
-- (a timeout, a dropped connection, a 502/504 from a gateway) leaves the outcome
-- unknown, and sending it again could capture or refund twice.
local M = {}

local RETRY_STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }
local PAYMENT_SAFE_STATUS = { [429] = true, [503] = true }

--- Is an attempt with this outcome safe and useful to send again?
-- res is the transport's result table (fail, status, sent).
function M.retryable(class, res)
  local fail = res.fail
  if fail == "connect" then return true end
  if fail == "timeout" or fail == "dropped" then
    if not res.sent then return true end
    return class ~= "payment"
  end
  if fail then return false end
  if class == "payment" then return PAYMENT_SAFE_STATUS[res.status] or false end
  return RETRY_STATUS[res.status] or false
end

-- Failures after sending that say nothing about the operation.
local BLIND_FAIL = { timeout = true, dropped = true, other = true }
-- Failures where an answer arrived but could not be read: its status, when
-- libcurl saw one, still tells.
local UNREADABLE_FAIL = { too_large = true, headers = true, json = true }

local function status_hides_outcome(status)
  return status == 0 or (status >= 200 and status < 300) or status == 502 or status == 504
end

--- Did a payment write possibly take effect without us seeing the answer?
-- True for a sent payment whose answer was lost or unreadable (a 2xx we
-- could not read was performed; a 502/504 may hide a performed one). A
-- caller that sees it must GET the transaction before sending again.
function M.outcome_unknown(class, res)
  if class ~= "payment" or not res.sent then return false end
  if BLIND_FAIL[res.fail] then return true end
  if UNREADABLE_FAIL[res.fail] then return status_hides_outcome(res.status or 0) end
  return not res.fail and (res.status == 502 or res.status == 504)
end

local function retry_after_seconds(res)
  local h = res.headers and res.headers["retry-after"]
  local n = h and tonumber(h)
  if n and n >= 0 then return n end
  return nil
end

--- Seconds to wait before attempt number `attempt + 1`, or nil when the
-- server asks for a longer wait than the caller allows (max_retry_after).
function M.delay(attempt, res, o, random)
  local after = retry_after_seconds(res)
  if after then
    if after > o.max_retry_after then return nil, after end
    return after, after
  end
  local backoff = math.min(o.retry_cap, o.retry_base * 2 ^ (attempt - 1))
  -- "equal jitter": half fixed, half random, so clients that failed together
  -- do not come back together.
  return backoff / 2 + (random or math.random)() * backoff / 2
end

--- The one decision both request loops (request.lua, parallel.lua) take after
-- a failed attempt: seconds to wait before sending it again, or nil to give
-- up. The second value is the server's Retry-After when it asked for more than
-- max_retry_after (the caller reports it as err.retry_after).
function M.next_delay(class, res, attempt, o)
  if attempt > o.retries or not M.retryable(class, res) then return nil end
  return M.delay(attempt, res, o)
end

return M
