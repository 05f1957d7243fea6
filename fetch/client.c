#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "client.h"
#include "err.h"
#include "json.h"
#include "retry.h"
#include "stop.h"
#include "text.h"
#include "timeutil.h"

int64_t client_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In slices of at most 100 ms, so a stop signal cuts a long Retry-After or
 * backoff wait short. Returns the time slept, at most ms. */
int64_t client_sleep_ms(int64_t ms)
{
	int64_t start = client_clock_ms(), end = start + ms, left = ms;
	while (left > 0 && !stop_requested()) {
		int64_t slice = left < 100 ? left : 100;
		struct timespec ts = { 0, (long)slice * 1000000L };
		nanosleep(&ts, NULL);
		left = end - client_clock_ms();
	}
	return left > 0 ? ms - left : ms;
}

/* The endpoint for messages: the path without its query. */
static void endpoint(const char *path_query, char *out, size_t n)
{
	size_t k = strcspn(path_query, "?");
	snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), path_query);
}

/* The server's own words: "message" of a JSON body, else a short reason;
 * cleaned (text.h) and at most 200 bytes. */
static void server_message(const client *c, const char *body, char *out, size_t n)
{
	lg_json_error je;
	cJSON *j = body && *body ? lg_json_parse(body, strlen(body), &je) : NULL;
	const char *m = lg_json_str(j, "message");
	if (!m && body && (strstr(body, "<html") || strstr(body, "<!DOCTYPE")))
		m = "an HTML page";
	if (!m)
		m = body ? body : "";
	text_clean(m, strlen(m), out, n < 200 ? n : 200, c->masks);
	cJSON_Delete(j);
}

static void pace(client *c)
{
	if (c->rate_per_min <= 0 || !c->last_request_ms)
		return;
	int64_t gap = (int64_t)(60000.0 / c->rate_per_min);
	int64_t wait = c->last_request_ms + gap - client_clock_ms();
	if (wait > 0) {
		c->throttled_s += (double)client_sleep_ms(wait) / 1000.0;
	}
}

/* Slow down before the limit when the server says little is left. */
static void respect_remaining(client *c)
{
	http_client *h = &c->http;
	if (h->rl_remaining == LONG_MIN || h->rl_remaining > 1 || h->rl_limit <= 0)
		return;
	int64_t wait = 60000 / h->rl_limit;
	c->throttled_s += (double)client_sleep_ms(wait) / 1000.0;
}

static int transport_permanent(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT: case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR: case CURLE_OUT_OF_MEMORY:
		return 1;
	default:
		return 0;
	}
}

static get_result fail(client *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static get_result fail(client *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
	c->exit_code = code;
	return GET_FAIL;
}

void client_auth_hints(const client *c, long status)
{
	if (status == 403)
		lg_err("hint: an organization-scoped key cannot read a project: use the project's API keys");
	lg_err("hint: the public key starts with pk-lf-, the secret key with sk-lf-");
	lg_err("hint: use keys of the project you want to read, and check they were not revoked");
	lg_err("hint: keys only work on the host of their region (now %s): EU https://cloud.langfuse.com, "
	       "US https://us.cloud.langfuse.com, JP https://jp.cloud.langfuse.com, "
	       "HIPAA https://hipaa.cloud.langfuse.com, or your self-hosted URL", c->host);
}

/* One attempt. Returns a class, with *why set for retry messages. */
static resp_class attempt(client *c, const char *url, cJSON **out, char *why, size_t n,
			  CURLcode *crc)
{
	http_client *h = &c->http;
	int64_t t0 = client_clock_ms();
	pace(c);
	if (stop_requested()) {
		*crc = CURLE_ABORTED_BY_CALLBACK;
		return RESP_RETRY;
	}
	c->last_request_ms = client_clock_ms();
	c->requests++;
	*crc = http_get(h, url);
	if (c->verbose)
		lg_err("GET %s -> %ld (%zu bytes, %lld ms)", url, h->status, h->body.len,
		       (long long)(client_clock_ms() - t0));
	if (h->too_big) {
		snprintf(why, n, "a response larger than %zu bytes (--max-body)", h->max_body);
		return RESP_TOO_LARGE;
	}
	if (*crc != CURLE_OK) {
		snprintf(why, n, "%s", http_strerror(h, *crc));
		return RESP_RETRY;
	}
	resp_class k = retry_classify(h->status, h->body.data);
	if (k != RESP_OK) {
		char msg[300];
		server_message(c, h->body.data, msg, sizeof msg);
		snprintf(why, n, "HTTP %ld: %s", h->status, msg);
		return k;
	}
	lg_json_error je;
	*out = lg_json_parse(h->body.data, h->body.len, &je);
	if (!*out || !cJSON_IsObject(*out)) {
		if (*out)
			snprintf(why, n, "HTTP %ld with a JSON body that is not an object", h->status);
		else
			snprintf(why, n, "HTTP %ld with an invalid JSON body (byte %zu: %s)", h->status,
				 je.offset, je.msg);
		cJSON_Delete(*out);
		*out = NULL;
		return RESP_RETRY;
	}
	respect_remaining(c);
	return RESP_OK;
}

get_result client_get(client *c, const char *path_query, cJSON **out)
{
	lg_buf url = { 0 };
	char ep[256], why[600];
	int backoffs = 0, narrows = 0;
	int64_t start = client_clock_ms();
	get_result res;
	*out = NULL;
	endpoint(path_query, ep, sizeof ep);
	if (lg_buf_adds(&url, c->host) || lg_buf_adds(&url, path_query))
		return fail(c, LG_EXIT_BAD, "out of memory");
	const char *u = lg_buf_cstr(&url);
	for (;;) {
		CURLcode crc;
		if (stop_requested()) {
			res = fail(c, LG_EXIT_BAD, "interrupted by %s", stop_signal_name());
			break;
		}
		if (c->max_requests && c->requests >= c->max_requests) {
			res = fail(c, LG_EXIT_API, "GET %s: this run made %ld requests already (--max-requests)",
				   ep, c->requests);
			break;
		}
		resp_class k = attempt(c, u, out, why, sizeof why, &crc);
		long status = c->http.status;
		int64_t wait;
		int throttled = 0;
		if (stop_requested()) {
			cJSON_Delete(*out);
			*out = NULL;
			res = fail(c, LG_EXIT_BAD, "interrupted by %s", stop_signal_name());
			break;
		}
		if (k == RESP_OK) {
			res = GET_OK;
			break;
		}
		if (k == RESP_NOT_FOUND) {
			res = GET_NOT_FOUND;
			snprintf(c->error, sizeof c->error, "GET %s: %s", ep, why);
			break;
		}
		if (k == RESP_TOO_LARGE) {
			res = GET_TOO_LARGE;
			snprintf(c->error, sizeof c->error, "GET %s: %s", ep, why);
			break;
		}
		if (k == RESP_AUTH) {
			res = fail(c, LG_EXIT_AUTH, "Authentication failed: Invalid API credentials (%s from %s)", why, c->host);
			break;
		}
		if (k == RESP_GONE) {
			res = fail(c, LG_EXIT_API, "GET %s: %s: the legacy read API is gone for this organization "
				   "(removed from Langfuse Cloud on 2026-11-16); use --api v2", ep, why);
			break;
		}
		if (k == RESP_FATAL) {
			res = fail(c, LG_EXIT_API, "GET %s: %s", ep, why);
			break;
		}
		if (k == RESP_NARROW && narrows++ > 0) {
			res = GET_NARROW; /* a second time: the request is too big */
			break;
		}
		if (crc == CURLE_URL_MALFORMAT) {
			res = fail(c, LG_EXIT_USAGE, "host: not a valid URL (%s)", why);
			break;
		}
		if (crc != CURLE_OK && transport_permanent(crc)) {
			res = fail(c, LG_EXIT_NET, "%s: %s", c->host, why);
			break;
		}
		/* A Retry-After shorter than the first backoff (0, a past date)
		 * would have us hammer the server: it is a backoff retry instead,
		 * counted against --retries. */
		if (status == 429 && c->http.retry_after[0] &&
		    retry_after_parse(c->http.retry_after, lg_time_now(), &wait) == 0 && wait >= c->min_retry_after_ms) {
			if (wait > c->max_wait_ms) {
				res = fail(c, LG_EXIT_API, "GET %s: rate limited; the server asks to wait %llds "
					   "(more than %llds)", ep, (long long)(wait / 1000), (long long)(c->max_wait_ms / 1000));
				break;
			}
			throttled = 1;
		} else {
			if (backoffs >= c->max_attempts - 1) {
				res = fail(c, crc != CURLE_OK ? LG_EXIT_NET : LG_EXIT_API,
					   "GET %s: %s%s%s (gave up after %d attempts)", ep,
					   crc != CURLE_OK ? c->host : "", crc != CURLE_OK ? ": " : "", why, backoffs + 1);
				break;
			}
			wait = retry_backoff_ms(backoffs++, c->base_ms, c->cap_ms, drand48());
			if (status == 429 && wait < c->base_ms)
				wait = c->base_ms;
		}
		if (client_clock_ms() - start + wait > c->budget_ms) {
			res = fail(c, crc != CURLE_OK ? LG_EXIT_NET : LG_EXIT_API,
				   "GET %s: %s (gave up: retries would exceed %llds)", ep, why,
				   (long long)(c->budget_ms / 1000));
			break;
		}
		c->retries++;
		if (!c->quiet)
			lg_err("GET %s: %s; retry %ld in %.1fs%s", ep, why, c->retries, (double)wait / 1000.0,
			       throttled ? " (Retry-After)" : "");
		int64_t slept = client_sleep_ms(wait);
		if (throttled)
			c->throttled_s += (double)slept / 1000.0;
	}
	lg_buf_free(&url);
	return res;
}
