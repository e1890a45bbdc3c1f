/*
 * lurl.c - core.url_plain_segment(v): whether a path parameter can go into
 * the URL as it is (lua/dintero/url.lua's fast path).
 *
 * Why in C: every request fills at least one path parameter, usually a
 * 30-odd character id, and the Lua pattern that checked it cost about 5,000
 * instructions a call (a bracket class tried per character), a sixth of the
 * whole Lua layer of client:request. A byte table does it in a few hundred.
 */
#include "units.h"

/* RFC 3986 unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static int unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

/* True for a non-empty string of unreserved characters other than "." and
 * "..", which would change the path's meaning; false for anything else,
 * which then takes the checking and encoding path in Lua. */
static int l_url_plain_segment(lua_State *L) {
  size_t n, i;
  const char *s;
  int plain = 0;
  if (lua_type(L, 1) == LUA_TSTRING) {
    s = lua_tolstring(L, 1, &n);
    plain = n > 0 && !(n <= 2 && s[0] == '.' && s[n - 1] == '.');
    for (i = 0; plain && i < n; i++) plain = unreserved((unsigned char)s[i]);
  }
  lua_pushboolean(L, plain);
  return 1;
}

void durl_open(lua_State *L) {
  lua_pushcfunction(L, l_url_plain_segment);
  lua_setfield(L, -2, "url_plain_segment");
}
