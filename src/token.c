/*
 * token.c - access-token state and refresh policy. See token.h.
 */
#include "token.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void dtoken_init(dtoken *t) { memset(t, 0, sizeof *t); }

static void wipe(dtoken *t) {
  if (t->value) {
    dwipe_str(t->value);
    free(t->value);
    t->value = NULL;
  }
}

/* The longest lifetime believed: a token endpoint answering a huge (or NaN)
 * expires_in would otherwise give a token that is never refreshed and never
 * expires here. Dintero's tokens live hours; a day only costs a refresh. */
#define DTOKEN_MAX_LIFETIME 86400.0

int dtoken_store(dtoken *t, const char *value, double expires_in, double now) {
  size_t n = strlen(value);
  char *copy = malloc(n + 1);
  double early;
  if (copy == NULL) return -1;
  if (!(expires_in > 0)) expires_in = 0; /* NaN and negatives: expired at once */
  if (expires_in > DTOKEN_MAX_LIFETIME) expires_in = DTOKEN_MAX_LIFETIME;
  memcpy(copy, value, n + 1);
  wipe(t);
  t->value = copy;
  t->obtained_at = now;
  t->expires_at = now + expires_in;
  early = expires_in * 0.1;
  if (early < 60) early = 60;
  /* A lifetime shorter than the margin: refresh at half-life instead of
   * treating the token as due the moment it arrives. */
  if (early >= expires_in) early = expires_in / 2;
  t->refresh_at = t->expires_at - early;
  t->generation++;
  return 0;
}

dtoken_state dtoken_check(const dtoken *t, double now) {
  if (t->value == NULL) return DTOKEN_MISSING;
  if (now >= t->expires_at) return DTOKEN_EXPIRED;
  if (now >= t->refresh_at) return DTOKEN_DUE;
  return DTOKEN_FRESH;
}

int dtoken_drop(dtoken *t, unsigned long generation) {
  if (t->value == NULL || t->generation != generation) return 0;
  wipe(t);
  return 1;
}

void dtoken_free(dtoken *t) { wipe(t); }

double dtoken_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
