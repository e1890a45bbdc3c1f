-- The mock's own JSON codec: lua-cjson for decoding, a small encoder for output.
--
-- Independent of the client (never dintero.json / dintero.core) so that a codec bug
-- in the library cannot hide itself by being on both ends of the wire.
--
-- Debian's lua-cjson 2.1.0 has neither array metatables nor integer-exact encoding
-- (it prints 2^53+1 as 9.007199254741e+15), so:
--   * decode pre-marks empty arrays in the text so `[]` comes back as a table with
--     array_mt (and re-encodes as `[]`); integral numbers come back as Lua integers;
--   * encode is written here: integers as integers, `array_mt` tables and sequences
--     as arrays, every other table (also the empty one) as an object.
local cjson = require "cjson"

local M = {}

local codec = cjson.new()         -- private instance: no process-global settings
codec.decode_max_depth(200)

M.null = cjson.null
M.array_mt = { __name = "dintero.mock.json.array" }

--- Marks t (a new table when nil) as a JSON array; returns it.
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

-- A one-element array holding this string stands for `[]` during decoding.
local EMPTY_MARK = "\0mock[]"
local EMPTY_JSON = '["\\u0000mock[]"]'

-- Replaces every `[ ]` outside string literals with EMPTY_JSON.
local function mark_empty_arrays(s)
  if not s:find("%[%s*%]") then return s end
  local out, last, i = {}, 1, 1
  while true do
    local p = s:find('[%["]', i)
    if not p then break end
    if s:byte(p) == 34 then           -- a string: skip to its closing quote
      local q = p + 1
      while true do
        local e = s:find('["\\]', q)
        if not e then return s end    -- unterminated: cjson reports it
        if s:byte(e) == 92 then q = e + 2 else q = e + 1; break end
      end
      i = q
    else
      local e = s:match("^%[%s*%]()", p)
      if e then
        out[#out + 1] = s:sub(last, p - 1)
        out[#out + 1] = EMPTY_JSON
        last, i = e, e
      else
        i = p + 1
      end
    end
  end
  out[#out + 1] = s:sub(last)
  return table.concat(out)
end

-- Restores empty arrays and turns integral floats into integers, in place.
local function fix(v, depth)
  if type(v) == "number" then
    return math.tointeger(v) or v
  end
  if type(v) ~= "table" then return v end
  if #v == 1 and v[1] == EMPTY_MARK then return M.array() end
  if depth > 200 then return v end
  local arr = #v > 0 or next(v) == nil
  for k, x in pairs(v) do v[k] = fix(x, depth + 1) end
  if arr and #v > 0 then setmetatable(v, M.array_mt) end
  return v
end

--- Decodes a JSON text; returns value or nil, message.
function M.decode(s)
  if type(s) ~= "string" then return nil, "expected a string" end
  local ok, v = pcall(codec.decode, mark_empty_arrays(s))
  if not ok then
    return nil, (tostring(v):gsub("^.-:%d+: ", ""))
  end
  return fix(v, 0)
end

local encode_value

-- cjson escapes every '/' as '\/'; valid, but noisy in logs and URLs, so undo it
-- (a raw '/' never appears in cjson output, so every '\/' is an escaped slash).
local function encode_string(s)
  local out = codec.encode(s)
  if out:find("\\/", 1, true) then out = out:gsub("\\/", "/") end
  return out
end

local function encode_number(n)
  if math.type(n) == "integer" then return string.format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == math.floor(n) and math.abs(n) < 2^63 then
    return string.format("%d", math.tointeger(n))
  end
  local s = string.format("%.14g", n)
  if tonumber(s) ~= n then s = string.format("%.17g", n) end
  return s
end

-- A table is an array when marked, or when it is a non-empty sequence 1..n.
local function is_array(t)
  if getmetatable(t) == M.array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function encode_table(t, depth, out)
  if depth > 100 then error("json: nesting too deep (cycle?)", 0) end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], depth + 1, out)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)   -- stable output makes logs and test diffs readable
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[#out + 1] = encode_string(k)
    out[#out + 1] = ":"
    encode_value(v, depth + 1, out)
  end
  out[#out + 1] = "}"
end

function encode_value(v, depth, out)
  local tv = type(v)
  if tv == "table" then
    encode_table(v, depth, out)
  elseif tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == M.null then
    out[#out + 1] = "null"
  else
    error("json: cannot encode a " .. tv, 0)
  end
end

--- Encodes a Lua value as JSON text.
function M.encode(v)
  local out = {}
  encode_value(v, 0, out)
  return table.concat(out)
end

return M
