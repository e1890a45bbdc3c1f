/*
 * core.c - luaopen_dintero_core: builds the module table from its units.
 *
 * Owns: the one-time libcurl global init (curl_global_init is not thread safe
 * and must run before any handle exists, so it runs here, at load, once per
 * process; it is never cleaned up because other modules in the same process
 * may share libcurl).
 */
#include <curl/curl.h>

#include "units.h"

#define DINTERO_VERSION "0.1.0"

static int curl_ready = 0;

int luaopen_dintero_core(lua_State *L);

int luaopen_dintero_core(lua_State *L) {
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return luaL_error(L, "dintero: curl_global_init failed");
    curl_ready = 1;
  }
  lua_newtable(L);
  lua_pushliteral(L, DINTERO_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  derr_open(L);
  djson_open(L);
  dcrypto_open(L);
  dclient_open(L);
  dfields_open(L);
  durl_open(L);
  return 1;
}
