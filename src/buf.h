/*
 * buf.h - a growable byte buffer (plain C, no Lua).
 *
 * Owns: one heap block. Invariants: data is NULL or holds cap bytes; len <= cap;
 * after any successful append data[len] == '\0' (so the contents can be handed
 * to parsers that want a terminator). dbuf_free leaves the buffer reusable.
 */
#ifndef DINTERO_BUF_H
#define DINTERO_BUF_H

#include <stddef.h>

typedef struct dbuf {
  char *data;
  size_t len;
  size_t cap;
} dbuf;

void dbuf_init(dbuf *b);
/* Makes room for extra more bytes (plus the terminator). Returns 0 on success,
 * -1 when out of memory (the buffer is unchanged). */
int dbuf_reserve(dbuf *b, size_t extra);
int dbuf_append(dbuf *b, const void *p, size_t n);
int dbuf_putc(dbuf *b, char c);
/* Empties the buffer but keeps its memory for reuse. */
void dbuf_reset(dbuf *b);
/* Frees the memory; if the buffer grew beyond keep bytes, shrink back instead
 * of holding a large block for the life of a long-running client. */
void dbuf_trim(dbuf *b, size_t keep);
void dbuf_free(dbuf *b);
/* dbuf_free after zeroing the whole block (for buffers that held secrets). */
void dbuf_wipe(dbuf *b);
/* Zeroes n bytes at p through a volatile pointer, so the compiler cannot drop
 * the stores before a free: the one wipe used for every secret in src/. */
void dwipe(void *p, size_t n);
/* dwipe of a NUL-terminated string (NULL is fine). */
void dwipe_str(char *s);

#endif
