/*
 * lclient.h - what the transport's units share (private to src/).
 *
 * lclient.c owns the userdata (lifecycle, credentials, token state),
 * lexchange.c turns a Lua request table into a prepared libcurl exchange and a
 * finished exchange into a Lua result table, lmulti.c runs batches over the
 * multi interface. All request memory hangs off the userdata (see lclient.c).
 */
#ifndef DINTERO_LCLIENT_H
#define DINTERO_LCLIENT_H

#include "http.h"
#include "token.h"
#include "units.h"

#define CLIENT_MT "dintero.transport"
#define MAX_HEADERS 64
#define MAX_POOL 64

typedef struct dclient {
  int closed;          /* no new calls */
  int released;        /* resources freed */
  int busy;            /* a perform or perform_many is running (see guarded() in lclient.c) */
  int release_pending; /* close() came while busy: release when the call returns */
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


dclient *dclient_check_open(lua_State *L);

/* Reads the request table at index r into conn. Returns NULL when ready, or
 * why the request is refused locally (nothing was sent). */
const char *dclient_prepare(lua_State *L, dclient *c, dhttp_conn *conn, int r, char *err, size_t errlen);
/* Pushes the result table of a finished exchange (request table at r). */
void dclient_push_result(lua_State *L, dclient *c, dhttp_conn *conn, const dhttp_result *res, int r);
/* Pushes the result table of a locally refused request. */
void dclient_push_refusal(lua_State *L, const char *why);
/* The body of t:perform_many(reqs, concurrency), run by lclient.c's guard. */
int dclient_perform_many_body(lua_State *L);

#endif
