-- A throwaway nginx with the lua module for the OpenResty specs: its own
-- prefix directory, unprivileged, on a free loopback port, loading the
-- library from this repository and the C module built for LuaJIT
-- (build/luajit/dintero/core.so, built here when missing).
--
--   local srv = nginx.start { http = "<http block body with {port}>", workers = 2,
--                             lua = { app = "<source of app.lua>" } }
--   srv.url, srv.port, srv.dir, srv.log() (error.log text), srv.stop()
local socket = require "socket"

local M = {}

local function sh(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read "*a"
  f:close()
  return s
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- The repository root, from this file's path (spec/support/nginx.lua).
local function repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = src:match "^(.*)/spec/support/nginx%.lua$"
  if root and root:sub(1, 1) == "/" then return root end
  local pwd = io.popen("pwd"):read "*l"
  return root and (pwd .. "/" .. root) or pwd
end

M.root = repo_root()
M.module = M.root .. "/build/luajit/dintero/core.so"
M.lua_module = "/usr/lib/nginx/modules/ngx_http_lua_module.so"

--- Why the specs cannot run here (nil when they can).
function M.unavailable()
  if not sh "command -v nginx" then return "nginx is not installed" end
  if not read_file(M.lua_module) then return "libnginx-mod-http-lua is not installed" end
  return nil
end

--- Builds the LuaJIT C module when it is missing.
function M.build()
  if read_file(M.module) then return true end
  return sh(("env -u LD_PRELOAD make -C %s build LUA=luajit"):format(M.root))
end

local CONF = [[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module %s;
worker_processes %d;
daemon on;
pid %s/nginx.pid;
error_log %s/error.log %s;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %s/tmp;
  proxy_temp_path %s/tmp;
  fastcgi_temp_path %s/tmp;
  uwsgi_temp_path %s/tmp;
  scgi_temp_path %s/tmp;
  lua_package_path "%s/lua/?.lua;%s/lua/?.lua;%s/lua/?/init.lua;;";
  lua_package_cpath "%s/build/luajit/?.so;;";
%s
}
]]

local function wait_listening(port, seconds)
  local deadline = socket.gettime() + seconds
  while socket.gettime() < deadline do
    local c = socket.connect("127.0.0.1", port)
    if c then
      c:close()
      return true
    end
    socket.sleep(0.02)
  end
  return false
end

local function pid_alive(pid)
  return pid and sh("kill -0 " .. pid)
end

--- Starts nginx; see the header for opts. Raises with the error log when
-- nginx does not come up.
function M.start(opts)
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh(("mkdir -p %s/tmp %s/lua"):format(dir, dir)))
  for name, src in pairs(opts.lua or {}) do write_file(("%s/lua/%s.lua"):format(dir, name), src) end
  local port = free_port()
  local http = opts.http:gsub("{port}", tostring(port)):gsub("{dir}", dir)
  local root = M.root
  write_file(dir .. "/nginx.conf", CONF:format(M.lua_module, opts.workers or 1, dir, dir, opts.log_level or "info",
    dir, dir, dir, dir, dir, dir, root, root, root, http))
  -- Without the sanitizer runtime the suite may run under (make test-asan).
  local started = sh(("env -u LD_PRELOAD nginx -p %s/ -c %s/nginx.conf -e %s/error.log"):format(dir, dir, dir))
  local self = { dir = dir, port = port, url = "http://127.0.0.1:" .. port }
  function self.log() return read_file(dir .. "/error.log") or "" end
  function self.stop()
    local pid = tonumber((read_file(dir .. "/nginx.pid") or ""):match "%d+")
    if pid then
      sh("kill -TERM " .. pid)
      for _ = 1, 100 do
        if not pid_alive(pid) then break end
        socket.sleep(0.02)
      end
    end
    sh("rm -rf " .. dir)
  end
  if not (started and wait_listening(port, 5)) then
    local log = self.log()
    self.stop()
    error("nginx did not start:\n" .. log, 2)
  end
  return self
end

return M
