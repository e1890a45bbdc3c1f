/*
 * signature.c - header parsing, URL splitting, query canonicalisation and the
 * canonical string of the Dintero-Signature algorithm. See signature.h.
 *
 * Owns: only temporaries inside dsig_canonical_query (the decoded pairs, the
 * pair index and the merge-sort scratch), all freed before it returns on every
 * path. Everything else works on spans of the caller's input.
 *
 * The query rules copy WHATWG URLSearchParams, because Dintero's reference
 * verifier (Node) uses it: split on '&' (empty pieces dropped), split each
 * piece on the first '=', '+' means space, "%XX" decodes (a '%' without two
 * hex digits stays literal), the bytes are then read as UTF-8 with each
 * invalid sequence replaced by U+FFFD, the pairs are stable-sorted by name in
 * UTF-16 code unit order, and serialised keeping A-Z a-z 0-9 * - . _ with
 * space as '+' and every other byte as upper-case %XX.
 */
#include "signature.h"

#include <stdlib.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Narrows [*off, *off + *len) of s to exclude leading and trailing blanks. */
static void trim(const char *s, size_t *off, size_t *len) {
  while (*len > 0 && is_space(s[*off])) {
    (*off)++;
    (*len)--;
  }
  while (*len > 0 && is_space(s[*off + *len - 1])) (*len)--;
}

static int span_is(const char *s, dsig_span sp, const char *lit) {
  size_t n = strlen(lit);
  return sp.len == n && memcmp(s + sp.off, lit, n) == 0;
}

/* ---- header ------------------------------------------------------------ */

static int parse_t(const char *h, dsig_span v, dsig_header *out) {
  size_t i;
  int64_t t = 0;
  if (v.len == 0 || v.len > DSIG_MAX_T_DIGITS) return DSIG_E_MALFORMED;
  for (i = 0; i < v.len; i++) {
    if (!is_digit(h[v.off + i])) return DSIG_E_MALFORMED;
    t = t * 10 + (h[v.off + i] - '0');
  }
  out->t = v;
  out->t_value = t;
  return DSIG_OK;
}

static int add_v0(const char *h, dsig_span v, dsig_header *out) {
  size_t i;
  if (v.len != DSIG_V0_HEXLEN || out->nv0 >= DSIG_MAX_V0) return DSIG_E_MALFORMED;
  for (i = 0; i < v.len; i++)
    if (hex_value(h[v.off + i]) < 0) return DSIG_E_MALFORMED;
  out->v0[out->nv0++] = v;
  return DSIG_OK;
}

/* One "key=value" piece at [off, off+len). */
static int parse_piece(const char *h, size_t off, size_t len, dsig_header *out, int *seen_t) {
  dsig_span k, v;
  const char *eq;
  trim(h, &off, &len);
  if (len == 0) return DSIG_OK; /* tolerate "a,,b" and a trailing comma */
  eq = memchr(h + off, '=', len);
  if (eq == NULL) return DSIG_E_MALFORMED;
  k.off = off;
  k.len = (size_t)(eq - (h + off));
  v.off = k.off + k.len + 1;
  v.len = len - k.len - 1;
  trim(h, &k.off, &k.len);
  trim(h, &v.off, &v.len);
  if (span_is(h, k, "t")) {
    if (*seen_t) return DSIG_E_MALFORMED; /* two timestamps: which one was signed? */
    *seen_t = 1;
    return parse_t(h, v, out);
  }
  if (span_is(h, k, "v0-hmac-sha256")) return add_v0(h, v, out);
  return DSIG_OK; /* unknown keys are ignored, for forward compatibility */
}

int dsig_parse_header(const char *h, size_t len, dsig_header *out) {
  size_t off = 0, all_off = 0, all_len = len;
  int seen_t = 0;
  memset(out, 0, sizeof *out);
  trim(h, &all_off, &all_len);
  if (all_len == 0) return DSIG_E_MISSING;
  while (off <= len) {
    const char *comma = off < len ? memchr(h + off, ',', len - off) : NULL;
    size_t end = comma ? (size_t)(comma - h) : len;
    int rc = parse_piece(h, off, end - off, out, &seen_t);
    if (rc != DSIG_OK) return rc;
    off = end + 1;
  }
  if (!seen_t || out->nv0 == 0) return DSIG_E_MALFORMED;
  return DSIG_OK;
}

/* ---- URL --------------------------------------------------------------- */

/* Length of "scheme://" at the start of u, or 0 if there is none. */
static size_t scheme_len(const char *u, size_t len) {
  size_t i = 0;
  if (len == 0 || !is_alpha(u[0])) return 0;
  for (i = 1; i < len; i++) {
    char c = u[i];
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) break;
  }
  if (i + 3 > len || memcmp(u + i, "://", 3) != 0) return 0;
  return i + 3;
}

/* The hostname inside the authority a[0..n): after the last '@', without the
 * port; an IPv6 literal keeps its brackets as URL.hostname does. */
static int split_host(const char *u, size_t aoff, size_t alen, dsig_span *host) {
  size_t i, start = aoff, end = aoff + alen;
  for (i = aoff; i < end; i++)
    if (u[i] == '@') start = i + 1;
  if (start < end && u[start] == '[') {
    const char *rb = memchr(u + start, ']', end - start);
    if (rb == NULL) return DSIG_E_URL;
    end = (size_t)(rb - u) + 1;
  } else {
    const char *colon = memchr(u + start, ':', end - start);
    if (colon) end = (size_t)(colon - u);
  }
  if (end <= start) return DSIG_E_URL;
  host->off = start;
  host->len = end - start;
  return DSIG_OK;
}

int dsig_split_url(const char *url, size_t len, dsig_url *out) {
  size_t off = 0, i, auth, end;
  memset(out, 0, sizeof *out);
  /* WHATWG strips leading and trailing C0 controls and spaces. */
  while (off < len && (unsigned char)url[off] <= 0x20) off++;
  while (len > off && (unsigned char)url[len - 1] <= 0x20) len--;
  i = scheme_len(url + off, len - off);
  if (i == 0) return DSIG_E_URL;
  auth = off + i;
  for (end = auth; end < len && url[end] != '/' && url[end] != '?' && url[end] != '#'; end++) {
  }
  if (split_host(url, auth, end - auth, &out->host) != DSIG_OK) return DSIG_E_URL;
  out->path.off = end;
  while (end < len && url[end] != '?' && url[end] != '#') end++;
  out->path.len = end - out->path.off;
  if (end < len && url[end] == '?') {
    out->query.off = ++end;
    while (end < len && url[end] != '#') end++;
    out->query.len = end - out->query.off;
  } else {
    out->query.off = end;
  }
  return DSIG_OK;
}

/* ---- query ------------------------------------------------------------- */

typedef struct qpair {
  size_t noff, nlen, voff, vlen; /* offsets into the decoded buffer */
} qpair;

static const char REPLACEMENT[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

/* Appends s[0..n) to out with every invalid UTF-8 sequence replaced by
 * U+FFFD, following the WHATWG UTF-8 decoder (maximal subparts). */
static int append_utf8_fixed(dbuf *out, const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t need = 0, k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      if (dbuf_putc(out, (char)c) != 0) return -1;
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    /* k counts the continuation bytes that fit; only the first has a
     * narrowed range (it excludes overlongs, surrogates and > U+10FFFF). */
    for (k = 0; k < need && i + 1 + k < n; k++) {
      unsigned char b = s[i + 1 + k];
      if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) break;
    }
    if (need > 0 && k == need) {
      if (dbuf_append(out, s + i, need + 1) != 0) return -1;
      i += need + 1;
    } else {
      /* the lead byte and the k valid continuations are one maximal subpart */
      if (dbuf_append(out, REPLACEMENT, 3) != 0) return -1;
      i += 1 + k;
    }
  }
  return 0;
}

/* Percent-decodes s[0..n) ('+' = space) into raw, then appends it to dec
 * as well-formed UTF-8. raw is scratch, reset here. */
static int decode_component(const char *s, size_t n, dbuf *raw, dbuf *dec) {
  size_t i;
  dbuf_reset(raw);
  if (dbuf_reserve(raw, n) != 0) return -1;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+') c = ' ';
    else if (c == '%' && i + 2 < n) {
      int h1 = hex_value(s[i + 1]), h2 = hex_value(s[i + 2]);
      if (h1 >= 0 && h2 >= 0) {
        c = (char)(h1 * 16 + h2);
        i += 2;
      }
    }
    raw->data[raw->len++] = c;
  }
  raw->data[raw->len] = '\0';
  return append_utf8_fixed(dec, (const unsigned char *)raw->data, raw->len);
}

/* The code point of the well-formed UTF-8 sequence at s (n bytes left). */
static uint32_t utf8_at(const unsigned char *s, size_t n) {
  if (s[0] < 0x80 || n < 2) return s[0];
  if (s[0] < 0xE0) return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
  if (s[0] < 0xF0 || n < 4) return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
  return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
         (s[3] & 0x3F);
}

/* The first UTF-16 code unit of cp, which decides the order of two
 * different code points unless both are astral with the same lead unit. */
static uint32_t utf16_lead(uint32_t cp) { return cp >= 0x10000 ? 0xD800 + ((cp - 0x10000) >> 10) : cp; }

/* Orders two well-formed UTF-8 strings by their UTF-16 code units, as
 * URLSearchParams.sort() does. Byte order agrees with code point order, so
 * only the first differing code point needs decoding. */
static int name_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn) {
  size_t k = 0, s;
  uint32_t ca, cb, la, lb;
  while (k < an && k < bn && a[k] == b[k]) k++;
  if (k == an || k == bn) return an == bn ? 0 : (k == an ? -1 : 1);
  s = k;
  while (s > 0 && (a[s] & 0xC0) == 0x80) s--; /* back to the sequence start (same in b) */
  ca = utf8_at(a + s, an - s);
  cb = utf8_at(b + s, bn - s);
  la = utf16_lead(ca);
  lb = utf16_lead(cb);
  if (la != lb) return la < lb ? -1 : 1;
  return ca < cb ? -1 : (ca > cb ? 1 : 0);
}

static int pair_le(const dbuf *dec, const qpair *x, const qpair *y) {
  const unsigned char *d = (const unsigned char *)dec->data;
  return name_cmp(d + x->noff, x->nlen, d + y->noff, y->nlen) <= 0;
}

/* Bottom-up merge sort: stable, O(n log n), tmp holds n pairs. */
static void sort_pairs(const dbuf *dec, qpair *p, qpair *tmp, size_t n) {
  size_t width, i;
  qpair *src = p, *dst = tmp;
  for (width = 1; width < n; width *= 2) {
    for (i = 0; i < n; i += 2 * width) {
      size_t lo = i, mid = i + width < n ? i + width : n, hi = i + 2 * width < n ? i + 2 * width : n;
      size_t a = lo, b = mid, o = lo;
      while (a < mid && b < hi) dst[o++] = pair_le(dec, &src[a], &src[b]) ? src[a++] : src[b++];
      while (a < mid) dst[o++] = src[a++];
      while (b < hi) dst[o++] = src[b++];
    }
    {
      qpair *t = src;
      src = dst;
      dst = t;
    }
  }
  if (src != p) memcpy(p, src, n * sizeof *p);
}

static int form_encode(dbuf *out, const unsigned char *s, size_t n) {
  static const char HEX[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = s[i];
    int rc;
    if (is_alpha((char)c) || is_digit((char)c) || c == '*' || c == '-' || c == '.' || c == '_')
      rc = dbuf_putc(out, (char)c);
    else if (c == ' ')
      rc = dbuf_putc(out, '+');
    else {
      char e[3];
      e[0] = '%';
      e[1] = HEX[c >> 4];
      e[2] = HEX[c & 15];
      rc = dbuf_append(out, e, 3);
    }
    if (rc != 0) return -1;
  }
  return 0;
}

/* Decodes every non-empty '&' piece of q into dec and records it in p.
 * Returns the number of pairs, or (size_t)-1 when out of memory. */
static size_t collect_pairs(const char *q, size_t len, qpair *p, dbuf *raw, dbuf *dec) {
  size_t off = 0, n = 0;
  while (off < len) {
    const char *amp = memchr(q + off, '&', len - off);
    size_t end = amp ? (size_t)(amp - q) : len;
    if (end > off) {
      const char *eq = memchr(q + off, '=', end - off);
      size_t nend = eq ? (size_t)(eq - q) : end;
      p[n].noff = dec->len;
      if (decode_component(q + off, nend - off, raw, dec) != 0) return (size_t)-1;
      p[n].nlen = dec->len - p[n].noff;
      p[n].voff = dec->len;
      if (eq && decode_component(eq + 1, end - nend - 1, raw, dec) != 0) return (size_t)-1;
      p[n].vlen = dec->len - p[n].voff;
      n++;
    }
    off = end + 1;
  }
  return n;
}

static int serialise_pairs(const dbuf *dec, const qpair *p, size_t n, dbuf *out) {
  const unsigned char *d = (const unsigned char *)dec->data;
  size_t i;
  for (i = 0; i < n; i++) {
    if (i > 0 && dbuf_putc(out, '&') != 0) return -1;
    if (form_encode(out, d + p[i].noff, p[i].nlen) != 0 || dbuf_putc(out, '=') != 0 ||
        form_encode(out, d + p[i].voff, p[i].vlen) != 0)
      return -1;
  }
  return 0;
}

int dsig_canonical_query(const char *q, size_t len, dbuf *out) {
  size_t max = 1, i, n;
  qpair *p = NULL;
  dbuf raw, dec;
  int rc = DSIG_E_NOMEM;
  if (len == 0) return DSIG_OK;
  for (i = 0; i < len; i++) max += q[i] == '&';
  dbuf_init(&raw);
  dbuf_init(&dec);
  /* max <= len + 1, so 2 * max pairs cannot overflow for any real input */
  if (max > ((size_t)-1) / (2 * sizeof *p)) goto done;
  p = malloc(2 * max * sizeof *p); /* the pairs, then the sort scratch */
  /* dec must own memory even if every pair is empty ("="): offsets are
   * added to dec.data, and NULL + 0 is undefined (found by the fuzzer) */
  if (p == NULL || dbuf_reserve(&dec, len) != 0) goto done;
  n = collect_pairs(q, len, p, &raw, &dec);
  if (n == (size_t)-1) goto done;
  sort_pairs(&dec, p, p + max, n);
  if (serialise_pairs(&dec, p, n, out) == 0) rc = DSIG_OK;
done:
  free(p);
  dbuf_free(&raw);
  dbuf_free(&dec);
  return rc;
}

/* ---- canonical string -------------------------------------------------- */

static int has_newline(const char *s, size_t n) { return memchr(s, '\n', n) != NULL || memchr(s, '\r', n) != NULL; }

static int append_case(dbuf *out, const char *s, size_t n, int upper) {
  size_t i;
  if (dbuf_reserve(out, n) != 0) return -1;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (upper && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    out->data[out->len++] = c;
  }
  out->data[out->len] = '\0';
  return 0;
}

int dsig_canonical(const char *t, size_t tlen, const char *account, size_t alen, const char *method,
                   size_t mlen, const char *url, size_t ulen, dbuf *out) {
  dsig_url u;
  if (tlen == 0 || alen == 0 || mlen == 0 || has_newline(t, tlen) || has_newline(account, alen) ||
      has_newline(method, mlen))
    return DSIG_E_FIELD;
  if (dsig_split_url(url, ulen, &u) != DSIG_OK) return DSIG_E_URL;
  if (has_newline(url + u.host.off, u.host.len) || has_newline(url + u.path.off, u.path.len)) return DSIG_E_URL;
  if (dbuf_append(out, t, tlen) || dbuf_putc(out, '\n') || dbuf_append(out, account, alen) ||
      dbuf_putc(out, '\n') || append_case(out, method, mlen, 1) || dbuf_putc(out, '\n') ||
      append_case(out, url + u.host.off, u.host.len, 0) || dbuf_putc(out, '\n'))
    return DSIG_E_NOMEM;
  if (u.path.len == 0 ? dbuf_putc(out, '/') : dbuf_append(out, url + u.path.off, u.path.len)) return DSIG_E_NOMEM;
  if (dbuf_putc(out, '\n')) return DSIG_E_NOMEM;
  return dsig_canonical_query(url + u.query.off, u.query.len, out);
}

const char *dsig_strerror(int code) {
  switch (code) {
  case DSIG_OK: return "ok";
  case DSIG_E_MISSING: return "header is missing";
  case DSIG_E_MALFORMED: return "header is malformed";
  case DSIG_E_NOMEM: return "out of memory";
  case DSIG_E_URL: return "url must be absolute (scheme://host/path?query)";
  case DSIG_E_FIELD: return "t, account_id and method must be non-empty single-line strings";
  default: return "unknown error";
  }
}
