/*
 * buf.c - growable byte buffer. See buf.h for the invariants.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void dbuf_init(dbuf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

int dbuf_reserve(dbuf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > (size_t)-1 - b->len - 1) return -1;
  need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  p = realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int dbuf_append(dbuf *b, const void *p, size_t n) {
  if (dbuf_reserve(b, n) != 0) return -1;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int dbuf_putc(dbuf *b, char c) {
  if (b->len + 1 >= b->cap && dbuf_reserve(b, 1) != 0) return -1;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
  return 0;
}

void dbuf_reset(dbuf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void dbuf_trim(dbuf *b, size_t keep) {
  dbuf_reset(b);
  if (b->cap > keep) dbuf_free(b);
}

void dwipe(void *p, size_t n) {
  volatile unsigned char *q = p;
  while (q && n--) *q++ = 0;
}

void dwipe_str(char *s) {
  if (s) dwipe(s, strlen(s));
}

void dbuf_wipe(dbuf *b) {
  dwipe(b->data, b->cap);
  dbuf_free(b);
}

void dbuf_free(dbuf *b) {
  free(b->data);
  dbuf_init(b);
}
