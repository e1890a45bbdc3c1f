-- A fast local nginx for the request benchmarks, started unprivileged with
-- `nginx -p <tmpdir> -c <conf>` on loopback ports picked free at start, and
-- stopped (by its own pid) with its temporary directory removed.
--
--   local nginx = require "support.nginx"
--   local srv = nginx.start { tls = true, delay = 0.02 }
--   srv.http_url, srv.https_url, srv.ca_file, srv.slow_url, srv.token, srv.body
--   srv:stop()
--
-- It serves, with keep-alive (keepalive_requests high enough for a long run):
--   POST /v1/accounts/<aid>/auth/token  -> {"access_token":...,"token_type":"Bearer","expires_in":14400}
--   GET  /v1/transactions/<id>          -> one realistic ~3 KB transaction (application/json)
-- over HTTP, over HTTPS (tls = true; a throwaway CA and a server certificate
-- for IP:127.0.0.1 made with the openssl CLI) and, with delay = seconds, on a
-- third port where every transaction answer is held that long
-- (access_by_lua ngx.sleep: needs libnginx-mod-http-lua, a project dependency).
--
-- The transaction is built from bench/fixtures.lua when it exists, else read
-- from bench/support/transaction.json.
local socket = require "socket"

local M = {}

M.TOKEN = "bench-access-token-0123456789abcdef"
M.ACCOUNT = "T12345678"

local function sh(cmd)
  local ok, how, code = os.execute(cmd)
  -- Lua 5.1 returns a number; 5.2+ returns true|nil, "exit", code
  if type(ok) == "number" then return ok == 0 end
  return ok == true and how == "exit" and code == 0
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read "*a"
  f:close()
  return s
end

--- A loopback port free right now (the kernel's pick; nginx binds it next).
local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- The transaction JSON the server answers with.
function M.transaction_json()
  local ok, fixtures = pcall(require, "fixtures")
  if ok and type(fixtures) == "table" and fixtures.transaction then
    local json = require("dintero.core").json
    return json.encode(fixtures.transaction(7))
  end
  local s = read "bench/support/transaction.json"
  assert(s, "bench/support/transaction.json missing (run from the repository root)")
  return (s:gsub("%s+$", ""))
end

local function make_certs(dir)
  local ext = dir .. "/server.ext"
  write(ext, table.concat({
    "subjectAltName = IP:127.0.0.1",
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    "extendedKeyUsage = serverAuth",
  }, "\n") .. "\n")
  local d = q(dir)
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj '/CN=dintero bench CA'"
      .. " -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'"
      .. " -keyout " .. d .. "/ca.key -out " .. d .. "/ca.pem",
    "openssl req -newkey rsa:2048 -nodes -sha256 -subj '/CN=127.0.0.1'"
      .. " -keyout " .. d .. "/server.key -out " .. d .. "/server.csr",
    "openssl x509 -req -sha256 -days 2 -set_serial 1 -in " .. d .. "/server.csr -CA " .. d .. "/ca.pem"
      .. " -CAkey " .. d .. "/ca.key -extfile " .. q(ext) .. " -out " .. d .. "/server.pem",
  }
  for _, c in ipairs(cmds) do
    if not sh(c .. " >/dev/null 2>&1") then error("bench: openssl failed: " .. c) end
  end
end

local function conf(dir, o)
  local token_body = ('{"access_token":"%s","token_type":"Bearer","expires_in":14400}'):format(M.TOKEN)
  local function locations(delay)
    return table.concat({
      "    location = /v1/accounts/" .. M.ACCOUNT .. "/auth/token {",
      "      return 200 '" .. token_body .. "';",
      "    }",
      "    location /v1/transactions/ {",
      delay and ("      access_by_lua_block { ngx.sleep(" .. delay .. ") }") or "",
      "      add_header Request-Id bench-request-id;",
      "      try_files /transaction.json =404;",
      "    }",
    }, "\n")
  end
  local lines = {
    "worker_processes 1;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/error.log warn;",
  }
  if o.delay then
    lines[#lines + 1] = "load_module /usr/lib/nginx/modules/ndk_http_module.so;"
    lines[#lines + 1] = "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
  end
  local http = {
    "events { worker_connections 1024; }",
    "http {",
    "  access_log off;",
    "  server_tokens off;",
    "  default_type application/json;",
    "  keepalive_requests 10000000;",
    "  keepalive_timeout 600s;",
    "  client_body_temp_path " .. dir .. "/tmp-body;",
    "  proxy_temp_path " .. dir .. "/tmp-proxy;",
    "  fastcgi_temp_path " .. dir .. "/tmp-fastcgi;",
    "  uwsgi_temp_path " .. dir .. "/tmp-uwsgi;",
    "  scgi_temp_path " .. dir .. "/tmp-scgi;",
    "  root " .. dir .. "/www;",
    "  server {",
    "    listen 127.0.0.1:" .. o.http_port .. ";",
  }
  for _, l in ipairs(http) do lines[#lines + 1] = l end
  if o.https_port then
    lines[#lines + 1] = "    listen 127.0.0.1:" .. o.https_port .. " ssl;"
    lines[#lines + 1] = "    ssl_certificate " .. dir .. "/server.pem;"
    lines[#lines + 1] = "    ssl_certificate_key " .. dir .. "/server.key;"
    lines[#lines + 1] = "    ssl_protocols TLSv1.2 TLSv1.3;"
    lines[#lines + 1] = "    ssl_session_cache shared:bench:1m;"
  end
  lines[#lines + 1] = locations(nil)
  lines[#lines + 1] = "  }"
  if o.slow_port then
    lines[#lines + 1] = "  server {"
    lines[#lines + 1] = "    listen 127.0.0.1:" .. o.slow_port .. " backlog=512;"
    lines[#lines + 1] = locations(o.delay)
    lines[#lines + 1] = "  }"
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

local Server = {}
Server.__index = Server

-- Running and not a zombie (a daemonised nginx is reaped by init, maybe late).
local function alive(pid)
  local stat = read("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match "%)%s+(%a)" ~= "Z"
end

--- Stops nginx (QUIT to its master, by pid) and removes the directory.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  if self.pid then
    sh("kill -TERM " .. self.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 5
    while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.01) end
    if alive(self.pid) then sh("kill -KILL " .. self.pid .. " 2>/dev/null") socket.sleep(0.1) end
  end
  sh("rm -rf " .. q(self.dir))
end

local function wait_listening(port)
  local deadline = socket.gettime() + 5
  while socket.gettime() < deadline do
    local c = socket.tcp()
    c:settimeout(0.2)
    local ok = c:connect("127.0.0.1", port)
    c:close()
    if ok then return true end
    socket.sleep(0.02)
  end
  return false
end

local function my_pid()
  return tonumber((read "/proc/self/stat" or ""):match "^(%d+)")
end

-- A background shell that stops nginx and removes its directory if this
-- process dies without calling stop (a crash in the code under test); it
-- checks once a second and ends by itself once nginx is gone.
local function watchdog(pid, dir)
  local me = my_pid()
  if not me then return end
  local script = table.concat({
    "while kill -0 " .. me .. " 2>/dev/null && kill -0 " .. pid .. " 2>/dev/null; do sleep 1; done;",
    "if grep -q " .. q(dir) .. " /proc/" .. pid .. "/cmdline 2>/dev/null; then kill -TERM " .. pid .. "; fi;",
    "sleep 1; rm -rf " .. q(dir),
  }, " ")
  sh("sh -c " .. q(script) .. " >/dev/null 2>&1 </dev/null &")
end

--- Starts nginx: o.tls (HTTPS port too), o.delay (seconds: the slow port).
function M.start(o)
  o = o or {}
  local dir = (io.popen("mktemp -d /tmp/dintero-bench.XXXXXX"):read "*l")
  assert(dir and dir ~= "", "bench: mktemp failed")
  -- nginx workers run as nobody when started by root: they must read www/
  sh("chmod 755 " .. q(dir) .. " && mkdir -p " .. q(dir .. "/www"))
  local srv = setmetatable({ dir = dir, token = M.TOKEN, account = M.ACCOUNT }, Server)
  srv.body = M.transaction_json()
  write(dir .. "/www/transaction.json", srv.body)
  sh("chmod 644 " .. q(dir .. "/www/transaction.json"))
  local ok, err = pcall(function()
    if o.tls then
      make_certs(dir)
      srv.ca_file = dir .. "/ca.pem"
    end
    for _ = 1, 5 do
      local ports = { http_port = free_port() }
      if o.tls then ports.https_port = free_port() end
      if o.delay then ports.slow_port, ports.delay = free_port(), o.delay end
      write(dir .. "/nginx.conf", conf(dir, ports))
      if sh("nginx -p " .. q(dir) .. " -c " .. q(dir .. "/nginx.conf") .. " -e " .. q(dir .. "/error.log")
          .. " >/dev/null 2>&1") then
        srv.pid = tonumber((read(dir .. "/nginx.pid") or ""):match "%d+")
        local up = wait_listening(ports.http_port)
          and (not ports.https_port or wait_listening(ports.https_port))
          and (not ports.slow_port or wait_listening(ports.slow_port))
        if srv.pid and up then
          watchdog(srv.pid, dir)
          srv.http_url = "http://127.0.0.1:" .. ports.http_port
          if ports.https_port then srv.https_url = "https://127.0.0.1:" .. ports.https_port end
          if ports.slow_port then srv.slow_url = "http://127.0.0.1:" .. ports.slow_port end
          return
        end
        if srv.pid then sh("kill -QUIT " .. srv.pid) socket.sleep(0.2) end
        srv.pid = nil
      end
      -- a port taken between the pick and the bind: try other ports
    end
    error("bench: nginx did not start; see " .. (read(dir .. "/error.log") or "(no error log)"))
  end)
  if not ok then
    srv:stop()
    error(err, 0)
  end
  return srv
end

return M
