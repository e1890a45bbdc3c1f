/*
 * signature.h - the Dintero-Signature algorithm's string work (plain C, no Lua).
 *
 * Owns: parsing the header "t=<digits>,v0-hmac-sha256=<hex>[,...]", splitting a
 * callback URL into hostname / path / query, canonicalising the query the way
 * WHATWG URLSearchParams does (parse, stable sort by name, form-encode) and
 * building the six-line canonical string that Dintero signs (docs/callbacks.md,
 * dintero-api.md section 7). The HMAC itself lives in lcrypto.c.
 *
 * Invariants: every function takes (pointer, length) input that need not be
 * NUL-terminated and may contain NUL bytes; nothing here keeps a pointer into
 * its input past the call; output goes to a caller-owned dbuf, and on any
 * failure every temporary allocation has been freed before returning.
 */
#ifndef DINTERO_SIGNATURE_H
#define DINTERO_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* More v0 values than this in one header is treated as malformed: rotation
 * needs two or three, and a bound keeps the parser allocation-free. */
#define DSIG_MAX_V0 16
/* Digits allowed in t: 18 always fits an int64 without overflow checks. */
#define DSIG_MAX_T_DIGITS 18
/* Length of a v0-hmac-sha256 value: hex of a SHA-256 digest. */
#define DSIG_V0_HEXLEN 64

enum {
  DSIG_OK = 0,
  DSIG_E_MISSING = 1,   /* the header is empty or only whitespace */
  DSIG_E_MALFORMED = 2, /* no t, bad t, no v0, a v0 not 64 hex digits, too many v0 */
  DSIG_E_NOMEM = 3,
  DSIG_E_URL = 4,       /* the URL is not absolute (scheme://host...) */
  DSIG_E_FIELD = 5      /* a canonical field contains a newline or is empty */
};

typedef struct dsig_span {
  size_t off, len; /* a slice of the input the span was parsed from */
} dsig_span;

typedef struct dsig_header {
  dsig_span t;                 /* the digits of t, exactly as sent */
  int64_t t_value;             /* the same as a number */
  size_t nv0;                  /* number of v0-hmac-sha256 values, >= 1 on success */
  dsig_span v0[DSIG_MAX_V0];   /* each exactly 64 hex digits (either case) */
} dsig_header;

typedef struct dsig_url {
  dsig_span host;  /* hostname: no userinfo, no port; NOT yet lower-cased */
  dsig_span path;  /* from the first '/' after the authority up to '?' or '#'; may be empty */
  dsig_span query; /* after '?' up to '#', without the '?'; may be empty */
} dsig_url;

/* Parses a Dintero-Signature header. Returns DSIG_OK, DSIG_E_MISSING or
 * DSIG_E_MALFORMED. Pieces are split on ',' and then on the first '=', with
 * spaces and tabs trimmed around keys and values; unknown keys are ignored. */
int dsig_parse_header(const char *h, size_t len, dsig_header *out);

/* Splits an absolute URL. Returns DSIG_OK or DSIG_E_URL. */
int dsig_split_url(const char *url, size_t len, dsig_url *out);

/* Appends the URLSearchParams serialisation of query q (without '?') to out.
 * Returns DSIG_OK or DSIG_E_NOMEM (out may then hold a partial result). */
int dsig_canonical_query(const char *q, size_t len, dbuf *out);

/* Appends "<t>\n<account>\n<METHOD>\n<hostname>\n<path>\n<query>" to out.
 * The method is upper-cased and the hostname lower-cased (ASCII); an empty
 * path becomes "/" as in WHATWG URL.pathname for http(s). Returns DSIG_OK,
 * DSIG_E_URL, DSIG_E_FIELD or DSIG_E_NOMEM. */
int dsig_canonical(const char *t, size_t tlen, const char *account, size_t alen, const char *method,
                   size_t mlen, const char *url, size_t ulen, dbuf *out);

/* A short English description of a DSIG_E_* code (static storage). */
const char *dsig_strerror(int code);

#endif
