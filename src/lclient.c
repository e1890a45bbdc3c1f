/*
 * lclient.c - the libcurl transport userdata (core.transport) and the token
 * state it carries.
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

#include "headers.h"
#include "http.h"
#include "ljson.h"
#include "token.h"
#include "units.h"

#define CLIENT_MT "dintero.transport"
#define MAX_HEADERS 64
#define MAX_POOL 64

typedef struct dclient {
  int closed;
  dhttp_config cfg;
  char *ca_file, *proxy, *user_agent;
  char *basic_line;  /* "Authorization: Basic ..." */
  char *bearer_line; /* "Authorization: Bearer ..." for the current token */
  dtoken token;
  dhttp_conn main;
  int main_ready;
  CURLM *multi;
  dhttp_conn *pool;
  int pool_n;
} dclient;

static void wipe_free(char **p) {
  if (*p) {
    volatile char *q = *p;
    while (*q) *q++ = 0;
    free(*p);
    *p = NULL;
  }
}

static void client_release(dclient *c) {
  int i;
  if (c->closed) return;
  c->closed = 1;
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

static dclient *check_open(lua_State *L) {
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
  if (v < 0) luaL_error(L, "dintero.new: %s must be a non-negative number", name);
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

static int l_close(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
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
  dclient *c = check_open(L);
  double now = dtoken_now();
  lua_pushstring(L, TOKEN_STATES[dtoken_check(&c->token, now)]);
  lua_pushnumber(L, (lua_Number)c->token.generation);
  lua_pushnumber(L, c->token.value ? c->token.expires_at - now : 0);
  return 3;
}

static int l_store_token(lua_State *L) {
  dclient *c = check_open(L);
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
    free(line);
    return luaL_error(L, "dintero: out of memory");
  }
  wipe_free(&c->bearer_line);
  c->bearer_line = line;
  lua_pushnumber(L, (lua_Number)c->token.generation);
  return 1;
}

static int l_drop_token(lua_State *L) {
  dclient *c = check_open(L);
  unsigned long gen = (unsigned long)luaL_checknumber(L, 2);
  int dropped = dtoken_drop(&c->token, gen);
  if (dropped) wipe_free(&c->bearer_line);
  lua_pushboolean(L, dropped);
  return 1;
}

/* t:token() -> the token and its remaining seconds, for client.auth:token()
 * and the OpenResty transport. */
static int l_token(lua_State *L) {
  dclient *c = check_open(L);
  double now = dtoken_now();
  if (c->token.value == NULL || dtoken_check(&c->token, now) == DTOKEN_EXPIRED) return 0;
  lua_pushstring(L, c->token.value);
  lua_pushnumber(L, c->token.expires_at - now);
  return 2;
}

static int l_basic_header(lua_State *L) {
  dclient *c = check_open(L);
  if (c->basic_line == NULL) return 0;
  lua_pushstring(L, c->basic_line + sizeof "Authorization: " - 1);
  return 1;
}

/* ---- one exchange ----------------------------------------------------- */

static int has_crlf(const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL || memchr(s, '\0', n) != NULL;
}

/* Reads req (a table at index r) into conn: body, headers, URL. On a local
 * refusal returns a message (nothing was sent); NULL when ready. */
static const char *prepare_request(lua_State *L, dclient *c, dhttp_conn *conn, int r, char *err,
                                   size_t errlen) {
  const char *lines[MAX_HEADERS + 2];
  int n = 0, i, count, fresh;
  size_t len;
  const char *method, *url;
  dbuf_reset(&conn->send);
  lua_getfield(L, r, "method");
  method = lua_tostring(L, -1);
  lua_getfield(L, r, "url");
  url = lua_tolstring(L, -1, &len);
  if (method == NULL || url == NULL) luaL_error(L, "dintero: request needs method and url");
  if (has_crlf(url, len)) return "URL contains CR, LF or NUL";
  lua_getfield(L, r, "body");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    if (dbuf_append(&conn->send, s, len) != 0) luaL_error(L, "dintero: out of memory");
  } else if (!lua_isnil(L, -1)) {
    if (djson_encode(L, lua_gettop(L), &conn->send, err, errlen) != 0) return err;
  }
  lua_getfield(L, r, "headers");
  count = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  if (count > MAX_HEADERS) return "too many request headers";
  for (i = 1; i <= count; i++) {
    lua_rawgeti(L, -1 - (i - 1), i); /* stays on the stack while curl copies it */
    lines[n] = lua_tolstring(L, -1, &len);
    if (lines[n] == NULL) luaL_error(L, "dintero: header lines must be strings");
    if (has_crlf(lines[n], len)) return "a header value contains CR, LF or NUL";
    n++;
  }
  lua_getfield(L, r, "auth");
  if (lua_toboolean(L, -1)) {
    const char *mode = lua_tostring(L, -1);
    if (mode && strcmp(mode, "basic") == 0) {
      if (c->basic_line == NULL) return "no client credentials configured";
      lines[n++] = c->basic_line;
    } else {
      if (c->bearer_line == NULL || dtoken_check(&c->token, dtoken_now()) == DTOKEN_EXPIRED)
        return "no valid access token";
      lines[n++] = c->bearer_line;
    }
  }
  lines[n] = NULL;
  lua_getfield(L, r, "fresh");
  fresh = lua_toboolean(L, -1);
  if (dhttp_prepare(conn, method, url, lines, fresh) != 0) luaL_error(L, "dintero: cannot prepare request");
  return NULL;
}

/* One header into the table at the top of the stack; repeated headers are
 * joined with ", " as HTTP allows. */
static int add_header(void *ud, const char *name, size_t nl, const char *v, size_t vl) {
  lua_State *L = ud;
  lua_pushlstring(L, name, nl);
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_isstring(L, -1)) {
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, v, vl);
    lua_concat(L, 3);
  } else {
    lua_pop(L, 1);
    lua_pushlstring(L, v, vl);
  }
  lua_rawset(L, -3);
  return 0;
}

/* Pushes the response headers as a table of lower-case name -> value. */
static void push_headers(lua_State *L, const dbuf *head) {
  lua_createtable(L, 0, 8);
  dheaders_each(head->data, head->len, add_header, L);
}

static const char *const FAILS[] = {NULL, "connect", "timeout", "tls", "dropped", "too_large", "headers", "other"};

static int wants_json(lua_State *L, int r, const char *ctype) {
  const char *mode;
  lua_getfield(L, r, "decode");
  mode = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (mode && strcmp(mode, "raw") == 0) return 0;
  if (mode && strcmp(mode, "json") == 0) return 1;
  return ctype == NULL || strstr(ctype, "json") != NULL;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* Builds the result table of one exchange from conn's buffers. */
static void push_result(lua_State *L, dclient *c, dhttp_conn *conn, const dhttp_result *res, int r) {
  char err[256];
  lua_createtable(L, 0, 12);
  lua_pushinteger(L, res->status);
  lua_setfield(L, -2, "status");
  lua_pushboolean(L, res->sent);
  lua_setfield(L, -2, "sent");
  lua_pushboolean(L, res->reused);
  lua_setfield(L, -2, "reused");
  lua_pushnumber(L, res->seconds);
  lua_setfield(L, -2, "seconds");
  lua_pushnumber(L, (lua_Number)c->token.generation);
  lua_setfield(L, -2, "token_generation");
  if (res->fail != DHTTP_OK) {
    set_str(L, "fail", FAILS[res->fail]);
    set_str(L, "error", res->errmsg);
    return;
  }
  if (res->content_type) set_str(L, "content_type", res->content_type);
  push_headers(L, &conn->head);
  lua_setfield(L, -2, "headers");
  if (conn->body.len == 0) return;
  if (wants_json(L, r, res->content_type)) {
    if (djson_decode(L, conn->body.data, conn->body.len, err, sizeof err)) {
      lua_setfield(L, -2, "body");
      return;
    }
    set_str(L, "fail", "json");
    set_str(L, "error", err);
  }
  lua_pushlstring(L, conn->body.data, conn->body.len);
  lua_setfield(L, -2, "body");
}

static void push_refusal(lua_State *L, const char *why) {
  lua_createtable(L, 0, 3);
  set_str(L, "fail", "invalid");
  set_str(L, "error", why);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "sent");
}

/* t:perform(req) -> result table (never raises for network trouble). */
static int l_perform(lua_State *L) {
  dclient *c = check_open(L);
  char err[256];
  const char *why;
  dhttp_result res;
  int top;
  luaL_checktype(L, 2, LUA_TTABLE);
  top = lua_gettop(L);
  why = prepare_request(L, c, &c->main, 2, err, sizeof err);
  if (why) {
    lua_settop(L, top);
    push_refusal(L, why);
    return 1;
  }
  dhttp_perform(&c->main, &res);
  lua_settop(L, top);
  push_result(L, c, &c->main, &res, 2);
  dhttp_conn_trim(&c->main);
  return 1;
}

/* ---- parallel batches -------------------------------------------------- */

static void ensure_pool(lua_State *L, dclient *c, int want) {
  if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL) luaL_error(L, "dintero: curl_multi_init failed");
  if (want <= c->pool_n) return;
  {
    dhttp_conn *p = realloc(c->pool, sizeof *p * (size_t)want);
    if (p == NULL) luaL_error(L, "dintero: out of memory");
    c->pool = p;
    while (c->pool_n < want) {
      if (dhttp_conn_init(&c->pool[c->pool_n], &c->cfg) != 0) luaL_error(L, "dintero: curl_easy_init failed");
      c->pool_n++;
    }
  }
}

typedef struct slot {
  int req; /* 1-based index of the request on this handle, 0 = idle */
} slot;

/* Starts request i on pool handle k; a local refusal is stored at once. */
static int start_one(lua_State *L, dclient *c, int k, int i, int out) {
  char err[256];
  const char *why;
  int top = lua_gettop(L);
  lua_rawgeti(L, 2, i);
  why = prepare_request(L, c, &c->pool[k], top + 1, err, sizeof err);
  if (why) {
    lua_settop(L, top);
    push_refusal(L, why);
    lua_rawseti(L, out, i);
    return 0;
  }
  lua_settop(L, top);
  curl_easy_setopt(c->pool[k].easy, CURLOPT_PRIVATE, (void *)(intptr_t)k);
  curl_multi_add_handle(c->multi, c->pool[k].easy);
  return 1;
}

static void finish_one(lua_State *L, dclient *c, CURLMsg *msg, slot *slots, int out) {
  intptr_t k = 0;
  dhttp_result res;
  int top = lua_gettop(L);
  curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&k);
  curl_multi_remove_handle(c->multi, msg->easy_handle);
  dhttp_finish(&c->pool[k], msg->data.result, &res);
  lua_rawgeti(L, 2, slots[k].req);
  push_result(L, c, &c->pool[k], &res, top + 1);
  lua_rawseti(L, out, slots[k].req);
  lua_settop(L, top);
  dhttp_conn_trim(&c->pool[k]);
  slots[k].req = 0;
}

/* t:perform_many(reqs, concurrency) -> results in the order of reqs. */
static int l_perform_many(lua_State *L) {
  dclient *c = check_open(L);
  int n, conc, next = 1, running = 0, out, k;
  slot slots[MAX_POOL];
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (int)lua_rawlen(L, 2);
  conc = (int)luaL_optinteger(L, 3, 8);
  if (conc < 1) conc = 1;
  if (conc > MAX_POOL) conc = MAX_POOL;
  if (conc > n) conc = n > 0 ? n : 1;
  ensure_pool(L, c, conc);
  /* A Lua error in an earlier batch may have left handles attached. */
  for (k = 0; k < c->pool_n; k++) curl_multi_remove_handle(c->multi, c->pool[k].easy);
  lua_createtable(L, n, 0);
  out = lua_gettop(L);
  memset(slots, 0, sizeof slots);
  while (next <= n || running > 0) {
    int still = 0, left;
    CURLMsg *msg;
    for (k = 0; k < conc && next <= n; k++) {
      if (slots[k].req) continue;
      if (start_one(L, c, k, next, out)) {
        slots[k].req = next;
        running++;
      }
      next++;
    }
    if (running == 0) continue;
    curl_multi_perform(c->multi, &still);
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      finish_one(L, c, msg, slots, out);
      running--;
    }
    if (running > 0) curl_multi_poll(c->multi, NULL, 0, 100, NULL);
  }
  return 1;
}

/* ---- small helpers the request loop needs ------------------------------ */

static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  struct timespec ts;
  if (s <= 0) return 0;
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
