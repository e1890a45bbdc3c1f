/*
 * token.h - the access-token state of one client (plain C, no Lua).
 *
 * Owns: a heap copy of the current token. Invariants: value is NULL or a
 * NUL-terminated token with expires_at > obtained_at; generation increases
 * every time a token is stored, so a caller that saw a 401 can drop exactly
 * the token it used and never a newer one fetched meanwhile. The token is
 * wiped from memory before it is freed.
 *
 * Policy (one place for it, used by both transports): a token is used until
 * refresh_at = expires_at - max(60 s, 10 % of its lifetime); after that the
 * next call fetches a new one, and a token past expires_at is never sent.
 */
#ifndef DINTERO_TOKEN_H
#define DINTERO_TOKEN_H

typedef enum dtoken_state { DTOKEN_MISSING, DTOKEN_FRESH, DTOKEN_DUE, DTOKEN_EXPIRED } dtoken_state;

typedef struct dtoken {
  char *value;
  double obtained_at;
  double refresh_at;
  double expires_at;
  unsigned long generation;
} dtoken;

void dtoken_init(dtoken *t);
/* Stores a copy of value valid for expires_in seconds from now. 0 or -1. */
int dtoken_store(dtoken *t, const char *value, double expires_in, double now);
dtoken_state dtoken_check(const dtoken *t, double now);
/* Drops the token only if it is still the one of the given generation. */
int dtoken_drop(dtoken *t, unsigned long generation);
void dtoken_free(dtoken *t);
/* Monotonic clock in seconds (expiry must not jump with the wall clock). */
double dtoken_now(void);

#endif
