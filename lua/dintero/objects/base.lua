-- What Session and Transaction objects share: the decoded API fields live in
-- the object table itself (tx.status, tx.amount, pairs(tx) and
-- dintero.json.encode(tx) see exactly the API's fields), the methods in the
-- class table behind __index.
--
-- A field whose name is also a method name is not copied into the object: a
-- raw field would shadow the method (tx.refund would stop being callable).
-- Such a field stays reachable through obj:raw(). The client and the raw
-- decoded table are kept in weak-keyed side tables, not in the object, so they
-- never show up among the fields.
local core = require "dintero.core"

local M = {}

local CLIENT = setmetatable({}, { __mode = "k" })
local RAW = setmetatable({}, { __mode = "k" })

--- Replaces the fields of obj with those of data (a decoded JSON object).
-- Keys listed in keep (a set) are our own fields and survive the refresh.
function M.fill(obj, data, keep)
  local methods = getmetatable(obj).__index
  for k in pairs(obj) do
    if not (keep and keep[k]) then obj[k] = nil end
  end
  for k, v in pairs(data) do
    if rawget(methods, k) == nil then obj[k] = v end
  end
  RAW[obj] = data
  return obj
end

--- A new object of class (a metatable whose __index is the methods table)
-- with the fields of data; raw (default data) is what obj:raw() returns.
function M.new(class, client, data, raw)
  -- object_fields (C) copies the fields into a table created at its final
  -- size, skipping those named like a method, as fill does.
  local obj = setmetatable(core.object_fields(data, class.__index), class)
  CLIENT[obj] = client
  RAW[obj] = raw or data
  return obj
end

function M.client(obj) return CLIENT[obj] end

--- The decoded table of the last response the object was built from.
function M.raw(obj) return RAW[obj] end

--- Checks that a method was called with ':' on an object of class; returns
-- the object's client.
function M.check(obj, class, fname)
  if type(obj) ~= "table" or getmetatable(obj) ~= class then
    error(fname .. ": call it with ':' on the object (e.g. obj:" .. fname:match "[^.:]+$" .. "(...))", 3)
  end
  return CLIENT[obj]
end

--- "29990" for an integer-valued number (no ".0" on 5.3+), tostring otherwise.
function M.show_amount(v)
  if type(v) == "number" and v == v and v % 1 == 0 and v > -2 ^ 63 and v < 2 ^ 63 then
    return ("%d"):format(v)
  end
  return tostring(v)
end

return M
