/*
 * http.c - one HTTP exchange over a reused libcurl easy handle. See http.h.
 *
 * Safety choices made here rather than by callers:
 *  - redirects are never followed (a 3xx could downgrade https to http or
 *    leak the Authorization header to another host);
 *  - only http and https are allowed as protocols;
 *  - "Expect: 100-continue" is suppressed (an extra round trip per POST);
 *  - peer and host verification stay on; there is no option to turn them off.
 */
#include "http.h"

#include <string.h>

/* Frees a header list after zeroing its lines: libcurl's copies of the
 * Authorization lines carry the client secret (Basic) or the access token. */
static void wipe_slist(struct curl_slist *list) {
  struct curl_slist *l;
  for (l = list; l; l = l->next) dwipe_str(l->data);
  curl_slist_free_all(list);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  dhttp_conn *c = ud;
  size_t len = size * n;
  if (c->body.len + len > c->cfg->max_response_bytes) {
    c->overflow = DHTTP_TOO_LARGE;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (dbuf_append(&c->body, p, len) != 0) return 0;
  return len;
}

/* Keeps the header lines of the final response only: a new status line
 * (after a 1xx) starts over. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  dhttp_conn *c = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    dbuf_reset(&c->head);
    c->header_count = 0;
  }
  c->header_count++;
  if (c->header_count > c->cfg->max_header_count || c->head.len + len > c->cfg->max_header_bytes) {
    c->overflow = DHTTP_HEADERS;
    return 0;
  }
  if (dbuf_append(&c->head, p, len) != 0) return 0;
  return len;
}

static void apply_config(dhttp_conn *c) {
  CURL *e = c->easy;
  const dhttp_config *cfg = c->cfg;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  /* gzip is what servers send; "" (every encoding libcurl knows) costs more
   * per request for encodings Dintero does not use. */
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_response_bytes);
  if (cfg->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
  if (cfg->proxy) curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy);
  if (cfg->user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
}

int dhttp_conn_init(dhttp_conn *c, const dhttp_config *cfg) {
  memset(c, 0, sizeof *c);
  dbuf_init(&c->body);
  dbuf_init(&c->head);
  dbuf_init(&c->send);
  c->cfg = cfg;
  c->easy = curl_easy_init();
  if (c->easy == NULL) return -1;
  apply_config(c);
  return 0;
}

void dhttp_conn_free(dhttp_conn *c) {
  if (c->easy) curl_easy_cleanup(c->easy);
  c->easy = NULL;
  wipe_slist(c->req_headers);
  c->req_headers = NULL;
  dbuf_wipe(&c->body); /* may hold the token endpoint's answer */
  dbuf_free(&c->head);
  dbuf_wipe(&c->send); /* may hold a password grant */
}

void dhttp_conn_trim(dhttp_conn *c) {
  /* 256 KiB covers a page of 100 transactions; bigger blocks go back. */
  if (c->body.cap > 262144) dbuf_free(&c->body);
  if (c->send.cap > 262144) dbuf_free(&c->send);
}

static int set_method(CURL *e, const char *method, size_t body_len) {
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
  curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return 0;
  }
  if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0 ||
      strcmp(method, "PATCH") == 0) {
    if (strcmp(method, "DELETE") == 0 && body_len == 0) {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
    }
    if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    return 0;
  }
  return -1;
}

/* Whether list already holds exactly these lines: consecutive requests
 * mostly send the same headers, and rebuilding the list costs two
 * allocations per line. */
static int same_lines(const struct curl_slist *list, const char *const *headers) {
  for (; headers && *headers; headers++, list = list->next) {
    if (list == NULL || strcmp(list->data, *headers) != 0) return 0;
  }
  return list == NULL;
}

int dhttp_prepare(dhttp_conn *c, const char *method, const char *url, const char *const *headers,
                  int fresh) {
  CURL *e = c->easy;
  struct curl_slist *list = NULL;
  dbuf_reset(&c->body);
  dbuf_reset(&c->head);
  c->header_count = 0;
  c->overflow = 0;
  c->errbuf[0] = '\0';
  if (!same_lines(c->req_headers, headers)) {
    wipe_slist(c->req_headers);
    c->req_headers = NULL;
    for (; headers && *headers; headers++) {
      struct curl_slist *next = curl_slist_append(list, *headers);
      if (next == NULL) {
        wipe_slist(list);
        return DHTTP_PREP_NOMEM;
      }
      list = next;
    }
    c->req_headers = list;
  }
  if (set_method(e, method, c->send.len) != 0) return DHTTP_PREP_METHOD;
  if (strcmp(method, "GET") != 0 && !(strcmp(method, "DELETE") == 0 && c->send.len == 0)) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->send.len ? c->send.data : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->send.len);
  }
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
  return 0;
}

static dhttp_fail classify(dhttp_conn *c, CURLcode code) {
  switch (code) {
  case CURLE_OK: return DHTTP_OK;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT: return DHTTP_CONNECT;
  case CURLE_OPERATION_TIMEDOUT: return DHTTP_TIMEOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_CRL_BADFILE: return DHTTP_TLS;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_BAD_CONTENT_ENCODING: return DHTTP_DROPPED;
  case CURLE_FILESIZE_EXCEEDED: return DHTTP_TOO_LARGE;
  case CURLE_WRITE_ERROR: return c->overflow ? (dhttp_fail)c->overflow : DHTTP_OTHER;
  case CURLE_OUT_OF_MEMORY:
    /* libcurl 7.88 refuses a header line above its own 100 KiB limit with
     * this code and no message, before our header callback sees the line.
     * Seen after the status line and before any body byte, that is what it
     * means (a real allocation failure there is far less likely). */
    return c->head.len > 0 && c->body.len == 0 ? DHTTP_HEADERS : DHTTP_OTHER;
  default: return DHTTP_OTHER;
  }
}

void dhttp_finish(dhttp_conn *c, CURLcode code, dhttp_result *r) {
  long connects = 0, request_size = 0;
  double total = 0;
  char *ctype = NULL;
  memset(r, 0, sizeof *r);
  r->code = code;
  r->fail = classify(c, code);
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME, &total);
  curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ctype);
  r->content_type = ctype;
  r->seconds = total;
  r->reused = connects == 0 && r->fail != DHTTP_CONNECT;
  r->sent = request_size > 0 || r->status > 0;
  r->connected = r->fail != DHTTP_CONNECT && r->fail != DHTTP_TLS;
  if (r->fail == DHTTP_TLS || r->fail == DHTTP_CONNECT) r->sent = 0;
  if (code != CURLE_OK) {
    const char *m = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);
    size_t n = strlen(m);
    if (n >= sizeof r->errmsg) n = sizeof r->errmsg - 1;
    memcpy(r->errmsg, m, n);
    r->errmsg[n] = '\0';
  }
  if (r->fail != DHTTP_OK) r->status = r->fail == DHTTP_TOO_LARGE || r->fail == DHTTP_HEADERS ? r->status : 0;
}

void dhttp_perform(dhttp_conn *c, dhttp_result *r) {
  CURLcode code = curl_easy_perform(c->easy);
  dhttp_finish(c, code, r);
}
