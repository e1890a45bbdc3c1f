/*
 * Build (from the repository root):
 *   mkdir -p build/fuzz && clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -I/usr/include/lua5.4 -Isrc \
 *     fuzz/json_roundtrip_fuzz.c src/ljson.c src/ljson_decode.c src/ljson_encode.c src/buf.c \
 *     -llua5.4 -lm -o build/fuzz/json_roundtrip_fuzz
 * Run:
 *   mkdir -p build/fuzz/corpus-roundtrip && build/fuzz/json_roundtrip_fuzz -max_total_time=180 \
 *     build/fuzz/corpus-roundtrip ../shared/testdata/JSONTestSuite/test_parsing
 *
 * json_roundtrip_fuzz.c - libFuzzer harness for decode -> encode -> decode.
 *
 * Owns: one lua_State (Lua 5.4) and one dbuf for the whole run. Property:
 * whatever djson_decode accepts, djson_encode must encode (decoded strings
 * are valid UTF-8, numbers finite, arrays marked, keys strings), the result
 * must decode again to a deeply equal value (same types, same integer/float
 * subtypes, same sign of zero, same array markers), and the sorted-key
 * encodings of both values must be byte-identical. Any violation aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ljson_internal.h"
#include "units.h"

static lua_State *L;
static dbuf out1, out2;

typedef struct input {
  const char *data;
  size_t size;
} input;

static void die(const char *what, const input *in) {
  fprintf(stderr, "roundtrip: %s\ninput (%zu bytes): %.*s\n", what, in->size, (int)(in->size > 500 ? 500 : in->size),
          in->data);
  abort();
}

static int same(lua_State *Ls, int a, int b);

static int same_tables(lua_State *Ls, int a, int b) {
  int ma, mb, n = 0;
  luaL_checkstack(Ls, 6, "deep compare");
  ma = lua_getmetatable(Ls, a) ? 1 : 0;
  mb = lua_getmetatable(Ls, b) ? 1 : 0;
  if (ma != mb || (ma && !lua_rawequal(Ls, -1, -2))) return 0;
  lua_pop(Ls, ma + mb);
  lua_pushnil(Ls);
  while (lua_next(Ls, a)) {
    int top = lua_gettop(Ls);
    lua_pushvalue(Ls, top - 1);
    lua_rawget(Ls, b);
    if (!same(Ls, top, top + 1)) return 0;
    lua_pop(Ls, 2);
    n++;
  }
  lua_pushnil(Ls);
  while (lua_next(Ls, b)) {
    lua_pop(Ls, 1);
    n--;
  }
  return n == 0;
}

static int same(lua_State *Ls, int a, int b) {
  int t = lua_type(Ls, a);
  if (t != lua_type(Ls, b)) return 0;
  switch (t) {
  case LUA_TNUMBER:
    if (lua_isinteger(Ls, a) != lua_isinteger(Ls, b)) return 0;
    if (lua_isinteger(Ls, a)) return lua_tointeger(Ls, a) == lua_tointeger(Ls, b);
    return lua_tonumber(Ls, a) == lua_tonumber(Ls, b) && signbit(lua_tonumber(Ls, a)) == signbit(lua_tonumber(Ls, b));
  case LUA_TTABLE: return same_tables(Ls, a, b);
  default: return lua_rawequal(Ls, a, b);
  }
}

static int run(lua_State *Ls) {
  const input *in = (const input *)lua_touserdata(Ls, 1);
  djson_encode_opts sorted = {DJSON_MAX_DEPTH, 1}, plain = {DJSON_MAX_DEPTH, 0};
  char err[512];
  if (!djson_decode(Ls, in->data, in->size, err, sizeof err)) return 0; /* slot 2: first value */
  dbuf_reset(&out1);
  if (djson_encode_ex(Ls, 2, &out1, &plain, err, sizeof err) != 0) die(err, in);
  if (!djson_decode(Ls, out1.data, out1.len, err, sizeof err)) die(err, in); /* slot 3 */
  if (!same(Ls, 2, 3)) die("values differ after a round trip", in);
  dbuf_reset(&out1);
  dbuf_reset(&out2);
  if (djson_encode_ex(Ls, 2, &out1, &sorted, err, sizeof err) != 0) die(err, in);
  if (djson_encode_ex(Ls, 3, &out2, &sorted, err, sizeof err) != 0) die(err, in);
  if (out1.len != out2.len || memcmp(out1.data, out2.data, out1.len) != 0) die("sorted encodings differ", in);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in;
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    dbuf_init(&out1);
    dbuf_init(&out2);
  }
  in.data = (const char *)data;
  in.size = size;
  lua_pushcfunction(L, run);
  lua_pushlightuserdata(L, &in);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "Lua error: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  dbuf_trim(&out1, 1 << 20);
  dbuf_trim(&out2, 1 << 20);
  return 0;
}
