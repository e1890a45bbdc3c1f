/*
 * rusage.c - getrusage(2) for the benchmarks, as a tiny Lua module built by
 * bench/support/common.lua into build/bench/<lua>/rusage.so. Lua itself has
 * no way to read a process's CPU time finer than /proc's 10 ms ticks, and
 * bench/requests.lua times blocks of a few hundred milliseconds.
 *
 *   local rusage = require "rusage"
 *   local self_s, children_s = rusage.cpu()  -- user + system seconds, µs resolution
 */
#include <lauxlib.h>
#include <lua.h>
#include <sys/resource.h>

static double seconds(const struct rusage *r) {
  return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 + (double)r->ru_stime.tv_sec +
         (double)r->ru_stime.tv_usec / 1e6;
}

static int l_cpu(lua_State *L) {
  struct rusage self, children;
  if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0)
    return luaL_error(L, "getrusage failed");
  lua_pushnumber(L, seconds(&self));
  lua_pushnumber(L, seconds(&children));
  return 2;
}

int luaopen_rusage(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_cpu);
  lua_setfield(L, -2, "cpu");
  return 1;
}
