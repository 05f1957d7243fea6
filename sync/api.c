/* The API's endpoints (docs/api.md): each request routed, its
 * parameters checked, the store asked through the lg-store command (one
 * child process per query, its stdout read line by line), the answer
 * shaped. Nothing here talks HTTP: serve.c does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "proc.h"
#include "serve.h"
#include "timeutil.h"
#include "utf8.h"
#include "api_int.h"


void api_error(api_resp *out, int status, const char *code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Messages quote what the client sent (an id from the path): bytes
	 * that are not UTF-8 become '?', so the answer stays valid JSON. */
	unsigned char *m = (unsigned char *)msg, *end = m + strlen(msg);
	while (m < end) {
		int k = lg_utf8_len(m, end);
		if (k == 0)
			*m++ = '?';
		else
			m += k;
	}
	out->status = status;
	out->body.len = 0;
	lg_buf_adds(&out->body, "{\"success\":false,\"error\":{\"code\":");
	lg_json_print_string(&out->body, code, strlen(code));
	lg_buf_adds(&out->body, ",\"message\":");
	lg_json_print_string(&out->body, msg, strlen(msg));
	lg_buf_adds(&out->body, "}}");
}

/* {"success":true,"data":DATA}; takes data. */
void api_ok_data(api_resp *out, int status, cJSON *data)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !data || lg_json_set(o, "success", cJSON_CreateTrue()) || lg_json_set(o, "data", data)) {
		cJSON_Delete(o);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	out->status = status;
	out->body.len = 0;
	if (lg_json_print(&out->body, o) != 0)
		api_error(out, 500, "internal_error", "out of memory");
	cJSON_Delete(o);
}

/* A bare object as the answer (the violations list's own shape). */
void api_ok_bare(api_resp *out, cJSON *o)
{
	out->status = 200;
	out->body.len = 0;
	if (!o || lg_json_print(&out->body, o) != 0)
		api_error(out, 500, "internal_error", "out of memory");
	cJSON_Delete(o);
}

/* ---- query parameters ---- */

/* The decoded value of parameter name into out: 1 present (and not
 * empty), 0 absent or empty, -1 a bad escape (out->status set). */
int api_arg(const api_req *r, api_resp *out, const char *name, char *val, size_t cap)
{
	const char *raw = r->arg ? r->arg(r->arg_cls, name) : NULL;
	if (!raw || !*raw)
		return 0;
	if (http_pct_decode(raw, strlen(raw), val, cap) < 0) {
		api_error(out, 400, "bad_request", "parameter '%s': bad percent escape, NUL or too long", name);
		return -1;
	}
	return *val != '\0';
}

/* The boolean parameter name into *on (dflt when absent or empty): 0, or
 * -1 with the 400 answered (a bad escape, or neither true nor false). */
int api_bool_arg(const api_req *r, api_resp *out, const char *name, int dflt, int *on)
{
	char v[8];
	int got = api_arg(r, out, name, v, sizeof v);
	if (got < 0)
		return -1;
	if (got && strcmp(v, "true") && strcmp(v, "false")) {
		api_error(out, 400, "bad_request", "%s: want true or false", name);
		return -1;
	}
	*on = got ? !strcmp(v, "true") : dflt;
	return 0;
}

/* The request's body as a JSON object, or NULL with the 400 answered. */
cJSON *api_body_object(const api_req *r, api_resp *out)
{
	lg_json_error je;
	cJSON *body = r->body_len ? lg_json_parse(r->body, r->body_len, &je) : NULL;
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_json", "the body is not a JSON object");
		return NULL;
	}
	return body;
}

/* ---- filters shared by traces, stats and violations ---- */


void api_argv_add(argv_b *a, const char *s)
{
	if (a->n < 38)
		a->args[a->n++] = s;
	a->args[a->n] = NULL;
}

/* Adds "--opt VALUE" when parameter name is present. 0, or -1 answered. */
static int pass(argv_b *a, const api_req *r, api_resp *out, const char *name, const char *opt)
{
	if (a->nv == 12)
		return 0;
	char *v = a->vals[a->nv];
	int got = api_arg(r, out, name, v, sizeof a->vals[0]);
	if (got < 0)
		return -1;
	if (got) {
		int64_t ms;
		a->nv++;
		api_argv_add(a, opt);
		api_argv_add(a, v);
		if ((!strcmp(opt, "--from") || !strcmp(opt, "--to")) && (lg_time_parse(v, &ms) != 0 || !strcmp(v, "now")))
			a->relative = 1;
	}
	return 0;
}

static int severity_ok(const char *s)
{
	return !strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high") || !strcmp(s, "critical");
}

/* The filters of `lg-store export`, as parameters. trace_level: the
 * status is the trace's (else the violation's). */
int api_filters(argv_b *a, const api_req *r, api_resp *out, int trace_level)
{
	char v[64];
	int got;
	if (pass(a, r, out, "agent", "--agent") || pass(a, r, out, "integration", "--integration") ||
	    pass(a, r, out, "since", "--from") || pass(a, r, out, "until", "--to") ||
	    pass(a, r, out, "policy", "--policy") || pass(a, r, out, "status", "--status"))
		return -1;
	if (trace_level && (pass(a, r, out, "user", "--user") || pass(a, r, out, "session", "--session")))
		return -1;
	if ((got = api_arg(r, out, "severity", v, sizeof v)) < 0)
		return -1;
	if (got && !severity_ok(v)) {
		api_error(out, 400, "bad_request", "severity: want low, medium, high or critical");
		return -1;
	}
	if (got && pass(a, r, out, "severity", "--severity"))
		return -1;
	if (trace_level) {
		int has;
		if (api_bool_arg(r, out, "hasViolations", 0, &has))
			return -1;
		if (has)
			api_argv_add(a, "--has-violations");
	}
	return 0;
}

/* limit (default 50, 1..1000) and order (desc or asc). */
int api_paging(const api_req *r, api_resp *out, long *limit, int *reverse)
{
	char v[64];
	int got = api_arg(r, out, "limit", v, sizeof v);
	*limit = PAGE_DEFAULT;
	if (got < 0)
		return -1;
	if (got && http_parse_count(v, PAGE_MAX, limit) != 0) {
		api_error(out, 400, "bad_request", "limit: want a number from 1 to %d", PAGE_MAX);
		return -1;
	}
	if ((got = api_arg(r, out, "order", v, sizeof v)) < 0)
		return -1;
	if (got && strcmp(v, "asc") && strcmp(v, "desc")) {
		api_error(out, 400, "bad_request", "order: want asc or desc");
		return -1;
	}
	*reverse = !got || !strcmp(v, "desc");
	return 0;
}

/* ---- health, integrations ---- */

static void get_health(api_resp *out)
{
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "status", cJSON_CreateString("ok"));
	lg_json_set(d, "version", cJSON_CreateString(LG_VERSION));
	api_ok_data(out, 200, d);
}

int api_config_present(const serve_ctx *s)
{
	struct stat st;
	return stat(s->c->config, &st) == 0;
}

/* The config, bad entries skipped; 0, or -1 answered (500). */
int api_load_config(serve_ctx *s, api_resp *out, lg_config *cfg)
{
	char err[1200];
	if (lg_config_read(cfg, api_config_present(s) ? s->c->config : NULL, LG_CONFIG_SKIP_BAD, err, sizeof err) != 0) {
		lg_err("serve: config: %s", err);
		api_error(out, 500, "config_error", "the config file cannot be read (the server's log says why)");
		return -1;
	}
	return 0;
}

/* An entry as the API shows it: masked as `lg-sync list` masks it, a
 * secret file's path and a variable's name left out. */
static cJSON *integration_json(serve_ctx *s, const cJSON *raw, const char *env_id)
{
	cJSON *o = raw ? integration_masked(raw) : integration_env_entry();
	if (!o)
		return NULL;
	const char *src = lg_json_get(o, "secretKey") ? "inline" : lg_json_get(o, "secretKeyFile") ? "file" : "env";
	cJSON_Delete(lg_json_take(o, "secretKeyFile"));
	cJSON_Delete(lg_json_take(o, "secretKeyEnv"));
	lg_json_set(o, "secretKeySource", cJSON_CreateString(src));
	lg_json_set(o, "valid", cJSON_CreateTrue());
	const char *id = env_id ? env_id : lg_json_str(o, "id");
	lg_json_set(o, "isActive", cJSON_CreateBool(id && lock_held(s->c, id)));
	return o;
}

static void get_integrations(serve_ctx *s, api_resp *out)
{
	lg_config cfg;
	if (api_load_config(s, out, &cfg))
		return;
	cJSON *arr = cJSON_CreateArray();
	if (!cfg.path) {
		cJSON *o = cfg.n ? integration_json(s, NULL, cfg.items[0].id) : NULL;
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	const cJSON *list = cfg.path ? lg_json_get(cfg.json, "integrations") : NULL;
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		const char *id = lg_json_str(e, "id");
		cJSON *o;
		if (id && lg_config_find(&cfg, id)) {
			o = integration_json(s, e, NULL);
		} else {
			/* Reported as the loader words it, without the file's path. */
			const lg_config_bad *bad = NULL;
			for (size_t i = 0; i < cfg.nbad && !bad; i++)
				if ((id && cfg.bad[i].id && !strcmp(cfg.bad[i].id, id)) || (!id && !cfg.bad[i].id))
					bad = &cfg.bad[i];
			const char *msg = bad ? bad->msg : "not valid";
			size_t pl = strlen(cfg.path);
			if (!strncmp(msg, cfg.path, pl) && !strncmp(msg + pl, ": ", 2))
				msg += pl + 2;
			o = cJSON_CreateObject();
			lg_json_set(o, "id", id ? cJSON_CreateString(id) : cJSON_CreateNull());
			lg_json_set(o, "valid", cJSON_CreateFalse());
			lg_json_set(o, "error", cJSON_CreateString(msg));
		}
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	lg_config_free(&cfg);
	api_ok_data(out, 200, arr);
}

/* ---- traces ---- */

typedef struct {
	cJSON *arr;
	long limit, count;
	size_t bytes;
	int full, more;
	char last[HTTP_MAX_ID + 32];   /* the last trace's time key */
	int oom;
} page;

/* A record as the list shows it: without its texts and spans. */
static void summarize(cJSON *rec)
{
	const cJSON *spans = lg_json_get(rec, "spans");
	int n = cJSON_IsArray(spans) ? cJSON_GetArraySize(spans) : 0;
	cJSON_Delete(lg_json_take(rec, "input"));
	cJSON_Delete(lg_json_take(rec, "output"));
	cJSON_Delete(lg_json_take(rec, "spans"));
	lg_json_set(rec, "spanCount", lg_json_int(n));
}

static int page_line(const char *line, size_t n, void *ctx)
{
	page *p = ctx;
	lg_json_error je;
	if (p->count == p->limit || (p->count && p->bytes > (size_t)PAGE_BYTES)) {
		p->more = 1;
		return 1;
	}
	cJSON *rec = lg_json_parse(line, n, &je);
	if (!rec) {
		p->oom = 1;
		return 1;
	}
	int64_t ms;
	const char *ts = lg_json_str(rec, "timestamp"), *id = lg_json_str(rec, "externalId");
	if (!ts || lg_time_parse(ts, &ms) != 0)
		ms = INT64_MIN;
	snprintf(p->last, sizeof p->last, "%" PRId64 ":%s", ms, id ? id : "");
	if (!p->full)
		summarize(rec);
	p->bytes += p->full ? n : n / 4; /* a summary is a fraction of the record */
	cJSON_AddItemToArray(p->arr, rec);
	p->count++;
	return 0;
}

static int count_line(const char *line, size_t n, void *ctx)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.*s", (int)(n < 31 ? n : 31), line);
	*(long *)ctx = atol(buf);
	return 0;
}

static void get_traces(serve_ctx *s, const api_req *r, api_resp *out)
{
	argv_b a = { .n = 0 };
	page p = { 0 };
	int reverse, got;
	char v[HTTP_MAX_ID + 64], lim[32];
	api_argv_add(&a, "export");
	if (api_filters(&a, r, out, 1) || api_paging(r, out, &p.limit, &reverse))
		return;
	if ((got = api_arg(r, out, "view", v, sizeof v)) < 0)
		return;
	if (got && strcmp(v, "summary") && strcmp(v, "full")) {
		api_error(out, 400, "bad_request", "view: want summary or full");
		return;
	}
	p.full = got && !strcmp(v, "full");
	int want_total;
	if (api_bool_arg(r, out, "total", 0, &want_total))
		return;
	/* The same filters for the count; their values stay in a. */
	const char *count[40];
	memcpy(count, a.args, sizeof count);
	count[0] = "count";
	char cursor[HTTP_MAX_ID + 64];
	if ((got = api_arg(r, out, "cursor", cursor, sizeof cursor)) < 0)
		return;
	if (got && !http_cursor_ok(cursor)) {
		api_error(out, 400, "bad_request", "cursor: not a cursor this server gave");
		return;
	}
	if (got) {
		api_argv_add(&a, "--after");
		api_argv_add(&a, cursor);
	}
	if (reverse)
		api_argv_add(&a, "--reverse");
	snprintf(lim, sizeof lim, "%ld", p.limit + 1);
	api_argv_add(&a, "--limit");
	api_argv_add(&a, lim);
	/* A page is kept whole, shaped: parsing and trimming its records is
	 * most of a page's cost. */
	char key[4200];
	uint64_t ver = 0;
	ino_t ino = 0;
	size_t keylen = 0;
	if (!a.relative && api_store_version(s, &ver, &ino) == 0 && (keylen = api_cache_key(a.args, key, sizeof key - 32)) != 0) {
		memcpy(key + keylen, p.full ? "\0full" : "\0summary", p.full ? 5 : 8);
		keylen += p.full ? 5 : 8;
		memcpy(key + keylen, want_total ? "\0total" : "\0page", 6);
		keylen += 6;
		if (api_cache_get(key, keylen, ver, ino, &out->body)) {
			out->status = 200;
			return;
		}
	}
	p.arr = cJSON_CreateArray();
	long total = 0;
	if (api_store_exists(s)) {
		if (api_store_lines(s, out, a.args, page_line, &p, NULL, 0) ||
		    (want_total && api_store_lines(s, out, count, count_line, &total, NULL, !a.relative))) {
			cJSON_Delete(p.arr);
			return;
		}
	}
	if (p.oom) {
		cJSON_Delete(p.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "traces", p.arr);
	lg_json_set(d, "nextCursor", p.more ? cJSON_CreateString(p.last) : cJSON_CreateNull());
	if (want_total)
		lg_json_set(d, "total", lg_json_int(total));
	api_ok_data(out, 200, d);
	if (keylen && out->status == 200)
		api_cache_put(key, keylen, ver, ino, &out->body);
}

static int record_line(const char *line, size_t n, void *ctx)
{
	return api_json_line(line, n, ctx);
}

/* The record with that externalId: 0 found, 1 not stored, -1 answered. */
int api_get_record(serve_ctx *s, api_resp *out, const char *id, cJSON **rec)
{
	const char *args[] = { "get", "--", id, NULL };
	int st;
	*rec = NULL;
	if (!api_store_exists(s))
		return 1;
	if (api_store_lines(s, out, args, record_line, rec, &st, 1))
		return -1;
	if (st == 1 || !*rec) {
		cJSON_Delete(*rec);
		*rec = NULL;
		if (st == 1)
			return 1;
		api_error(out, 500, "store_error", "the store cannot be read ('lg-store check' says what)");
		return -1;
	}
	return 0;
}

static void get_trace(serve_ctx *s, api_resp *out, const char *id)
{
	cJSON *rec;
	int rc = api_get_record(s, out, id, &rec);
	if (rc == 1)
		api_error(out, 404, "not_found", "no trace '%s'", id);
	if (rc == 0)
		api_ok_data(out, 200, rec);
}

/* ---- stats ---- */

static void get_stats(serve_ctx *s, const api_req *r, api_resp *out)
{
	static const char *const bys[] = { "agent", "model", "user", "day", "hour", "policy", "integration", "session" };
	argv_b a = { .n = 0 };
	char by[32];
	int got;
	cJSON *j = NULL;
	api_argv_add(&a, "stats");
	api_argv_add(&a, "--json");
	if (api_filters(&a, r, out, 1) || (got = api_arg(r, out, "by", by, sizeof by)) < 0)
		return;
	if (got) {
		/* One key, or two (agent,hour: each agent's hours). */
		const char *comma = strchr(by, ',');
		size_t n = comma ? (size_t)(comma - by) : strlen(by), i, k = 0;
		for (i = 0; i < sizeof bys / sizeof *bys && (strlen(bys[i]) != n || strncmp(by, bys[i], n)); i++)
			;
		if (comma)
			for (k = 0; k < sizeof bys / sizeof *bys && strcmp(comma + 1, bys[k]); k++)
				;
		if (i == sizeof bys / sizeof *bys || k == sizeof bys / sizeof *bys || (comma && i == k)) {
			api_error(out, 400, "bad_request",
				  "by: want agent, model, user, day, hour, policy, integration or session, or two of them (agent,hour)");
			return;
		}
		api_argv_add(&a, "--by");
		api_argv_add(&a, by);
	}
	if (!api_store_exists(s)) {
		j = cJSON_CreateObject();
		lg_json_set(j, "by", got ? cJSON_CreateString(by) : cJSON_CreateNull());
		lg_json_set(j, "groups", cJSON_CreateArray());
		api_ok_data(out, 200, j);
		return;
	}
	if (api_store_lines(s, out, a.args, api_json_line, &j, NULL, !a.relative))
		return;
	if (!j) {
		api_error(out, 500, "store_error", "the store cannot be read ('lg-store check' says what)");
		return;
	}
	api_ok_data(out, 200, j);
}

/* ---- routing ---- */

void api_handle(serve_ctx *s, const api_req *r, api_resp *out)
{
	const char *id, *allow;
	http_route route = http_match(r->method, r->segs, r->nsegs, &id, &allow);
	if (route == R_HEALTH) {
		get_health(out);
		return;
	}
	int auth = serve_auth(s, r->auth);
	if (auth == 401) {
		out->www_auth = 1;
		api_error(out, 401, "unauthorized", "missing or wrong 'Authorization: Bearer' token");
		return;
	}
	if (auth) {
		api_error(out, 500, "token_unavailable", "the server's token file cannot be used (the server's log says why)");
		return;
	}
	if (route == R_NONE && allow) {
		out->allow = allow;
		api_error(out, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", r->method, allow);
		return;
	}
	if (route == R_NONE) {
		api_error(out, 404, "not_found", "no such endpoint");
		return;
	}
	if (id && !http_id_ok(id)) {
		api_error(out, 400, "bad_request", "the id in the path is empty, too long or has control characters");
		return;
	}
	switch (route) {
	case R_INTEGRATIONS: get_integrations(s, out); break;
	case R_SYNC: api_post_sync(s, r, out, id); break;
	case R_SYNC_STATUS: api_get_sync_status(s, out, id); break;
	case R_RUNS: api_get_runs(s, r, out, id); break;
	case R_TRACES: get_traces(s, r, out); break;
	case R_TRACE: get_trace(s, out, id); break;
	case R_STATS: get_stats(s, r, out); break;
	case R_POLICIES: api_get_policies(s, out); break;
	case R_VIOLATIONS: api_get_violations(s, r, out); break;
	case R_VIOLATIONS_BY_TRACE: api_get_violations_by_trace(s, out, id); break;
	case R_VIOLATION: api_patch_violation(s, r, out, id); break;
	case R_POLICY_TOGGLE: api_post_toggle(s, r, out, id); break;
	default: api_error(out, 404, "not_found", "no such endpoint"); break;
	}
}
