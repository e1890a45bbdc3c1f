-- A TLS endpoint on loopback for the specs: generates a throwaway CA and a
-- server certificate for 127.0.0.1/localhost with the openssl command, and runs
-- nginx (unprivileged, its own prefix directory) terminating TLS in front of
-- an HTTP upstream such as the mock. Stopped with :stop().
local socket = require "socket"

local M = {}

local function sh(cmd)
  local ok = os.execute("(" .. cmd .. ") >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function make_certs(dir)
  local ext = dir .. "/san.ext"
  local f = assert(io.open(ext, "w"))
  f:write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
  f:close()
  assert(sh(("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dintero-test-ca"
    .. " -keyout ca.key -out ca.pem"):format(dir)), "openssl: CA")
  assert(sh(("cd %s && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr"
    .. " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
    .. " -extfile san.ext -out server.pem"):format(dir)), "openssl: server certificate")
end

local CONF = [[
worker_processes 1;
daemon on;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  gzip on;
  gzip_types application/json;
  gzip_min_length 0;
  gzip_proxied any;
  client_body_temp_path %s/tmp;
  proxy_temp_path %s/tmp;
  upstream up { server %s; keepalive 8; }
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s/server.pem;
    ssl_certificate_key %s/server.key;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
    }
  }
}
]]

--- Starts nginx with TLS in front of `upstream` ("127.0.0.1:PORT").
function M.start(upstream)
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh("mkdir -p " .. dir .. "/tmp"))
  make_certs(dir)
  local port = free_port()
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(CONF:format(dir, dir, dir, dir, upstream, port, dir, dir))
  f:close()
  assert(sh(("nginx -p %s -c %s/nginx.conf -e %s/error.log"):format(dir, dir, dir)), "nginx did not start")
  local self = { dir = dir, port = port, url = "https://127.0.0.1:" .. port, ca_file = dir .. "/ca.pem" }
  function self.stop()
    sh(("kill $(cat %s/nginx.pid)"):format(dir))
    socket.sleep(0.1)
    sh("rm -rf " .. dir)
  end
  -- wait until it accepts
  for _ = 1, 50 do
    local c = socket.connect("127.0.0.1", port)
    if c then c:close() break end
    socket.sleep(0.05)
  end
  return self
end

return M
