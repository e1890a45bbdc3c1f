/*
 * strcache.h - a cache of recently pushed short strings, per Lua state
 * (strcache.c): object keys of decoded JSON, response header names and
 * values. At most DSTRCACHE_SLOTS strings (a power of two) of at most
 * DSTRCACHE_MAX bytes, the length of Lua's short strings, stay anchored.
 */
#ifndef DINTERO_STRCACHE_H
#define DINTERO_STRCACHE_H

#include <stddef.h>

#include "compat.h"

#define DSTRCACHE_SLOTS 512
#define DSTRCACHE_MAX 40

typedef struct dstrcache dstrcache;

/* Pushes the cache's anchor table (creating the cache on first use in this
 * Lua state) and returns the cache. */
dstrcache *dstrcache_push(lua_State *L);

/* Pushes the string s[0..n), from the cache when it holds it; anchors is
 * the stack index of the anchor table. Needs 2 free stack slots. */
void dstrcache_pushstring(lua_State *L, dstrcache *k, int anchors, const char *s, size_t n);

#endif
