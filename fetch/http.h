/* libcurl used like the curl tool: one easy handle reused (keep-alive),
 * every setopt checked, an error buffer, gzip, connect and low-speed
 * timeouts and a deadline for the whole request (a server dripping bytes
 * holds a run no longer), a bound on the body before and after gzip (a
 * server cannot exhaust memory), TLS verification on, no redirects, Basic
 * auth through CURLOPT_USERNAME/PASSWORD (never a URL or argv). */
#ifndef FETCH_HTTP_H
#define FETCH_HTTP_H
#include <curl/curl.h>

#include "buf.h"

typedef struct {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	lg_buf body;
	long status;
	char retry_after[64];     /* Retry-After header of the last response */
	long rl_remaining;        /* X-RateLimit-Remaining, or LONG_MIN */
	long rl_limit;            /* X-RateLimit-Limit, or 0 */
	size_t max_body;          /* most bytes of a body, received or decoded */
	int too_big;              /* the last body passed max_body: cut short */
} http_client;

typedef struct {
	long connect_timeout_s;   /* connection phase */
	long low_speed_time_s;    /* abort below 1 byte/s for this long */
	long timeout_s;           /* whole request, 0 = none */
	size_t max_body;          /* bound of a body, compressed and decoded */
} http_opts;

/* Returns 0, or -1 with err set (curl's own words). */
int http_init(http_client *h, const char *user, const char *password, const http_opts *o,
	      char *err, size_t errlen);
/* GET url: fills status, body (NUL-terminated), headers. Returns the curl
 * code; on failure the reason is curl's error buffer (http_strerror). */
CURLcode http_get(http_client *h, const char *url);
const char *http_strerror(http_client *h, CURLcode rc);
void http_free(http_client *h);
#endif
