/*
 * lfields.c - core.object_fields(data, methods): the field table of a Session
 * or Transaction object (lua/dintero/objects/base.lua).
 *
 * Why in C: the object is a new table holding the decoded response's fields
 * except those named like a method (a field must never shadow a method).
 * Filled from Lua, that table grows from empty and is rehashed at 1, 2, 4, 8,
 * 16 ... fields, which made wrapping a transaction cost more than decoding a
 * third of it. Here the fields are counted first and the table is created at
 * its final size.
 */
#include "units.h"

static int l_object_fields(lua_State *L) {
  int n = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    n++;
    lua_pop(L, 1);
  }
  lua_createtable(L, 0, n); /* 3 */
  lua_pushnil(L);
  while (lua_next(L, 1)) { /* key, value */
    lua_pushvalue(L, -2);
    lua_rawget(L, 2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2); /* key, key, value */
      lua_rawset(L, 3);
    } else {
      lua_pop(L, 2);
    }
  }
  return 1;
}

void dfields_open(lua_State *L) {
  lua_pushcfunction(L, l_object_fields);
  lua_setfield(L, -2, "object_fields");
}
