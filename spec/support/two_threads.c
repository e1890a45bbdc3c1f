/*
 * two_threads.c - a small harness embedding Lua 5.4 in two OS threads at once,
 * each with its own lua_State and its own dintero client, to show that
 * separate clients in separate threads do not interfere (no shared mutable
 * state in the C core besides curl_global_init, which runs once at load).
 *
 * Usage: two_threads <repo root> <mock url> <requests per thread>
 * Prints one line per thread "thread N: ok R" and exits 0 when both finish
 * every request successfully.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct job {
  int id;
  const char *root, *url;
  int n;
  int ok;
} job;

static const char *SCRIPT =
    "local root, url, n, id = ...\n"
    "package.path = root .. '/lua/?.lua;' .. root .. '/lua/?/init.lua;' .. package.path\n"
    "package.cpath = root .. '/build/5.4/?.so;' .. package.cpath\n"
    "local dintero = require 'dintero'\n"
    "local c = dintero.new{account_id='T12345678', client_id='mock-client', client_secret='mock-secret',\n"
    "  api_url=url, checkout_url=url}\n"
    "local good = 0\n"
    "for i = 1, n do\n"
    "  local ref = ('thread-%d-%d'):format(id, i)\n"
    "  local body, msg = c:request{method='GET', host='checkout', path='/v1/transactions',\n"
    "    query={merchant_reference=ref}}\n"
    "  if type(body) == 'table' then good = good + 1 else error(msg) end\n"
    "end\n"
    "c:close()\n"
    "return good\n";

static void *run(void *arg) {
  job *j = arg;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_loadstring(L, SCRIPT) != LUA_OK) {
    fprintf(stderr, "thread %d: %s\n", j->id, lua_tostring(L, -1));
    lua_close(L);
    return NULL;
  }
  lua_pushstring(L, j->root);
  lua_pushstring(L, j->url);
  lua_pushinteger(L, j->n);
  lua_pushinteger(L, j->id);
  if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
    fprintf(stderr, "thread %d: %s\n", j->id, lua_tostring(L, -1));
  } else {
    j->ok = (int)lua_tointeger(L, -1);
  }
  lua_close(L);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t t[2];
  job jobs[2];
  int i, n;
  if (argc != 4) {
    fprintf(stderr, "usage: two_threads <root> <url> <n>\n");
    return 2;
  }
  n = atoi(argv[3]);
  for (i = 0; i < 2; i++) {
    jobs[i].id = i + 1;
    jobs[i].root = argv[1];
    jobs[i].url = argv[2];
    jobs[i].n = n;
    jobs[i].ok = 0;
    pthread_create(&t[i], NULL, run, &jobs[i]);
  }
  for (i = 0; i < 2; i++) pthread_join(t[i], NULL);
  for (i = 0; i < 2; i++) printf("thread %d: ok %d\n", jobs[i].id, jobs[i].ok);
  return jobs[0].ok == n && jobs[1].ok == n ? 0 : 1;
}
