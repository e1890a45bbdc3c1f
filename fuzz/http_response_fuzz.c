/*
 * http_response_fuzz.c - libFuzzer harness for the C core's response handling:
 * the header splitter (src/headers.c, dheaders_each) and the libcurl
 * callbacks of src/http.c (on_header, on_body), which enforce
 * max_header_count, max_header_bytes and max_response_bytes. No network.
 *
 * Build and run (from the repository root; `make fuzz` does the same):
 *   mkdir -p build/fuzz && clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Isrc -o build/fuzz/http_response \
 *     fuzz/http_response_fuzz.c src/headers.c src/buf.c -lcurl
 *   build/fuzz/http_response -max_total_time=300 build/fuzz/corpus-http_response fuzz/seeds/http_response
 *
 * Owns: nothing between inputs except libcurl's global state (initialised
 * once). Each input gets its own dhttp_conn (a real easy handle from
 * dhttp_conn_init, never performed), which is freed before returning, so
 * LeakSanitizer sees every buffer the callbacks grew.
 *
 * on_body and on_header are `static` in http.c, so this file #includes
 * "../src/http.c" into its own translation unit to call them exactly as
 * libcurl would (size = 1, nmemb = chunk length, userdata = the conn). Do not
 * also link src/http.c.
 *
 * Input layout: 8 control bytes, then the response bytes.
 *   [0] max_header_count = 1 + (b & 31)
 *   [1] max_header_bytes = 8 + 4 * b
 *   [2] max_response_bytes = 4 * b
 *   [3] bit 0: feed header bytes at fuzz-chosen split points instead of one
 *       complete line per call (libcurl's behaviour); bits 1-7: stop the
 *       dheaders_each walk after that many headers (0 = never)
 *   [4..7] seed of the PRNG that chooses the chunk lengths
 * The response bytes up to the first empty line ("\n\n" or "\n\r\n") are the
 * header section, the rest is the body.
 *
 * Invariants checked, beyond the sanitizers:
 *   dheaders_each: every name is 1..DHEADERS_MAX_NAME bytes, NUL-terminated,
 *   has no upper-case ASCII, ':' or '\n', and equals the lower-cased bytes
 *   that start its line right before the first ':'; every value lies inside
 *   the input, has no '\n', no leading blank and no trailing blank or CR; the
 *   headers and their order match an independent line-by-line reference; the
 *   return value counts the callbacks and honours an early stop.
 *   on_header / on_body: a call returns its length or 0, and 0 only with the
 *   matching overflow flag set; head.len <= max_header_bytes, body.len <=
 *   max_response_bytes, at most max_header_count header calls are kept since
 *   the last status line; head and body hold exactly the bytes a reference
 *   model predicts; buffers stay NUL-terminated; dhttp_finish classifies an
 *   aborted transfer (CURLE_WRITE_ERROR) as the limit that fired; a second
 *   dhttp_prepare on the same handle starts from empty buffers.
 */
#include "../src/http.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/headers.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "http_response_fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                       \
    }                                                                                \
  } while (0)

/* ---- (a) dheaders_each ------------------------------------------------- */

/* One header of the reference split: offsets into the input. */
typedef struct ref_header {
  size_t name_off, name_len, value_off, value_len;
} ref_header;

typedef struct walk {
  const char *base; /* the input */
  size_t size;
  const ref_header *ref;
  size_t nref;
  int seen;
  int stop_after; /* 0 = never stop */
} walk;

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* The reference: split at '\n', take lines whose first ':' is at 1..MAX. */
static size_t reference_split(const char *p, size_t n, ref_header *out, size_t cap) {
  size_t i = 0, count = 0;
  while (i < n) {
    size_t eol = i, colon, vs, ve;
    while (eol < n && p[eol] != '\n') eol++;
    colon = i;
    while (colon < eol && p[colon] != ':') colon++;
    if (colon < eol && colon > i && colon - i <= DHEADERS_MAX_NAME) {
      vs = colon + 1;
      while (vs < eol && is_blank(p[vs])) vs++;
      ve = eol;
      while (ve > vs && (is_blank(p[ve - 1]) || p[ve - 1] == '\r')) ve--;
      CHECK(count < cap);
      out[count].name_off = i;
      out[count].name_len = colon - i;
      out[count].value_off = vs;
      out[count].value_len = ve - vs;
      count++;
    }
    i = eol + 1;
  }
  return count;
}

static int on_each(void *ud, const char *name, size_t nl, const char *v, size_t vl) {
  walk *w = ud;
  const ref_header *r;
  size_t k;
  CHECK(nl >= 1 && nl <= DHEADERS_MAX_NAME);
  CHECK(name[nl] == '\0');
  for (k = 0; k < nl; k++) CHECK(!(name[k] >= 'A' && name[k] <= 'Z') && name[k] != ':' && name[k] != '\n');
  /* pointers inside the input */
  CHECK(v >= w->base && v <= w->base + w->size && vl <= (size_t)(w->base + w->size - v));
  /* trimmed, one line */
  CHECK(memchr(v, '\n', vl) == NULL);
  CHECK(vl == 0 || (!is_blank(v[0]) && !is_blank(v[vl - 1]) && v[vl - 1] != '\r'));
  /* agrees with the reference, in order */
  CHECK((size_t)w->seen < w->nref);
  r = &w->ref[w->seen];
  CHECK(r->name_len == nl && r->value_off == (size_t)(v - w->base) && r->value_len == vl);
  for (k = 0; k < nl; k++) {
    char ch = w->base[r->name_off + k];
    CHECK(name[k] == (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
  }
  CHECK(w->base[r->name_off + nl] == ':');
  w->seen++;
  return w->stop_after > 0 && w->seen >= w->stop_after;
}

static void check_headers(const char *p, size_t n, int stop_after) {
  /* at most one header per two bytes ("a:\n"), plus one for an unterminated tail */
  ref_header *ref = malloc(sizeof *ref * (n / 2 + 2));
  walk w;
  int count;
  CHECK(ref != NULL);
  w.base = p;
  w.size = n;
  w.ref = ref;
  w.nref = reference_split(p, n, ref, n / 2 + 2);
  w.seen = 0;
  w.stop_after = stop_after;
  count = dheaders_each(p, n, on_each, &w);
  CHECK(count == w.seen);
  if (stop_after > 0 && (size_t)stop_after <= w.nref)
    CHECK(count == stop_after);
  else
    CHECK((size_t)count == w.nref);
  free(ref);
}

/* ---- (b) the libcurl callbacks ----------------------------------------- */

typedef struct prng {
  uint32_t s;
} prng;

static uint32_t next(prng *g) {
  uint32_t x = g->s ? g->s : 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  g->s = x;
  return x;
}

/* A chunk length in 1..max: mostly small, sometimes everything left. */
static size_t chunk_len(prng *g, size_t left) {
  uint32_t r = next(g);
  size_t n = (r & 7) == 0 ? left : 1 + (size_t)((r >> 3) % 64);
  return n > left ? left : n;
}

/* What on_header should have kept: the bytes and call count since the last
 * chunk starting with "HTTP/". */
typedef struct model {
  dbuf head;
  int count;
} model;

static int feed_header(dhttp_conn *c, model *m, const char *p, size_t len) {
  const dhttp_config *cfg = c->cfg;
  size_t got;
  int over;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    dbuf_reset(&m->head);
    m->count = 0;
  }
  m->count++;
  over = m->count > cfg->max_header_count || m->head.len + len > cfg->max_header_bytes;
  got = on_header((char *)p, 1, len, c);
  if (over) {
    CHECK(got == 0 && c->overflow == DHTTP_HEADERS);
    return -1;
  }
  CHECK(got == len && c->overflow == 0);
  CHECK(dbuf_append(&m->head, p, len) == 0);
  CHECK(c->head.len == m->head.len && memcmp(c->head.data, m->head.data, m->head.len) == 0);
  CHECK(c->head.data[c->head.len] == '\0');
  CHECK(c->head.len <= cfg->max_header_bytes && c->header_count <= cfg->max_header_count);
  return 0;
}

/* Length of the header section: through the first empty line, or all. */
static size_t header_section(const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (p[i] != '\n') continue;
    if (i + 1 < n && p[i + 1] == '\n') return i + 2;
    if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') return i + 3;
  }
  return n;
}

static void check_exchange(dhttp_conn *c, const char *p, size_t n, int split_headers, prng *g) {
  const dhttp_config *cfg = c->cfg;
  size_t hn = header_section(p, n), i, expect_body = 0;
  model m;
  dhttp_result res;
  int aborted = 0;
  CHECK(dhttp_prepare(c, "GET", "http://127.0.0.1:9/x", NULL, 0) == 0);
  CHECK(c->body.len == 0 && c->head.len == 0 && c->overflow == 0 && c->header_count == 0);
  dbuf_init(&m.head);
  m.count = 0;

  /* headers: one complete line per call like libcurl, or arbitrary chunks */
  for (i = 0; i < hn && !aborted;) {
    size_t len;
    if (split_headers) {
      len = chunk_len(g, hn - i);
    } else {
      const char *eol = memchr(p + i, '\n', hn - i);
      len = eol ? (size_t)(eol - (p + i)) + 1 : hn - i;
    }
    if (feed_header(c, &m, p + i, len) != 0) aborted = DHTTP_HEADERS;
    i += len;
  }
  if (!aborted) {
    int count = 0;
    size_t k;
    CHECK(c->header_count == m.count);
    /* lclient.c splits the kept lines with dheaders_each */
    check_headers(c->head.data, c->head.len, 0);
    for (k = 0; k < c->head.len; k++) count += c->head.data[k] == '\n';
    /* one line per call (libcurl's way): the kept lines obey the count limit */
    if (!split_headers) CHECK(count <= cfg->max_header_count);
  }

  /* body, at fuzz-chosen split points */
  for (i = hn; i < n && !aborted;) {
    size_t len = chunk_len(g, n - i), got;
    int over = expect_body + len > cfg->max_response_bytes;
    got = on_body((char *)p + i, 1, len, c);
    if (over) {
      CHECK(got == 0 && c->overflow == DHTTP_TOO_LARGE);
      aborted = DHTTP_TOO_LARGE;
    } else {
      CHECK(got == len && c->overflow == 0);
      CHECK(c->body.len == expect_body + len && memcmp(c->body.data + expect_body, p + i, len) == 0);
      CHECK(c->body.data[c->body.len] == '\0');
      expect_body += len;
    }
    i += len;
  }
  CHECK(c->body.len <= cfg->max_response_bytes && c->body.len == expect_body);
  CHECK(c->head.len <= cfg->max_header_bytes);
  CHECK(c->overflow == aborted);

  /* what libcurl reports after a callback returned short */
  dhttp_finish(c, aborted ? CURLE_WRITE_ERROR : CURLE_OK, &res);
  CHECK(res.fail == (aborted ? (dhttp_fail)aborted : DHTTP_OK));
  CHECK(memchr(res.errmsg, '\0', sizeof res.errmsg) != NULL);
  dhttp_conn_trim(c);
  dbuf_free(&m.head);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dhttp_config cfg;
  dhttp_conn c;
  prng g;
  const char *p;
  size_t n;
  if (size < 8) return 0;
  memset(&cfg, 0, sizeof cfg);
  cfg.timeout_ms = 1000;
  cfg.connect_timeout_ms = 1000;
  cfg.max_header_count = 1 + (data[0] & 31);
  cfg.max_header_bytes = 8 + 4 * (size_t)data[1];
  cfg.max_response_bytes = 4 * (size_t)data[2];
  g.s = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 | (uint32_t)data[7] << 24;
  p = (const char *)data + 8;
  n = size - 8;

  /* (a) the raw bytes straight into the splitter; NULL/empty too */
  check_headers(p, n, data[3] >> 1);
  CHECK(dheaders_each(NULL, 0, on_each, NULL) == 0);

  /* (b) two exchanges on one handle: the second must not see the first */
  CHECK(dhttp_conn_init(&c, &cfg) == 0);
  check_exchange(&c, p, n, data[3] & 1, &g);
  check_exchange(&c, p, n, !(data[3] & 1), &g);
  dhttp_conn_free(&c);
  CHECK(c.easy == NULL && c.body.data == NULL && c.head.data == NULL && c.req_headers == NULL);
  return 0;
}
