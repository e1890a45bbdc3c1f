/*
 * lmulti.c - t:perform_many: a batch of exchanges over libcurl's multi
 * interface, at most `concurrency` at once, results in request order.
 *
 * The pool of easy handles and the multi handle belong to the userdata and
 * live as long as it does, so connections are kept between batches. Lua is
 * only touched between transfers (to start one or to build a result).
 */
#include <stdlib.h>
#include <string.h>

#include "lclient.h"

static void ensure_pool(lua_State *L, dclient *c, int want) {
  if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL) luaL_error(L, "dintero: curl_multi_init failed");
  /* Allocated once at full size and never moved: libcurl keeps pointers into
   * every dhttp_conn (write and header data, the error buffer), so growing
   * the array with realloc would leave them dangling. */
  if (c->pool == NULL && (c->pool = calloc(MAX_POOL, sizeof *c->pool)) == NULL)
    luaL_error(L, "dintero: out of memory");
  while (c->pool_n < want) {
    if (dhttp_conn_init(&c->pool[c->pool_n], &c->cfg) != 0) luaL_error(L, "dintero: curl_easy_init failed");
    c->pool_n++;
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
  why = dclient_prepare(L, c, &c->pool[k], top + 1, err, sizeof err);
  if (why) {
    lua_settop(L, top);
    dclient_push_refusal(L, why);
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
  dclient_push_result(L, c, &c->pool[k], &res, top + 1);
  lua_rawseti(L, out, slots[k].req);
  lua_settop(L, top);
  dhttp_conn_trim(&c->pool[k]);
  slots[k].req = 0;
}

/* t:perform_many(reqs, concurrency) -> results in the order of reqs. */
int dclient_perform_many_body(lua_State *L) {
  dclient *c = luaL_checkudata(L, 1, CLIENT_MT);
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
    int still = 0, left, finished = 0;
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
      finished++;
    }
    /* Freed slots are refilled before waiting: polling first would leave them
     * idle until some other transfer makes progress (up to a whole response). */
    if (running > 0 && !(finished && next <= n)) curl_multi_poll(c->multi, NULL, 0, 100, NULL);
  }
  return 1;
}

