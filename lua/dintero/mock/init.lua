-- dintero.mock: entry point of the mock Checkout API server (bin/dintero-mock).
-- Parses the command line, builds the app, binds the port, prints it when asked
-- and runs the event loop until interrupted. See docs/mock.md.
local M = {}

M.USAGE = [[
usage: dintero-mock [options]
  --host HOST              address to bind (default 127.0.0.1)
  --port N                 port to bind; 0 picks a free one (default 0)
  --print-port             print the bound port on the first line of stdout
  --log                    one line per request on stderr
  --account ID             account id (default T12345678)
  --client-id ID           client id (default mock-client)
  --client-secret SECRET   client secret (default mock-secret)
  --token-ttl SECONDS      access token lifetime (default 14400)
  --callback-retries N     delivery attempts per callback (default 5)
  --callback-timeout SECS  timeout of one callback attempt (default 3)
  --watch-pid PID          exit when process PID is gone (used by the test fixture)
  --help                   this text
]]

local FLAGS = {
  ["--host"] = { "host", "string" }, ["--port"] = { "port", "int" },
  ["--account"] = { "account_id", "string" }, ["--client-id"] = { "client_id", "string" },
  ["--client-secret"] = { "client_secret", "string" },
  ["--token-ttl"] = { "token_ttl", "number" }, ["--callback-retries"] = { "callback_retries", "int" },
  ["--callback-timeout"] = { "callback_timeout", "number" }, ["--watch-pid"] = { "watch_pid", "int" },
}

--- Parses argv (a list of strings) into a config table; nil, message on error.
function M.parse_args(argv)
  local config = {
    host = "127.0.0.1", port = 0, account_id = "T12345678", client_id = "mock-client",
    client_secret = "mock-secret", token_ttl = 14400, callback_retries = 5,
    callback_timeout = 3, print_port = false, log = false,
  }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    if name == "--print-port" then config.print_port = true
    elseif name == "--log" then config.log = true
    elseif name == "--help" or name == "-h" then config.help = true
    elseif FLAGS[name] then
      local value = inline
      if not value then i = i + 1; value = argv[i] end
      if value == nil then return nil, name .. " needs a value" end
      local key, kind = FLAGS[name][1], FLAGS[name][2]
      if kind ~= "string" then
        local n = tonumber(value)
        if not n or (kind == "int" and not math.tointeger(n)) or n < 0 then
          return nil, name .. ": not a valid number: " .. value
        end
        value = kind == "int" and math.tointeger(n) or n
      end
      config[key] = value
    else
      return nil, "unknown option " .. a
    end
    i = i + 1
  end
  if not config.account_id:match("^[PT]%d%d%d%d%d%d%d%d$") and
     not config.account_id:match("^[PT]%d%d%d$") then
    return nil, "--account must look like T12345678"
  end
  return config
end

-- True while process pid exists (Linux /proc; elsewhere assume it does).
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if f then f:close(); return true end
  return io.open("/proc/self/stat", "r") == nil
end

--- Starts the mock for config; returns {app, server, loop} without running the loop.
function M.start(config)
  local loop = require("dintero.mock.loop").new()
  local app = require("dintero.mock.app").new(config)
  app.loop = loop
  local server, err = require("dintero.mock.server").listen {
    host = config.host, port = config.port, app = app, loop = loop,
    log = config.log and io.stderr or nil,
  }
  if not server then return nil, err end
  config.port = server.port
  app.server = server
  return { app = app, server = server, loop = loop }
end

--- Runs the mock with argv; returns the process exit code.
function M.main(argv)
  local config, err = M.parse_args(argv)
  if not config then
    io.stderr:write("dintero-mock: ", err, "\n", M.USAGE)
    return 2
  end
  if config.help then io.stdout:write(M.USAGE); return 0 end
  local mock, serr = M.start(config)
  if not mock then
    io.stderr:write("dintero-mock: cannot listen on ", config.host, ":", tostring(config.port),
      ": ", tostring(serr), "\n")
    return 1
  end
  if config.print_port then
    io.stdout:write(mock.server.port, "\n")
    io.stdout:flush()
  end
  local function tick()
    if config.watch_pid and not alive(config.watch_pid) then mock.loop:stop() end
  end
  -- SIGINT arrives as the error "interrupted!" from lua.c's hook; catch it and exit 0.
  local ok, rerr = pcall(mock.loop.run, mock.loop, tick)
  require("dintero.mock.server").close(mock.server)
  if not ok and not tostring(rerr):find("interrupted") then
    io.stderr:write("dintero-mock: ", tostring(rerr), "\n")
    return 1
  end
  return 0
end

return M
