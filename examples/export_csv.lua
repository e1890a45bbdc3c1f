-- examples/export_csv.lua: export settlements and report metadata to CSV
-- files for bookkeeping. Shows the lazy `each` iterators that walk every page
-- (settlements page with last_evaluated_key, reports with starting_after),
-- how a failing page surfaces (pcall around the loop), and downloading a
-- settlement attachment as bytes.
--
--   DINTERO_CLIENT_ID=... DINTERO_CLIENT_SECRET=... lua examples/export_csv.lua [out_dir] [since]
--
-- since (ISO date, default 90 days ago) filters settlements on settled_at.

-- Running from a source checkout: examples/example_env.lua makes the tree's
-- modules loadable and builds the client from the DINTERO_* environment.
package.path = ((arg and arg[0] or ""):match "^(.*)/[^/]*$" or ".") .. "/?.lua;" .. package.path
local example = require "example_env"
local dintero = example.dintero
local env = example.env
local client = example.client()
local out_dir = arg[1] or env("DINTERO_OUT_DIR", ".")
local since = arg[2] or os.date("!%Y-%m-%d", os.time() - 90 * 86400)

-- RFC 4180: quote fields holding a comma, quote or line break.
local function csv_field(v)
  if v == nil or v == dintero.null then return "" end
  local s = tostring(v)
  if s:find '[,"\r\n]' then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- Writes every item of iterator `each` as one CSV row of columns; returns the count.
local function export(path, columns, each)
  local f = assert(io.open(path, "wb"))
  local header = {}
  for i, c in ipairs(columns) do header[i] = csv_field(c) end
  f:write(table.concat(header, ","), "\r\n")
  local n = 0
  local ok, err = pcall(function()
    for item in each do
      local row = {}
      for i, c in ipairs(columns) do row[i] = csv_field(item[c]) end
      f:write(table.concat(row, ","), "\r\n")
      n = n + 1
    end
  end)
  f:close()
  if not ok then
    -- err is the error table of the failed page (kind, status, code ...)
    io.stderr:write(("export to %s stopped after %d rows: %s\n"):format(path, n, tostring(err)))
    os.exit(1)
  end
  return n
end

local settlements = out_dir .. "/settlements.csv"
local n = export(settlements,
  { "id", "settled_at", "payment_provider", "payout_destination_id", "currency", "amount", "fee", "net_amount", "reference" },
  client.settlements:each { ["created_at.gte"] = since, limit = 100 })
print(("wrote %d settlements since %s to %s"):format(n, since, settlements))

local reports = out_dir .. "/reports.csv"
n = export(reports, { "id", "created_at", "report_type", "filetype", "filename", "signed_url" }, client.reports:each())
print(("wrote %d reports to %s"):format(n, reports))

-- The newest settlement's first attachment, saved as sent.
local newest = client.settlements:list { limit = 1 }
if newest and newest[1] and newest[1].attachments and newest[1].attachments[1] then
  local s, a = newest[1], newest[1].attachments[1]
  local bytes, content_type = assert(client.settlements:attachment(s.id, a.id))
  local path = out_dir .. "/" .. (a.filename or (a.id .. ".bin")):gsub("[^%w%._-]", "_")
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  print(("saved attachment %s (%s, %d bytes) to %s"):format(a.id, content_type, #bytes, path))
end
client:close()
