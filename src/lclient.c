/*
 * lclient.c - the libcurl transport userdata (core.transport) and the token
 * state it carries. Building requests and results is lexchange.c's job,
 * parallel batches lmulti.c's; lclient.h is what the three share.
 *
 * Owns: the easy handle of sequential requests, a pool of easy handles and a
 * multi handle for parallel batches, the credentials (as a ready-made Basic
 * header line) and the access token. Secrets live only in C memory, so they
 * cannot reach tostring, errors or logs through a Lua table; they are wiped
 * before they are freed.
 *
 * Lifecycle: the userdata is created closed (all pointers NULL), then
 * acquires; close, __gc and __close all call client_release, which is
 * idempotent. Every allocation of a request in flight hangs off the userdata,
 * so a Lua error raised mid-request (out of memory) leaks nothing: the next
 * request or the release frees it. libcurl callbacks never touch Lua.
 *
 * One attempt per call: retries, backoff and the token policy's decisions
 * are taken by the caller (lua/dintero/request.lua) so the OpenResty
 * transport can share them; the token state itself is kept here.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lclient.h"

static void wipe_free(char **p) {
  if (*p) {
    dwipe_str(*p);
    free(*p);
    *p = NULL;
  }
}

static void client_release(dclient *c) {
  int i;
  c->closed = 1;
  if (c->released) return;
  c->released = 1;
  if (c->main_ready) dhttp_conn_free(&c->main);
  c->main_ready = 0;
  for (i = 0; i < c->pool_n; i++) dhttp_conn_free(&c->pool[i]);
  free(c->pool);
  c->pool = NULL;
  c->pool_n = 0;
  if (c->multi) curl_multi_cleanup(c->multi);
  c->multi = NULL;
  dtoken_free(&c->token);
  wipe_free(&c->basic_line);
  wipe_free(&c->bearer_line);
  free(c->ca_file);
  free(c->proxy);
  free(c->user_agent);
  c->ca_file = c->proxy = c->user_agent = NULL;
}

dclient *dclient_check_open(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (c->closed) luaL_error(L, "dintero: client is closed");
  return c;
}

static char *dup_opt(lua_State *L, int t, const char *name) {
  const char *s;
  size_t n;
  char *copy;
  lua_getfield(L, t, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "dintero.new: %s must be a string", name);
  s = lua_tolstring(L, -1, &n);
  copy = malloc(n + 1);
  if (copy == NULL) luaL_error(L, "dintero.new: out of memory");
  memcpy(copy, s, n + 1);
  lua_pop(L, 1);
  return copy;
}

static double num_opt(lua_State *L, int t, const char *name, double def) {
  double v;
  lua_getfield(L, t, name);
  if (lua_isnil(L, -1)) v = def;
  else if (lua_type(L, -1) != LUA_TNUMBER) v = -1;
  else v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  /* !(v <= 1e12) also catches NaN: the casts that follow are undefined for it */
  if (v < 0 || !(v <= 1e12)) luaL_error(L, "dintero.new: %s must be a non-negative number up to 1e12", name);
  return v;
}

/* "Authorization: Basic base64(id:secret)" built once at creation. */
static char *basic_line(const char *id, size_t idn, const char *secret, size_t sn) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static const char prefix[] = "Authorization: Basic ";
  size_t raw_n = idn + 1 + sn, i, o = sizeof prefix - 1;
  unsigned char *raw = malloc(raw_n);
  char *out = malloc(sizeof prefix + (raw_n + 2) / 3 * 4 + 1);
  if (raw == NULL || out == NULL) {
    free(raw);
    free(out);
    return NULL;
  }
  memcpy(raw, id, idn);
  raw[idn] = ':';
  memcpy(raw + idn + 1, secret, sn);
  memcpy(out, prefix, o);
  for (i = 0; i < raw_n; i += 3) {
    unsigned v = raw[i] << 16 | (i + 1 < raw_n ? raw[i + 1] << 8 : 0) | (i + 2 < raw_n ? raw[i + 2] : 0);
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = i + 1 < raw_n ? b64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < raw_n ? b64[v & 63] : '=';
  }
  out[o] = '\0';
  memset(raw, 0, raw_n);
  free(raw);
  return out;
}

static void read_credentials(lua_State *L, dclient *c) {
  size_t idn = 0, sn = 0;
  const char *id, *secret;
  lua_getfield(L, 1, "client_id");
  lua_getfield(L, 1, "client_secret");
  id = lua_tolstring(L, -2, &idn);
  secret = lua_tolstring(L, -1, &sn);
  if (id && secret) {
    c->basic_line = basic_line(id, idn, secret, sn);
    if (c->basic_line == NULL) luaL_error(L, "dintero.new: out of memory");
  }
  lua_pop(L, 2);
}

/* core.transport(opts): opts were validated by lua/dintero/options.lua; the
 * checks here only protect the C invariants. */
static int l_transport(lua_State *L) {
  dclient *c;
  luaL_checktype(L, 1, LUA_TTABLE);
  c = dcompat_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->closed = 1; /* closed until every resource is acquired */
  dtoken_init(&c->token);
  luaL_getmetatable(L, CLIENT_MT);
  lua_setmetatable(L, -2);
  c->closed = 0;
  c->cfg.timeout_ms = (long)(num_opt(L, 1, "timeout", 30) * 1000);
  c->cfg.connect_timeout_ms = (long)(num_opt(L, 1, "connect_timeout", 10) * 1000);
  c->cfg.max_response_bytes = (size_t)num_opt(L, 1, "max_response_bytes", 64.0 * 1024 * 1024);
  c->cfg.max_header_bytes = (size_t)num_opt(L, 1, "max_header_bytes", 256.0 * 1024);
  c->cfg.max_header_count = (int)num_opt(L, 1, "max_header_count", 200);
  c->ca_file = dup_opt(L, 1, "ca_file");
  c->proxy = dup_opt(L, 1, "proxy");
  c->user_agent = dup_opt(L, 1, "user_agent");
  c->cfg.ca_file = c->ca_file;
  c->cfg.proxy = c->proxy;
  c->cfg.user_agent = c->user_agent;
  read_credentials(L, c);
  if (dhttp_conn_init(&c->main, &c->cfg) != 0) luaL_error(L, "dintero.new: curl_easy_init failed");
  c->main_ready = 1;
  return 1;
}

/* A close() from a __gc finalizer that runs during a request on this same
 * transport must not free the buffers that request is still reading: it only
 * marks the transport closed, and guarded() releases it on the way out. */
static int l_close(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (c->busy) {
    c->closed = 1;
    c->release_pending = 1;
    return 0;
  }
  client_release(c);
  return 0;
}

static int l_tostring(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  lua_pushfstring(L, "dintero.transport (%s)", c->closed ? "closed" : "open");
  return 1;
}

/* ---- token state ------------------------------------------------------ */

static const char *const TOKEN_STATES[] = {"missing", "fresh", "due", "expired"};

static int l_token_state(lua_State *L) {
  dclient *c = dclient_check_open(L);
  double now = dtoken_now();
  lua_pushstring(L, TOKEN_STATES[dtoken_check(&c->token, now)]);
  lua_pushnumber(L, (lua_Number)c->token.generation);
  lua_pushnumber(L, c->token.value ? c->token.expires_at - now : 0);
  return 3;
}

static int l_store_token(lua_State *L) {
  dclient *c = dclient_check_open(L);
  size_t n;
  const char *v = luaL_checklstring(L, 2, &n);
  double ttl = luaL_checknumber(L, 3);
  static const char prefix[] = "Authorization: Bearer ";
  char *line;
  if (n == 0 || memchr(v, '\r', n) || memchr(v, '\n', n) || strlen(v) != n)
    return luaL_error(L, "dintero: token endpoint returned an unusable access token");
  line = malloc(sizeof prefix + n);
  if (line == NULL) return luaL_error(L, "dintero: out of memory");
  memcpy(line, prefix, sizeof prefix - 1);
  memcpy(line + sizeof prefix - 1, v, n + 1);
  if (dtoken_store(&c->token, v, ttl, dtoken_now()) != 0) {
    wipe_free(&line);
    return luaL_error(L, "dintero: out of memory");
  }
  wipe_free(&c->bearer_line);
  c->bearer_line = line;
  lua_pushnumber(L, (lua_Number)c->token.generation);
  return 1;
}

static int l_drop_token(lua_State *L) {
  dclient *c = dclient_check_open(L);
  unsigned long gen = (unsigned long)luaL_checknumber(L, 2);
  int dropped = dtoken_drop(&c->token, gen);
  if (dropped) wipe_free(&c->bearer_line);
  lua_pushboolean(L, dropped);
  return 1;
}

/* t:token() -> the token and its remaining seconds, for client.auth:token()
 * and the OpenResty transport. */
static int l_token(lua_State *L) {
  dclient *c = dclient_check_open(L);
  double now = dtoken_now();
  if (c->token.value == NULL || dtoken_check(&c->token, now) == DTOKEN_EXPIRED) return 0;
  lua_pushstring(L, c->token.value);
  lua_pushnumber(L, c->token.expires_at - now);
  return 2;
}

static int l_basic_header(lua_State *L) {
  dclient *c = dclient_check_open(L);
  if (c->basic_line == NULL) return 0;
  lua_pushstring(L, c->basic_line + sizeof "Authorization: " - 1);
  return 1;
}

/* ---- one exchange ----------------------------------------------------- */

/* Runs body (a perform or perform_many) with the transport marked busy.
 *
 * Why: building a result allocates Lua memory, and any allocation may run a
 * __gc finalizer. A finalizer that used this same transport would reset or
 * free the very buffers the result is being built from (and a close() would
 * free them all). So a nested call is refused with an error, close() waits
 * (l_close), and the body runs under lua_pcall so that no error, a memory
 * error included, can leave the mark set. */
static int guarded(lua_State *L, lua_CFunction body) {
  dclient *c = dclient_check_open(L);
  int n = lua_gettop(L), i, status;
  if (c->busy) return luaL_error(L, "dintero: transport in use: a request on it is still running "
                                    "(called from a __gc finalizer?)");
  luaL_checkstack(L, n + 2, "dintero: transport call");
  lua_pushcfunction(L, body);
  for (i = 1; i <= n; i++) lua_pushvalue(L, i); /* the originals keep the userdata referenced */
  c->busy = 1;
  status = lua_pcall(L, n, 1, 0);
  c->busy = 0;
  if (c->release_pending) {
    c->release_pending = 0;
    client_release(c);
  }
  if (status != 0) return lua_error(L);
  return 1;
}

/* t:perform(req) -> result table (never raises for network trouble). */
static int perform_body(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  char err[256];
  const char *why;
  dhttp_result res;
  int top;
  luaL_checktype(L, 2, LUA_TTABLE);
  top = lua_gettop(L);
  why = dclient_prepare(L, c, &c->main, 2, err, sizeof err);
  if (why) {
    lua_settop(L, top);
    dclient_push_refusal(L, why);
    return 1;
  }
  dhttp_perform(&c->main, &res);
  lua_settop(L, top);
  dclient_push_result(L, c, &c->main, &res, 2);
  dhttp_conn_trim(&c->main);
  return 1;
}

static int l_perform(lua_State *L) { return guarded(L, perform_body); }
static int l_perform_many(lua_State *L) { return guarded(L, dclient_perform_many_body); }

/* ---- small helpers the request loop needs ------------------------------ */

static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(s > 0)) return 0; /* NaN too */
  if (s > 86400) s = 86400; /* keeps the time_t cast defined */
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
  return 0;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, dtoken_now());
  return 1;
}

static const luaL_Reg METHODS[] = {
    {"perform", l_perform},         {"perform_many", l_perform_many}, {"token_state", l_token_state},
    {"store_token", l_store_token}, {"drop_token", l_drop_token},     {"token", l_token},
    {"basic_header", l_basic_header}, {"close", l_close},             {NULL, NULL}};

void dclient_open(lua_State *L) {
  if (luaL_newmetatable(L, CLIENT_MT)) {
    lua_newtable(L);
    dcompat_setfuncs(L, METHODS, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "private");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_transport);
  lua_setfield(L, -2, "transport");
  lua_pushcfunction(L, l_sleep);
  lua_setfield(L, -2, "sleep");
  lua_pushcfunction(L, l_now);
  lua_setfield(L, -2, "now");
}
