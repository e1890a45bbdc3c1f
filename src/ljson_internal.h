/*
 * ljson_internal.h - what the three JSON units (ljson.c, ljson_decode.c,
 * ljson_encode.c) share and nobody else needs: the option structs, the array
 * marker metatable, the UTF-8 validator and the locale-proof number helpers.
 *
 * Invariants: nothing here allocates or calls into Lua except
 * djson_push_array_mt; the validator accepts exactly RFC 3629 UTF-8 (no
 * overlongs, no encoded surrogates, nothing above U+10FFFF).
 */
#ifndef DINTERO_LJSON_INTERNAL_H
#define DINTERO_LJSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ljson.h"

/* The registry name of the array marker metatable (core.json.array_mt). */
#define DJSON_ARRAY_MT "dintero.json.array"
/* The largest max_depth a caller may ask for: every level of nesting costs a
 * C stack frame (~100 bytes) and a few Lua stack slots. */
#define DJSON_MAX_DEPTH_LIMIT 10000

typedef struct djson_encode_opts {
  int max_depth;
  int sort_keys;
} djson_encode_opts;

/* djson_decode with a caller-chosen depth limit (1..DJSON_MAX_DEPTH_LIMIT). */
int djson_decode_ex(lua_State *L, const char *s, size_t len, int max_depth, char *err, size_t errlen);
/* djson_encode with options; on failure out is restored to its old length. */
int djson_encode_ex(lua_State *L, int idx, dbuf *out, const djson_encode_opts *o, char *err, size_t errlen);

/* Pushes the array marker metatable, creating it on first use so that the C
 * entry points work even before djson_open ran. */
void djson_push_array_mt(lua_State *L);

/* Length (2..4) of the valid UTF-8 sequence at p, where p[0] >= 0x80 and
 * p < end; 0 when the bytes there are not valid UTF-8. */
static inline int djson_utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  size_t avail = (size_t)(end - p);
  if (c >= 0xC2 && c <= 0xDF) return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* U+D800..U+DFFF */
    if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    return 4;
  }
  return 0;
}

/* strtod over s[0..len) (JSON number syntax, already validated) that ignores
 * the C locale's decimal point. 0 on success, -1 when out of memory. */
int djson_strtod(const char *s, size_t len, double *out);

/* 1 for the bytes a JSON string may hold verbatim, on both the decode and the
 * encode side: 0x20..0x7F except '"' and '\\'. */
extern const unsigned char djson_plain[256];

/* The end of the run of djson_plain bytes that starts at p (at most end).
 * Eight bytes at a time where the byte order allows: a word holds a byte
 * that ends the run when one of its bytes is below 0x20, is '"' or '\\', or
 * has the top bit set. The subtractions can only flag wrongly above a byte
 * that truly ends the run, so the lowest flag is exact. */
static inline const unsigned char *djson_plain_run(const unsigned char *p, const unsigned char *end) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  while (end - p >= 8) {
    uint64_t x, stop;
    memcpy(&x, p, 8);
    stop = ((x - 0x20 * ones) | ((x ^ (0x22 * ones)) - ones) | ((x ^ (0x5C * ones)) - ones) | x) & highs;
    if (stop) return p + (__builtin_ctzll(stop) >> 3);
    p += 8;
  }
#endif
  while (p < end && djson_plain[*p]) p++;
  return p;
}

/* Exact powers of ten that a double holds (10^0..10^22). */
extern const double djson_pow10[23];

#endif
