/*
 * units.h - the open functions of the dintero.core units. Each adds its
 * fields to the module table at the top of the stack and leaves it there.
 */
#ifndef DINTERO_UNITS_H
#define DINTERO_UNITS_H

#include "compat.h"

void djson_open(lua_State *L);   /* ljson.c:   core.json = {decode, encode, null, array_mt} */
void dcrypto_open(lua_State *L); /* lcrypto.c: core.hmac_sha256_hex, core.hmac_sha1_hex, core.equal_ct, signature helpers */
void dclient_open(lua_State *L); /* lclient.c: core.transport(opts), core.token_state() */
void derr_open(lua_State *L);    /* lerror.c:  core.fail, core.error_mt */
void dfields_open(lua_State *L); /* lfields.c: core.object_fields(data, methods) */
void durl_open(lua_State *L);    /* lurl.c:    core.url_plain_segment(v) */

#endif
