/*
 * signature_fuzz.c - libFuzzer harness for src/signature.c (no Lua needed):
 * the Dintero-Signature header parser, the URL splitter, the query
 * canonicaliser and the canonical string builder.
 *
 * Build and run (from the repository root):
 *   mkdir -p build/fuzz && clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Isrc -o build/fuzz/signature_fuzz \
 *     fuzz/signature_fuzz.c src/signature.c src/buf.c
 *   build/fuzz/signature_fuzz -max_total_time=300 -max_len=4096 build/fuzz/corpus
 *
 * Besides memory safety it checks the properties the verifier relies on:
 * parsed spans lie inside the input, a parsed header has a t of 1..18 digits
 * and 1..16 v0 values of 64 hex digits, a canonical query holds only the
 * form-encoding alphabet (A-Z a-z 0-9 * - . _ + = & and %XX upper-case) and
 * canonicalising it again changes nothing, and the canonical string has
 * exactly six lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) abort();
}

static int in_bounds(dsig_span s, size_t size) { return s.off <= size && s.len <= size - s.off; }

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static void fuzz_header(const char *s, size_t n) {
  dsig_header h;
  size_t i, j;
  if (dsig_parse_header(s, n, &h) != DSIG_OK) return;
  check(in_bounds(h.t, n) && h.t.len >= 1 && h.t.len <= DSIG_MAX_T_DIGITS && h.t_value >= 0);
  check(h.nv0 >= 1 && h.nv0 <= DSIG_MAX_V0);
  for (i = 0; i < h.nv0; i++) {
    check(in_bounds(h.v0[i], n) && h.v0[i].len == DSIG_V0_HEXLEN);
    for (j = 0; j < DSIG_V0_HEXLEN; j++) check(is_hex(s[h.v0[i].off + j]));
  }
}

static void fuzz_url(const char *s, size_t n) {
  dsig_url u;
  if (dsig_split_url(s, n, &u) != DSIG_OK) return;
  check(in_bounds(u.host, n) && u.host.len > 0 && in_bounds(u.path, n) && in_bounds(u.query, n));
  check(u.path.len == 0 || s[u.path.off] == '/');
}

static void check_form_alphabet(const dbuf *b) {
  size_t i;
  for (i = 0; i < b->len; i++) {
    char c = b->data[i];
    if (c == '%') {
      check(i + 2 < b->len);
      check(is_hex(b->data[i + 1]) && is_hex(b->data[i + 2]));
      check(!(b->data[i + 1] >= 'a' && b->data[i + 1] <= 'f') && !(b->data[i + 2] >= 'a' && b->data[i + 2] <= 'f'));
      i += 2;
    } else {
      check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '*' || c == '-' ||
            c == '.' || c == '_' || c == '+' || c == '=' || c == '&');
    }
  }
}

static void fuzz_query(const char *s, size_t n) {
  dbuf once, twice;
  dbuf_init(&once);
  dbuf_init(&twice);
  if (dsig_canonical_query(s, n, &once) == DSIG_OK) {
    check_form_alphabet(&once);
    if (dsig_canonical_query(once.data ? once.data : "", once.len, &twice) == DSIG_OK)
      check(once.len == twice.len && (once.len == 0 || memcmp(once.data, twice.data, once.len) == 0));
  }
  dbuf_free(&once);
  dbuf_free(&twice);
}

static void fuzz_canonical(const char *s, size_t n) {
  dbuf out;
  size_t i, lines = 0;
  dbuf_init(&out);
  if (dsig_canonical("1582236537", 10, "P00000000", 9, "get", 3, s, n, &out) == DSIG_OK) {
    for (i = 0; i < out.len; i++) lines += out.data[i] == '\n';
    check(lines == 5);
  }
  dbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  fuzz_header(s, size);
  fuzz_url(s, size);
  fuzz_query(s, size);
  fuzz_canonical(s, size);
  return 0;
}
