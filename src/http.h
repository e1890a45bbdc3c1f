/*
 * http.h - one HTTP exchange over libcurl (plain C, no Lua).
 *
 * A dhttp_conn owns one curl easy handle and the buffers of the exchange in
 * flight. The handle is reused, so libcurl keeps the connection, the TLS
 * session and the DNS answer between exchanges. libcurl callbacks only fill
 * these C buffers; Lua values are built by the caller after the transfer.
 *
 * Invariants: between exchanges body/head hold the last response (until the
 * next dhttp_prepare); req_headers is owned here and freed by the next
 * prepare or by dhttp_conn_free; every field is safe to free at any time.
 */
#ifndef DINTERO_HTTP_H
#define DINTERO_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "buf.h"

/* Settings shared by every handle of a client. Strings are owned by the
 * client (lclient.c) and outlive the handles. */
typedef struct dhttp_config {
  long timeout_ms;
  long connect_timeout_ms;
  const char *ca_file;
  const char *proxy;
  const char *user_agent;
  size_t max_response_bytes;
  size_t max_header_bytes;
  int max_header_count;
} dhttp_config;

/* Why an exchange failed, in the library's terms. */
typedef enum dhttp_fail {
  DHTTP_OK = 0,
  DHTTP_CONNECT,   /* never connected: refused, no route, name did not resolve */
  DHTTP_TIMEOUT,   /* the whole-request or connect timeout fired */
  DHTTP_TLS,       /* handshake or certificate failure */
  DHTTP_DROPPED,   /* connection closed or broken before a full response */
  DHTTP_TOO_LARGE, /* body above max_response_bytes */
  DHTTP_HEADERS,   /* headers above the count or size limit */
  DHTTP_OTHER
} dhttp_fail;

typedef struct dhttp_result {
  dhttp_fail fail;
  CURLcode code;
  long status;
  int sent;        /* the request may have reached the server */
  int reused;      /* no new connection was opened */
  int connected;   /* a TCP connection existed at some point */
  double seconds;
  const char *content_type; /* owned by curl, valid until the next exchange */
  char errmsg[CURL_ERROR_SIZE];
} dhttp_result;

typedef struct dhttp_conn {
  CURL *easy;
  dbuf body;    /* response body */
  dbuf head;    /* raw response header lines of the final response */
  dbuf send;    /* request body */
  struct curl_slist *req_headers;
  const dhttp_config *cfg;
  int header_count;
  int overflow; /* which limit stopped the transfer: 0, DHTTP_TOO_LARGE or DHTTP_HEADERS */
  char errbuf[CURL_ERROR_SIZE];
} dhttp_conn;

/* Creates the easy handle and applies the shared settings. 0 or -1. */
int dhttp_conn_init(dhttp_conn *c, const dhttp_config *cfg);
void dhttp_conn_free(dhttp_conn *c);

/* Clears the last exchange and sets method, URL and headers (NULL-terminated
 * array of "Name: value" lines) for the next one; the request body is what
 * c->send holds (len 0 = none). fresh != 0 forbids reusing a kept-alive
 * connection (payment writes: libcurl silently replays a request whose reused
 * connection turns out dead, which must never happen to a capture). Returns 0,
 * DHTTP_PREP_METHOD (a method libcurl is not set up for here) or
 * DHTTP_PREP_NOMEM. */
#define DHTTP_PREP_METHOD (-1)
#define DHTTP_PREP_NOMEM (-2)
int dhttp_prepare(dhttp_conn *c, const char *method, const char *url, const char *const *headers,
                  int fresh);

/* Classifies a finished transfer (from curl_easy_perform or the multi
 * interface) into r. */
void dhttp_finish(dhttp_conn *c, CURLcode code, dhttp_result *r);

/* Runs one exchange on this handle (blocking). */
void dhttp_perform(dhttp_conn *c, dhttp_result *r);

/* Releases oversized buffers after an exchange so one large response does not
 * pin memory for the life of the client. */
void dhttp_conn_trim(dhttp_conn *c);

#endif
