/*
 * lerror.h - the library's one error type (the fail triple nil, message, err).
 *
 * Every failure the library reports, from C or from Lua (through core.fail),
 * is built by derr_finish: the err table gets its metatable and the one-line
 * message "<kind>: <detail>". Secrets never enter an error: callers pass only
 * what Dintero said and what we did, never credentials or tokens.
 */
#ifndef DINTERO_LERROR_H
#define DINTERO_LERROR_H

#include "compat.h"

typedef struct derr {
  const char *kind;       /* network timeout tls api auth json validation signature config */
  int status;             /* HTTP status, 0 when none was received */
  const char *code;       /* Dintero's error.code, or NULL */
  const char *message;    /* the detail */
  const char *request_id; /* the server's request id, or NULL */
  int retryable;
} derr;

/* Pushes nil, message, err and returns 3. body_idx, if non-zero, is a stack
 * index whose value becomes err.body. */
int derr_push(lua_State *L, const derr *e, int body_idx);
/* Given an err table at the top of the stack with at least kind and message,
 * sets its metatable, pushes the message line below it and nil below that.
 * Returns 3 (the stack ends with nil, line, err). */
int derr_finish(lua_State *L);
void derr_open(lua_State *L); /* adds core.fail and core.error_mt to the table at -1 */

#endif
