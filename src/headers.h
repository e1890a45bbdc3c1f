/*
 * headers.h - splitting raw HTTP response header lines (plain C, no Lua).
 *
 * The input is what libcurl handed the header callback for the final
 * response: "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n". Lines without a colon
 * (the status line, the blank line) are skipped; names longer than
 * DHEADERS_MAX_NAME are skipped rather than truncated, so a truncated name can
 * never alias a real one. Values are trimmed of surrounding blanks.
 */
#ifndef DINTERO_HEADERS_H
#define DINTERO_HEADERS_H

#include <stddef.h>

#define DHEADERS_MAX_NAME 127

/* Called once per header with the name lower-cased into a NUL-terminated
 * buffer and the value as a pointer into the input. Returning non-zero stops. */
typedef int (*dheaders_fn)(void *ud, const char *name, size_t name_len, const char *value, size_t value_len);

/* Returns the number of headers passed to fn. */
int dheaders_each(const char *p, size_t n, dheaders_fn fn, void *ud);

#endif
