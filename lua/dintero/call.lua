-- Per-call options shared by every namespace method: the optional last `opts`
-- table ({feature_toggles, system, headers, includes} plus a few method-specific
-- keys) turned into request-spec pieces, and the argument checks that make
-- misuse raise at the caller's line instead of failing later on the wire.
--
-- Unknown option keys raise: a typo such as `feature_toggle` would otherwise
-- silently send a payment without the toggle the caller asked for.
local M = {}

local COMMON = { feature_toggles = true, system = true, headers = true, includes = true }

local SYSTEM_HEADERS = {
  { "name", "Dintero-System-Name" }, { "version", "Dintero-System-Version" },
  { "plugin_name", "Dintero-System-Plugin-Name" }, { "plugin_version", "Dintero-System-Plugin-Version" },
}
local SYSTEM_FIELDS = { name = true, version = true, plugin_name = true, plugin_version = true }

-- The opts of a call made without any, and the empty lists read in their
-- place: shared and read-only, so that a call does not leave a handful of
-- empty tables for the collector.
local EMPTY = setmetatable({}, { __newindex = function() error("dintero: internal empty table is read-only", 2) end })
M.EMPTY = EMPTY

--- Raises msg at the caller of the public method (level 3 from a helper
-- called directly by that method).
local function raise(msg, level)
  error(msg, (level or 2) + 1)
end
M.raise = raise

--- Checks that a method was called with `:` on the right kind of object.
function M.self(self, class, fname)
  if type(self) ~= "table" or getmetatable(self) ~= class then
    local hint = fname:gsub("%.([^.]+)$", ":%1")
    raise(fname .. ": call it with ':' (e.g. client." .. hint .. "(...))", 3)
  end
  return self._client
end

local function string_list(fname, key, v)
  if type(v) ~= "table" then raise(("%s: opts.%s must be a list of strings"):format(fname, key), 4) end
  for i, s in ipairs(v) do
    if type(s) ~= "string" or s == "" then
      raise(("%s: opts.%s[%d] must be a non-empty string"):format(fname, key, i), 4)
    end
  end
end

local function check_system(fname, v)
  if type(v) ~= "table" then
    raise(fname .. ": opts.system must be a table {name, version, plugin_name, plugin_version}", 4)
  end
  for k, s in pairs(v) do
    if not SYSTEM_FIELDS[k] then raise(("%s: opts.system has unknown field '%s'"):format(fname, tostring(k)), 4) end
    if type(s) ~= "string" then raise(("%s: opts.system.%s must be a string"):format(fname, k), 4) end
  end
end

--- Validates opts (nil or a table with known keys). extra is a set of
-- method-specific keys. Returns opts or an empty table. Raises on misuse.
function M.opts(fname, opts, extra)
  if opts == nil then return EMPTY end
  if type(opts) ~= "table" then raise(fname .. ": opts must be a table or nil", 3) end
  for k in pairs(opts) do
    if not COMMON[k] and not (extra and extra[k]) then
      raise(("%s: unknown option '%s'"):format(fname, tostring(k)), 3)
    end
  end
  if opts.feature_toggles ~= nil then string_list(fname, "feature_toggles", opts.feature_toggles) end
  if opts.includes ~= nil then string_list(fname, "includes", opts.includes) end
  if opts.system ~= nil then check_system(fname, opts.system) end
  if opts.headers ~= nil and type(opts.headers) ~= "table" then
    raise(fname .. ": opts.headers must be a table {Name = value}", 3)
  end
  return opts
end

--- The feature toggles in force for a call: the per-call list replaces the
-- client's default list (so `feature_toggles = {}` turns them off for a call).
function M.toggles(client, opts)
  local list = opts.feature_toggles
  if list == nil then list = client.options.feature_toggles end
  return list or EMPTY
end

--- True when toggle `name` is in force for this call.
function M.toggle_on(client, opts, name)
  for _, t in ipairs(M.toggles(client, opts)) do
    if t == name then return true end
  end
  return false
end

-- Per-call system fields override the client's field by field; the headers are
-- only added when the call has its own system table (the client already sends
-- its defaults on every request).
local function system_headers(client, opts, headers)
  if not opts.system then return end
  local base = client.options.system or {}
  for _, pair in ipairs(SYSTEM_HEADERS) do
    local v = opts.system[pair[1]]
    if v == nil then v = base[pair[1]] end
    if v ~= nil then headers[pair[2]] = v end
  end
end

--- Fills spec.headers and spec.query.includes from opts; returns spec.
-- `toggles` (boolean) says whether the endpoint takes Dintero-Feature-Toggles:
-- there the client's default toggles apply; elsewhere only a per-call list is
-- sent.
function M.apply(client, opts, spec, toggles)
  local headers = spec.headers
  local list = toggles and M.toggles(client, opts) or opts.feature_toggles or EMPTY
  if #list > 0 then
    headers = headers or {}
    headers["Dintero-Feature-Toggles"] = table.concat(list, ",")
  end
  if opts.system or opts.headers then
    headers = headers or {}
    system_headers(client, opts, headers)
    for k, v in pairs(opts.headers or EMPTY) do headers[k] = v end
  end
  spec.headers = headers
  if opts.includes and #opts.includes > 0 then
    spec.query = spec.query or {}
    spec.query.includes = opts.includes
  end
  return spec
end

--- Shallow copy of a table (nil stays nil).
function M.copy(t)
  if t == nil then return nil end
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

--- Raises unless v is a table; returns it.
function M.table_arg(fname, name, v, level)
  if type(v) ~= "table" then raise(("%s: %s must be a table"):format(fname, name), (level or 2) + 1) end
  return v
end

--- Raises unless v is a non-empty string; returns it.
function M.string_arg(fname, name, v, level)
  if type(v) ~= "string" or v == "" then
    raise(("%s: %s must be a non-empty string"):format(fname, name), (level or 2) + 1)
  end
  return v
end

return M
