/*
 * Build (from the repository root):
 *   mkdir -p build/fuzz && clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -I/usr/include/lua5.4 -Isrc \
 *     fuzz/json_decode_fuzz.c src/ljson.c src/ljson_decode.c src/ljson_encode.c src/buf.c \
 *     -llua5.4 -lm -o build/fuzz/json_decode_fuzz
 * Run (the JSONTestSuite files make a good seed corpus; new inputs go to the
 * first directory):
 *   mkdir -p build/fuzz/corpus-decode && build/fuzz/json_decode_fuzz -max_total_time=180 \
 *     build/fuzz/corpus-decode ../shared/testdata/JSONTestSuite/test_parsing
 *
 * json_decode_fuzz.c - libFuzzer harness for djson_decode on arbitrary bytes.
 *
 * Owns: one lua_State (Lua 5.4) for the whole run. Invariants checked on
 * every input, beyond the sanitizers: decode pushes exactly one value on
 * success and nothing on failure; a failure message ends in "at byte N" with
 * 1 <= N <= size + 1; the Lua-facing core.json.decode agrees with the C entry
 * point. Runs under lua_pcall so that a Lua memory error is not a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ljson_internal.h"
#include "units.h"

static lua_State *L;

typedef struct input {
  const char *data;
  size_t size;
} input;

static void check_message(const char *err, size_t size) {
  const char *at = strstr(err, " at byte ");
  unsigned long n;
  if (at == NULL) {
    fprintf(stderr, "message without offset: %s\n", err);
    abort();
  }
  n = strtoul(at + 9, NULL, 10);
  if (n < 1 || n > size + 1) {
    fprintf(stderr, "offset %lu outside 1..%zu: %s\n", n, size + 1, err);
    abort();
  }
}

/* Decodes through the C entry point and through core.json.decode. */
static int run(lua_State *Ls) {
  const input *in = (const input *)lua_touserdata(Ls, 1);
  char err[256];
  int top = lua_gettop(Ls), ok, lua_ok;
  ok = djson_decode(Ls, in->data, in->size, err, sizeof err);
  if (lua_gettop(Ls) != top + ok) {
    fprintf(stderr, "stack: %d -> %d (ok=%d)\n", top, lua_gettop(Ls), ok);
    abort();
  }
  if (!ok) check_message(err, in->size);
  lua_settop(Ls, top);

  lua_getglobal(Ls, "decode");
  lua_pushlstring(Ls, in->data, in->size);
  lua_call(Ls, 1, 2);
  lua_ok = !lua_isnil(Ls, -2);
  if (lua_ok != ok || (!lua_ok && strncmp(lua_tostring(Ls, -1), "json: ", 6) != 0)) {
    fprintf(stderr, "C and Lua entry points disagree\n");
    abort();
  }
  lua_settop(Ls, top);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in;
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    djson_open(L);
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "decode");
    lua_setglobal(L, "decode");
    lua_settop(L, 0);
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
  return 0;
}
