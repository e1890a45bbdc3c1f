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
