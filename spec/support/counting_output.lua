-- A busted output handler: busted's plain terminal output, plus one closing
-- line "N passed, N failed" (errors count as failed) that CI reads. When
-- DINTERO_COUNTS_FILE is set the same two numbers are appended to that file so
-- a matrix run can sum them.
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)

  local function on_suite_end()
    local passed = handler.successesCount
    local failed = handler.failuresCount + handler.errorsCount
    io.write(string.format("%d passed, %d failed\n", passed, failed))
    local path = os.getenv "DINTERO_COUNTS_FILE"
    if path and path ~= "" then
      local f = assert(io.open(path, "a"))
      f:write(string.format("%s %d %d\n", os.getenv "DINTERO_RUN_LABEL" or "run", passed, failed))
      f:close()
    end
    return nil, true
  end

  busted.subscribe({ "suite", "end" }, on_suite_end, { priority = 2 })
  return handler
end
