/*
 * ljson.c - core.json: the Lua face of the JSON codec (decode, encode, null,
 * array_mt) and the bits the decoder and encoder share.
 *
 * Owns: the array marker metatable (registry "dintero.json.array"), and one
 * reusable encode buffer per lua_State, held as an upvalue of encode inside a
 * userdata whose __gc frees it, so a Lua error in the middle of an encode
 * leaks nothing.
 *
 * Invariants: options are per call, never process-global; misuse (wrong
 * argument types, unknown options) raises; bad input makes decode/encode
 * return nil, "json: <detail>". The scanner lives in ljson_decode.c, the
 * writer in ljson_encode.c.
 */
#include "ljson_internal.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#define ENCBUF_MT "dintero.json.buffer"
/* An encode buffer larger than this is freed after the call rather than kept
 * for the life of the lua_State. */
#define ENCBUF_KEEP (1u << 20)

const double djson_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

const unsigned char djson_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* JSON always writes '.', strtod reads the locale's decimal point (a program
 * may have called setlocale(LC_NUMERIC, "de_DE")), so the copy swaps it in.
 * The copy lives on the C stack, or for absurdly long numbers in a heap block
 * that is freed before returning: no Lua call happens in between. */
int djson_strtod(const char *s, size_t len, double *out) {
  char small[80], *buf = small, *dot;
  char dp = localeconv()->decimal_point[0];
  if (len >= sizeof small) {
    buf = malloc(len + 1);
    if (buf == NULL) return -1;
  }
  memcpy(buf, s, len);
  buf[len] = '\0';
  if (dp != '.' && dp != '\0' && (dot = memchr(buf, '.', len)) != NULL) *dot = dp;
  *out = strtod(buf, NULL);
  if (buf != small) free(buf);
  return 0;
}

void djson_push_array_mt(lua_State *L) {
  if (luaL_newmetatable(L, DJSON_ARRAY_MT)) {
    /* dkjson's convention, so that dkjson also encodes our arrays as arrays. */
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
}

/* ---- options ------------------------------------------------------------ */

static int opt_depth(lua_State *L, int idx) {
  if (!dcompat_isinteger(L, idx)) luaL_argerror(L, 2, "max_depth must be an integer");
  {
    int64_t v = dcompat_toint64(L, idx);
    if (v < 1 || v > DJSON_MAX_DEPTH_LIMIT) luaL_argerror(L, 2, "max_depth must be from 1 to 10000");
    return (int)v;
  }
}

/* Reads the options table at index 2 (nil or absent means defaults). Unknown
 * names raise: a misspelt option silently ignored is a bug hidden. */
static void read_opts(lua_State *L, int *max_depth, int *sort_keys) {
  if (lua_isnoneornil(L, 2)) return;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (k != NULL && strcmp(k, "max_depth") == 0) {
      *max_depth = opt_depth(L, lua_gettop(L));
    } else if (k != NULL && sort_keys != NULL && strcmp(k, "sort_keys") == 0) {
      if (!lua_isboolean(L, -1)) luaL_argerror(L, 2, "sort_keys must be a boolean");
      *sort_keys = lua_toboolean(L, -1);
    } else {
      lua_pushfstring(L, "unknown option '%s'", k ? k : luaL_typename(L, -2));
      luaL_argerror(L, 2, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

/* ---- decode ------------------------------------------------------------- */

static int l_decode(lua_State *L) {
  size_t len;
  const char *s;
  int max_depth = DJSON_MAX_DEPTH;
  char err[256];
  luaL_checktype(L, 1, LUA_TSTRING);
  read_opts(L, &max_depth, NULL);
  s = lua_tolstring(L, 1, &len);
  lua_settop(L, 2);
  if (djson_decode_ex(L, s, len, max_depth, err, sizeof err)) return 1;
  lua_pushnil(L);
  lua_pushfstring(L, "json: %s", err);
  return 2;
}

/* ---- encode ------------------------------------------------------------- */

typedef struct encbuf {
  dbuf b;
  /* Set while an encode runs: a finalizer that encodes meanwhile gets its own
   * buffer. If a memory error escapes mid-encode the flag stays set and later
   * calls fall back to a fresh buffer each: slower, still correct. */
  int busy;
} encbuf;

static int encbuf_gc(lua_State *L) {
  encbuf *e = (encbuf *)luaL_checkudata(L, 1, ENCBUF_MT);
  dbuf_free(&e->b);
  return 0;
}

static encbuf *encbuf_new(lua_State *L) {
  encbuf *e = (encbuf *)dcompat_newuserdata(L, sizeof *e);
  dbuf_init(&e->b);
  e->busy = 0;
  if (luaL_newmetatable(L, ENCBUF_MT)) {
    lua_pushcfunction(L, encbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return e;
}

static int l_encode(lua_State *L) {
  djson_encode_opts o;
  encbuf *e;
  int rc;
  char err[512];
  o.max_depth = DJSON_MAX_DEPTH;
  o.sort_keys = 0;
  luaL_checkany(L, 1);
  read_opts(L, &o.max_depth, &o.sort_keys);
  lua_settop(L, 2);
  e = (encbuf *)lua_touserdata(L, lua_upvalueindex(1));
  if (e->busy) e = encbuf_new(L); /* re-entered from a finalizer: the shared one is in use */
  e->busy = 1;
  dbuf_reset(&e->b);
  rc = djson_encode_ex(L, 1, &e->b, &o, err, sizeof err);
  if (rc == 0) lua_pushlstring(L, e->b.data ? e->b.data : "", e->b.len);
  e->busy = 0;
  dbuf_trim(&e->b, ENCBUF_KEEP);
  if (rc == 0) return 1;
  lua_pushnil(L);
  lua_pushfstring(L, "json: %s", err);
  return 2;
}

/* ---- open --------------------------------------------------------------- */

void djson_open(lua_State *L) {
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "decode");
  encbuf_new(L);
  lua_pushcclosure(L, l_encode, 1);
  lua_setfield(L, -2, "encode");
  /* JSON null is a NULL light userdata: the same value as cjson.null. */
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  djson_push_array_mt(L);
  lua_setfield(L, -2, "array_mt");
  lua_setfield(L, -2, "json");
}

int djson_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen) {
  return djson_decode_ex(L, s, len, DJSON_MAX_DEPTH, err, errlen);
}

int djson_encode(lua_State *L, int idx, dbuf *out, char *err, size_t errlen) {
  djson_encode_opts o;
  o.max_depth = DJSON_MAX_DEPTH;
  o.sort_keys = 0;
  return djson_encode_ex(L, idx, out, &o, err, errlen);
}
