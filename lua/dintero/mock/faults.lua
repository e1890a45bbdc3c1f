-- Fault injection: a list of armed faults, each matching the next `count` requests
-- by method and path pattern ('*' = one path segment, method '*' = any method).
--
-- This file only decides WHAT goes wrong; server.lua carries out the I/O side of
-- an action (delay, drop, stall, truncate, oversize, garbage) so it can do so without
-- blocking the event loop.
local json = require "dintero.mock.json"

local M = {}
local Faults = {}
Faults.__index = Faults

local ACTIONS = {
  drop_before = true, drop_after = true, stall = true, truncate = true,
  malformed = true, oversize = true, async = true, garbage = true,
}

local DEFAULT_OVERSIZE = 70 * 1024 * 1024

function M.new()
  return setmetatable({ list = {} }, Faults)
end

function Faults:clear()
  self.list = {}
end

local function segments(path)
  local list = {}
  for seg in path:gmatch("[^/]+") do list[#list + 1] = seg end
  return list
end

local function path_matches(pattern_segs, path)
  local segs = segments(path)
  if #segs ~= #pattern_segs then return false end
  for i, p in ipairs(pattern_segs) do
    if p ~= "*" and p ~= segs[i] then return false end
  end
  return true
end

local function int_field(t, name, min, max)
  local v = t[name]
  if v == nil then return true end
  if math.type(v) ~= "integer" or v < min or (max and v > max) then
    return nil, name .. " must be an integer" .. (min and (" >= " .. min) or "") ..
      (max and (" <= " .. max) or "")
  end
  return true
end

--- Validates and arms a fault from a decoded request body; returns the fault or
-- nil, message.
function Faults:add(t)
  if type(t) ~= "table" then return nil, "body must be a JSON object" end
  if type(t.method) ~= "string" or t.method == "" then return nil, "method is required" end
  if type(t.path) ~= "string" or t.path:sub(1, 1) ~= "/" then
    return nil, "path is required and must start with /"
  end
  if t.action ~= nil and not ACTIONS[t.action] then
    return nil, "unknown action " .. tostring(t.action)
  end
  for _, f in ipairs { { "count", -1 }, { "status", 100, 599 }, { "delay_ms", 0, 600000 },
                       { "size", 0 }, { "retry_after", 0 } } do
    local ok, msg = int_field(t, f[1], f[2], f[3])
    if not ok then return nil, msg end
  end
  local fault = {
    method = t.method:upper(), path = t.path, segs = segments(t.path),
    count = t.count or 1, status = t.status, retry_after = t.retry_after,
    delay_ms = t.delay_ms, action = t.action, size = t.size or DEFAULT_OVERSIZE,
    code = type(t.code) == "string" and t.code or nil,
    message = type(t.message) == "string" and t.message or nil,
    body = type(t.body) == "string" and t.body or nil,
    perform = t.perform == true, hits = 0,
  }
  if fault.count == 0 then return nil, "count must be >= 1 (or -1 for every request)" end
  self.list[#self.list + 1] = fault
  return fault
end

--- Takes the first armed fault matching method + path (one use of it), or nil.
function Faults:take(method, path)
  for i, f in ipairs(self.list) do
    if (f.method == "*" or f.method == method) and path_matches(f.segs, path) then
      f.hits = f.hits + 1
      if f.count > 0 then
        f.count = f.count - 1
        if f.count == 0 then table.remove(self.list, i) end
      end
      return f
    end
  end
  return nil
end

--- The armed faults, as JSON-able tables.
function Faults:describe()
  local out = json.array()
  for _, f in ipairs(self.list) do
    out[#out + 1] = { method = f.method, path = f.path, count = f.count, status = f.status,
                      action = f.action, delay_ms = f.delay_ms, retry_after = f.retry_after,
                      hits = f.hits }
  end
  return out
end

local STATUS_MESSAGES = {
  [401] = "access token rejected (injected fault)",
  [429] = "too many requests (injected fault)",
  [500] = "internal server error (injected fault)",
  [502] = "bad gateway (injected fault)",
  [503] = "service temporarily unavailable (injected fault)",
  [504] = "gateway timeout (injected fault)",
}

--- The response of a fault that carries a status, in the real error shape.
function M.response(fault)
  local app = require "dintero.mock.app"
  local body = fault.body
  local headers = {}
  if not body then
    body = json.encode { error = {
      code = fault.code or app.STATUS_CODES[fault.status] or "ERROR",
      message = fault.message or STATUS_MESSAGES[fault.status] or
        ("injected fault: HTTP " .. fault.status),
    } }
  end
  headers["content-type"] = "application/json; charset=utf-8"
  return { status = fault.status, body = body, headers = headers }
end

--- Adds the I/O side of a fault to a response (read by server.lua).
function M.decorate(res, fault)
  if fault.retry_after then res.headers["retry-after"] = tostring(fault.retry_after) end
  res.delay = fault.delay_ms and fault.delay_ms / 1000 or nil
  res.action = fault.action
  res.size = fault.size
  if fault.action == "malformed" then
    res.status = fault.status or 200
    res.body = '{"id": "T12345678.malformed", "amount": 10, "items": [{"broken'
    res.headers["content-type"] = "application/json; charset=utf-8"
  end
end

return M
