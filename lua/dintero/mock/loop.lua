-- The mock's event loop: coroutines waiting on sockets and timers, driven by
-- socket.select. Every connection and every outgoing callback delivery is a
-- coroutine, so a slow or stalled peer (or an injected delay) only parks its own
-- coroutine and never the others.
local socket = require "socket"

local Loop = {}
Loop.__index = Loop

local M = {}

function M.new()
  return setmetatable({
    readers = {},   -- socket -> waiter
    writers = {},   -- socket -> waiter
    timers = {},    -- waiter -> true (waiters with a deadline)
    tasks = 0,      -- live coroutines, for tests and stats
  }, Loop)
end

-- Resumes a coroutine and reports (never raises) a failure inside it.
local function resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    io.stderr:write("dintero-mock: task failed: ", tostring(err), "\n")
  end
end

--- Runs fn(...) as a new task; errors are reported on stderr with a traceback.
function Loop:spawn(fn, ...)
  local co = coroutine.create(function(...)
    self.tasks = self.tasks + 1
    local ok, err = xpcall(fn, debug.traceback, ...)
    self.tasks = self.tasks - 1
    if not ok then
      io.stderr:write("dintero-mock: task failed: ", tostring(err), "\n")
    end
  end)
  resume(co, ...)
end

-- Parks the running task until the waiter is woken; returns true or nil, "timeout".
function Loop:park(kind, sock, seconds)
  local waiter = { co = coroutine.running(), kind = kind, sock = sock }
  if sock then self[kind][sock] = waiter end
  if seconds then
    waiter.deadline = socket.gettime() + math.max(seconds, 0)
    self.timers[waiter] = true
  end
  return coroutine.yield()
end

function Loop:wake(waiter, ...)
  if waiter.done then return end
  waiter.done = true
  if waiter.sock and self[waiter.kind][waiter.sock] == waiter then
    self[waiter.kind][waiter.sock] = nil
  end
  self.timers[waiter] = nil
  resume(waiter.co, ...)
end

--- Waits until sock is readable (true) or seconds pass (nil, "timeout").
function Loop:wait_read(sock, seconds)
  return self:park("readers", sock, seconds)
end

--- Waits until sock is writable (true) or seconds pass (nil, "timeout").
function Loop:wait_write(sock, seconds)
  return self:park("writers", sock, seconds)
end

--- Suspends the running task for seconds.
function Loop:sleep(seconds)
  self:park("timers", nil, seconds)
end

-- Seconds until the nearest deadline, capped so periodic checks still run.
function Loop:next_timeout(cap)
  local now, best = socket.gettime(), cap
  for w in pairs(self.timers) do
    local left = w.deadline - now
    if left < best then best = left end
  end
  return math.max(best, 0)
end

local function keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  return list
end

--- One select round: wakes ready sockets and expired timers.
function Loop:step(cap)
  local r, w = socket.select(keys(self.readers), keys(self.writers), self:next_timeout(cap or 1))
  for _, s in ipairs(r or {}) do
    local waiter = self.readers[s]
    if waiter then self:wake(waiter, true) end
  end
  for _, s in ipairs(w or {}) do
    local waiter = self.writers[s]
    if waiter then self:wake(waiter, true) end
  end
  local now, due = socket.gettime(), {}
  for waiter in pairs(self.timers) do
    if waiter.deadline <= now then due[#due + 1] = waiter end
  end
  for _, waiter in ipairs(due) do self:wake(waiter, nil, "timeout") end
end

--- Runs until stop() is called; on_tick (if given) runs about once a second.
function Loop:run(on_tick)
  self.running = true
  local last = socket.gettime()
  while self.running do
    self:step(1)
    if on_tick and socket.gettime() - last >= 1 then
      last = socket.gettime()
      on_tick()
    end
  end
end

function Loop:stop()
  self.running = false
end

return M
