/* One Langfuse API request with the retry policy of retry.h around it:
 * 429 waits Retry-After (bounded), 5xx/408/transport errors/cut or invalid
 * JSON bodies back off with full jitter, bounded in attempts and total
 * time, one stderr line per retry; --rate paces requests. The outcome is a
 * parsed body or one clear message and the exit code of err.h. */
#ifndef FETCH_CLIENT_H
#define FETCH_CLIENT_H
#include <stdint.h>
#include <cjson/cJSON.h>

#include "http.h"

typedef struct {
	http_client http;
	const char *host;          /* normalised base URL */
	int max_attempts;          /* per request, for backoff retries */
	int64_t base_ms, cap_ms;   /* backoff */
	int64_t max_wait_ms;       /* longest Retry-After honoured */
	int64_t budget_ms;         /* total time one request may spend retrying */
	int64_t min_retry_after_ms; /* a shorter Retry-After is a backoff retry */
	long max_requests;         /* per run, 0 = none */
	double rate_per_min;       /* 0 = no cap */
	int quiet, verbose;
	const char *masks[3];      /* never repeated from server text: the
				    * secret key, the Basic credential */
	int64_t last_request_ms;
	long requests, retries;
	double throttled_s;
	char error[1024];          /* why the last request failed */
	int exit_code;             /* and its exit status */
} client;

typedef enum {
	GET_OK,         /* *out holds the parsed JSON body */
	GET_NOT_FOUND,  /* 404 (JSON or HTML): the caller decides */
	GET_NARROW,     /* 422 "Request timed out" / 524 twice: ask for less */
	GET_TOO_LARGE,  /* 422 PayloadTooLargeError, or a body over --max-body:
			 * smaller limit (error says which) */
	GET_FAIL,       /* error and exit_code set */
} get_result;

/* GET host + path_query. */
get_result client_get(client *c, const char *path_query, cJSON **out);
/* Hints after an authentication failure, on stderr: the kind of key, its
 * project, the host of its region. */
void client_auth_hints(const client *c, long status);
/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC). */
int64_t client_clock_ms(void);
/* Sleeps ms, or less when a stop signal arrives; returns the ms slept. */
int64_t client_sleep_ms(int64_t ms);
#endif
