/*
 * compat.h - the one place that knows how Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1
 * differ. Every other l*.c file writes against the 5.4 names used here.
 *
 * Invariants: nothing in this header allocates; every shim behaves like the
 * 5.4 function of the same purpose, except that 5.1/5.2/LuaJIT have no integer
 * subtype, so integers travel as doubles there (exact up to 2^53).
 */
#ifndef DINTERO_COMPAT_H
#define DINTERO_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>

#if LUA_VERSION_NUM >= 503
#define DCOMPAT_HAS_INTEGERS 1
#else
#define DCOMPAT_HAS_INTEGERS 0
#endif

#if LUA_VERSION_NUM < 502
/* 5.1 and LuaJIT: no luaL_setfuncs, lua_rawlen, uservalues or luaL_testudata. */
#ifndef luaL_newlib
#define luaL_newlib(L, l) (lua_newtable(L), luaL_register(L, NULL, l))
#endif
#define lua_rawlen(L, i) lua_objlen(L, i)
#define dcompat_getuservalue(L, i) lua_getfenv(L, i)
#define dcompat_setuservalue(L, i) lua_setfenv(L, i)
#if !defined(LUAJIT_VERSION_NUM) || LUAJIT_VERSION_NUM < 20100 || !defined(luaL_setfuncs)
static inline void dcompat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#else
#define dcompat_setfuncs luaL_setfuncs
#endif
static inline void *dcompat_testudata(lua_State *L, int ud, const char *tname) {
  void *p = lua_touserdata(L, ud);
  if (p != NULL && lua_getmetatable(L, ud)) {
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
  }
  return NULL;
}
#else
#define dcompat_setfuncs luaL_setfuncs
#define dcompat_testudata luaL_testudata
#define dcompat_getuservalue(L, i) ((void)lua_getuservalue(L, i))
#define dcompat_setuservalue(L, i) lua_setuservalue(L, i)
#endif

#if LUA_VERSION_NUM >= 504
#define dcompat_newuserdata(L, sz) lua_newuserdatauv(L, sz, 1)
#else
#define dcompat_newuserdata(L, sz) lua_newuserdata(L, sz)
#endif

/* Integers: a value is "an integer" if it is a Lua integer (5.3+) or, on the
 * older runtimes, a double with no fractional part inside +-2^53. */
static inline int dcompat_isinteger(lua_State *L, int i) {
#if DCOMPAT_HAS_INTEGERS
  return lua_isinteger(L, i);
#else
  if (lua_type(L, i) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, i);
    return n >= -9007199254740992.0 && n <= 9007199254740992.0 && (lua_Number)(int64_t)n == n;
  }
  return 0;
#endif
}

static inline void dcompat_pushint64(lua_State *L, int64_t v) {
#if DCOMPAT_HAS_INTEGERS
  lua_pushinteger(L, (lua_Integer)v);
#else
  lua_pushnumber(L, (lua_Number)v);
#endif
}

static inline int64_t dcompat_toint64(lua_State *L, int i) {
#if DCOMPAT_HAS_INTEGERS
  return (int64_t)lua_tointeger(L, i);
#else
  return (int64_t)lua_tonumber(L, i);
#endif
}

/* lua_Integer-sized checks for option tables (timeouts, limits, counts). */
static inline int64_t dcompat_optint64(lua_State *L, int i, int64_t def) {
  if (lua_isnoneornil(L, i)) return def;
  if (!dcompat_isinteger(L, i)) luaL_argerror(L, i, "integer expected");
  return dcompat_toint64(L, i);
}

#endif
