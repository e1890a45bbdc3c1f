-- Paging: one helper for every paged list of the API. Each namespace supplies
-- fetch(cursor) returning one page (items, next_cursor) or the fail triple;
-- `list` methods return a single page, `each` methods the lazy iterator built
-- here.
--
-- How failures reach the caller of `each`: a generic `for` ends as soon as the
-- iterator returns nil, so an iterator cannot hand back (nil, err). A page that
-- fails therefore raises a Lua error whose value is the err table (kind,
-- status, code, ... as in docs/errors.md; tostring(err) is the one-line
-- message). Wrap the loop in pcall to handle it:
--
--   local ok, err = pcall(function()
--     for tx in client.transactions:each{ status = { "AUTHORIZED" } } do ... end
--   end)
--   if not ok then print(err.kind, err.status, tostring(err)) end
local M = {}

--- A lazy iterator over every item of every page. The first page is fetched
-- on the first step, the next one only when the loop gets there, so a `break`
-- stops fetching.
function M.each(fetch)
  local items, i, cursor = {}, 0, nil
  local started, finished = false, false
  return function()
    while not finished do
      if i < #items then
        i = i + 1
        return items[i]
      end
      if started and cursor == nil then break end
      local page, next_cursor, err = fetch(cursor)
      started = true
      if page == nil then
        finished = true
        error(err or next_cursor, 0)
      end
      -- An empty page, or a server handing back the cursor it was given,
      -- ends the walk instead of looping for ever.
      if #page == 0 or (next_cursor ~= nil and next_cursor == cursor) then next_cursor = nil end
      items, i, cursor = page, 0, next_cursor
    end
    finished = true
    return nil
  end
end

--- Defines Class:list(filters [, opts]) and Class:each(filters [, opts]) for
-- a namespace from its one page function, page(client, query, opts) ->
-- items, next_cursor, body (or the fail triple). spec fields:
--   name        "transactions": names the methods in misuse errors
--   page        the page function
--   each_limit  page size each() asks for (nil: the server's default)
--   cursor_key  query key each() puts the next cursor in (default "cursor")
--   query       filters -> a fresh query table for each() (default: a copy)
-- The checks are written out in both methods (not in a shared helper) so
-- that a misuse error points at the caller's line.
function M.define(Class, spec)
  local call = require "dintero.call"
  local list_name, each_name = spec.name .. ".list", spec.name .. ".each"
  local key = spec.cursor_key or "cursor"
  local to_query = spec.query or function(filters) return call.copy(filters) or {} end

  function Class:list(filters, opts)
    local client = call.self(self, Class, list_name)
    if filters ~= nil then call.table_arg(list_name, "filters", filters) end
    opts = call.opts(list_name, opts)
    return spec.page(client, filters, opts)
  end

  function Class:each(filters, opts)
    local client = call.self(self, Class, each_name)
    if filters ~= nil then call.table_arg(each_name, "filters", filters) end
    opts = call.opts(each_name, opts)
    local base = to_query(filters)
    base.limit = base.limit or spec.each_limit
    return M.each(function(cursor)
      local q = call.copy(base)
      if cursor ~= nil then q[key] = cursor end
      return spec.page(client, q, opts)
    end)
  end
end

--- Wraps a one-shot list (no paging) as an iterator, with the same error
-- convention as M.each.
function M.each_once(fetch)
  return M.each(function()
    local items, msg, err = fetch()
    if items == nil then return nil, msg, err end
    return items, nil
  end)
end

return M
