/* Retry policy: what a response means and how long to wait before asking
 * again. Retry-After is authoritative on 429; everything else retryable
 * backs off exponentially with full jitter. */
#ifndef FETCH_RETRY_H
#define FETCH_RETRY_H
#include <stdint.h>

typedef enum {
	RESP_OK,         /* 2xx */
	RESP_RETRY,      /* 408, 429, 5xx (not 524), transport errors, bad bodies */
	RESP_NARROW,     /* ask for less: 422 "Request timed out", 524 */
	RESP_TOO_LARGE,  /* 422 PayloadTooLargeError: same cursor, smaller limit */
	RESP_AUTH,       /* 401, 403 */
	RESP_NOT_FOUND,  /* 404 */
	RESP_GONE,       /* 410 */
	RESP_FATAL,      /* any other 4xx */
} resp_class;

/* Classifies an HTTP status; body (may be NULL) tells the 422 kinds apart. */
resp_class retry_classify(long status, const char *body);
/* Retry-After: delay-seconds or an HTTP-date. Returns 0 with *wait_ms set
 * (0 for a date in the past), or -1 when the value is neither. */
int retry_after_parse(const char *value, int64_t now_ms, int64_t *wait_ms);
/* Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)];
 * rnd is a uniform number in [0, 1). attempt counts from 0. */
int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, double rnd);
#endif
