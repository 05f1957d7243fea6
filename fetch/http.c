#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "stop.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	http_client *h = ud;
	if (h->max_body && size * n > h->max_body - h->body.len) {
		h->too_big = 1;
		return 0;
	}
	return lg_buf_add(&h->body, p, size * n) == 0 ? size * n : 0;
}

/* Copies the value of header "name:" when line is that header. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t k = strlen(name);
	if (len <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	const char *v = line + k + 1, *e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	size_t n = (size_t)(e - v) < outlen - 1 ? (size_t)(e - v) : outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 1;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	http_client *h = ud;
	size_t len = size * n;
	char v[64];
	if (header_value(p, len, "Retry-After", h->retry_after, sizeof h->retry_after))
		return len;
	/* A body announced larger than the bound is not read at all. */
	if (header_value(p, len, "Content-Length", v, sizeof v) && h->max_body &&
	    strtoull(v, NULL, 10) > h->max_body) {
		h->too_big = 1;
		return 0;
	}
	if (header_value(p, len, "X-RateLimit-Remaining", v, sizeof v))
		h->rl_remaining = strtol(v, NULL, 10);
	else if (header_value(p, len, "X-RateLimit-Limit", v, sizeof v))
		h->rl_limit = strtol(v, NULL, 10);
	return len;
}

/* Called at least once a second, even while nothing arrives: a stop
 * signal aborts the transfer (CURLE_ABORTED_BY_CALLBACK), and so do more
 * bytes on the wire than a body may have (dlnow counts them before gzip
 * decoding; on_body bounds what decoding makes of them). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	http_client *h = ud;
	if (h->max_body && (dlnow > (curl_off_t)h->max_body || dltotal > (curl_off_t)h->max_body)) {
		h->too_big = 1;
		return 1;
	}
	return stop_requested() ? 1 : 0;
}

#define SETOPT(opt, val) do { \
	CURLcode rc_ = curl_easy_setopt(h->curl, opt, val); \
	if (rc_ != CURLE_OK) { \
		snprintf(err, errlen, "curl: %s: %s", #opt, curl_easy_strerror(rc_)); \
		return -1; \
	} \
} while (0)

int http_init(http_client *h, const char *user, const char *password, const http_opts *o,
	      char *err, size_t errlen)
{
	static char agent[] = "lg/" LG_VERSION;
	memset(h, 0, sizeof *h);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h->curl = curl_easy_init())) {
		snprintf(err, errlen, "curl: cannot initialise");
		return -1;
	}
	SETOPT(CURLOPT_ERRORBUFFER, h->errbuf);
	SETOPT(CURLOPT_USERAGENT, agent);
	SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	SETOPT(CURLOPT_USERNAME, user);
	SETOPT(CURLOPT_PASSWORD, password);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L); /* credentials never go to another host */
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	SETOPT(CURLOPT_TIMEOUT, o->timeout_s);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, h);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, h);
	SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(CURLOPT_XFERINFODATA, h);
	h->max_body = o->max_body;
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	return 0;
}

CURLcode http_get(http_client *h, const char *url)
{
	h->body.len = 0;
	h->status = 0;
	h->retry_after[0] = '\0';
	h->rl_remaining = LONG_MIN;
	h->rl_limit = 0;
	h->errbuf[0] = '\0';
	h->too_big = 0;
	CURLcode rc = curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
	if (h->too_big)
		lg_buf_free(&h->body); /* its memory goes back before the next try */
	lg_buf_cstr(&h->body);
	return rc;
}

const char *http_strerror(http_client *h, CURLcode rc)
{
	return h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
}

void http_free(http_client *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
	lg_buf_free(&h->body);
	curl_global_cleanup();
}
