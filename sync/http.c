/* See http.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long http_pct_decode(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			int h = i + 1 < n ? hexval(in[i + 1]) : -1, l = i + 2 < n ? hexval(in[i + 2]) : -1;
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (long)o;
}

int http_split_path(const char *raw, char **segs, int max, char *buf, size_t bufcap)
{
	int n = 0;
	size_t used = 0;
	const char *p = raw;
	if (*p == '/')
		p++;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n == max)
			return -2;
		if (used >= bufcap)
			return -1;
		long got = http_pct_decode(p, len, buf + used, bufcap - used);
		if (got < 0)
			return -1;
		segs[n++] = buf + used;
		used += (size_t)got + 1;
		if (!end)
			return n;
		p = end + 1;
	}
}

int http_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > HTTP_MAX_ID)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* A route: its method and its segments after "api"; "*" is an id. */
static const struct {
	http_route route;
	const char *method;
	int n;
	const char *seg[4];
} routes[] = {
	{ R_HEALTH, "GET", 1, { "health" } },
	{ R_INTEGRATIONS, "GET", 1, { "integrations" } },
	{ R_SYNC, "POST", 3, { "integrations", "*", "sync" } },
	{ R_SYNC_STATUS, "GET", 4, { "integrations", "*", "sync", "status" } },
	{ R_RUNS, "GET", 3, { "integrations", "*", "runs" } },
	{ R_TRACES, "GET", 1, { "traces" } },
	{ R_TRACE, "GET", 2, { "traces", "*" } },
	{ R_STATS, "GET", 1, { "stats" } },
	{ R_POLICIES, "GET", 1, { "policies" } },
	{ R_VIOLATIONS, "GET", 2, { "policies", "violations" } },
	{ R_VIOLATIONS_BY_TRACE, "GET", 4, { "policies", "violations", "by-trace", "*" } },
	{ R_VIOLATION, "PATCH", 3, { "policies", "violations", "*" } },
	{ R_POLICY_TOGGLE, "POST", 3, { "policies", "*", "toggle" } },
};

http_route http_match(const char *method, char **segs, int n, const char **id, const char **allow)
{
	static const char *const allows[] = { "GET", "POST", "PATCH", "GET, POST", "GET, PATCH", "POST, PATCH",
					      "GET, POST, PATCH" };
	unsigned methods = 0; /* 1 GET, 2 POST, 4 PATCH */
	*id = NULL;
	*allow = NULL;
	for (size_t r = 0; r < sizeof routes / sizeof *routes; r++) {
		const char *rid = NULL;
		int i;
		if (routes[r].n != n)
			continue;
		for (i = 0; i < n; i++) {
			if (strcmp(routes[r].seg[i], "*") == 0) {
				if (!*segs[i])
					break;
				rid = segs[i];
			} else if (strcmp(routes[r].seg[i], segs[i]) != 0) {
				break;
			}
		}
		if (i < n)
			continue;
		if (strcmp(method, routes[r].method) == 0) {
			*id = rid;
			return routes[r].route;
		}
		methods |= routes[r].method[0] == 'G' ? 1u : routes[r].method[1] == 'O' ? 2u : 4u;
	}
	if (methods) {
		/* 1 -> GET, 2 -> POST, 3 -> GET, POST, 4 -> PATCH, 5 -> GET, PATCH, 6, 7 */
		static const int idx[8] = { 0, 0, 1, 3, 2, 4, 5, 6 };
		*allow = allows[idx[methods]];
	}
	return R_NONE;
}

int http_static_ok(char **segs, int n)
{
	if (n < 1)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *s = segs[i];
		if (!*s || *s == '.')
			return 0;
		/* A '/' decoded from %2F inside one segment would make openat()
		 * walk more than one component, ".." among them. */
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '/')
				return 0;
	}
	return 1;
}

const char *http_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".mjs", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

int http_token_eq(const char *got, size_t gotlen, const char *want, size_t wantlen)
{
	unsigned char diff = (unsigned char)(gotlen != wantlen);
	for (size_t i = 0; i < wantlen; i++)
		diff |= (unsigned char)(want[i] ^ (gotlen ? got[i % gotlen] : 0));
	return wantlen > 0 && diff == 0;
}

int http_parse_listen(const char *s, char *host, size_t hostcap, unsigned *port)
{
	const char *colon, *h = s;
	size_t hlen;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hostcap)
		return -1;
	long p;
	if (colon[1] == '0' && colon[2] == '\0')
		p = 0;
	else if (http_parse_count(colon + 1, 65535, &p) != 0)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return 0;
}

int http_parse_count(const char *s, long max, long *out)
{
	char *end;
	if (!s || *s < '1' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int http_cursor_ok(const char *s)
{
	const char *p = s + (*s == '-');
	size_t d = strspn(p, "0123456789");
	return d > 0 && d <= 19 && p[d] == ':' && http_id_ok(p + d + 1);
}
