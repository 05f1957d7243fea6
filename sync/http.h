/* The pieces of lg-sync serve that read what a client sent: paths and
 * their percent escapes, routes, query values, the listen address, the
 * token comparison, static file names. Pure functions: no I/O, no MHD. */
#ifndef SYNC_HTTP_H
#define SYNC_HTTP_H
#include <stddef.h>

#define HTTP_MAX_SEGS 8
#define HTTP_MAX_ID 503        /* the longest externalId the store indexes */

/* Decodes %XX escapes of in[0..n) into out (NUL-terminated, at most cap
 * bytes with it). Refuses a bad escape, an escaped or raw NUL, and a text
 * that does not fit. Returns the decoded length, or -1. */
long http_pct_decode(const char *in, size_t n, char *out, size_t cap);

/* Splits a raw path ("/api/traces/a%2Fb") on '/' and decodes each segment
 * once (so %2F stays inside its segment). The segments point into buf.
 * Returns their number (a leading '/' gives no empty first segment), -1
 * for a bad escape or a path that does not fit, -2 for too many segments. */
int http_split_path(const char *raw, char **segs, int max, char *buf, size_t bufcap);

/* 1 when s is an id the API takes in a path: 1..HTTP_MAX_ID bytes, no
 * control character (bytes below 0x20, 0x7f). */
int http_id_ok(const char *s);

/* The API's routes. */
typedef enum {
	R_NONE, R_HEALTH, R_INTEGRATIONS, R_SYNC, R_SYNC_STATUS, R_TRACES, R_TRACE, R_STATS,
	R_POLICIES, R_VIOLATIONS, R_VIOLATIONS_BY_TRACE, R_VIOLATION, R_POLICY_TOGGLE, R_RUNS,
} http_route;

/* Matches the segments after "api" (segs[0] is the first one after it)
 * and the method. Returns the route; R_NONE with *allow set to the methods
 * the path has ("GET", "POST", "PATCH", comma separated) when only the
 * method is wrong, or *allow NULL when no route has that path. *id is the
 * path's id segment (NULL when it has none). */
http_route http_match(const char *method, char **segs, int n, const char **id, const char **allow);

/* 1 when the static path's segments name a file we may serve: none empty,
 * "." or "..", none starting with '.', no '\\', '/' (from %2F) or control character. */
int http_static_ok(char **segs, int n);
/* The Content-Type for a file name, by its extension; NULL when the
 * server does not serve such files. */
const char *http_content_type(const char *name);

/* Whether two strings are equal, in time that depends only on the length
 * of want (the token), not on where they differ or on got's length. */
int http_token_eq(const char *got, size_t gotlen, const char *want, size_t wantlen);

/* "127.0.0.1:8077", "[::1]:8077", "localhost:8077" -> host (without the
 * brackets) and port (0..65535). Returns 0, or -1. */
int http_parse_listen(const char *s, char *host, size_t hostcap, unsigned *port);

/* 1 when s has the form of a traces cursor: "MS:ID" (a time key). */
int http_cursor_ok(const char *s);

/* A positive integer of at most max from a query or body value; 0, or -1. */
int http_parse_count(const char *s, long max, long *out);
#endif
