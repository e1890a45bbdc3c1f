/*
 * headers.c - splitting raw response header lines. See headers.h.
 */
#include "headers.h"

#include <string.h>

static const char *trim_left(const char *v, const char *end) {
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  return v;
}

static const char *trim_right(const char *v, const char *end) {
  while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
  return end;
}

int dheaders_each(const char *p, size_t n, dheaders_fn fn, void *ud) {
  const char *end;
  char name[DHEADERS_MAX_NAME + 1];
  int count = 0;
  if (p == NULL) return 0; /* before any arithmetic: NULL + 0 is undefined in C */
  end = p + n;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *colon;
    size_t nl, k;
    if (eol == NULL) eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon != NULL && (nl = (size_t)(colon - p)) > 0 && nl <= DHEADERS_MAX_NAME) {
      const char *v = trim_left(colon + 1, eol);
      const char *vend = trim_right(v, eol);
      for (k = 0; k < nl; k++) name[k] = (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
      name[nl] = '\0';
      count++;
      if (fn(ud, name, nl, v, (size_t)(vend - v))) break;
    }
    if (eol == end) break; /* eol + 1 would point past the end of the input */
    p = eol + 1;
  }
  return count;
}
