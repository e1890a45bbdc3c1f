-- URL pieces the mock needs: percent-decoding, query parsing and encoding, and
-- splitting an absolute http URL. Form rules follow WHATWG URLSearchParams
-- because that is what the callback signature canonicalisation is defined by.
local M = {}

--- Percent-decodes s; plus_space turns '+' into a space (form encoding).
function M.decode(s, plus_space)
  if plus_space then s = s:gsub("+", " ") end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- application/x-www-form-urlencoded serialisation of one name or value:
-- keeps A-Z a-z 0-9 * - . _, space becomes '+', every other byte %XX (upper hex).
function M.form_encode(s)
  return (s:gsub("[^%w%*%-%._ ]", function(c)
    return string.format("%%%02X", c:byte())
  end):gsub(" ", "+"))
end

--- Parses a query string into a list of {name, value} pairs, in order.
function M.parse_pairs(q)
  local pairs_ = {}
  if not q or q == "" then return pairs_ end
  for part in q:gmatch("[^&]+") do
    local name, value = part:match("^([^=]*)=(.*)$")
    if not name then name, value = part, "" end
    pairs_[#pairs_ + 1] = { M.decode(name, true), M.decode(value, true) }
  end
  return pairs_
end

--- Parses a query string into first-value and all-values tables.
function M.parse_query(q)
  local first, all = {}, {}
  for _, p in ipairs(M.parse_pairs(q)) do
    local name, value = p[1], p[2]
    if first[name] == nil then first[name] = value end
    local list = all[name]
    if not list then list = {}; all[name] = list end
    list[#list + 1] = value
  end
  return first, all
end

--- Serialises a list of {name, value} pairs as a form-encoded query (no '?').
function M.build_query(list)
  local out = {}
  for i, p in ipairs(list) do
    out[i] = M.form_encode(p[1]) .. "=" .. M.form_encode(p[2])
  end
  return table.concat(out, "&")
end

--- Splits an absolute URL into {scheme, host, port, path, query, hostname};
-- returns nil, message when it is not one. `host` keeps brackets for IPv6,
-- `hostname` is lower-case without brackets and without the port.
function M.split(u)
  if type(u) ~= "string" then return nil, "not a string" end
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  rest = rest:gsub("#.*$", "")
  local authority, tail = rest:match("^([^/?]*)(.*)$")
  authority = authority:gsub("^.*@", "")    -- userinfo is never used
  local host, port = authority:match("^(%[[^%]]*%])(.*)$")
  if not host then host, port = authority:match("^([^:]*)(.*)$") end
  port = port:match("^:(%d+)$") or (port == "" and "" or nil)
  if not port or host == "" then return nil, "bad host or port" end
  local path, query = tail:match("^([^?]*)%??(.*)$")
  scheme = scheme:lower()
  local default = scheme == "https" and 443 or 80
  return {
    scheme = scheme,
    host = host,
    hostname = host:gsub("^%[", ""):gsub("%]$", ""):lower(),
    port = tonumber(port) or default,
    path = path == "" and "/" or path,
    query = query,
  }
end

return M
