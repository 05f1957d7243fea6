/* Which API generation holds the data: lg-fetch --test's probes, and the
 * check --api auto makes that v2, when it answers, holds what the legacy
 * endpoints hold. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "text.h"
#include "timeutil.h"
#include "url.h"

/* The number of traces the legacy API holds in [from, to) (meta.totalItems
 * of a one-row page), or -1 when it cannot say (404, 410, any failure: then
 * the failure is forgotten, it is no error of the run). */
static long legacy_trace_count(client *c, int64_t from, int64_t to)
{
	lg_buf u = { 0 };
	lg_buf_adds(&u, "/api/public/traces");
	url_param_long(&u, "page", 1);
	url_param_long(&u, "limit", 1);
	url_param_time(&u, "fromTimestamp", from);
	url_param_time(&u, "toTimestamp", to);
	url_param(&u, "fields", "core");
	cJSON *body = NULL;
	get_result g = client_get(c, lg_buf_cstr(&u), &body);
	lg_buf_free(&u);
	double d;
	long n = g == GET_OK && lg_json_get_num(lg_json_get(body, "meta"), "totalItems", &d) && d >= 0 ? (long)d : -1;
	cJSON_Delete(body);
	if (g != GET_OK) {
		c->error[0] = '\0';
		c->exit_code = 0;
	}
	return n;
}

/* v2 holds less than half of the traces the legacy API counts. The margin
 * is wide on purpose: v2 counts every trace with a row in the window, roots
 * that never arrived and rows of traces that started earlier included, and
 * what it must catch is a v2 that misses the window's data altogether. */
static int v2_short(long v2, long legacy)
{
	return legacy > 0 && v2 * 2 < legacy;
}

/* --api auto: a 200 from v2 does not prove v2 holds the data. A v3 server
 * with the v4 preview serves v2 from a table it never fills, and a v4
 * server fills v2 with older data by a background backfill. The first
 * window with data is counted both ways (one legacy request); when v2 is
 * short, the run reads the legacy endpoints instead. Returns 1 to switch. */
int run_v2_holds_too_little(run_state *s, window w)
{
	long legacy = legacy_trace_count(s->c, w.from, w.to), v2 = (long)s->a.n;
	if (legacy < 0 || legacy > 0 || v2 > 0)
		s->v2_checked = 1; /* decided: no legacy API, or data to compare */
	if (!v2_short(v2, legacy))
		return 0;
	char a[32], b[32];
	if (!s->o->quiet)
		lg_err("v2 observations hold %ld traces in %s..%s where the legacy endpoints hold %ld "
	       "(v2 not filled, or still backfilling); using the legacy endpoints",
	       v2, run_iso(w.from, a), run_iso(w.to, b), legacy);
	return 1;
}

/* Probes one data endpoint with a one-row request over the last minute. */
static get_result probe(client *c, const char *path, const char *from_key, const char *to_key)
{
	lg_buf u = { 0 };
	int64_t now = lg_time_now();
	lg_buf_adds(&u, path);
	url_param_long(&u, "limit", 1);
	url_param_time(&u, from_key, now - 60000);
	url_param_time(&u, to_key, now);
	cJSON *body = NULL;
	get_result g = client_get(c, lg_buf_cstr(&u), &body);
	cJSON_Delete(body);
	lg_buf_free(&u);
	return g;
}

/* Root rows v2 holds in [from, to), counted up to cap; -1 on failure. */
static long v2_root_count(client *c, int64_t from, int64_t to, long cap)
{
	lg_buf u = { 0 };
	char *cursor = NULL;
	long n = 0;
	do {
		u.len = 0;
		lg_buf_adds(&u, "/api/public/v2/observations");
		url_param(&u, "fields", "core");
		url_param(&u, "isRootObservation", "true");
		url_param_long(&u, "limit", V2_MAX_LIMIT);
		url_param_time(&u, "fromStartTime", from);
		url_param_time(&u, "toStartTime", to);
		if (cursor)
			url_param(&u, "cursor", cursor);
		cJSON *body = NULL;
		if (client_get(c, lg_buf_cstr(&u), &body) != GET_OK) {
			n = -1;
			break;
		}
		n += cJSON_GetArraySize(lg_json_get(body, "data"));
		const char *next = lg_json_str(lg_json_get(body, "meta"), "cursor");
		free(cursor);
		cursor = next && *next ? strdup(next) : NULL;
		cJSON_Delete(body);
	} while (cursor && n < cap);
	free(cursor);
	lg_buf_free(&u);
	return n;
}

/* --test with --api auto: v2 answered; does it hold what the legacy API
 * holds over the run's window? Rewrites api when it does not. */
static void compare_apis(const run_opts *o, char *api, size_t len)
{
	long legacy = legacy_trace_count(o->c, o->from, o->to);
	if (legacy <= 0)
		return;
	long v2 = v2_root_count(o->c, o->from, o->to, legacy);
	if (v2 < 0) {
		o->c->error[0] = '\0';
		o->c->exit_code = 0;
		return;
	}
	if (v2_short(v2, legacy))
		snprintf(api, len, "legacy traces and observations (v2 observations hold %ld traces in the window "
			 "where the legacy endpoints hold %ld: v2 not filled, or still backfilling)", v2, legacy);
	else
		snprintf(api, len, "v2 observations (%ld traces in the window, as the legacy endpoints)", legacy);
}

int run_test(const run_opts *o)
{
	client *c = o->c;
	cJSON *body;
	get_result g = client_get(c, "/api/public/projects", &body);
	if (g != GET_OK) {
		int code = g == GET_FAIL ? c->exit_code : LG_EXIT_API;
		lg_err("%s", c->error);
		if (code == LG_EXIT_AUTH)
			client_auth_hints(c, c->http.status);
		return code;
	}
	const cJSON *p = cJSON_GetArrayItem(lg_json_get(body, "data"), 0);
	const char *name = lg_json_str(p, "name"), *id = lg_json_str(p, "id");
	char api[300], clean_name[200], clean_id[100];
	text_clean(name ? name : "(unnamed)", strlen(name ? name : "(unnamed)"), clean_name, sizeof clean_name, c->masks);
	text_clean(id ? id : "no id", strlen(id ? id : "no id"), clean_id, sizeof clean_id, c->masks);
	int code = 0;
	g = o->api == API_LEGACY ? GET_NOT_FOUND : probe(c, "/api/public/v2/observations", "fromStartTime", "toStartTime");
	if (g == GET_OK) {
		snprintf(api, sizeof api, "v2 observations");
		if (o->api == API_AUTO)
			compare_apis(o, api, sizeof api);
	} else if (g == GET_NOT_FOUND && o->api != API_V2) {
		g = probe(c, "/api/public/traces", "fromTimestamp", "toTimestamp");
		if (g == GET_OK)
			snprintf(api, sizeof api, "legacy traces and observations%s",
				 o->api == API_AUTO ? " (no v2 observations: self-hosted Langfuse v3)" : "");
	}
	if (g != GET_OK) {
		code = g == GET_FAIL ? c->exit_code : LG_EXIT_API;
		lg_err("%s", c->error[0] ? c->error : "no data API answered");
	} else {
		printf("Connection successful\nProject: %s (%s)\nHost: %s\nAPI: %s\n",
		       clean_name, clean_id, c->host, api);
	}
	cJSON_Delete(body);
	if (fflush(stdout) != 0) {
		lg_err("write error: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	return code;
}
