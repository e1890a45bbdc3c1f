-- URL building: base + path template with percent-encoded parameters, and the
-- query string. Every value is checked for CR/LF/NUL here, before anything is
-- sent, and every path parameter is confined to its own segment: an id holding
-- "/", "?", "#" or ".." cannot change which resource is addressed.
local core = require "dintero.core"

local M = {}

local url_plain_segment = core.url_plain_segment

local function hex(c) return ("%%%02X"):format(c:byte()) end

local function refuse(what, detail)
  return nil, ("%s %s"):format(what, detail)
end

local function scalar(name, v)
  local t = type(v)
  if t == "string" then
    if v:find "[%z\r\n]" then return refuse(name, "contains CR, LF or NUL") end
    return v
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return refuse(name, "is not a finite number") end
    if v % 1 == 0 then return ("%d"):format(v) end
    return refuse(name, "must be a whole number")
  elseif t == "boolean" then
    return tostring(v)
  end
  return refuse(name, "must be a string, number or boolean, got " .. t)
end

--- Percent-encodes one path segment (RFC 3986 unreserved characters kept).
function M.segment(name, v)
  -- Fast path (most ids): only unreserved characters, so nothing to encode
  -- and no CR, LF or NUL; "." and ".." take the slow path (src/lurl.c).
  if url_plain_segment(v) then return v end
  local s, err = scalar(name, v)
  if not s then return nil, err end
  if s == "" then return refuse(name, "must not be empty") end
  if s == "." or s == ".." then return (s:gsub("%.", "%%2E")) end
  return (s:gsub("[^%w%-%._~]", hex))
end

function M.query_value(v)
  return (v:gsub("[^%w%-%._~]", hex))
end

-- A path template split once into literal text and parameter names:
-- "/v1/transactions/{id}/capture" -> { "/v1/transactions/", "id", "/capture" }
-- (odd positions literal, even positions names). The namespaces' templates
-- are constants, but client:request takes any path, and a caller may build
-- paths at run time: the cache is emptied when it reaches COMPILED_MAX.
local COMPILED_MAX = 256
local compiled, compiled_count = {}, 0

local function compile(template)
  local parts, at = {}, 1
  for s, name, e in template:gmatch "(){([%w_]+)}()" do
    parts[#parts + 1] = template:sub(at, s - 1)
    parts[#parts + 1] = name
    at = e
  end
  parts[#parts + 1] = template:sub(at)
  if compiled_count >= COMPILED_MAX then compiled, compiled_count = {}, 0 end
  compiled[template], compiled_count = parts, compiled_count + 1
  return parts
end

--- Fills {name} placeholders of a path template from params.
function M.path(template, params)
  if not template:find("{", 1, true) then return template end
  local parts = compiled[template] or compile(template)
  local n = #parts
  local out = parts[1]
  for i = 2, n, 2 do
    local name = parts[i]
    local v = params and params[name]
    if v == nil then return nil, "path parameter " .. name .. " is missing" end
    local s, err = M.segment(name, v)
    if not s then return nil, err end
    out = out .. s .. parts[i + 1]
  end
  return out
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then return nil, "query keys must be strings" end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

--- Encodes a query table: list values repeat the key (status=A&status=B);
-- keys are sorted so the same call always produces the same URL.
function M.query(q)
  if q == nil then return "" end
  local keys, err = sorted_keys(q)
  if not keys then return nil, err end
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    local list = type(v) == "table" and v or { v }
    for _, item in ipairs(list) do
      local s, e = scalar("query " .. k, item)
      if not s then return nil, e end
      parts[#parts + 1] = M.query_value(k) .. "=" .. M.query_value(s)
    end
  end
  if #parts == 0 then return "" end
  return "?" .. table.concat(parts, "&")
end

return M
