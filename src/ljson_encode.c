/*
 * ljson_encode.c - Lua values to JSON text.
 *
 * Owns: nothing; it appends to the caller's dbuf (the Lua-facing encode keeps
 * that dbuf in a userdata, so a Lua error raised mid-encode leaks nothing).
 *
 * Invariants: the output is always valid JSON, or the call fails and the
 * buffer is restored to its old length. Tables are read raw (no __index,
 * __pairs). A table is an array when it carries the array marker metatable or
 * when its keys are exactly 1..n; it is an object when all its keys are
 * strings; anything else (mixed keys, holes, NaN, infinity, invalid UTF-8,
 * functions...) is refused with an error naming the key path, e.g.
 * "order.items[3].description: invalid UTF-8 at byte 5". The path is built
 * only on failure, while the recursion unwinds, so success pays nothing for
 * it. Depth is bounded by max_depth, which also stops cycles.
 */
#include "ljson_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

#define PATH_MAX_LEN 200

typedef struct enc {
  lua_State *L;
  dbuf *out;
  const djson_encode_opts *o;
  int depth;
  int mt_idx; /* stack index of the array marker metatable */
  char detail[160];
  /* The key path, built backwards from path + sizeof path as frames unwind. */
  char path[PATH_MAX_LEN];
  size_t path_at;
  int path_cut;
} enc;

/* ---- output ------------------------------------------------------------- */

/* The dbuf is written directly (dbuf_reserve keeps room for the terminator,
 * which djson_encode_ex writes once at the end). */
static inline int room(enc *e, size_t n) {
  dbuf *b = e->out;
  if (LIKELY(b->cap - b->len > n)) return 0;
  return dbuf_reserve(b, n);
}

static inline int put(enc *e, const char *s, size_t n) {
  if (UNLIKELY(room(e, n) != 0)) return -1;
  memcpy(e->out->data + e->out->len, s, n);
  e->out->len += n;
  return 0;
}

static inline int putc1(enc *e, char c) {
  if (UNLIKELY(room(e, 1) != 0)) return -1;
  e->out->data[e->out->len++] = c;
  return 0;
}

/* ---- errors and key paths ----------------------------------------------- */

static int fail(enc *e, const char *fmt, const char *arg) {
  snprintf(e->detail, sizeof e->detail, fmt, arg);
  return -1;
}

static int oom(enc *e) {
  return fail(e, "%s", "out of memory");
}

static void path_prepend(enc *e, const char *seg, size_t n) {
  if (e->path_cut) return;
  if (n > e->path_at) {
    e->path_cut = 1;
    return;
  }
  e->path_at -= n;
  memcpy(e->path + e->path_at, seg, n);
}

static void path_index(enc *e, lua_Integer i) {
  char seg[32];
  int n = snprintf(seg, sizeof seg, "[%lld]", (long long)i);
  path_prepend(e, seg, (size_t)n);
}

static int is_ident(const char *s, size_t n) {
  size_t i;
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return 0;
  }
  return 1;
}

/* ".name" for identifiers, otherwise ["the key"] with quotes, backslashes and
 * non-printable bytes escaped and long keys shortened. */
static void path_key(enc *e, const char *k, size_t n) {
  char seg[96];
  size_t o = 0, i;
  if (is_ident(k, n) && n < sizeof seg - 1) {
    seg[0] = '.';
    memcpy(seg + 1, k, n);
    path_prepend(e, seg, n + 1);
    return;
  }
  seg[o++] = '[';
  seg[o++] = '"';
  for (i = 0; i < n && o < 80; i++) {
    unsigned char c = (unsigned char)k[i];
    if (c == '"' || c == '\\') seg[o++] = '\\', seg[o++] = (char)c;
    else if (c < 0x20 || c >= 0x7F) o += (size_t)snprintf(seg + o, 5, "\\x%02X", c);
    else seg[o++] = (char)c;
  }
  if (i < n) seg[o++] = '.', seg[o++] = '.', seg[o++] = '.';
  seg[o++] = '"';
  seg[o++] = ']';
  path_prepend(e, seg, o);
}

/* The path segment for the key at stack index k (a string, or anything else
 * when the key itself is the problem). */
static void path_stack_key(enc *e, int k) {
  lua_State *L = e->L;
  if (lua_type(L, k) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, k, &n);
    path_key(e, s, n);
  } else if (lua_type(L, k) == LUA_TNUMBER && dcompat_isinteger(L, k)) {
    path_index(e, (lua_Integer)dcompat_toint64(L, k));
  } else {
    char seg[48];
    int n = snprintf(seg, sizeof seg, "[<%s>]", luaL_typename(L, k));
    path_prepend(e, seg, (size_t)n);
  }
}

/* ---- strings ------------------------------------------------------------ */

static const char HEX[] = "0123456789abcdef";

static int escape_byte(enc *e, unsigned char c) {
  char u[6] = {'\\', 'u', '0', '0', 0, 0};
  switch (c) {
  case '"': return put(e, "\\\"", 2);
  case '\\': return put(e, "\\\\", 2);
  case '\n': return put(e, "\\n", 2);
  case '\r': return put(e, "\\r", 2);
  case '\t': return put(e, "\\t", 2);
  case '\b': return put(e, "\\b", 2);
  case '\f': return put(e, "\\f", 2);
  default:
    u[4] = HEX[c >> 4];
    u[5] = HEX[c & 15];
    return put(e, u, 6);
  }
}

/* Writes s as a JSON string; runs of plain bytes and valid UTF-8 are copied
 * as they are, so the common case is one scan and one memcpy. */
static int string_out(enc *e, const char *str, size_t n, const char *what) {
  const unsigned char *s = (const unsigned char *)str, *p = s, *end = s + n;
  if (room(e, n + 2) != 0) return oom(e);
  e->out->data[e->out->len++] = '"';
  while (p < end) {
    const unsigned char *run = p;
    p = djson_plain_run(p, end);
    while (p < end && *p >= 0x80) {
      int k = djson_utf8_seq(p, end);
      if (k == 0) {
        char at[64];
        snprintf(at, sizeof at, "%s at byte %lu", what, (unsigned long)(p - s + 1));
        return fail(e, "invalid UTF-8%s", at);
      }
      p += k;
      p = djson_plain_run(p, end);
    }
    if (put(e, (const char *)run, (size_t)(p - run)) != 0) return oom(e);
    if (p < end && *p < 0x80) {
      if (escape_byte(e, *p) != 0) return oom(e);
      p++;
    }
  }
  if (putc1(e, '"') != 0) return oom(e);
  return 0;
}

/* ---- numbers ------------------------------------------------------------ */

static int int_out(enc *e, int64_t v) {
  char tmp[24], *q = tmp + sizeof tmp;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    *--q = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--q = '-';
  return put(e, q, (size_t)(tmp + sizeof tmp - q));
}

/* x as N / 10^k with at most 8 decimals, when that reads back as exactly x:
 * the common "12.5" or "0.25" without snprintf. Parsing N e-k with N < 2^53
 * and k <= 22 is one correctly rounded division (Clinger), so checking that
 * N / 10^k == x proves the text round-trips; the smallest such k gives the
 * shortest fixed-point form. */
static int float_short(double x, char *buf) {
  double ax = fabs(x);
  int k;
  if (!(ax < 1e15) || ax < 1e-8) return 0;
  for (k = 0; k <= 8; k++) {
    double t = ax * djson_pow10[k];
    int64_t n;
    char digits[24], *q = digits + sizeof digits, *o = buf;
    int nd, i;
    if (t >= 9007199254740992.0) return 0;
    n = (int64_t)(t + 0.5);
    if ((double)n / djson_pow10[k] != ax) continue;
    do {
      *--q = (char)('0' + n % 10);
      n /= 10;
    } while (n);
    nd = (int)(digits + sizeof digits - q);
    if (x < 0) *o++ = '-';
    if (nd <= k) {
      *o++ = '0';
      *o++ = '.';
      for (i = 0; i < k - nd; i++) *o++ = '0';
      memcpy(o, q, (size_t)nd);
      o += nd;
    } else {
      memcpy(o, q, (size_t)(nd - k));
      o += nd - k;
      if (k > 0) {
        *o++ = '.';
        memcpy(o, q + nd - k, (size_t)k);
        o += k;
      }
    }
    return (int)(o - buf);
  }
  return 0;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as x, with the
 * locale's decimal point turned back into '.'. */
static int float_general(double x, char *buf, size_t size) {
  int prec, n = 0, i;
  for (prec = 15; prec <= 17; prec++) {
    double back;
    n = snprintf(buf, size, "%.*g", prec, x);
    if (prec == 17) break;
    back = strtod(buf, NULL);
    if (back == x) break;
  }
  for (i = 0; i < n; i++) {
    char c = buf[i];
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e')) buf[i] = '.';
  }
  return n;
}

static int float_out(enc *e, double x) {
  char buf[40];
  int n, i, plain_int = 1;
  if (x != x) return fail(e, "%s", "cannot encode NaN");
  if (isinf(x)) return fail(e, "%s", x > 0 ? "cannot encode inf" : "cannot encode -inf");
#if !DCOMPAT_HAS_INTEGERS
  /* No integer subtype: an integral double inside 2^53 is an integer. */
  if (x > -9007199254740992.0 && x < 9007199254740992.0 && x == (double)(int64_t)x && !(x == 0 && signbit(x)))
    return int_out(e, (int64_t)x) == 0 ? 0 : oom(e);
#endif
  if (x == 0) {
    n = snprintf(buf, sizeof buf, "%s", signbit(x) ? "-0" : "0");
  } else if ((n = float_short(x, buf)) == 0) {
    n = float_general(x, buf, sizeof buf);
  }
#if DCOMPAT_HAS_INTEGERS
  /* Keep a float a float: "3" would read back as the integer 3. */
  for (i = 0; i < n; i++)
    if (buf[i] == '.' || buf[i] == 'e') plain_int = 0;
  if (plain_int) buf[n++] = '.', buf[n++] = '0';
#else
  (void)i;
  (void)plain_int;
#endif
  return put(e, buf, (size_t)n) == 0 ? 0 : oom(e);
}

static int number_out(enc *e, int idx) {
#if DCOMPAT_HAS_INTEGERS
  if (lua_isinteger(e->L, idx)) return int_out(e, (int64_t)lua_tointeger(e->L, idx)) == 0 ? 0 : oom(e);
#endif
  return float_out(e, (double)lua_tonumber(e->L, idx));
}

/* ---- tables ------------------------------------------------------------- */

static int value_out(enc *e, int idx);

static int enter(enc *e) {
  if (++e->depth > e->o->max_depth) {
    char lim[24];
    snprintf(lim, sizeof lim, "%d", e->o->max_depth);
    return fail(e, "nesting deeper than %s (a cycle?)", lim);
  }
  if (!lua_checkstack(e->L, 6)) return fail(e, "%s", "nesting too deep for the Lua stack");
  return 0;
}

/* 1 if the key at k is the integer i. */
static int key_is(lua_State *L, int k, lua_Integer i) {
#if DCOMPAT_HAS_INTEGERS
  return lua_isinteger(L, k) && lua_tointeger(L, k) == i;
#else
  return lua_type(L, k) == LUA_TNUMBER && lua_tonumber(L, k) == (lua_Number)i;
#endif
}

static int elements_out(enc *e, int t, lua_Integer n) {
  lua_Integer i;
  if (putc1(e, '[') != 0) return oom(e);
  for (i = 1; i <= n; i++) {
    if (i > 1 && putc1(e, ',') != 0) return oom(e);
    lua_rawgeti(e->L, t, i);
    if (value_out(e, lua_gettop(e->L)) != 0) return path_index(e, i), -1;
    lua_pop(e->L, 1);
  }
  return putc1(e, ']') == 0 ? 0 : oom(e);
}

/* The slow array path: every key must be an integer in 1..n, n keys in all. */
static int sequence_out(enc *e, int t, int marked) {
  lua_State *L = e->L;
  lua_Integer count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pop(L, 1);
      return fail(e, "%s", marked ? "string key in a table marked as array" : "mixed string and number keys");
    }
    if (!dcompat_isinteger(L, -1) || dcompat_toint64(L, -1) < 1) {
      int bad = lua_type(L, -1) == LUA_TNUMBER;
      lua_pop(L, 1);
      return fail(e, "%s", bad ? "number key that is not a positive integer" : "key that is neither a string nor a number");
    }
    if ((lua_Integer)dcompat_toint64(L, -1) > max) max = (lua_Integer)dcompat_toint64(L, -1);
    count++;
  }
  if (count != max) {
    char msg[80];
    snprintf(msg, sizeof msg, "%lld items but highest index %lld", (long long)count, (long long)max);
    return fail(e, "sparse array (%s)", msg);
  }
  return elements_out(e, t, max);
}

/* Fast array path: lua_next walks the array part in order, so a sequence
 * usually comes out as keys 1, 2, 3... and is written in one pass. On the
 * first surprise the output is rolled back and sequence_out decides. The
 * first pair is already on the stack. */
static int array_out(enc *e, int t, int marked) {
  lua_State *L = e->L;
  size_t mark = e->out->len;
  lua_Integer i = 1;
  if (putc1(e, '[') != 0) return oom(e);
  do {
    if (!key_is(L, -2, i)) {
      lua_pop(L, 2);
      e->out->len = mark;
      return sequence_out(e, t, marked);
    }
    if (i > 1 && putc1(e, ',') != 0) return oom(e);
    if (value_out(e, lua_gettop(L)) != 0) return path_index(e, i), -1;
    lua_pop(L, 1);
    i++;
  } while (lua_next(L, t));
  /* lua_next visited every key once and they were 1..i-1: a sequence. */
  return putc1(e, ']') == 0 ? 0 : oom(e);
}

static int key_value_out(enc *e, int k, int v) {
  size_t n;
  const char *s = lua_tolstring(e->L, k, &n);
  if (string_out(e, s, n, " in key") != 0 || putc1(e, ':') != 0) return e->detail[0] ? -1 : oom(e);
  if (value_out(e, v) != 0) return -1;
  return 0;
}

/* An object whose first pair is on the stack; keys in iteration order. */
static int object_out(enc *e, int t) {
  lua_State *L = e->L;
  int first = 1;
  if (putc1(e, '{') != 0) return oom(e);
  do {
    int top = lua_gettop(L);
    if (lua_type(L, top - 1) != LUA_TSTRING) {
      int num = lua_type(L, top - 1) == LUA_TNUMBER;
      lua_pop(L, 2);
      return fail(e, "%s", num ? "mixed string and number keys" : "key that is neither a string nor a number");
    }
    if (!first && putc1(e, ',') != 0) return oom(e);
    first = 0;
    if (key_value_out(e, top - 1, top) != 0) return path_stack_key(e, top - 1), -1;
    lua_pop(L, 1);
  } while (lua_next(L, t));
  return putc1(e, '}') == 0 ? 0 : oom(e);
}

typedef struct skey {
  const char *s;
  size_t n;
} skey;

static int skey_cmp(const void *a, const void *b) {
  const skey *x = (const skey *)a, *y = (const skey *)b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  if (c != 0) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* sort_keys: the keys are gathered in a userdata (Lua owns the memory; the
 * key strings stay alive in the table), sorted bytewise, then written. */
static int sorted_object_out(enc *e, int t) {
  lua_State *L = e->L;
  size_t count = 0, i;
  skey *keys;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      int num = lua_type(L, -1) == LUA_TNUMBER;
      lua_pop(L, 1);
      return fail(e, "%s", num ? "mixed string and number keys" : "key that is neither a string nor a number");
    }
    count++;
  }
  keys = (skey *)dcompat_newuserdata(L, count * sizeof *keys);
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (i < count) keys[i].s = lua_tolstring(L, -1, &keys[i].n);
    i++;
  }
  if (i != count) return fail(e, "%s", "table changed while encoding");
  qsort(keys, count, sizeof *keys, skey_cmp);
  if (putc1(e, '{') != 0) return oom(e);
  for (i = 0; i < count; i++) {
    int top;
    if (i > 0 && putc1(e, ',') != 0) return oom(e);
    lua_pushlstring(L, keys[i].s, keys[i].n);
    lua_pushvalue(L, -1);
    lua_rawget(L, t);
    top = lua_gettop(L);
    if (key_value_out(e, top - 1, top) != 0) return path_stack_key(e, top - 1), -1;
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return putc1(e, '}') == 0 ? 0 : oom(e);
}

/* The marker metatable, or dkjson's __jsontype = "array"/"object". Returns
 * 1 for array, 0 for unmarked, -1 for marked object. */
static int table_kind(enc *e, int t) {
  lua_State *L = e->L;
  int kind = 0;
  if (!lua_getmetatable(L, t)) return 0;
  if (lua_rawequal(L, -1, e->mt_idx)) {
    lua_pop(L, 1);
    return 1;
  }
  lua_pushliteral(L, "__jsontype");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tostring(L, -1);
    kind = strcmp(s, "array") == 0 ? 1 : strcmp(s, "object") == 0 ? -1 : 0;
  }
  lua_pop(L, 2);
  return kind;
}

static int table_out(enc *e, int t) {
  lua_State *L = e->L;
  int kind, rc;
  if (enter(e)) return -1;
  kind = table_kind(e, t);
  lua_pushnil(L);
  if (!lua_next(L, t)) {
    rc = kind == 1 ? put(e, "[]", 2) : put(e, "{}", 2);
    e->depth--;
    return rc == 0 ? 0 : oom(e);
  }
  if (lua_type(L, -2) == LUA_TSTRING && kind != 1) {
    if (e->o->sort_keys) {
      lua_pop(L, 2);
      rc = sorted_object_out(e, t);
    } else {
      rc = object_out(e, t);
    }
  } else if (lua_type(L, -2) == LUA_TNUMBER && kind != -1) {
    rc = array_out(e, t, kind == 1);
  } else {
    int ty = lua_type(L, -2);
    lua_pop(L, 2);
    if (kind == -1 && ty == LUA_TNUMBER) rc = fail(e, "%s", "number key in a table marked as object");
    else if (kind == 1 && ty == LUA_TSTRING) rc = fail(e, "%s", "string key in a table marked as array");
    else rc = fail(e, "%s", "key that is neither a string nor a number");
  }
  e->depth--;
  return rc;
}

static int value_out(enc *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return string_out(e, s, n, "");
  }
  case LUA_TNUMBER: return number_out(e, idx);
  case LUA_TTABLE: return table_out(e, idx);
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, idx)) return put(e, "true", 4) == 0 ? 0 : oom(e);
    return put(e, "false", 5) == 0 ? 0 : oom(e);
  case LUA_TNIL: return put(e, "null", 4) == 0 ? 0 : oom(e);
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) return put(e, "null", 4) == 0 ? 0 : oom(e);
    /* fall through */
  default: return fail(e, "cannot encode a %s", luaL_typename(L, idx));
  }
}

int djson_encode_ex(lua_State *L, int idx, dbuf *out, const djson_encode_opts *o, char *err, size_t errlen) {
  enc e;
  int base = lua_gettop(L), rc;
  size_t len0 = out->len;
  if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = base + idx + 1;
  e.L = L;
  e.out = out;
  e.o = o;
  e.depth = 0;
  e.detail[0] = '\0';
  e.path_at = sizeof e.path;
  e.path_cut = 0;
  if (!lua_checkstack(L, 4)) {
    snprintf(err, errlen, "Lua stack exhausted");
    return -1;
  }
  djson_push_array_mt(L);
  e.mt_idx = lua_gettop(L);
  rc = value_out(&e, idx);
  lua_settop(L, base);
  if (rc == 0) {
    if (room(&e, 0) == 0) {
      out->data[out->len] = '\0';
      return 0;
    }
    oom(&e);
  }
  out->len = len0;
  if (out->data) out->data[len0] = '\0';
  if (e.path_at == sizeof e.path) {
    snprintf(err, errlen, "%s", e.detail);
  } else {
    const char *p = e.path + e.path_at;
    int n = (int)(sizeof e.path - e.path_at);
    if (*p == '.') p++, n--;
    snprintf(err, errlen, "%s%.*s: %s", e.path_cut ? "..." : "", n, p, e.detail);
  }
  return -1;
}
