-- The collector's work done while a sequential request waits for its answer
-- (src/lwait.c): on Lua 5.4 a step runs between sending and the answer's
-- arrival, never when the caller stopped the collector, never when the
-- client was made with collect_while_waiting = false. Observed through
-- finalizers: each records when it ran, against a mock that holds its
-- answer for DELAY seconds.
local core = require "dintero.core"
local dintero = require "dintero"
local mock = require "support.mock"
local gc_objects = require "support.gc_objects"

local DELAY = 0.3
local LUA54 = _VERSION == "Lua 5.4"

local gc_object = gc_objects.object

-- A ~120 KiB answer: the next request's step is sized from the previous
-- answer, and this one asks for more than a minor collection's threshold.
local function large_answer() return gc_objects.json_array(2000) end

describe("collect_while_waiting", function()
  local big
  setup(function() big = large_answer() end)
  local mode -- the collector's mode before each spec (5.4), restored after it
  before_each(function()
    mock.reset()
    if LUA54 then mode = collectgarbage "incremental" end
  end)
  after_each(function()
    collectgarbage "restart"
    -- Lua 5.4's defaults (LUAI_GENMINORMUL, LUAI_GENMAJORMUL): a 1 % minor
    -- threshold left behind would slow the rest of the suite down.
    if LUA54 then collectgarbage("generational", 20, 100) end
    if LUA54 then collectgarbage(mode) end
  end)

  local function arm(delay)
    mock.fault { method = "GET", path = "/big", count = 1, status = 200, body = big, delay_ms = delay * 1000 }
  end

  -- Performs one delayed request on t with 200 dead objects whose finalizers
  -- note how long after the start they ran. Nothing allocates in Lua between
  -- taking t0 and the call, so a finalizer that ran before DELAY ran while
  -- the request waited. Returns the list of those times.
  local function finalizer_times(t)
    arm(0) -- the first answer sizes the step of the next request
    assert.equals(200, t:perform({ method = "GET", url = mock.url .. "/big" }).status)
    arm(DELAY)
    local times, t0 = {}, nil
    for _ = 1, 200 do
      gc_object(function() if t0 then times[#times + 1] = core.now() - t0 end end)
    end
    local req = { method = "GET", url = mock.url .. "/big" }
    t0 = core.now()
    local res = t:perform(req)
    t0 = nil
    assert.equals(200, res.status)
    assert.equals(2000, #res.body)
    return times
  end

  local function ran_while_waiting(times)
    for _, s in ipairs(times) do
      if s < DELAY / 2 then return true end
    end
    return false
  end

  it("is an option that must be a boolean", function()
    local ok, err = pcall(dintero.new, {
      account_id = "T12345678", client_id = "a", client_secret = "b", collect_while_waiting = "yes",
    })
    assert.is_false(ok)
    assert.matches("collect_while_waiting must be a boolean", err, 1, true)
  end)

  it("on Lua 5.4, runs the collector while the answer is on its way", function()
    if not LUA54 then return pending "Lua 5.4 only: older collectors keep no credit for a step" end
    -- Generational with a 1 % minor threshold: the step the request asks for
    -- (~400 KiB) is certain to make a minor collection, which collects the
    -- young dead objects and runs their finalizers.
    collectgarbage("generational", 1, 100)
    local t = core.transport {}
    assert.is_true(ran_while_waiting(finalizer_times(t)))
    t:close()
  end)

  it("never while the caller has stopped the collector", function()
    local t = core.transport {}
    if LUA54 then collectgarbage("generational", 1, 100) end
    collectgarbage "stop"
    local times = finalizer_times(t)
    assert.same({}, times)
    if _VERSION ~= "Lua 5.1" then assert.is_false(collectgarbage "isrunning") end -- 5.1 cannot tell
    collectgarbage "restart"
    t:close()
  end)

  it("not when the client turned it off", function()
    if LUA54 then collectgarbage("generational", 1, 100) end
    local t = core.transport { collect_while_waiting = false }
    assert.is_false(ran_while_waiting(finalizer_times(t)))
    t:close()
  end)

  it("a finalizer that uses the transport during the step is refused, the request completes", function()
    if not LUA54 then return pending "Lua 5.4 only" end
    collectgarbage("generational", 1, 100)
    local t = core.transport {}
    arm(0)
    t:perform { method = "GET", url = mock.url .. "/big" }
    arm(DELAY)
    local seen = {}
    for _ = 1, 50 do
      gc_object(function()
        local ok, err = pcall(t.perform, t, { method = "GET", url = mock.url .. "/big" })
        seen[#seen + 1] = ok and "sent" or tostring(err)
      end)
    end
    local res = t:perform { method = "GET", url = mock.url .. "/big" }
    assert.equals(200, res.status)
    assert.equals(2000, #res.body)
    assert.is_true(#seen > 0)
    for _, s in ipairs(seen) do assert.matches("transport in use", s, 1, true) end
    t:close()
  end)
end)
