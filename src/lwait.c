/*
 * lwait.c - what a sequential exchange does while it waits for the peer:
 * the Lua collector's next share of work.
 *
 * Why: every request leaves garbage (the last response's tables and
 * strings), and the collector is paid for it by the allocations that follow,
 * that is, in the middle of decoding the next response, when the caller is
 * waiting for it. Between sending a request and the answer's first byte the
 * process has nothing to do, so the collector's work is done then: a step of
 * about what the coming result will allocate, so that decoding it does not
 * trigger one. On loopback this takes ~5 us off each request's wall time
 * (bench/PROFILE-NOTES.md, "Fourth round"); over a real network the step is
 * entirely hidden behind the round trip.
 *
 * The total work does not change: Lua 5.2-5.4 keep a step's surplus as
 * credit (a negative debt) that the next allocations use up. Only Lua 5.4 is
 * used here (see below); 5.1 and LuaJIT keep no credit, so a step there would
 * add work rather than move it.
 *
 * Never done when the caller stopped the collector (collectgarbage "stop":
 * games and kiosks do that to avoid pauses, and an explicit step runs even
 * then), nor when the client was made with collect_while_waiting = false.
 */
#include "lclient.h"

#if LUA_VERSION_NUM >= 504
/* Lua 5.2 and 5.3 raise a __gc finalizer's error out of lua_gc; 5.4 turns
 * it into a warning. Running the step under lua_pcall keeps even 5.4's rare
 * raised errors (a memory error) from unwinding through libcurl's loop. */
#define WAIT_COLLECTS 1
#else
#define WAIT_COLLECTS 0
#endif

/* Bytes of Lua memory a result allocates, for the body length of the last
 * answer on this handle: the decoded tables are ~2x the JSON, plus the
 * result and header tables and what the Lua layer builds around them. */
#define RESULT_BYTES(body_len) (2 * (body_len) + 8192)
/* A step never pays for more than this many KiB at once. */
#define MAX_STEP_KB 1024

typedef struct wait_ctx {
  lua_State *L;
  int kb;
} wait_ctx;

#if WAIT_COLLECTS
static int collect_step(lua_State *L) {
  lua_gc(L, LUA_GCSTEP, (int)lua_tointeger(L, 1));
  return 0;
}

static void collect(void *ud) {
  wait_ctx *w = ud;
  lua_State *L = w->L;
  if (!lua_gc(L, LUA_GCISRUNNING, 0) || !lua_checkstack(L, 2)) return;
  lua_pushcfunction(L, collect_step);
  lua_pushinteger(L, w->kb);
  if (lua_pcall(L, 1, 0, 0) != 0) lua_pop(L, 1); /* the step's own trouble is not the request's */
}
#endif

void dclient_perform_waiting(lua_State *L, dclient *c, dhttp_conn *conn, CURLM *multi, dhttp_result *res) {
  wait_ctx w;
  size_t bytes = RESULT_BYTES(conn->last_body_len);
  w.L = L;
  w.kb = bytes / 1024 > MAX_STEP_KB ? MAX_STEP_KB : (int)(bytes / 1024);
#if WAIT_COLLECTS
  if (c->collect_waiting) {
    dhttp_perform_waiting(conn, multi, collect, &w, res);
    conn->last_body_len = conn->body.len;
    return;
  }
#endif
  dhttp_perform_waiting(conn, multi, NULL, NULL, res);
  conn->last_body_len = conn->body.len;
}
