#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "buf.h"
#include "json.h"
#include "metrics.h"
#include "timeutil.h"
#include "unset.h"

struct trace_group {
	char *id;
	cJSON *obs;       /* array of ObservationsView */
	cJSON *trace;     /* legacy: the trace from /traces, or NULL */
	cJSON *ctx;       /* v2: denormalised trace fields (root row's preferred) */
	cJSON *scores;    /* the window's scores of this trace, or NULL */
	int ctx_is_root;
	int legacy_ingested; /* a synthetic root, or rows hung under one */
	int64_t first;    /* earliest start (or legacy trace timestamp) */
};

void assembly_init(assembly *a)
{
	memset(a, 0, sizeof *a);
	a->oldest = INT64_MAX;
}

static void group_free(trace_group *g)
{
	free(g->id);
	cJSON_Delete(g->obs);
	cJSON_Delete(g->trace);
	cJSON_Delete(g->ctx);
	cJSON_Delete(g->scores);
	free(g);
}

void assembly_clear(assembly *a)
{
	for (size_t i = 0; i < a->n; i++)
		group_free(a->list[i]);
	free(a->list);
	strmap_clear(&a->seen);
	strmap_clear(&a->groups);
	assembly_init(a);
}

static int64_t time_of(const cJSON *o, const char *key)
{
	int64_t ms;
	const char *s = lg_json_str(o, key);
	return s && lg_time_parse(s, &ms) == 0 ? ms : INT64_MAX;
}

static trace_group *group_for(assembly *a, const char *trace_id)
{
	trace_group *g = strmap_get(&a->groups, trace_id);
	if (g)
		return g;
	if (a->n == a->cap) {
		trace_group **v = lg_grow(a->list, &a->cap, 64, sizeof *v);
		if (!v)
			return NULL;
		a->list = v;
	}
	g = calloc(1, sizeof *g);
	if (!g || !(g->id = strdup(trace_id)) || !(g->obs = cJSON_CreateArray()) ||
	    strmap_put(&a->groups, trace_id, g) != 0) {
		if (g)
			group_free(g);
		return NULL;
	}
	g->first = INT64_MAX;
	a->list[a->n++] = g;
	return g;
}

/* A number item keeping the exact text of a decimal string ("0.0000025"). */
static cJSON *number_from_text(const char *s)
{
	lg_json_error je;
	cJSON *n = lg_json_parse(s, strlen(s), &je);
	if (n && !cJSON_IsNumber(n)) {
		cJSON_Delete(n);
		n = NULL;
	}
	return n;
}

static void rename_key(cJSON *o, const char *from, const char *to)
{
	cJSON *v = lg_json_take(o, from);
	if (!v)
		return;
	if (lg_json_is_null(lg_json_get(o, to)) || !lg_json_is_null(v))
		lg_json_set(o, to, v);
	else
		cJSON_Delete(v);
}

/* Raw-string io holding a JSON object, array or string becomes that value;
 * other text (also "42": a number-looking string stays a string) is kept. */
static void parse_io(cJSON *o, const char *key)
{
	const char *s = lg_json_str(o, key);
	if (!s)
		return;
	const char *p = s + strspn(s, " \t\r\n");
	if (*p != '{' && *p != '[' && *p != '"')
		return;
	lg_json_error je;
	cJSON *v = lg_json_parse(s, strlen(s), &je);
	if (v)
		lg_json_set(o, key, v);
}

static void prices_to_numbers(cJSON *o)
{
	static const char *const keys[] = { "inputPrice", "outputPrice", "totalPrice" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *s = lg_json_str(o, keys[i]);
		cJSON *n = s ? number_from_text(s) : NULL;
		if (n)
			lg_json_set(o, keys[i], n);
	}
}

/* usage {unit,input,output,total} + promptTokens/completionTokens/totalTokens
 * from inputUsage/outputUsage/totalUsage, else from usageDetails. */
static void legacy_usage(cJSON *o)
{
	static const char *const v2[] = { "inputUsage", "outputUsage", "totalUsage" };
	static const char *const det[] = { "input", "output", "total" };
	static const char *const v1[] = { "promptTokens", "completionTokens", "totalTokens" };
	const cJSON *ud = lg_json_get(o, "usageDetails");
	if (!lg_json_get(o, v2[0]) && !cJSON_IsObject(ud))
		return;
	cJSON *usage = cJSON_CreateObject();
	cJSON_AddItemToObject(usage, "unit", cJSON_CreateString("TOKENS"));
	for (int i = 0; i < 3; i++) {
		cJSON *v = lg_json_take(o, v2[i]);
		if (!v) {
			const cJSON *d = lg_json_get(ud, det[i]);
			v = d ? cJSON_Duplicate(d, 1) : lg_json_int(0);
		}
		cJSON_AddItemToObject(usage, det[i], cJSON_Duplicate(v, 1));
		lg_json_set(o, v1[i], v);
	}
	lg_json_set(o, "usage", usage);
}

/* v2 reads non-null String columns: unset is "" where v1 says null (only
 * traceName is null already; "" is taken as unset there too). */
static void unset_to_null(cJSON *row, cJSON *ctx)
{
	static const char *const row_keys[] = {
		"name", "statusMessage", "version", "model", "providedModelName", "promptId", "promptName",
	};
	static const char *const ctx_keys[] = { "name", "userId", "sessionId", "release" };
	for (size_t i = 0; i < sizeof row_keys / sizeof *row_keys; i++)
		lg_empty_to_null(row, row_keys[i]);
	for (size_t i = 0; ctx && i < sizeof ctx_keys / sizeof *ctx_keys; i++)
		lg_empty_to_null(ctx, ctx_keys[i]);
}

/* modelId is the server's model lookup (null when it found none) and stays
 * as sent; internalModelId is the raw column ("" when unset). It stands in
 * for modelId only when the row has none, and is kept beside it only when
 * it says something else. */
static void model_id(cJSON *row)
{
	if (!lg_json_get(row, "modelId")) {
		rename_key(row, "internalModelId", "modelId");
		lg_empty_to_null(row, "modelId");
		return;
	}
	const cJSON *in = lg_json_get(row, "internalModelId");
	const char *is = lg_json_string(in), *id = lg_json_str(row, "modelId");
	if (in && (lg_json_is_null(in) || (is && (!*is || (id && !strcmp(id, is))))))
		cJSON_Delete(lg_json_take(row, "internalModelId"));
}

int v2_row_convert(cJSON *row, cJSON **trace_ctx)
{
	static const char *const moved[][2] = {
		{ "traceName", "name" }, { "tags", "tags" }, { "release", "release" },
		{ "userId", "userId" }, { "sessionId", "sessionId" },
		{ "bookmarked", "bookmarked" }, { "public", "public" },
	};
	cJSON *ctx = NULL;
	for (size_t i = 0; i < sizeof moved / sizeof *moved; i++) {
		cJSON *v = lg_json_take(row, moved[i][0]);
		if (!v)
			continue;
		if (!ctx && !(ctx = cJSON_CreateObject())) {
			cJSON_Delete(v);
			return -1;
		}
		lg_json_set(ctx, moved[i][1], v);
	}
	if (ctx && lg_json_get(row, "environment"))
		lg_json_set(ctx, "environment", cJSON_Duplicate(lg_json_get(row, "environment"), 1));
	*trace_ctx = ctx;
	unset_to_null(row, ctx);
	parse_io(row, "input");
	parse_io(row, "output");
	prices_to_numbers(row);
	rename_key(row, "providedModelName", "model");
	model_id(row);
	rename_key(row, "inputCost", "calculatedInputCost");
	rename_key(row, "outputCost", "calculatedOutputCost");
	rename_key(row, "totalCost", "calculatedTotalCost");
	legacy_usage(row);
	return 0;
}

static int is_root(const cJSON *o)
{
	const cJSON *r = lg_json_get(o, "isRootObservation");
	if (cJSON_IsBool(r))
		return cJSON_IsTrue(r);
	return lg_json_is_null(lg_json_get(o, "parentObservationId"));
}

static int has_value(const cJSON *o, const char *key)
{
	const cJSON *v = lg_json_get(o, key);
	return !lg_json_is_null(v) && !(cJSON_IsString(v) && !*v->valuestring);
}

static double usage_total(const cJSON *o)
{
	double d;
	if (lg_json_get_num(o, "totalTokens", &d) || lg_json_get_num(lg_json_get(o, "usage"), "total", &d) ||
	    lg_json_get_num(lg_json_get(o, "usageDetails"), "total", &d))
		return d;
	return 0;
}

/* > 0 when copy a of a row is more complete than copy b: an end time, then
 * an output, then more usage, then the later updatedAt. Copies alike in all
 * of these but different otherwise are ordered by their text, so the copy
 * kept never depends on which came first. */
static int completeness_cmp(const cJSON *a, const cJSON *b)
{
	int d;
	if ((d = has_value(a, "endTime") - has_value(b, "endTime")) != 0)
		return d;
	if ((d = has_value(a, "output") - has_value(b, "output")) != 0)
		return d;
	double ua = usage_total(a), ub = usage_total(b);
	if (ua != ub)
		return ua > ub ? 1 : -1;
	int64_t ta = time_of(a, "updatedAt"), tb = time_of(b, "updatedAt");
	if (ta != tb) /* INT64_MAX (none) counts as older than any time */
		return ta == INT64_MAX ? -1 : tb == INT64_MAX ? 1 : ta > tb ? 1 : -1;
	if (lg_json_equal(a, b))
		return 0;
	char *pa = cJSON_PrintUnformatted(a), *pb = cJSON_PrintUnformatted(b);
	d = pa && pb ? strcmp(pa, pb) : 0;
	cJSON_free(pa);
	cJSON_free(pb);
	return d;
}

/* The kept copy takes input/output it lacks from the other copy (the
 * server may join io from either). */
static void fill_io(cJSON *keep, const cJSON *other)
{
	static const char *const keys[] = { "input", "output" };
	for (size_t i = 0; i < 2; i++)
		if (!has_value(keep, keys[i]) && has_value(other, keys[i]))
			lg_json_set(keep, keys[i], cJSON_Duplicate(lg_json_get(other, keys[i]), 1));
}

/* A second copy of a row: the more complete one takes the first one's
 * place. Returns 0, or -1 out of memory. */
static int add_duplicate(assembly *a, const char *id, cJSON *held, cJSON *obs)
{
	a->dups++;
	trace_group *g = strmap_get(&a->groups, lg_json_str(held, "traceId"));
	if (g && completeness_cmp(obs, held) > 0) {
		fill_io(obs, held);
		if (strmap_put(&a->seen, id, obs) != 0) {
			cJSON_Delete(obs);
			return -1;
		}
		cJSON_ReplaceItemViaPointer(g->obs, held, obs); /* frees held */
		return 0;
	}
	fill_io(held, obs);
	cJSON_Delete(obs);
	return 0;
}

/* Common part of adding an observation: dedupe by id, group by traceId. */
static int add_observation(assembly *a, cJSON *obs, trace_group **gout)
{
	const char *id = lg_json_str(obs, "id"), *tid = lg_json_str(obs, "traceId");
	if (!id || !*id || !tid || !*tid) { /* "" would make a trace lg-map rejects */
		cJSON_Delete(obs);
		return 0;
	}
	cJSON *held = strmap_get(&a->seen, id);
	if (held)
		return add_duplicate(a, id, held, obs);
	trace_group *g = group_for(a, tid);
	if (!g || strmap_put(&a->seen, id, obs) != 0) {
		cJSON_Delete(obs);
		return -1;
	}
	int64_t st = time_of(obs, "startTime");
	if (st < g->first)
		g->first = st;
	if (st < a->oldest)
		a->oldest = st;
	cJSON_AddItemToArray(g->obs, obs);
	a->rows++;
	*gout = g;
	return 1;
}

int assembly_add_v2(assembly *a, cJSON *row)
{
	cJSON *ctx = NULL;
	trace_group *g = NULL;
	if (v2_row_convert(row, &ctx) != 0) {
		cJSON_Delete(row);
		return -1;
	}
	int root = is_root(row);
	int rc = add_observation(a, row, &g);
	if (rc == 1 && ctx && (!g->ctx || (root && !g->ctx_is_root))) {
		cJSON_Delete(g->ctx);
		g->ctx = ctx;
		g->ctx_is_root = root;
		ctx = NULL;
	}
	cJSON_Delete(ctx);
	return rc;
}

/* A v3 score in the v1 shape TraceWithFullDetails carries: traceId and
 * observationId from its subject; a string value also as stringValue. */
static const char *score_to_v1(cJSON *score)
{
	cJSON *subject = lg_json_take(score, "subject");
	const char *kind = lg_json_str(subject, "kind");
	const char *tid = kind && !strcmp(kind, "trace") ? lg_json_str(subject, "id")
			  : kind && !strcmp(kind, "observation") ? lg_json_str(subject, "traceId") : NULL;
	if (tid && *tid) {
		lg_json_set(score, "traceId", cJSON_CreateString(tid));
		lg_json_set(score, "observationId", !strcmp(kind, "observation")
			    ? cJSON_CreateString(lg_json_str(subject, "id") ? lg_json_str(subject, "id") : "")
			    : cJSON_CreateNull());
	}
	int scored = tid && *tid; /* tid dies with subject */
	cJSON_Delete(subject);
	const char *sv = lg_json_str(score, "value");
	if (sv)
		lg_json_set(score, "stringValue", cJSON_CreateString(sv));
	return scored ? lg_json_str(score, "traceId") : NULL;
}

int assembly_add_score(assembly *a, cJSON *score)
{
	const char *tid = score_to_v1(score), *id = lg_json_str(score, "id");
	if (!tid || !id) {
		cJSON_Delete(score);
		return 0;
	}
	trace_group *g = group_for(a, tid);
	if (!g) {
		cJSON_Delete(score);
		return -1;
	}
	if (!g->scores && !(g->scores = cJSON_CreateArray())) {
		cJSON_Delete(score);
		return -1;
	}
	for (const cJSON *s = g->scores->child; s; s = s->next)
		if (!strcmp(lg_json_str(s, "id"), id)) { /* a repeated row */
			cJSON_Delete(score);
			return 0;
		}
	cJSON_AddItemToArray(g->scores, score);
	return 1;
}

int assembly_add_v1_observation(assembly *a, cJSON *obs)
{
	trace_group *g;
	return add_observation(a, obs, &g);
}

int assembly_add_v1_trace(assembly *a, cJSON *trace)
{
	const char *id = lg_json_str(trace, "id");
	if (id && !*id)
		id = NULL;
	trace_group *g = id ? group_for(a, id) : NULL;
	if (!g) {
		cJSON_Delete(trace);
		return id ? -1 : 0;
	}
	if (g->trace) {
		a->dups++;
		cJSON_Delete(trace);
		return 0;
	}
	g->trace = trace;
	int64_t ts = time_of(trace, "timestamp");
	if (ts < g->first)
		g->first = ts;
	a->traces_held++;
	return 1;
}

static int obs_cmp(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
	int64_t sa = time_of(a, "startTime"), sb = time_of(b, "startTime");
	if (sa != sb)
		return sa < sb ? -1 : 1;
	int ra = is_root(a), rb = is_root(b);
	if (ra != rb)
		return rb - ra;
	return strcmp(lg_json_str(a, "id"), lg_json_str(b, "id"));
}

/* Observations ordered by start time, root first on ties; returns the array. */
static cJSON *sorted_observations(trace_group *g)
{
	size_t n = (size_t)cJSON_GetArraySize(g->obs), i = 0;
	cJSON **v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v)
		return NULL;
	while (g->obs->child)
		v[i++] = cJSON_DetachItemViaPointer(g->obs, g->obs->child);
	if (n > 1)
		qsort(v, n, sizeof *v, obs_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(g->obs, v[i]);
	free(v);
	cJSON *out = g->obs;
	g->obs = NULL;
	return out;
}

/* latency (s) from the span times and the summed cost of the observations. */
static void obs_metrics(const cJSON *obs, double *latency_s, double *cost)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	*cost = 0;
	for (const cJSON *o = obs->child; o; o = o->next) {
		int64_t s = time_of(o, "startTime"), e = time_of(o, "endTime");
		if (s == INT64_MAX)
			continue;
		if (e == INT64_MAX || e < s)
			e = s;
		lo = s < lo ? s : lo;
		hi = e > hi ? e : hi;
		double c;
		if (lg_json_get_num(o, "calculatedTotalCost", &c) ||
		    lg_json_get_num(lg_json_get(o, "costDetails"), "total", &c))
			*cost += c;
	}
	*latency_s = lo == INT64_MAX ? 0 : (double)(hi - lo) / 1000.0;
	*cost = lg_round_cost(*cost);
}

static cJSON *dup_or_null(const cJSON *o, const char *key)
{
	const cJSON *v = lg_json_get(o, key);
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* Trace metadata the server appended to an observation's own: the keys
 * whose value equals the trace's go (an observation key the trace also has
 * with another value is the observation's own and stays). */
static void drop_copied_metadata(cJSON *o, const cJSON *trace_md)
{
	cJSON *md = lg_json_get(o, "metadata");
	if (!cJSON_IsObject(md))
		return;
	for (cJSON *c = md->child, *next; c; c = next) {
		next = c->next;
		const cJSON *t = c->string ? lg_json_get(trace_md, c->string) : NULL;
		if (t && lg_json_equal(c, t))
			cJSON_Delete(cJSON_DetachItemViaPointer(md, c));
	}
}

/* A trace ingested through Langfuse's legacy path reaches v2 with a
 * synthetic root: a SPAN "t-<traceId>" that holds the trace's own name,
 * input, output, metadata and version, never ends, and adopted the trace's
 * top-level observations; the trace metadata was also appended to every
 * observation's. Takes that span out of the observations and undoes the
 * rest: top-level observations get their null parent back. Returns the span
 * (the caller owns it), or NULL when the trace has none in these rows. */
static cJSON *fold_synthetic_root(trace_group *g)
{
	size_t n = strlen(g->id) + 3;
	char *sid = malloc(n);
	if (!sid)
		return NULL;
	snprintf(sid, n, "t-%s", g->id);
	cJSON *syn = NULL;
	for (cJSON *o = g->obs->child; o && !syn; o = o->next) {
		const char *id = lg_json_str(o, "id");
		if (id && !strcmp(id, sid) && lg_json_is_null(lg_json_get(o, "parentObservationId")))
			syn = o;
	}
	if (syn) {
		cJSON_DetachItemViaPointer(g->obs, syn);
		g->legacy_ingested = 1;
	}
	const cJSON *trace_md = syn ? lg_json_get(syn, "metadata") : NULL;
	for (cJSON *o = g->obs->child; o; o = o->next) {
		const char *p = lg_json_str(o, "parentObservationId");
		if (p && !strcmp(p, sid)) {
			g->legacy_ingested = 1;
			lg_json_set(o, "parentObservationId", cJSON_CreateNull());
			if (lg_json_get(o, "isRootObservation"))
				lg_json_set(o, "isRootObservation", cJSON_CreateTrue());
		}
		if (cJSON_IsObject(trace_md) && trace_md->child)
			drop_copied_metadata(o, trace_md);
	}
	free(sid);
	return syn;
}

/* The trace's root: the first in start-time order (roots first on ties,
 * then by id), so with several roots the earliest wins whatever order the
 * rows came in. */
static const cJSON *root_of(const cJSON *obs)
{
	for (const cJSON *o = obs->child; o; o = o->next)
		if (is_root(o))
			return o;
	return NULL;
}

static void set_links(cJSON *t, const char *project_id, const char *id)
{
	if (project_id && lg_json_is_null(lg_json_get(t, "projectId")))
		lg_json_set(t, "projectId", cJSON_CreateString(project_id));
	const char *pid = lg_json_str(t, "projectId");
	if (pid && !lg_json_str(t, "htmlPath")) {
		size_t n = strlen(pid) + strlen(id) + 32;
		char *p = malloc(n);
		if (p) {
			snprintf(p, n, "/project/%s/traces/%s", pid, id);
			lg_json_set(t, "htmlPath", cJSON_CreateString(p));
			free(p);
		}
	}
}

/* A trace rebuilt from v2 rows (or a legacy fragment without its trace).
 * Its data comes from the synthetic root syn when there is one, else from
 * the root observation; without either (the root is in another window, or
 * never arrived) input, output and metadata are null. */
static cJSON *trace_from_rows(trace_group *g, cJSON *obs, const cJSON *syn, const char *project_id)
{
	cJSON *t = cJSON_CreateObject();
	const cJSON *root = syn ? syn : root_of(obs), *ctx = g->ctx;
	char ts[32];
	const char *ver = root ? lg_json_str(root, "version") : NULL;
	cJSON_AddItemToObject(t, "id", cJSON_CreateString(g->id));
	cJSON_AddItemToObject(t, "timestamp", g->first == INT64_MAX ? cJSON_CreateNull()
				: cJSON_CreateString(lg_time_format(g->first, ts)));
	const cJSON *named = syn && lg_json_is_null(lg_json_get(ctx, "name")) ? syn : ctx;
	cJSON_AddItemToObject(t, "name", dup_or_null(named, "name"));
	cJSON_AddItemToObject(t, "input", dup_or_null(root, "input")); /* trace io lives on the root */
	cJSON_AddItemToObject(t, "output", dup_or_null(root, "output"));
	cJSON_AddItemToObject(t, "sessionId", dup_or_null(ctx, "sessionId"));
	cJSON_AddItemToObject(t, "release", dup_or_null(ctx, "release"));
	cJSON_AddItemToObject(t, "version", ver && *ver ? cJSON_CreateString(ver) : cJSON_CreateNull());
	cJSON_AddItemToObject(t, "userId", dup_or_null(ctx, "userId"));
	cJSON_AddItemToObject(t, "metadata", dup_or_null(root, "metadata"));
	const cJSON *tags = lg_json_get(ctx, "tags");
	cJSON_AddItemToObject(t, "tags", cJSON_IsArray(tags) ? cJSON_Duplicate(tags, 1) : cJSON_CreateArray());
	if (ctx && lg_json_get(ctx, "public"))
		cJSON_AddItemToObject(t, "public", dup_or_null(ctx, "public"));
	const cJSON *env = lg_json_get(ctx, "environment");
	if (!env && root)
		env = lg_json_get(root, "environment");
	if (env)
		cJSON_AddItemToObject(t, "environment", cJSON_Duplicate(env, 1));
	if (ctx && lg_json_get(ctx, "bookmarked"))
		cJSON_AddItemToObject(t, "bookmarked", dup_or_null(ctx, "bookmarked"));
	const char *pid = project_id;
	if (!pid && obs->child)
		pid = lg_json_str(obs->child, "projectId");
	if (pid)
		cJSON_AddItemToObject(t, "projectId", cJSON_CreateString(pid));
	cJSON_AddItemToObject(t, "scores", g->scores ? g->scores : cJSON_CreateArray());
	g->scores = NULL;
	/* Not a Langfuse field: it tells lg-map (and through the record,
	 * lg-store) that the server copied the trace metadata into this
	 * trace's observations, so the copies in fragments read apart from
	 * the synthetic root can be removed when they are merged. */
	if (g->legacy_ingested)
		cJSON_AddItemToObject(t, "legacyIngested", cJSON_CreateTrue());
	double lat, cost;
	obs_metrics(obs, &lat, &cost);
	cJSON_AddItemToObject(t, "latency", lg_json_double(lat));
	cJSON_AddItemToObject(t, "observations", obs);
	set_links(t, NULL, g->id);
	cJSON_AddItemToObject(t, "totalCost", lg_json_double(cost));
	return t;
}

/* A legacy trace joined with this window's observations. */
static cJSON *trace_from_legacy(trace_group *g, cJSON *obs, const char *project_id)
{
	cJSON *t = g->trace;
	g->trace = NULL;
	double lat, cost, v;
	obs_metrics(obs, &lat, &cost);
	if (!(lg_json_get_num(t, "latency", &v) && v >= 0))
		lg_json_set(t, "latency", lg_json_double(lat));
	if (!(lg_json_get_num(t, "totalCost", &v) && v >= 0))
		lg_json_set(t, "totalCost", lg_json_double(cost));
	/* The list endpoint gives score ids only; score objects come from the
	 * scores API (assembly_add_score). */
	const cJSON *sc = lg_json_get(t, "scores");
	if (g->scores) {
		lg_json_set(t, "scores", g->scores);
		g->scores = NULL;
	} else if (!cJSON_IsArray(sc) || (sc->child && !cJSON_IsObject(sc->child))) {
		lg_json_set(t, "scores", cJSON_CreateArray());
	}
	lg_json_set(t, "observations", obs);
	set_links(t, project_id, g->id);
	return t;
}

static int group_cmp(const void *x, const void *y)
{
	const trace_group *a = *(trace_group *const *)x, *b = *(trace_group *const *)y;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return strcmp(a->id, b->id);
}

int assembly_emit(assembly *a, const char *project_id, trace_fn fn, void *ctx)
{
	int rc = 0;
	if (a->n > 1)
		qsort(a->list, a->n, sizeof *a->list, group_cmp);
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		trace_group *g = a->list[i];
		cJSON *syn = g->trace ? NULL : fold_synthetic_root(g);
		cJSON *obs = sorted_observations(g);
		if (!obs) {
			cJSON_Delete(syn);
			rc = -1;
			break;
		}
		cJSON *t = g->trace ? trace_from_legacy(g, obs, project_id) : trace_from_rows(g, obs, syn, project_id);
		cJSON_Delete(syn);
		if (!t) {
			rc = -1;
			break;
		}
		rc = fn(t, ctx);
		cJSON_Delete(t);
	}
	assembly_clear(a);
	return rc;
}
