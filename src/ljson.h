/*
 * ljson.h - the JSON codec's C entry points, for the other units (the client
 * decodes responses straight from its receive buffer with djson_decode).
 */
#ifndef DINTERO_LJSON_H
#define DINTERO_LJSON_H

#include "buf.h"
#include "compat.h"

#define DJSON_MAX_DEPTH 1000

/* Decodes s[0..len) and pushes the value (1 on success). On failure pushes
 * nothing, writes "<what> at byte <offset>" into err and returns 0. May raise
 * a Lua memory error; holds no C allocation across Lua calls. */
int djson_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen);

/* Appends the JSON text of the value at idx to out. 0 on success; -1 with a
 * message naming the key path (e.g. "order.items[3].description: invalid
 * UTF-8") in err. */
int djson_encode(lua_State *L, int idx, dbuf *out, char *err, size_t errlen);

#endif
