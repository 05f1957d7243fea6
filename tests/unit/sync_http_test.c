/* sync/http.c: what lg-sync serve reads from a client before anything
 * runs: escapes, path segments, routes and their methods, static names,
 * content types, the token comparison, --listen, counts, cursors. */
#include <stdlib.h>
#include <string.h>

#include "../../sync/http.h"
#include "t.h"

static const char *decode(const char *in)
{
	static char out[64];
	return http_pct_decode(in, strlen(in), out, sizeof out) < 0 ? "(bad)" : out;
}

/* The segments of a path joined with '|', or "(bad)" / "(many)". */
static const char *split(const char *raw)
{
	static char joined[512];
	char buf[256], *segs[HTTP_MAX_SEGS];
	int n = http_split_path(raw, segs, HTTP_MAX_SEGS, buf, sizeof buf);
	if (n < 0)
		return n == -1 ? "(bad)" : "(many)";
	joined[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(joined, "|");
		strcat(joined, segs[i]);
	}
	return joined;
}

/* route(method, "a/b/c"): the route number, and the id or allow in *extra. */
static int route(const char *method, const char *path, const char **extra)
{
	static char buf[256];
	char *segs[HTTP_MAX_SEGS];
	int n = http_split_path(path, segs, HTTP_MAX_SEGS, buf, sizeof buf);
	const char *id, *allow;
	http_route r = http_match(method, segs, n, &id, &allow);
	*extra = r == R_NONE ? allow : id;
	return (int)r;
}

static int is_static(const char *path)
{
	char buf[256], *segs[HTTP_MAX_SEGS];
	int n = http_split_path(path, segs, HTTP_MAX_SEGS, buf, sizeof buf);
	return n > 0 && http_static_ok(segs, n);
}

int main(void)
{
	/* ---- percent escapes ---- */
	T_STR(decode("a%2Fb"), "a/b", "decode: %2F");
	T_STR(decode("%41%62"), "Ab", "decode: both cases of hex");
	T_STR(decode("plain"), "plain", "decode: nothing to do");
	T_STR(decode("a+b"), "a+b", "decode: + stays (a path's +)");
	T_STR(decode("%"), "(bad)", "decode: lone %");
	T_STR(decode("%4"), "(bad)", "decode: one hex digit");
	T_STR(decode("%zz"), "(bad)", "decode: not hex");
	T_STR(decode("a%00b"), "(bad)", "decode: %00 refused");
	{
		char out[4];
		T_INT(http_pct_decode("abcd", 4, out, sizeof out), -1, "decode: does not fit");
		T_INT(http_pct_decode("abc", 3, out, sizeof out), 3, "decode: fits exactly");
	}

	/* ---- segments ---- */
	T_STR(split("/api/traces/abc"), "api|traces|abc", "split: three");
	T_STR(split("/api/traces/a%2Fb"), "api|traces|a/b", "split: %2F stays inside its segment");
	T_STR(split("/"), "", "split: root is one empty segment");
	T_STR(split("/api/traces/"), "api|traces|", "split: trailing slash: an empty segment");
	T_STR(split("/console/%2e%2e/x"), "console|..|x", "split: %2e%2e decodes to ..");
	T_STR(split("/a/%zz"), "(bad)", "split: bad escape");
	T_STR(split("/1/2/3/4/5/6/7/8/9"), "(many)", "split: too many segments");

	/* ---- routes ---- */
	const char *x;
	T_INT(route("GET", "health", &x), R_HEALTH, "route: health");
	T_INT(route("GET", "integrations", &x), R_INTEGRATIONS, "route: integrations");
	T_INT(route("POST", "integrations/prod/sync", &x), R_SYNC, "route: sync");
	T_STR(x, "prod", "route: sync's id");
	T_INT(route("GET", "integrations/prod/sync/status", &x), R_SYNC_STATUS, "route: sync status");
	T_INT(route("GET", "integrations/prod/sync", &x), R_NONE, "route: GET on sync");
	T_STR(x, "POST", "route: sync allows POST");
	T_INT(route("GET", "traces", &x), R_TRACES, "route: traces");
	T_INT(route("GET", "traces/a%2Fb", &x), R_TRACE, "route: a trace");
	T_STR(x, "a/b", "route: the trace's id decoded");
	T_INT(route("GET", "traces/", &x), R_NONE, "route: empty id");
	T_OK(x == NULL, "route: empty id is no route (404)");
	T_INT(route("DELETE", "traces", &x), R_NONE, "route: DELETE traces");
	T_STR(x, "GET", "route: traces allow GET");
	T_INT(route("GET", "stats", &x), R_STATS, "route: stats");
	T_INT(route("GET", "policies", &x), R_POLICIES, "route: policies");
	T_INT(route("GET", "policies/violations", &x), R_VIOLATIONS, "route: violations");
	T_INT(route("GET", "policies/violations/by-trace/t1", &x), R_VIOLATIONS_BY_TRACE, "route: by-trace");
	T_STR(x, "t1", "route: by-trace's id");
	T_INT(route("PATCH", "policies/violations/v1", &x), R_VIOLATION, "route: PATCH a violation");
	T_INT(route("GET", "policies/violations/v1", &x), R_NONE, "route: GET a violation");
	T_STR(x, "PATCH", "route: a violation allows PATCH");
	T_INT(route("POST", "policies/pii/toggle", &x), R_POLICY_TOGGLE, "route: toggle");
	T_STR(x, "pii", "route: toggle's id");
	T_INT(route("PATCH", "policies/violations/toggle", &x), R_VIOLATION, "route: a violation named toggle");
	T_INT(route("GET", "policies/violations/toggle", &x), R_NONE, "route: GET policies/violations/toggle");
	T_STR(x, "POST, PATCH", "route: both routes of that path allowed");
	T_INT(route("GET", "nothing", &x), R_NONE, "route: unknown");
	T_OK(x == NULL, "route: unknown has no allow (404)");
	T_INT(route("HEAD", "health", &x), R_NONE, "route: HEAD on the API");
	T_STR(x, "GET", "route: health allows GET");

	/* ---- ids ---- */
	T_OK(http_id_ok("abc-123"), "id: plain");
	T_OK(!http_id_ok(""), "id: empty");
	T_OK(!http_id_ok("a\tb"), "id: a tab");
	T_OK(!http_id_ok("a\x7f"), "id: DEL");
	{
		char *big = malloc(HTTP_MAX_ID + 2);
		memset(big, 'x', HTTP_MAX_ID + 1);
		big[HTTP_MAX_ID + 1] = '\0';
		T_OK(!http_id_ok(big), "id: over the store's key");
		big[HTTP_MAX_ID] = '\0';
		T_OK(http_id_ok(big), "id: the longest");
		free(big);
	}

	/* ---- static names ---- */
	T_OK(is_static("/app.js"), "static: a file");
	T_OK(is_static("/css/site.css"), "static: in a directory");
	T_OK(!is_static("/../etc/passwd"), "static: ..");
	T_OK(!is_static("/%2e%2e/etc/passwd"), "static: %2e%2e");
	T_OK(!is_static("/%2E./x"), "static: %2E.");
	T_OK(!is_static("/.git/config"), "static: a dot file");
	T_OK(!is_static("/a/./b"), "static: .");
	T_OK(!is_static("/a//b"), "static: an empty segment");
	T_OK(!is_static("/a%5cb"), "static: a backslash");
	T_OK(!is_static("/a%0ab"), "static: a newline");
	T_OK(!is_static("/sub%2f..%2f..%2fetc%2fpasswd"), "static: %2f inside a segment");
	T_OK(!is_static("/sub%2Fx.txt"), "static: %2F, no dots");
	T_STR(http_content_type("index.html"), "text/html; charset=utf-8", "type: html");
	T_STR(http_content_type("app.js"), "text/javascript; charset=utf-8", "type: js");
	T_STR(http_content_type("site.css"), "text/css; charset=utf-8", "type: css");
	T_STR(http_content_type("logo.svg"), "image/svg+xml", "type: svg");
	T_STR(http_content_type("shot.png"), "image/png", "type: png");
	T_STR(http_content_type("data.json"), "application/json", "type: json");
	T_OK(http_content_type("run.sh") == NULL, "type: not served");
	T_OK(http_content_type("README") == NULL, "type: no extension");
	T_OK(http_content_type("x.HTML") == NULL, "type: case matters");

	/* ---- the token ---- */
	T_OK(http_token_eq("secret-token-123", 16, "secret-token-123", 16), "token: equal");
	T_OK(!http_token_eq("secret-token-124", 16, "secret-token-123", 16), "token: last byte");
	T_OK(!http_token_eq("secret-token-12", 15, "secret-token-123", 16), "token: shorter");
	T_OK(!http_token_eq("secret-token-1234", 17, "secret-token-123", 16), "token: longer");
	T_OK(!http_token_eq("", 0, "secret-token-123", 16), "token: empty");
	T_OK(!http_token_eq("", 0, "", 0), "token: no token never matches");

	/* ---- --listen ---- */
	char host[64];
	unsigned port = 1;
	T_INT(http_parse_listen("127.0.0.1:8077", host, sizeof host, &port), 0, "listen: v4");
	T_STR(host, "127.0.0.1", "listen: v4 host");
	T_INT(port, 8077, "listen: v4 port");
	T_INT(http_parse_listen("[::1]:0", host, sizeof host, &port), 0, "listen: v6, port 0");
	T_STR(host, "::1", "listen: v6 host without brackets");
	T_INT(port, 0, "listen: port 0");
	T_INT(http_parse_listen("localhost:80", host, sizeof host, &port), 0, "listen: localhost");
	T_INT(http_parse_listen("::1:80", host, sizeof host, &port), -1, "listen: v6 without brackets");
	T_INT(http_parse_listen("127.0.0.1", host, sizeof host, &port), -1, "listen: no port");
	T_INT(http_parse_listen("127.0.0.1:65536", host, sizeof host, &port), -1, "listen: port too big");
	T_INT(http_parse_listen("127.0.0.1:80x", host, sizeof host, &port), -1, "listen: port not a number");
	T_INT(http_parse_listen(":80", host, sizeof host, &port), -1, "listen: no host");

	/* ---- counts and cursors ---- */
	long n = 0;
	T_INT(http_parse_count("50", 1000, &n), 0, "count: 50");
	T_INT(n, 50, "count: value");
	T_INT(http_parse_count("0", 1000, &n), -1, "count: 0");
	T_INT(http_parse_count("1001", 1000, &n), -1, "count: over the max");
	T_INT(http_parse_count("-5", 1000, &n), -1, "count: negative");
	T_INT(http_parse_count("07", 1000, &n), -1, "count: leading zero");
	T_INT(http_parse_count("99999999999999999999", 1000, &n), -1, "count: overflow");
	T_OK(http_cursor_ok("1796551057738:2b498aba"), "cursor: MS:ID");
	T_OK(http_cursor_ok("-9223372036854775808:x"), "cursor: a record without time");
	T_OK(http_cursor_ok("1:a:b"), "cursor: an id with a colon");
	T_OK(!http_cursor_ok("1796551057738"), "cursor: no id");
	T_OK(!http_cursor_ok("x:1"), "cursor: no time");
	T_OK(!http_cursor_ok("1:"), "cursor: empty id");
	T_OK(!http_cursor_ok("12345678901234567890:x"), "cursor: 20 digits");
	return t_done();
}
