/*
 * lerror.c - builds the fail triple. See lerror.h.
 *
 * The message line is "<kind>: <detail>" with, for HTTP errors, the status and
 * Dintero's error code in front of the detail, so assert() prints everything a
 * person needs on every Lua version.
 */
#include "lerror.h"

#include <string.h>

#define ERROR_MT "dintero.error"

static const char *const KINDS[] = {"network", "timeout", "tls", "api", "auth", "json",
                                    "validation", "signature", "config", NULL};

static int kind_known(const char *k) {
  int i;
  for (i = 0; KINDS[i]; i++)
    if (strcmp(KINDS[i], k) == 0) return 1;
  return 0;
}

/* err.__tostring: the same line the triple carries. */
static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "line");
  if (lua_isstring(L, -1)) return 1;
  lua_pushliteral(L, "dintero error");
  return 1;
}

int derr_finish(lua_State *L) {
  int t = lua_gettop(L);
  luaL_Buffer b;
  const char *kind, *msg, *code;
  lua_Integer status;
  lua_getfield(L, t, "kind");
  kind = lua_tostring(L, -1);
  if (kind == NULL || !kind_known(kind)) luaL_error(L, "dintero: unknown error kind '%s'", kind ? kind : "nil");
  lua_getfield(L, t, "message");
  msg = lua_tostring(L, -1);
  lua_getfield(L, t, "code");
  code = lua_tostring(L, -1);
  lua_getfield(L, t, "status");
  status = lua_isnumber(L, -1) ? (lua_Integer)lua_tonumber(L, -1) : 0;
  lua_getfield(L, t, "retryable");
  if (lua_isnil(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, t, "retryable");
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, kind);
  luaL_addstring(&b, ": ");
  if (status > 0) {
    lua_pushfstring(L, "HTTP %d ", (int)status);
    luaL_addvalue(&b);
  }
  if (code && *code) {
    luaL_addstring(&b, code);
    luaL_addstring(&b, ": ");
  }
  luaL_addstring(&b, msg ? msg : "(no message)");
  luaL_pushresult(&b);
  lua_setfield(L, t, "line");
  lua_settop(L, t);
  luaL_getmetatable(L, ERROR_MT);
  lua_setmetatable(L, t);
  lua_pushnil(L);
  lua_getfield(L, t, "line");
  lua_pushvalue(L, t);
  lua_remove(L, t);
  return 3;
}

int derr_push(lua_State *L, const derr *e, int body_idx) {
  if (body_idx < 0) body_idx = lua_gettop(L) + body_idx + 1;
  lua_createtable(L, 0, 8);
  lua_pushstring(L, e->kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, e->message ? e->message : "");
  lua_setfield(L, -2, "message");
  if (e->status) {
    lua_pushinteger(L, e->status);
    lua_setfield(L, -2, "status");
  }
  if (e->code) {
    lua_pushstring(L, e->code);
    lua_setfield(L, -2, "code");
  }
  if (e->request_id) {
    lua_pushstring(L, e->request_id);
    lua_setfield(L, -2, "request_id");
  }
  lua_pushboolean(L, e->retryable);
  lua_setfield(L, -2, "retryable");
  if (body_idx) {
    lua_pushvalue(L, body_idx);
    lua_setfield(L, -2, "body");
  }
  return derr_finish(L);
}

/* core.fail(t): Lua's way into the same builder; returns nil, line, t. */
static int l_fail(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  return derr_finish(L);
}

void derr_open(lua_State *L) {
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "dintero.error");
    lua_setfield(L, -2, "__name");
  }
  lua_setfield(L, -2, "error_mt");
  lua_pushcfunction(L, l_fail);
  lua_setfield(L, -2, "fail");
}
