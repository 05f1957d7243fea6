/* The API's policy endpoints: the policies and their toggles (kept in the
 * config), the violations list, by trace, and their status changes
 * (through lg-store ack and resolve). */
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

/* ---- policies ---- */

typedef struct {
	cJSON *arr;
} pol_list;

/* A line of `lg-policy --list`: id, state, severity, category, kind, name. */
static int policy_line(const char *line, size_t n, void *ctx)
{
	pol_list *pl = ctx;
	char buf[2048], *f[6], *save = NULL;
	int k = 0;
	snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), line);
	for (char *t = strtok_r(buf, "\t", &save); t && k < 6; t = strtok_r(NULL, "\t", &save))
		f[k++] = t;
	if (k < 6)
		return 0;
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "id", cJSON_CreateString(f[0]));
	lg_json_set(o, "name", cJSON_CreateString(f[5]));
	lg_json_set(o, "severity", cJSON_CreateString(f[2]));
	lg_json_set(o, "category", cJSON_CreateString(f[3]));
	lg_json_set(o, "kind", cJSON_CreateString(f[4]));
	lg_json_set(o, "enabled", cJSON_CreateBool(!strcmp(f[1], "on")));
	cJSON_AddItemToArray(pl->arr, o);
	return 0;
}

/* lg-policy --list with the config's toggles: what a run evaluates. */
static cJSON *policies(serve_ctx *s, api_resp *out)
{
	const char *base[] = { "lg-policy", "--list", NULL };
	const char **argv = policy_argv(s->c, base);
	pol_list pl = { cJSON_CreateArray() };
	char err[1100];
	if (!argv || !pl.arr) {
		policy_argv_free(argv);
		cJSON_Delete(pl.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return NULL;
	}
	int st = api_tool_lines(argv, policy_line, &pl, err, sizeof err);
	policy_argv_free(argv);
	if (st != 0) {
		lg_err("serve: lg-policy --list: exit %d: %s", st, err);
		cJSON_Delete(pl.arr);
		api_error(out, 500, "config_error", "the policies cannot be listed (the server's log says why)");
		return NULL;
	}
	return pl.arr;
}

void api_get_policies(serve_ctx *s, api_resp *out)
{
	cJSON *arr = policies(s, out);
	if (arr)
		api_ok_data(out, 200, arr);
}

void api_post_toggle(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	cJSON *body = api_body_object(r, out);
	if (!body)
		return;
	const cJSON *en = lg_json_get(body, "enabled");
	if (!cJSON_IsBool(en)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "enabled: want true or false");
		return;
	}
	int on = cJSON_IsTrue(en);
	cJSON_Delete(body);
	cJSON *arr = policies(s, out);
	if (!arr)
		return;
	int known = 0;
	for (const cJSON *p = arr->child; p && !known; p = p->next)
		known = !strcmp(lg_json_str(p, "id") ? lg_json_str(p, "id") : "", id);
	cJSON_Delete(arr);
	if (!known) {
		api_error(out, 404, "not_found", "no policy '%s'", id);
		return;
	}
	/* Without a file the environment defines the integration; a file
	 * written for the toggle would replace it. */
	if (!api_config_present(s)) {
		api_error(out, 500, "config_error", "policy states are kept in the config file, and there is none yet ('lg-sync add' creates it)");
		return;
	}
	char err[1200];
	if (policy_toggle(s->c, id, on, err, sizeof err) != 0) {
		lg_err("serve: toggle %s: %s", id, err);
		api_error(out, 500, "config_error", "the config file cannot be written (the server's log says why)");
		return;
	}
	lg_err("serve: policy %s %s", id, on ? "enabled" : "disabled");
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "id", cJSON_CreateString(id));
	lg_json_set(d, "enabled", cJSON_CreateBool(on));
	api_ok_data(out, 200, d);
}

/* ---- violations ---- */

/* The violation with LangGuard's names first, then everything lg keeps. */
static cJSON *violation_json(const cJSON *v)
{
	static const struct {
		const char *seed, *ours;
	} alias[] = { { "id", "id" }, { "policyId", "policy" }, { "policyName", "name" }, { "severity", "severity" },
		      { "traceId", "externalId" }, { "message", "message" }, { "evidence", "evidence" },
		      { "status", "status" }, { "createdAt", "detectedAt" } };
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < sizeof alias / sizeof *alias; i++) {
		const cJSON *x = lg_json_get(v, alias[i].ours);
		if (x)
			lg_json_set(o, alias[i].seed, cJSON_Duplicate(x, 1));
	}
	for (const cJSON *m = v->child; o && m; m = m->next)
		if (!lg_json_get(o, m->string))
			lg_json_set(o, m->string, cJSON_Duplicate(m, 1));
	return o;
}

typedef struct {
	cJSON *arr;
	long skip, limit, seen, total;
	int bad;
} vpage;

/* A violation line, or the total lg-store counts after them (--total:
 * the lines stop at the page's end, the count goes on). */
static int violation_line(const char *line, size_t n, void *ctx)
{
	vpage *p = ctx;
	lg_json_error je;
	if (n > 7 && !memcmp(line, "{\"$lg\":", 7)) {
		cJSON *t = lg_json_parse(line, n, &je);
		double d;
		if (lg_json_get_num(t, "total", &d))
			p->total = (long)d;
		cJSON_Delete(t);
		return 0;
	}
	long at = p->seen++;
	if (at < p->skip || at >= p->skip + p->limit)
		return 0;
	cJSON *v = lg_json_parse(line, n, &je), *o = v ? violation_json(v) : NULL;
	cJSON_Delete(v);
	if (!o) {
		p->bad = 1;
		return 1;
	}
	cJSON_AddItemToArray(p->arr, o);
	return 0;
}

/* total -1: not counted (left out). */
static cJSON *violations_answer(cJSON *arr, long total, const char *next)
{
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "violations", arr);
	if (total >= 0)
		lg_json_set(o, "total", lg_json_int(total));
	lg_json_set(o, "nextCursor", next ? cJSON_CreateString(next) : cJSON_CreateNull());
	return o;
}

void api_get_violations(serve_ctx *s, const api_req *r, api_resp *out)
{
	argv_b a = { .n = 0 };
	vpage p = { 0 };
	int reverse, got, counted;
	char cursor[32], next[32], lim[32];
	api_argv_add(&a, "violations");
	if (api_filters(&a, r, out, 0) || api_paging(r, out, &p.limit, &reverse))
		return;
	if (api_bool_arg(r, out, "total", 1, &counted))
		return;
	if ((got = api_arg(r, out, "cursor", cursor, sizeof cursor)) < 0)
		return;
	if (got && (strspn(cursor, "0123456789") != strlen(cursor) || strlen(cursor) > 12)) {
		api_error(out, 400, "bad_request", "cursor: not a cursor this server gave");
		return;
	}
	p.skip = got ? atol(cursor) : 0;
	if (reverse)
		api_argv_add(&a, "--reverse");
	/* The page's lines, and the count of all (from the summaries: the
	 * records past the page are not read). Without the count, one line
	 * past the page says whether there is a next one: the walk stops
	 * there instead of going through the whole range. */
	snprintf(lim, sizeof lim, "%ld", p.skip + p.limit + !counted);
	api_argv_add(&a, "--limit");
	api_argv_add(&a, lim);
	if (counted)
		api_argv_add(&a, "--total");
	p.arr = cJSON_CreateArray();
	if (api_store_exists(s) && api_store_lines(s, out, a.args, violation_line, &p, NULL, !a.relative)) {
		cJSON_Delete(p.arr);
		return;
	}
	if (p.bad) {
		cJSON_Delete(p.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	snprintf(next, sizeof next, "%ld", p.skip + p.limit);
	if (!counted)
		p.total = -1;
	api_ok_bare(out, violations_answer(p.arr, p.total, p.skip + p.limit < (counted ? p.total : p.seen) ? next : NULL));
}

void api_get_violations_by_trace(serve_ctx *s, api_resp *out, const char *id)
{
	cJSON *rec;
	int rc = api_get_record(s, out, id, &rec);
	if (rc == 1)
		api_error(out, 404, "not_found", "no trace '%s'", id);
	if (rc)
		return;
	cJSON *arr = cJSON_CreateArray();
	const cJSON *vs = lg_json_get(rec, "violations");
	const char *agent = lg_json_str(lg_json_get(rec, "agent"), "name");
	if (!agent)
		agent = lg_json_str(lg_json_get(rec, "metadata"), "agent_name");
	const char *in = lg_json_str(lg_json_get(rec, "source"), "integration"), *ts = lg_json_str(rec, "timestamp");
	long n = 0;
	/* The fields `lg-store violations` adds, so both lists look alike. */
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		if (!cJSON_IsObject(v))
			continue;
		cJSON *line = cJSON_Duplicate(v, 1);
		lg_json_set(line, "externalId", cJSON_CreateString(id));
		lg_json_set(line, "traceTimestamp", ts ? cJSON_CreateString(ts) : cJSON_CreateNull());
		lg_json_set(line, "agent", agent ? cJSON_CreateString(agent) : cJSON_CreateNull());
		lg_json_set(line, "integration", in ? cJSON_CreateString(in) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, violation_json(line));
		cJSON_Delete(line);
		n++;
	}
	cJSON_Delete(rec);
	api_ok_bare(out, violations_answer(arr, n, NULL));
}

void api_patch_violation(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	cJSON *body = api_body_object(r, out);
	if (!body)
		return;
	const char *st = lg_json_str(body, "status");
	const cJSON *notes = lg_json_get(body, "notes");
	if (!st || (strcmp(st, "acknowledged") && strcmp(st, "resolved"))) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "status: want \"acknowledged\" or \"resolved\"");
		return;
	}
	if (notes && !cJSON_IsNull(notes) && (!cJSON_IsString(notes) || strlen(notes->valuestring) > NOTES_MAX)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "notes: want a string of at most %d bytes", NOTES_MAX);
		return;
	}
	const char *args[] = { !strcmp(st, "resolved") ? "resolve" : "ack", "--", id, NULL, NULL, NULL };
	if (cJSON_IsString(notes)) {
		args[1] = "--note";
		args[2] = notes->valuestring;
		args[3] = "--";
		args[4] = id;
	}
	cJSON *v = NULL;
	char err[1100];
	int status = 0;
	if (!api_store_exists(s)) {
		cJSON_Delete(body);
		api_error(out, 404, "not_found", "no violation '%s'", id);
		return;
	}
	const char *argv[12] = { "lg-store", "--db", s->c->db };
	for (size_t i = 0; args[i]; i++)
		argv[3 + i] = args[i];
	status = api_tool_lines(argv, api_json_line, &v, err, sizeof err);
	cJSON_Delete(body);
	if (status == 0 && v) {
		cJSON *line = violation_json(v);
		cJSON_Delete(v);
		api_ok_data(out, 200, line);
		return;
	}
	cJSON_Delete(v);
	if (status == 1 && strstr(err, ": not found"))
		api_error(out, 404, "not_found", "no violation '%s'", id);
	else if (status == 1 && strstr(err, "already resolved"))
		api_error(out, 409, "already_resolved", "violation '%s' is resolved", id);
	else {
		lg_err("serve: lg-store %s %s: exit %d: %s", args[0], id, status, err);
		api_error(out, 500, "store_error", "the violation cannot be updated ('lg-store check' says what)");
	}
}
