/*
 * lcrypto.c - the Lua face of the HMACs (OpenSSL libcrypto) and of the
 * signature string work in signature.c.
 *
 * Adds to dintero.core: hmac_sha256_hex(key, msg), hmac_sha1_hex(key, msg),
 * equal_ct(a, b) and the subtable signature = { parse_header, split_url,
 * canonical_query, canonical, match }.
 *
 * Invariants: secrets and computed MACs live only in stack buffers that are
 * wiped before returning, and are never pushed into an error; comparisons
 * of MACs go through CRYPTO_memcmp. Heap memory used while building strings
 * belongs to a "scratch" userdata whose __gc frees it, so a Lua error raised
 * while pushing the result (out of memory) cannot leak it.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "buf.h"
#include "signature.h"
#include "units.h"

#define SCRATCH_MT "dintero.scratch"

/* ---- scratch buffer owned by a userdata -------------------------------- */

static int scratch_gc(lua_State *L) {
  dbuf *b = (dbuf *)lua_touserdata(L, 1);
  if (b) dbuf_free(b);
  return 0;
}

/* Pushes a userdata holding an empty dbuf and returns it. */
static dbuf *scratch_new(lua_State *L) {
  dbuf *b = (dbuf *)dcompat_newuserdata(L, sizeof(dbuf));
  dbuf_init(b);
  luaL_getmetatable(L, SCRATCH_MT);
  lua_setmetatable(L, -2);
  return b;
}

/* ---- HMAC --------------------------------------------------------------- */

static void to_hex(const unsigned char *md, unsigned int n, char *out) {
  static const char HEX[] = "0123456789abcdef";
  unsigned int i;
  for (i = 0; i < n; i++) {
    out[2 * i] = HEX[md[i] >> 4];
    out[2 * i + 1] = HEX[md[i] & 15];
  }
}

/* Computes the lower-case hex HMAC into hex (2 * EVP_MAX_MD_SIZE bytes).
 * Returns the hex length, or 0 if libcrypto failed. */
static size_t hmac_hex(const EVP_MD *md, const char *key, size_t klen, const char *msg, size_t mlen, char *hex) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  /* HMAC() takes an int key length; a longer key cannot be a real secret. */
  if (klen > 0x7fffffff) return 0;
  if (HMAC(md, key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL) return 0;
  to_hex(mac, n, hex);
  OPENSSL_cleanse(mac, sizeof mac);
  return 2 * (size_t)n;
}

static int push_hmac(lua_State *L, const EVP_MD *md) {
  size_t klen, mlen, n;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  char hex[2 * EVP_MAX_MD_SIZE];
  n = hmac_hex(md, key, klen, msg, mlen, hex);
  if (n == 0) return luaL_error(L, "dintero: HMAC failed in libcrypto");
  lua_pushlstring(L, hex, n);
  OPENSSL_cleanse(hex, sizeof hex);
  return 1;
}

static int l_hmac_sha256_hex(lua_State *L) { return push_hmac(L, EVP_sha256()); }
static int l_hmac_sha1_hex(lua_State *L) { return push_hmac(L, EVP_sha1()); }

/* equal_ct(a, b): constant time in the contents; lengths are not secret. */
static int l_equal_ct(lua_State *L) {
  size_t an, bn;
  const char *a = luaL_checklstring(L, 1, &an);
  const char *b = luaL_checklstring(L, 2, &bn);
  lua_pushboolean(L, an == bn && CRYPTO_memcmp(a, b, an) == 0);
  return 1;
}

/* ---- signature ---------------------------------------------------------- */

/* parse_header(h) -> t_string, {v0 hex (lower case)...}, t_number
 *                 or nil, "missing_header" | "malformed_header" */
static int l_parse_header(lua_State *L) {
  size_t len, i, j;
  const char *h = luaL_checklstring(L, 1, &len);
  dsig_header hd;
  int rc = dsig_parse_header(h, len, &hd);
  if (rc != DSIG_OK) {
    lua_pushnil(L);
    lua_pushstring(L, rc == DSIG_E_MISSING ? "missing_header" : "malformed_header");
    return 2;
  }
  lua_pushlstring(L, h + hd.t.off, hd.t.len);
  lua_createtable(L, (int)hd.nv0, 0);
  for (i = 0; i < hd.nv0; i++) {
    char v[DSIG_V0_HEXLEN];
    for (j = 0; j < DSIG_V0_HEXLEN; j++) {
      char c = h[hd.v0[i].off + j];
      v[j] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    lua_pushlstring(L, v, DSIG_V0_HEXLEN);
    lua_rawseti(L, -2, (int)i + 1);
  }
  dcompat_pushint64(L, hd.t_value);
  return 3;
}

/* split_url(url) -> hostname (lower case), path, query | nil, message */
static int l_split_url(lua_State *L) {
  size_t len, i;
  const char *u = luaL_checklstring(L, 1, &len);
  dsig_url p;
  luaL_Buffer b;
  if (dsig_split_url(u, len, &p) != DSIG_OK) {
    lua_pushnil(L);
    lua_pushstring(L, dsig_strerror(DSIG_E_URL));
    return 2;
  }
  luaL_buffinit(L, &b);
  for (i = 0; i < p.host.len; i++) {
    char c = u[p.host.off + i];
    luaL_addchar(&b, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
  }
  luaL_pushresult(&b);
  lua_pushlstring(L, u + p.path.off, p.path.len);
  lua_pushlstring(L, u + p.query.off, p.query.len);
  return 3;
}

/* Pushes the scratch buffer's contents, or nil + message for a failure. */
static int push_built(lua_State *L, dbuf *b, int rc) {
  if (rc == DSIG_E_NOMEM) return luaL_error(L, "not enough memory");
  if (rc != DSIG_OK) {
    dbuf_free(b);
    lua_pushnil(L);
    lua_pushstring(L, dsig_strerror(rc));
    return 2;
  }
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  dbuf_free(b);
  return 1;
}

/* canonical_query(q) -> the URLSearchParams-sorted serialisation */
static int l_canonical_query(lua_State *L) {
  size_t len;
  const char *q = luaL_checklstring(L, 1, &len);
  dbuf *b = scratch_new(L);
  return push_built(L, b, dsig_canonical_query(q, len, b));
}

/* canonical(t, account_id, method, url) -> the signed string | nil, message */
static int l_canonical(lua_State *L) {
  size_t tl, al, ml, ul;
  const char *t = luaL_checklstring(L, 1, &tl);
  const char *a = luaL_checklstring(L, 2, &al);
  const char *m = luaL_checklstring(L, 3, &ml);
  const char *u = luaL_checklstring(L, 4, &ul);
  dbuf *b = scratch_new(L);
  return push_built(L, b, dsig_canonical(t, tl, a, al, m, ml, u, ul, b));
}

/* 1 if hex (any case, n bytes) equals the lower-case expected[0..n). */
static int hex_equal_ct(const char *hex, size_t n, const char *expected, size_t en) {
  char low[DSIG_V0_HEXLEN];
  size_t i;
  int eq;
  if (n != en || n != DSIG_V0_HEXLEN) return 0;
  for (i = 0; i < n; i++) low[i] = (hex[i] >= 'A' && hex[i] <= 'F') ? (char)(hex[i] - 'A' + 'a') : hex[i];
  eq = CRYPTO_memcmp(low, expected, n) == 0;
  return eq;
}

/* Whether any v0 value in the table at index vi matches the HMAC of msg
 * under the secret key; every value is compared (no early exit). */
static int match_one(lua_State *L, const char *key, size_t klen, const char *msg, size_t mlen, int vi) {
  char expected[2 * EVP_MAX_MD_SIZE];
  size_t en = hmac_hex(EVP_sha256(), key, klen, msg, mlen, expected);
  int i, n = (int)lua_rawlen(L, vi), any = 0;
  if (en == 0) return luaL_error(L, "dintero: HMAC failed in libcrypto");
  for (i = 1; i <= n; i++) {
    size_t vl;
    const char *v;
    lua_rawgeti(L, vi, i);
    v = lua_tolstring(L, -1, &vl);
    if (v) any |= hex_equal_ct(v, vl, expected, en);
    lua_pop(L, 1);
  }
  OPENSSL_cleanse(expected, sizeof expected);
  return any;
}

/* match(canonical, secret_or_list, {v0...}) -> boolean */
static int l_match(lua_State *L) {
  size_t mlen, klen;
  const char *msg = luaL_checklstring(L, 1, &mlen);
  int any = 0;
  luaL_checktype(L, 3, LUA_TTABLE);
  if (lua_type(L, 2) == LUA_TTABLE) {
    int i, n = (int)lua_rawlen(L, 2);
    for (i = 1; i <= n; i++) {
      const char *key;
      lua_rawgeti(L, 2, i);
      key = lua_tolstring(L, -1, &klen);
      if (key == NULL) return luaL_error(L, "secret[%d] must be a string", i);
      any |= match_one(L, key, klen, msg, mlen, 3);
      lua_pop(L, 1);
    }
  } else {
    const char *key = luaL_checklstring(L, 2, &klen);
    any = match_one(L, key, klen, msg, mlen, 3);
  }
  lua_pushboolean(L, any);
  return 1;
}

static const luaL_Reg SIGNATURE_FNS[] = {{"parse_header", l_parse_header},
                                         {"split_url", l_split_url},
                                         {"canonical_query", l_canonical_query},
                                         {"canonical", l_canonical},
                                         {"match", l_match},
                                         {NULL, NULL}};

static const luaL_Reg CRYPTO_FNS[] = {{"hmac_sha256_hex", l_hmac_sha256_hex},
                                      {"hmac_sha1_hex", l_hmac_sha1_hex},
                                      {"equal_ct", l_equal_ct},
                                      {NULL, NULL}};

void dcrypto_open(lua_State *L) {
  if (luaL_newmetatable(L, SCRATCH_MT)) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  dcompat_setfuncs(L, CRYPTO_FNS, 0);
  lua_newtable(L);
  dcompat_setfuncs(L, SIGNATURE_FNS, 0);
  lua_setfield(L, -2, "signature");
}
