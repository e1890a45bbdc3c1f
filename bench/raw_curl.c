/*
 * raw_curl.c - the limit for bench/requests.lua: N sequential GETs on one
 * reused libcurl easy handle, the body kept in a reused buffer and decoded
 * into nothing. Built by the bench into build/bench/raw_curl.
 *
 *   raw_curl URL N [CA_FILE [BEARER_TOKEN]]
 *
 * One untimed warm-up request opens the connection (and the TLS session);
 * then N timed requests. Prints one line:
 *   requests=N wall_s=... user_s=... sys_s=... bytes=... connects=...
 * where wall is CLOCK_MONOTONIC over the timed loop and user/sys come from
 * getrusage(RUSAGE_SELF) over the same loop. Exits 1 on any failed request.
 *
 * Built a second time with -DDECODE_INTO_LUA (build/bench/raw_curl_lua): then
 * every body is also decoded into Lua tables in a bare Lua state by the
 * library's own C decoder, and the result dropped for the collector. That is
 * the floor for any Lua client that decodes: libcurl, the decode and its GC,
 * and nothing else.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef DECODE_INTO_LUA
#include "ljson.h"
static lua_State *L;

static int decode_body(const char *data, size_t len) {
  char err[256];
  if (!djson_decode(L, data, len, err, sizeof err)) {
    fprintf(stderr, "raw_curl: JSON: %s\n", err);
    return -1;
  }
  lua_pop(L, 1);
  return 0;
}
#else
static int decode_body(const char *data, size_t len) {
  (void)data;
  (void)len;
  return 0;
}
#endif

typedef struct buf {
  char *data;
  size_t len, cap;
} buf;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  buf *b = ud;
  size_t len = size * n;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 8192;
    char *d;
    while (cap < b->len + len) cap *= 2;
    d = realloc(b->data, cap);
    if (d == NULL) return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, len);
  b->len += len;
  return len;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

static int one(CURL *e, buf *b, const char *url, size_t *bytes) {
  long status = 0;
  CURLcode rc;
  b->len = 0;
  rc = curl_easy_perform(e);
  if (rc != CURLE_OK) {
    fprintf(stderr, "raw_curl: %s: %s\n", url, curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 || b->len == 0) {
    fprintf(stderr, "raw_curl: %s: HTTP %ld, %zu bytes\n", url, status, b->len);
    return -1;
  }
  *bytes += b->len;
  return decode_body(b->data, b->len);
}

int main(int argc, char **argv) {
  const char *url, *ca = NULL, *token = "bench-access-token";
  long n, i, connects = 0;
  char auth[512];
  struct curl_slist *headers = NULL;
  buf b = {NULL, 0, 0};
  size_t bytes = 0;
  struct rusage r0, r1;
  double t0, t1;
  CURL *e;
  if (argc < 3) {
    fprintf(stderr, "usage: raw_curl URL N [CA_FILE [BEARER_TOKEN]]\n");
    return 2;
  }
  url = argv[1];
  n = atol(argv[2]);
  if (argc > 3 && argv[3][0]) ca = argv[3];
  if (argc > 4) token = argv[4];
  if (n < 1) n = 1;
#ifdef DECODE_INTO_LUA
  L = luaL_newstate();
  if (L == NULL) return 1;
#if LUA_VERSION_NUM >= 504
  lua_gc(L, LUA_GCGEN, 0, 0); /* as the lua5.4 interpreter runs the other Lua peers */
#endif
#endif
  curl_global_init(CURL_GLOBAL_DEFAULT);
  e = curl_easy_init();
  if (e == NULL) return 1;
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, auth);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (ca) curl_easy_setopt(e, CURLOPT_CAINFO, ca);
  if (one(e, &b, url, &bytes) != 0) return 1; /* warm-up: connection, TLS */
  bytes = 0;
  getrusage(RUSAGE_SELF, &r0);
  t0 = now();
  for (i = 0; i < n; i++) {
    long c = 0;
    if (one(e, &b, url, &bytes) != 0) return 1;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &c);
    connects += c;
  }
  t1 = now();
  getrusage(RUSAGE_SELF, &r1);
  printf("requests=%ld wall_s=%.6f user_s=%.6f sys_s=%.6f bytes=%zu connects=%ld\n", n, t1 - t0,
         tv(r1.ru_utime) - tv(r0.ru_utime), tv(r1.ru_stime) - tv(r0.ru_stime), bytes, connects);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  curl_global_cleanup();
  free(b.data);
#ifdef DECODE_INTO_LUA
  lua_close(L);
#endif
  return 0;
}
