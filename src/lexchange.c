/*
 * lexchange.c - one exchange between a Lua request table and libcurl: checks
 * and copies the request into a dhttp_conn (refusing CR/LF before anything is
 * sent), and builds the Lua result table from the connection's buffers after
 * the transfer, decoding JSON straight from the receive buffer.
 *
 * Invariant: nothing here holds heap memory across a Lua call except through
 * the dhttp_conn, which the userdata owns, so a Lua error leaks nothing.
 */
#include <string.h>

#include "headers.h"
#include "ljson.h"
#include "lclient.h"
#include "strcache.h"

static int has_crlf(const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL || memchr(s, '\0', n) != NULL;
}

/* Reads req (a table at index r) into conn: body, headers, URL. On a local
 * refusal returns a message (nothing was sent); NULL when ready. */
const char *dclient_prepare(lua_State *L, dclient *c, dhttp_conn *conn, int r, char *err,
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
  /* Refusals, not errors, from here on: in a batch an error would throw
   * away the results of the requests already sent. */
  if (method == NULL || url == NULL) return "request needs method and url";
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
  /* Every line stays on the stack while curl copies it; Lua only promises
   * LUA_MINSTACK (20) free slots. */
  luaL_checkstack(L, count + 4, "dintero: request headers");
  for (i = 1; i <= count; i++) {
    lua_rawgeti(L, -1 - (i - 1), i);
    if (lua_type(L, -1) != LUA_TSTRING) return "header lines must be strings";
    lines[n] = lua_tolstring(L, -1, &len);
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
  switch (dhttp_prepare(conn, method, url, lines, fresh)) {
  case 0: return NULL;
  case DHTTP_PREP_METHOD: return "unsupported method (GET, POST, PUT, DELETE and PATCH are)";
  default: luaL_error(L, "dintero: out of memory preparing a request");
  }
  return NULL;
}

typedef struct header_sink {
  lua_State *L;
  dstrcache *cache;
  int anchors; /* stack index of the string cache's anchor table */
} header_sink;

/* One header into the table at the top of the stack; repeated headers are
 * joined with ", " as HTTP allows. Names and values come from the string
 * cache: most of them are the same from one response to the next. */
static int add_header(void *ud, const char *name, size_t nl, const char *v, size_t vl) {
  header_sink *h = ud;
  lua_State *L = h->L;
  dstrcache_pushstring(L, h->cache, h->anchors, name, nl);
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_isstring(L, -1)) {
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, v, vl);
    lua_concat(L, 3);
  } else {
    lua_pop(L, 1);
    dstrcache_pushstring(L, h->cache, h->anchors, v, vl);
  }
  lua_rawset(L, -3);
  return 0;
}

/* Pushes the response headers as a table of lower-case name -> value. */
static void push_headers(lua_State *L, const dbuf *head) {
  /* Sized from the line count (an upper bound) so the table is not rehashed
   * while it fills: a typical response has 8 to 12 headers. */
  int lines = 0;
  header_sink h;
  const char *p = head->data, *end = p ? p + head->len : NULL;
  while (p && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    lines++;
    p++;
  }
  luaL_checkstack(L, 8, "dintero: response headers");
  h.L = L;
  h.cache = dstrcache_push(L);
  h.anchors = lua_gettop(L);
  lua_createtable(L, 0, lines > 2 ? lines - 2 : 0);
  dheaders_each(head->data, head->len, add_header, &h);
  lua_remove(L, h.anchors);
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
void dclient_push_result(lua_State *L, dclient *c, dhttp_conn *conn, const dhttp_result *res, int r) {
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

void dclient_push_refusal(lua_State *L, const char *why) {
  lua_createtable(L, 0, 3);
  set_str(L, "fail", "invalid");
  set_str(L, "error", why);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "sent");
}

