/*
 * ljson_decode.c - JSON text to Lua values (RFC 8259, strict).
 *
 * Owns: nothing beyond one call. The scanner walks the input with a pointer
 * and builds values directly on the Lua stack; strings without escapes are
 * pushed straight from the input. Strings with escapes are rebuilt in a
 * luaL_Buffer (Lua owns its memory), and the rare number that needs strtod is
 * copied to the C stack (or a heap block freed before any Lua call), so no C
 * allocation is ever held across a Lua API call: a Lua memory error raised by
 * lua_push* leaks nothing.
 *
 * Invariants: on success exactly one value is pushed; on failure the stack
 * is restored and err says what was expected at which byte (1-based). Every
 * decoded array gets the array marker metatable; objects get none. Depth is
 * bounded by max_depth, so recursion stays within ~100 bytes of C stack and
 * 2 Lua stack slots per level, plus at most 2 x DEFER_MAX pending members in
 * each of the first DEFER_DEPTH levels; each level checks once, on entry,
 * for all the slots it can hold (lua_checkstack).
 */
#include "ljson_internal.h"
#include "strcache.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define NOINLINE
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

typedef struct dec {
  lua_State *L;
  const unsigned char *start, *p, *end;
  int depth, max_depth;
  int mt_idx; /* stack index of the array marker metatable */
  int keys_idx; /* stack index of the string cache's anchor table */
  dstrcache *keys;
  char *err;
  size_t errlen;
} dec;

/* ---- errors ------------------------------------------------------------- */

static NOINLINE int fail(dec *d, const unsigned char *at, const char *fmt, ...) {
  va_list ap;
  size_t n;
  va_start(ap, fmt);
  n = (size_t)vsnprintf(d->err, d->errlen, fmt, ap);
  va_end(ap);
  if (n < d->errlen) snprintf(d->err + n, d->errlen - n, " at byte %lu", (unsigned long)(at - d->start + 1));
  return -1;
}

/* "expected <what>, got <the byte at at>". */
static NOINLINE int expected(dec *d, const unsigned char *at, const char *what) {
  if (at >= d->end) return fail(d, at, "expected %s, got end of input", what);
  if (*at > 0x20 && *at < 0x7F) return fail(d, at, "expected %s, got '%c'", what, *at);
  return fail(d, at, "expected %s, got byte 0x%02X", what, *at);
}

/* ---- scanning ----------------------------------------------------------- */

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') v |= (c | 0x20) - 'a' + 10;
    else return -1;
  }
  *out = v;
  return 0;
}

static int put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A \u escape at p (pointing at the backslash), surrogate pairs joined.
 * Writes UTF-8 to o and returns its length, or -1 after fail(). */
static int unicode_escape(dec *d, const unsigned char **pp, char *o) {
  const unsigned char *p = *pp;
  unsigned cp, lo;
  if (d->end - p < 6 || hex4(p + 2, &cp) != 0) return fail(d, p, "invalid \\u escape in string (4 hex digits expected)");
  if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(d, p, "lone low surrogate \\u%04X in string", cp);
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (d->end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
      return fail(d, p, "lone high surrogate \\u%04X in string", cp);
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    *pp = p + 12;
  } else {
    *pp = p + 6;
  }
  return put_utf8(o, cp);
}

/* Validates a run of unescaped string bytes from p; returns where it stops
 * (at '"', '\\' or the end) or NULL after fail(). */
static const unsigned char *scan_plain(dec *d, const unsigned char *p) {
  const unsigned char *end = d->end;
  for (;;) {
    p = djson_plain_run(p, end);
    if (p >= end || *p == '"' || *p == '\\') return p;
    if (*p >= 0x80) {
      int n = djson_utf8_seq(p, end);
      if (n == 0) return fail(d, p, "invalid UTF-8 in string"), NULL;
      p += n;
      continue;
    }
    return fail(d, p, "control character 0x%02X in string (must be escaped)", *p), NULL;
  }
}

/* The byte a one-letter escape stands for; 0 for an invalid escape. */
static char simple_escape(unsigned char c) {
  switch (c) {
  case '"': return '"';
  case '\\': return '\\';
  case '/': return '/';
  case 'b': return '\b';
  case 'f': return '\f';
  case 'n': return '\n';
  case 'r': return '\r';
  case 't': return '\t';
  default: return 0;
  }
}

/* The slow path for strings with escapes, kept out of line: its luaL_Buffer
 * is large (8 KB on 5.1) and must not sit in every recursive frame. */
static NOINLINE int string_escaped(dec *d, const unsigned char *start, const unsigned char *p) {
  lua_State *L = d->L;
  luaL_Buffer b;
  if (!lua_checkstack(L, LUA_MINSTACK)) return fail(d, p, "nesting too deep for the Lua stack");
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, (const char *)start, (size_t)(p - start));
  for (;;) {
    const unsigned char *run;
    char u[4];
    int n = 1;
    if (p >= d->end) { fail(d, start - 1, "unterminated string"); goto bad; }
    if (*p == '"') break;
    if (p + 1 >= d->end) { fail(d, start - 1, "unterminated string"); goto bad; }
    if (p[1] == 'u') {
      if ((n = unicode_escape(d, &p, u)) < 0) goto bad;
    } else {
      if ((u[0] = simple_escape(p[1])) == 0) {
        if (p[1] > 0x20 && p[1] < 0x7F) fail(d, p, "invalid escape '\\%c' in string", p[1]);
        else fail(d, p, "invalid escape in string");
        goto bad;
      }
      p += 2;
    }
    luaL_addlstring(&b, u, (size_t)n);
    run = p;
    if ((p = scan_plain(d, p)) == NULL) goto bad;
    luaL_addlstring(&b, (const char *)run, (size_t)(p - run));
  }
  luaL_pushresult(&b);
  d->p = p + 1;
  return 0;
bad:
  luaL_pushresult(&b); /* closes the buffer box before anything else touches the stack */
  lua_pop(L, 1);
  return -1;
}

/* A string at d->p (the opening quote): pushes it. */
static int string_value(dec *d) {
  const unsigned char *start = d->p + 1, *p = start, *end = d->end;
  for (;;) {
    p = djson_plain_run(p, end);
    if (UNLIKELY(p >= end)) return fail(d, start - 1, "unterminated string");
    if (LIKELY(*p == '"')) {
      lua_pushlstring(d->L, (const char *)start, (size_t)(p - start));
      d->p = p + 1;
      return 0;
    }
    if (*p == '\\') return string_escaped(d, start, p);
    if ((p = scan_plain(d, p)) == NULL) return -1;
  }
}

/* An object key at d->p (the opening quote): pushes it. Plain ASCII keys,
 * which is nearly all of them, come from the string cache (strcache.c). */
static int key_value(dec *d) {
  const unsigned char *start = d->p + 1, *p = start, *end = d->end;
  p = djson_plain_run(p, end);
  if (LIKELY(p < end && *p == '"')) {
    dstrcache_pushstring(d->L, d->keys, d->keys_idx, (const char *)start, (size_t)(p - start));
    d->p = p + 1;
    return 0;
  }
  return string_value(d);
}

/* ---- numbers ------------------------------------------------------------ */

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

typedef struct numscan {
  uint64_t m;   /* the significant digits, while there are at most 19 of them */
  int nd;       /* significant digits seen (leading zeros excluded) */
  long frac;    /* digits after the point */
  long exp;     /* the explicit exponent, clamped */
  int isfloat;  /* has a fraction or an exponent */
  int neg;
} numscan;

static void digits(const unsigned char **pp, const unsigned char *end, numscan *n, int count_frac) {
  const unsigned char *p = *pp;
  while (p < end && IS_DIGIT(*p)) {
    if (n->nd < 19) {
      n->m = n->m * 10 + (uint64_t)(*p - '0');
      if (n->m) n->nd++;
    } else {
      n->nd++;
    }
    if (count_frac) n->frac++;
    p++;
  }
  *pp = p;
}

/* Parses the exponent after 'e'; returns NULL after fail(). */
static const unsigned char *exponent(dec *d, const unsigned char *p, numscan *n) {
  int eneg = 0;
  long e = 0;
  p++;
  if (p < d->end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
  if (p >= d->end || !IS_DIGIT(*p)) return expected(d, p, "a digit in the exponent"), NULL;
  while (p < d->end && IS_DIGIT(*p)) {
    if (e < 100000000L) e = e * 10 + (*p - '0');
    p++;
  }
  n->exp = eneg ? -e : e;
  n->isfloat = 1;
  return p;
}

/* Exact when the digits fit 2^53 and the power of ten is exact (Clinger's
 * fast path); otherwise strtod on the text. Infinity is refused: it could not
 * be encoded again. */
static int push_float(dec *d, const unsigned char *s, const unsigned char *p, const numscan *n) {
  double v;
  long e10 = n->exp - n->frac;
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD == 0
  if (n->nd <= 19 && n->m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
    v = (double)n->m;
    v = e10 < 0 ? v / djson_pow10[-e10] : v * djson_pow10[e10];
    lua_pushnumber(d->L, (lua_Number)(n->neg ? -v : v));
    return 0;
  }
#endif
  if (djson_strtod((const char *)s, (size_t)(p - s), &v) != 0) return fail(d, s, "out of memory reading a number");
  if (isinf(v)) return fail(d, s, "number out of range");
  lua_pushnumber(d->L, (lua_Number)v);
  return 0;
}

static int number_value(dec *d) {
  const unsigned char *s = d->p, *p = s, *end = d->end;
  numscan n;
  memset(&n, 0, sizeof n);
  if (*p == '-') n.neg = 1, p++;
  if (p >= end || !IS_DIGIT(*p)) return expected(d, p, "a digit");
  if (*p == '0') {
    p++;
    if (p < end && IS_DIGIT(*p)) return fail(d, p - 1, "leading zero in number");
  } else {
    digits(&p, end, &n, 0);
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !IS_DIGIT(*p)) return expected(d, p, "a digit after '.'");
    digits(&p, end, &n, 1);
    n.isfloat = 1;
  }
  if (p < end && (*p | 0x20) == 'e' && (p = exponent(d, p, &n)) == NULL) return -1;
  d->p = p;
  if (!n.isfloat && n.nd <= 19) {
    /* An integer literal: a Lua integer when int64 holds it. "-0" stays a
     * float so that the sign survives. */
    if (n.neg && n.m == 0) {
      lua_pushnumber(d->L, (lua_Number)-0.0);
      return 0;
    }
    if (!n.neg && n.m <= (uint64_t)INT64_MAX) {
      dcompat_pushint64(d->L, (int64_t)n.m);
      return 0;
    }
    if (n.neg && n.m <= (uint64_t)INT64_MAX + 1) {
      dcompat_pushint64(d->L, (int64_t)(0 - n.m));
      return 0;
    }
  }
  return push_float(d, s, p, &n);
}

/* ---- values ------------------------------------------------------------- */

static int value(dec *d);

/* Arrays and objects in the first DEFER_DEPTH levels keep their first
 * DEFER_MAX members on the Lua stack and create the table once the count is
 * known, at its final size: a table filled from empty is rehashed at 1, 2, 4,
 * 8, 16 ... members, which was a quarter of the instructions of decoding a
 * transaction. The stack cost stays bounded: 2 x DEFER_MAX slots for each of
 * DEFER_DEPTH levels at most, then 2 per level as before (Lua 5.1 allows a C
 * call 8000 slots, LuaJIT 65500). */
#define DEFER_MAX 32
#define DEFER_DEPTH 16

/* DEFER_MAX pending members of one object (key + value each), plus a key
 * being pushed through the string cache (which copies it once) and its
 * value: what one container level ever holds above its base, so one check
 * at its start covers every member (nested containers check for their own).
 * Deeper levels fill their table at once: the table, a key and its cache copy,
 * a value. */
#define LEVEL_SLOTS (2 * DEFER_MAX + 4)
#define DEEP_LEVEL_SLOTS 4

static int enter(dec *d) {
  if (++d->depth > d->max_depth) return fail(d, d->p, "nesting deeper than %d", d->max_depth);
  if (!lua_checkstack(d->L, d->depth > DEFER_DEPTH ? DEEP_LEVEL_SLOTS : LEVEL_SLOTS))
    return fail(d, d->p, "nesting too deep for the Lua stack");
  return 0;
}

/* Moves the n items above base into a new array sized for hint, left at
 * base + 1. */
static void flush_items(dec *d, int base, int n, int hint) {
  lua_State *L = d->L;
  int i;
  lua_createtable(L, hint, 0);
  lua_pushvalue(L, d->mt_idx);
  lua_setmetatable(L, -2);
  lua_insert(L, base + 1);
  for (i = n; i >= 1; i--) lua_rawseti(L, base + 1, i);
}

static int array_value(dec *d) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  int base, tab = 0;
  if (enter(d)) return -1;
  base = lua_gettop(L);
  if (d->depth > DEFER_DEPTH) {
    flush_items(d, base, 0, 0);
    tab = base + 1;
  }
  d->p = skip_ws(d->p + 1, d->end);
  if (d->p < d->end && *d->p == ']') {
    if (!tab) flush_items(d, base, 0, 0);
    d->p++;
    d->depth--;
    return 0;
  }
  for (;;) {
    if (value(d)) return -1;
    ++n;
    if (tab) lua_rawseti(L, tab, n);
    d->p = skip_ws(d->p, d->end);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
      if (!tab && n == DEFER_MAX) {
        flush_items(d, base, (int)n, 2 * DEFER_MAX);
        tab = base + 1;
      }
      continue;
    }
    if (d->p < d->end && *d->p == ']') break;
    return expected(d, d->p, "',' or ']' in array");
  }
  if (!tab) flush_items(d, base, (int)n, (int)n);
  d->p++;
  d->depth--;
  return 0;
}

/* Moves the n key/value pairs above base into a new table sized for hint,
 * in order (a repeated key keeps its last value), left at base + 1. */
static void flush_pairs(lua_State *L, int base, int n, int hint) {
  int i;
  lua_createtable(L, 0, hint);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, base + 1 + 2 * i);
    lua_pushvalue(L, base + 2 + 2 * i);
    lua_rawset(L, -3);
  }
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
}

static int object_value(dec *d) {
  lua_State *L = d->L;
  int base, n = 0, tab = 0;
  if (enter(d)) return -1;
  base = lua_gettop(L);
  if (d->depth > DEFER_DEPTH) {
    lua_createtable(L, 0, 0);
    tab = base + 1;
  }
  d->p = skip_ws(d->p + 1, d->end);
  if (d->p < d->end && *d->p == '}') {
    if (!tab) lua_createtable(L, 0, 0);
    d->p++;
    d->depth--;
    return 0;
  }
  for (;;) {
    if (d->p >= d->end || *d->p != '"') return expected(d, d->p, "a string key in object");
    if (key_value(d)) return -1;
    d->p = skip_ws(d->p, d->end);
    if (d->p >= d->end || *d->p != ':') return expected(d, d->p, "':' after object key");
    d->p++;
    if (value(d)) return -1;
    if (tab) lua_rawset(L, tab);
    else n++;
    d->p = skip_ws(d->p, d->end);
    if (d->p < d->end && *d->p == ',') {
      d->p = skip_ws(d->p + 1, d->end);
      if (!tab && n == DEFER_MAX) {
        flush_pairs(L, base, n, 2 * DEFER_MAX);
        tab = base + 1;
      }
      continue;
    }
    if (d->p < d->end && *d->p == '}') break;
    return expected(d, d->p, "',' or '}' in object");
  }
  if (!tab) flush_pairs(L, base, n, n);
  d->p++;
  d->depth--;
  return 0;
}

static int literal(dec *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return expected(d, d->p, "a value");
  d->p += n;
  return 0;
}

static int value(dec *d) {
  lua_State *L = d->L;
  d->p = skip_ws(d->p, d->end);
  if (d->p >= d->end) return expected(d, d->p, "a value");
  switch (*d->p) {
  case '"': return string_value(d);
  case '{': return object_value(d);
  case '[': return array_value(d);
  case 't':
    if (literal(d, "true", 4)) return -1;
    lua_pushboolean(L, 1);
    return 0;
  case 'f':
    if (literal(d, "false", 5)) return -1;
    lua_pushboolean(L, 0);
    return 0;
  case 'n':
    if (literal(d, "null", 4)) return -1;
    lua_pushlightuserdata(L, NULL);
    return 0;
  default:
    if (*d->p == '-' || IS_DIGIT(*d->p)) return number_value(d);
    return expected(d, d->p, "a value");
  }
}

int djson_decode_ex(lua_State *L, const char *s, size_t len, int max_depth, char *err, size_t errlen) {
  dec d;
  int base = lua_gettop(L);
  d.L = L;
  d.start = d.p = (const unsigned char *)s;
  d.end = d.start + len;
  d.depth = 0;
  d.max_depth = max_depth;
  d.err = err;
  d.errlen = errlen;
  if (!lua_checkstack(L, 5)) {
    fail(&d, d.p, "Lua stack exhausted");
    return 0;
  }
  djson_push_array_mt(L);
  d.mt_idx = base + 1;
  d.keys = dstrcache_push(L);
  d.keys_idx = base + 2;
  if (value(&d) == 0) {
    d.p = skip_ws(d.p, d.end);
    if (d.p == d.end) {
      lua_replace(L, d.mt_idx);
      lua_settop(L, base + 1);
      return 1;
    }
    expected(&d, d.p, "end of input after the value");
  }
  lua_settop(L, base);
  return 0;
}
