/*
 * strcache.c - a cache of recently pushed short strings, per Lua state.
 *
 * Why: a Dintero response is mostly object keys, the same few hundred names
 * in every response ("id", "amount", "currency", "items" ...), and its
 * headers repeat from one response to the next. Pushing such a string with
 * lua_pushlstring hashes all of its bytes and walks Lua's string table; for
 * keys that was about a third of the instructions of decoding a transaction.
 * The cache remembers recent strings by a cheap hash of their length and
 * outer bytes and pushes a hit with one lua_rawgeti from an array. Used for
 * JSON object keys (ljson_decode.c) and response header names and values
 * (lexchange.c); not for JSON string values, which are mostly unique ids.
 *
 * Owns: one full userdata per Lua state (in the registry) holding the slots,
 * whose user value is the anchor table. Each cached string is a Lua string kept
 * alive by the anchor table, so the pointer a slot keeps into its bytes stays
 * valid (no Lua collector moves strings); all of it is Lua memory and goes
 * with the state. At most DSTRCACHE_SLOTS strings of at most DSTRCACHE_MAX bytes
 * are held (about 60 KiB at worst, slots and strings together).
 *
 * Invariant: a slot is valid only while len != 0 and s points into the
 * string anchored at the same index; a slot is emptied before its anchor is
 * replaced, so a memory error in between leaves it empty, never dangling.
 */
#include "strcache.h"

#include <string.h>

#define CACHE_REGISTRY "dintero.strcache"

/* A slot also keeps the two words its string hashed from: for strings of at
 * most 16 bytes they are the whole string, so a hit needs no memcmp. */
struct dstrcache {
  const char *s[DSTRCACHE_SLOTS];
  size_t len[DSTRCACHE_SLOTS];
  uint64_t head[DSTRCACHE_SLOTS], tail[DSTRCACHE_SLOTS];
};

dstrcache *dstrcache_push(lua_State *L) {
  dstrcache *k;
  lua_getfield(L, LUA_REGISTRYINDEX, CACHE_REGISTRY);
  k = lua_touserdata(L, -1);
  if (k == NULL) {
    lua_pop(L, 1);
    k = dcompat_newuserdata(L, sizeof *k);
    memset(k, 0, sizeof *k);
    lua_createtable(L, DSTRCACHE_SLOTS, 0);
    dcompat_setuservalue(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_REGISTRY);
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_REGISTRY);
  }
  dcompat_getuservalue(L, -1);
  lua_remove(L, -2);
  return k;
}

/* The first and last 8 bytes of s (for n < 8, its bytes packed into a and
 * b = 0): with the length they identify any string of at most 16 bytes. */
static void words_of(const char *s, size_t n, uint64_t *a, uint64_t *b) {
  *a = *b = 0;
  if (n >= 8) {
    memcpy(a, s, 8);
    memcpy(b, s + n - 8, 8);
  } else {
    size_t i;
    for (i = 0; i < n; i++) *a = (*a << 8) | (unsigned char)s[i];
  }
}

/* Length and the first and last 8 bytes, mixed by a multiply: O(1)
 * whatever the key's length, and strings that share a prefix
 * ("address_line", "address_line_2") still land apart. */
static unsigned slot_of(uint64_t a, uint64_t b, size_t n) {
  uint64_t h = (a ^ (b * UINT64_C(0x9E3779B97F4A7C15)) ^ (uint64_t)n) * UINT64_C(0xFF51AFD7ED558CCD);
  return (unsigned)(h >> 32) & (DSTRCACHE_SLOTS - 1);
}

/* Whether slot holds s[0..n) (a, b: its words). */
static int holds(const dstrcache *k, unsigned slot, const char *s, size_t n, uint64_t a, uint64_t b) {
  if (k->len[slot] != n || k->head[slot] != a || k->tail[slot] != b) return 0;
  return n <= 16 || memcmp(k->s[slot] + 8, s + 8, n - 16) == 0;
}

void dstrcache_pushstring(lua_State *L, dstrcache *k, int anchors, const char *s, size_t n) {
  unsigned slot;
  uint64_t a, b;
  if (n == 0 || n > DSTRCACHE_MAX) {
    lua_pushlstring(L, s, n);
    return;
  }
  words_of(s, n, &a, &b);
  slot = slot_of(a, b, n);
  if (holds(k, slot, s, n, a, b)) {
    lua_rawgeti(L, anchors, (lua_Integer)slot + 1);
    return;
  }
  lua_pushlstring(L, s, n);
  k->len[slot] = 0;
  lua_pushvalue(L, -1);
  lua_rawseti(L, anchors, (lua_Integer)slot + 1);
  k->s[slot] = lua_tostring(L, -1);
  k->head[slot] = a;
  k->tail[slot] = b;
  k->len[slot] = n;
}
