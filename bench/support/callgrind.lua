-- Reads a callgrind output file (one event, Ir) and sums the instructions
-- each ELF object executed itself: the Lua interpreter, the dintero core,
-- libcurl, libc ... bench/instructions.lua uses it to show how much of a
-- decode is Lua's own work (string interning, table inserts, its collector)
-- and how much is ours. callgrind_annotate is not used for this: where a
-- function appears under several file contexts it drops the object name.
--
-- The format (valgrind's docs, "Callgrind Format Specification"): "ob=" sets
-- the object of the function cost lines that follow; "calls=" announces that
-- the next cost line is the inclusive cost of a call, which belongs to the
-- callee's own lines and must not be counted twice. Names are compressed as
-- "(id) name" on first use and "(id)" after.
local M = {}

local function object_name(names, spec)
  local id, name = spec:match "^%((%d+)%)%s*(.*)$"
  if not id then return spec end
  if name ~= "" then names[id] = name end
  return names[id] or ("object " .. id)
end

--- { [object path] = instructions } for the file at path, and their total,
-- checked against the file's own "totals:" line.
function M.objects(path)
  local f = assert(io.open(path, "r"))
  local names, by_object, total, declared = {}, {}, 0, nil
  local current, skip_next = "?", false
  for line in f:lines() do
    local first = line:sub(1, 1)
    if first:match "[%d%+%-%*]" then
      if skip_next then
        skip_next = false
      else
        local cost = tonumber(line:match "^%S+%s+(%d+)") or 0
        by_object[current] = (by_object[current] or 0) + cost
        total = total + cost
      end
    elseif line:sub(1, 3) == "ob=" then
      current = object_name(names, line:sub(4))
    elseif line:sub(1, 6) == "calls=" then
      skip_next = true
    elseif line:sub(1, 4) == "cob=" then
      object_name(names, line:sub(5)) -- registers the name; the caller's object stays current
    elseif line:sub(1, 7) == "totals:" then
      declared = tonumber(line:match "totals:%s*(%d+)")
    end
  end
  f:close()
  if declared and declared ~= total then
    error(("callgrind: %s: objects add up to %d, the file says %d"):format(path, total, declared))
  end
  return by_object, total
end

return M
