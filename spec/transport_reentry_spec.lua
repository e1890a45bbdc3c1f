-- The C transport under hostile Lua: finalizers that call back into it while
-- a request on it is building its result (any Lua allocation may run a
-- __gc), and a fresh coroutine whose small stack must still hold a request's
-- header lines. Run under valgrind and ASan in CI, where a stale buffer or a
-- stack overrun shows as an invalid access.
local core = require "dintero.core"
local mock = require "support.mock"
local gc_objects = require "support.gc_objects"

local gc_object = gc_objects.object

-- Runs f with the collector working all the time (a new cycle as soon as one
-- ends, large steps), so that finalizers run during the transport call
-- however big the heap the rest of the suite left behind; restores it after.
local function eager_gc(f)
  local mode = _VERSION == "Lua 5.4" and collectgarbage "incremental" or nil
  local pause = collectgarbage("setpause", 0)
  local mul = collectgarbage("setstepmul", 1000)
  local ok, a, b = pcall(f)
  collectgarbage("setpause", pause)
  collectgarbage("setstepmul", mul)
  if mode == "generational" then collectgarbage "generational" end
  if not ok then error(a, 0) end
  return a, b
end

-- A 1 MiB JSON answer: decoding it allocates enough to run the collector.
local function big_answer() return gc_objects.json_array(8000) end

describe("the C transport", function()
  local big
  setup(function() big = big_answer() end)
  before_each(function() mock.reset() end)

  local function big_req() return { method = "GET", url = mock.url .. "/big" } end

  local function arm_big()
    mock.fault { method = "GET", path = "/big", count = 1, status = 200, body = big }
  end

  -- Runs t:method(arg, extra) with 3000 dead objects whose finalizers call
  -- inner(t) while it runs, until the collector has run one of them during
  -- it (it decides when). Nothing is allocated in Lua between setting and
  -- clearing in_call, so a finalizer that sees it set ran inside the C call.
  -- Returns the call's result and the inner results.
  local function with_finalizers(t, method, arg, extra, inner)
    local function attempt()
      local during, out = {}, nil
      for _ = 1, 20 do
        local in_call = false
        arm_big()
        for _ = 1, 3000 do
          gc_object(function()
            if in_call then during[#during + 1] = { inner(t) } end
          end)
        end
        in_call = true
        out = t[method](t, arg, extra)
        in_call = false
        if #during > 0 then break end
      end
      return out, during
    end
    return eager_gc(attempt)
  end

  it("refuses a nested call from a finalizer, and the outer result stays intact", function()
    local t = core.transport {}
    local outer, during = with_finalizers(t, "perform", big_req(), nil, function(tr)
      return pcall(tr.perform, tr, { method = "GET", url = mock.url .. "/v1/transactions" })
    end)
    assert.truthy(#during > 0, "no finalizer ran during the request")
    for _, r in ipairs(during) do
      assert.is_false(r[1])
      assert.matches("transport in use", r[2], 1, true)
    end
    assert.equal(200, outer.status)
    assert.equal(8000, #outer.body)
    assert.equal("T12345678.item08000", outer.body[8000].id)
    -- and the transport still works afterwards
    arm_big()
    assert.equal(8000, #t:perform({ method = "GET", url = mock.url .. "/big" }).body)
    t:close()
  end)

  it("carries out a close() from a finalizer once the request returns", function()
    local t = core.transport {}
    local outer, during = with_finalizers(t, "perform", big_req(), nil, function(tr) return pcall(tr.close, tr) end)
    assert.truthy(#during > 0, "no finalizer ran during the request")
    assert.equal(200, outer.status)
    assert.equal("T12345678.item08000", outer.body[8000].id)
    local ok, err = pcall(t.perform, t, { method = "GET", url = mock.url .. "/v1/transactions" })
    assert.is_false(ok)
    assert.matches("client is closed", err, 1, true)
  end)

  it("refuses a nested batch the same way", function()
    local t = core.transport {}
    local results, during = with_finalizers(t, "perform_many", { big_req() }, 1,
      function(tr) return pcall(tr.perform_many, tr, {}, 1) end)
    assert.truthy(#during > 0, "no finalizer ran during the batch")
    for _, r in ipairs(during) do
      assert.is_false(r[1])
      assert.matches("transport in use", r[2], 1, true)
    end
    assert.equal("T12345678.item08000", results[1].body[8000].id)
    t:close()
  end)

  it("holds 64 header lines on a fresh coroutine's small stack", function()
    local t = core.transport {}
    local lines = {}
    for i = 1, 64 do lines[i] = ("X-Line-%02d: %d"):format(i, i) end
    local res = coroutine.wrap(function()
      return t:perform { method = "GET", url = mock.url .. "/v1/transactions", headers = lines }
    end)()
    assert.is_nil(res.fail, res.error)
    assert.truthy(res.status > 0)
    local seen = mock.requests()
    assert.equal("1", seen[#seen].headers["x-line-01"])
    assert.equal("64", seen[#seen].headers["x-line-64"])
    t:close()
  end)

  it("refuses a bad request in a batch without losing the others' results", function()
    local t = core.transport {}
    local results = t:perform_many({
      { method = "GET", url = mock.url .. "/v1/transactions" },
      { method = "HEAD", url = mock.url .. "/v1/transactions" },
      { url = mock.url .. "/v1/transactions" },
      { method = "GET", url = mock.url .. "/v1/transactions", headers = { 7 } },
      { method = "GET", url = mock.url .. "/v1/transactions" },
    }, 2)
    assert.truthy(results[1].status > 0)
    assert.truthy(results[5].status > 0)
    assert.equal("invalid", results[2].fail)
    assert.matches("unsupported method", results[2].error, 1, true)
    assert.equal("invalid", results[3].fail)
    assert.equal("invalid", results[4].fail)
    assert.matches("header lines must be strings", results[4].error, 1, true)
    t:close()
  end)
end)
