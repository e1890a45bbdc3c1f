-- The OpenResty transport: the interface of docs/architecture.md ("The
-- transport interface") over nginx cosockets, so a request waits without
-- blocking the worker. It wraps the libcurl transport and keeps it for two
-- things: the token state (one policy, in C, shared by both paths) and the
-- phases where nginx offers no cosockets (init, init_worker, set, log,
-- header/body filters, balancer), where the blocking libcurl path is used
-- and a warning is logged once per worker.
--
-- Connections go to nginx's keepalive pool (per worker, keyed by
-- host:port[:tls]) and come back to it only after a complete response that
-- allows keep-alive. A payment write (req.fresh) gets a connection of its own
-- and closes it: a request on a pooled connection that turns out dead is
-- never sent again here, but the payment path does not even take that risk.
-- See docs/openresty.md.
local core = require "dintero.core"
local http = require "dintero.ngx.http"

local M = {}

local T = {}
T.__index = T

local KEEPALIVE_MS = 30000 -- idle time in the pool; below the usual 60 s load balancer idle timeout
local POOL_SIZE = 64 -- kept-alive connections per worker and host

local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

--- True where ngx.socket.tcp, ngx.sleep and light threads work.
function M.cosockets()
  return COSOCKET_PHASES[ngx.get_phase()] == true
end

local warned = false -- per worker: the warning is about the configuration, not each call

local function warn_fallback()
  if warned then return end
  warned = true
  ngx.log(ngx.WARN, "dintero: no cosockets in the ", ngx.get_phase(), " phase; used the blocking",
    " libcurl transport (it stalls this worker while it waits). Call the API from rewrite/access/",
    "content, or from ngx.timer.at in init_worker.")
end

--- ngx.sleep where the phase can yield, the blocking sleep elsewhere.
function M.sleep(seconds)
  if M.cosockets() then return ngx.sleep(seconds) end
  return core.sleep(seconds)
end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- TLS sessions per pool key, so a new connection resumes instead of a full handshake.
local tls_sessions = {}
local fresh_count = 0

local function connect_fail(err)
  return err == "timeout" and "timeout" or "connect"
end

-- A connected (and for https, verified) socket; reused tells whether it came
-- from the pool. Returns sock, reused or nil, fail, detail.
local function connect(self, u, new_conn, deadline)
  local sock = ngx.socket.tcp()
  -- The connect and the TLS handshake (nginx times it with the connect
  -- timeout) share connect_timeout, and both stay within the attempt's budget.
  local connect_ms = math.max(1, math.min(self.connect_ms, math.floor((deadline - ngx.now()) * 1000)))
  sock:settimeouts(connect_ms, self.timeout_ms, self.timeout_ms)
  local key = ("dintero:%s:%d%s"):format(u.host, u.port, u.tls and ":tls" or "")
  local pool = key
  if new_conn then
    -- A pool name nobody else uses: the connect cannot pick up a kept-alive one.
    fresh_count = fresh_count + 1
    pool = key .. ":fresh:" .. fresh_count
  end
  local ok, err = sock:connect(u.connect_host, u.port, { pool = pool })
  if not ok then return nil, connect_fail(err), ("connect to %s: %s"):format(u.authority, err) end
  local reused = (sock:getreusedtimes() or 0) > 0
  if u.tls and not reused then
    -- Verification on: the CA list is nginx's lua_ssl_trusted_certificate.
    local session, herr = sock:sslhandshake(tls_sessions[key], u.host:gsub("^%[(.*)%]$", "%1"), true)
    if not session then
      sock:close()
      return nil, herr == "timeout" and "timeout" or "tls", ("TLS with %s: %s"):format(u.authority, herr)
    end
    tls_sessions[key] = session
  end
  return sock, reused
end

-- One exchange on one connection. Returns an outcome table:
-- {response=} or {fail=, error=, sent=, reused=, status=, silent=}.
local function exchange(self, u, method, text, new_conn, deadline)
  local sock, reused, err = connect(self, u, new_conn, deadline)
  if not sock then return { fail = reused, error = err, sent = false } end
  if not http.arm(sock, deadline) then
    sock:close() -- the connect used up the budget; nothing was written
    return { fail = "timeout", error = "connect to " .. u.authority .. " used the whole timeout", sent = false }
  end
  local ok, serr = sock:send(text)
  if not ok then
    sock:close()
    -- Some bytes may have left: a payment must be treated as possibly sent.
    return { fail = http.classify(serr), error = ("sending to %s: %s"):format(u.authority, serr), sent = true,
      reused = reused, silent = true }
  end
  local r, fail, rerr, got, status = http.read_response(sock, deadline, self.limits, method)
  if not r then
    sock:close()
    return { fail = fail, error = ("response from %s: %s"):format(u.authority, rerr), sent = true,
      reused = reused, silent = not got, status = status }
  end
  if r.keepalive and not new_conn then sock:setkeepalive(KEEPALIVE_MS, POOL_SIZE) else sock:close() end
  return { response = r, sent = true, reused = reused }
end

-- The Authorization line for req.auth, from the C token state. Returns the
-- line ("" for none) or nil, message.
local function auth_line(self, auth)
  if auth == "basic" then
    local basic = self._curl:basic_header()
    if not basic then return nil, "no client credentials configured" end
    return "Authorization: " .. basic
  elseif auth then
    local token = self._curl:token()
    if not token then return nil, "no valid access token" end
    return "Authorization: Bearer " .. token
  end
  return ""
end

-- The request bytes, or nil, message for a local refusal (nothing is sent).
local function request_bytes(self, req, u)
  local body = req.body
  if type(body) == "table" then
    local encoded, err = core.json.encode(body)
    if not encoded then return nil, err end
    body = encoded
  elseif body ~= nil and type(body) ~= "string" then
    return nil, "body must be a table or a string"
  end
  local auth, err = auth_line(self, req.auth)
  if not auth then return nil, err end
  -- The User-Agent is one of req.headers (the client's static lines).
  local extra = {}
  if auth ~= "" then extra[1] = auth end
  return http.request_text(req.method, u, req.headers, extra, body or "")
end

local function wants_json(decode, ctype)
  if decode == "raw" then return false end
  if decode == "json" then return true end
  return ctype == nil or ctype:find("json", 1, true) ~= nil
end

-- Fills res (the result table) from a complete response, decoding JSON
-- like the C transport: a body that fails to decode stays raw, with fail "json".
local function fill_response(res, r, decode)
  res.status, res.headers = r.status, r.headers
  res.content_type = r.headers["content-type"]
  if r.body == "" then return end
  if wants_json(decode, res.content_type) then
    local value, err = core.json.decode(r.body)
    if value ~= nil then
      res.body = value
      return
    end
    res.fail, res.error = "json", err
  end
  res.body = r.body
end

local function refusal(why, generation)
  return { status = 0, fail = "invalid", error = why, sent = false, reused = false, seconds = 0,
    token_generation = generation }
end

-- One attempt over cosockets, in the result shape of src/lclient.c.
local function attempt(self, req)
  if type(req.method) ~= "string" or type(req.url) ~= "string" then
    error("dintero: request needs method and url", 3)
  end
  local started = now()
  local _, generation = self._curl:token_state() -- the token this attempt uses
  if req.url:find "[%z\r\n]" then return refusal("URL contains CR, LF or NUL", generation) end
  local u, uerr = http.split_url(req.url)
  if not u then return refusal(uerr, generation) end
  local text, why = request_bytes(self, req, u)
  if not text then return refusal(why, generation) end
  local deadline = started + self.timeout_ms / 1000
  local out = exchange(self, u, req.method, text, req.fresh, deadline)
  if out.fail == "dropped" and out.reused and out.silent and not req.fresh then
    -- The server had closed the idle connection before we wrote: the request
    -- went nowhere. Once more on a new connection (never for payment writes).
    out = exchange(self, u, req.method, text, true, deadline)
  end
  local res = { status = out.status or 0, sent = out.sent, reused = out.reused or false,
    seconds = now() - started, token_generation = generation }
  if out.fail then
    res.fail, res.error = out.fail, out.error
    if out.fail ~= "too_large" and out.fail ~= "headers" then res.status = 0 end
    return res
  end
  fill_response(res, out.response, req.decode)
  return res
end

--- t:perform(req): one attempt (see docs/architecture.md).
function T:perform(req)
  if self.blocking or not M.cosockets() then
    warn_fallback()
    return self._curl:perform(req)
  end
  return attempt(self, req)
end

--- t:perform_many(reqs, concurrency): light threads, at most `concurrency`
-- at once, each taking the next request; results in the order of reqs.
function T:perform_many(reqs, concurrency)
  if self.blocking or not M.cosockets() then
    warn_fallback()
    return self._curl:perform_many(reqs, concurrency)
  end
  local results, next_index, n = {}, 0, #reqs
  local function worker()
    while next_index < n do
      next_index = next_index + 1
      local i = next_index
      results[i] = attempt(self, reqs[i])
    end
  end
  local threads = {}
  for k = 1, math.min(math.max(1, concurrency or 8), n) do threads[k] = ngx.thread.spawn(worker) end
  local first_error
  for _, th in ipairs(threads) do
    local ok, err = ngx.thread.wait(th)
    if not ok and not first_error then first_error = err end
  end
  if first_error then error(first_error, 0) end
  return results
end

-- ---- token state: delegated to the C transport ---------------------------

function T:token_state() return self._curl:token_state() end
function T:store_token(value, expires_in) return self._curl:store_token(value, expires_in) end
function T:token() return self._curl:token() end
function T:basic_header() return self._curl:basic_header() end
function T:close() return self._curl:close() end

--- Drops the token of that generation; a token the API rejected is also
-- removed from the shared dict so that no worker adopts it again.
function T:drop_token(generation)
  local token = self._shared and self._curl:token()
  local dropped = self._curl:drop_token(generation)
  if dropped and token then self._shared:forget(token) end
  return dropped
end

-- The refresh with the shared dict: adopt another worker's token, or take
-- the cross-worker lock and fetch, then publish.
local function shared_refresh(self, can_wait, refresh, ...)
  local curl, shared = self._curl, self._shared
  local state, generation = curl:token_state()
  if state == "fresh" then return true end
  local got = shared:acquire(curl, can_wait and state ~= "due")
  if curl:token_state() == "fresh" or (got == "busy" and state == "due") then
    if got == "locked" then shared:release() end
    return true -- adopted, or another worker is refreshing and ours is still valid
  end
  local ok, r1, r2, r3 = pcall(refresh, ...)
  if got == "locked" then shared:release() end
  if not ok then error(r1, 0) end
  local _, after = curl:token_state()
  if r1 and after ~= generation then shared:publish(curl) end
  return r1, r2, r3
end

--- The hook client:_ensure_token calls (see docs/openresty.md): runs
-- refresh(...) so that one light thread per worker, and with shared_dict one
-- worker, fetches while the others wait and then find the token fresh.
function T:token_flight(refresh, ...)
  local yieldable = not self.blocking and M.cosockets()
  if self._shared then
    if not yieldable then return shared_refresh(self, false, refresh, ...) end
    return self._lock:run(shared_refresh, self, true, refresh, ...)
  end
  if not yieldable then return refresh(...) end -- nothing can interleave without yields
  return self._lock:run(refresh, ...)
end

function T:__tostring()
  return "dintero.ngx.transport (" .. tostring(self._curl) .. ")"
end

local function ms(seconds)
  return math.max(1, math.floor(seconds * 1000))
end

--- Wraps the libcurl transport `curl` for the client options `o` (checked by
-- options.lua). Returns the transport and the sleep function for retries.
function M.wrap(curl, o)
  if not rawget(_G, "ngx") then error('dintero.new: transport "ngx" needs OpenResty (lua-nginx-module)', 0) end
  local self = setmetatable({
    _curl = curl,
    connect_ms = ms(o.connect_timeout), timeout_ms = ms(o.timeout),
    limits = { max_header_bytes = o.max_header_bytes, max_header_count = o.max_header_count,
      max_response_bytes = o.max_response_bytes },
    _lock = require("dintero.ngx.token_lock").new(o.connect_timeout + o.timeout),
  }, T)
  if o.shared_dict then self._shared = require("dintero.ngx.shared_token").new(o) end
  if o.proxy and o.proxy ~= "" then
    -- Cosockets have no proxy support; libcurl has. Correct but blocking.
    self.blocking = true
    ngx.log(ngx.WARN, "dintero: the proxy option is not supported over cosockets; every call uses the",
      " blocking libcurl transport")
  end
  return self, M.sleep
end

return M
