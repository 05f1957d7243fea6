/* lg-store stats: each matching trace's summary added to its groups (one
 * or two levels: agent, or agent,hour), then printed as JSON or a table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "query_int.h"
#include "timeutil.h"

struct groups;

typedef struct {
	char *key;
	unsigned long traces, success;
	double *dur;
	size_t ndur, capdur;
	double dur_sum, tokens, cost;
	unsigned long sev[5];
	int64_t last;        /* the newest trace's time (INT64_MIN: none known) */
	struct groups *sub;  /* the second level of a two-level grouping */
} group;

typedef struct groups {
	group *g;
	size_t n, cap;       /* open addressing on cap (a power of two) */
} groups;

/* A grouping: one or two levels (agent, or agent,hour). */
typedef struct {
	const char *by[2];   /* by[0] NULL: everything in one group */
	size_t levels;
	groups top;
	lg_buf kb[2], tmp;   /* keys as C strings */
	int oom;
} stats_ctx;

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static group *group_get(groups *gs, const char *key)
{
	if (gs->n * 10 >= gs->cap * 7) {
		size_t cap = gs->cap ? gs->cap * 2 : 64;
		group *ng = calloc(cap, sizeof *ng);
		if (!ng)
			return NULL;
		for (size_t i = 0; i < gs->cap; i++) {
			if (!gs->g[i].key)
				continue;
			size_t j = str_hash(gs->g[i].key) & (cap - 1);
			while (ng[j].key)
				j = (j + 1) & (cap - 1);
			ng[j] = gs->g[i];
		}
		free(gs->g);
		gs->g = ng;
		gs->cap = cap;
	}
	size_t j = str_hash(key) & (gs->cap - 1);
	while (gs->g[j].key && strcmp(gs->g[j].key, key) != 0)
		j = (j + 1) & (gs->cap - 1);
	if (!gs->g[j].key) {
		if (!(gs->g[j].key = strdup(key)))
			return NULL;
		gs->g[j].last = INT64_MIN;
		gs->n++;
	}
	return &gs->g[j];
}

/* Adds the trace to group key of gs; policy: count only the violations
 * of this policy (NULL: all). The group, or NULL out of memory. */
static group *group_add(groups *gs, const char *key, const summary *s, int64_t t, const char *policy)
{
	group *g = group_get(gs, key && *key ? key : "(none)"); /* "" is unset too */
	if (!g)
		return NULL;
	g->traces++;
	g->success += sum_is(s->status, "success");
	if (t != INT64_MIN && t > g->last)
		g->last = t;
	/* Only finite numbers are measurements: 1e999 parses as infinity,
	 * and one would make every sum and average inf or nan. */
	if ((s->has & SUM_DURATION) && isfinite(s->duration)) {
		if (g->ndur == g->capdur) {
			size_t cap = g->capdur ? g->capdur * 2 : 16;
			double *p = realloc(g->dur, cap * sizeof *p);
			if (!p)
				return NULL;
			g->dur = p;
			g->capdur = cap;
		}
		g->dur[g->ndur++] = s->duration;
		g->dur_sum += s->duration;
	}
	if ((s->has & SUM_TOKENS) && isfinite(s->tokens))
		g->tokens += s->tokens;
	if ((s->has & SUM_COST) && isfinite(s->cost))
		g->cost += s->cost;
	const unsigned char *pos = s->viol;
	sum_violation v;
	while (summary_next_violation(s, &pos, &v))
		if (!policy || sum_is(v.policy, policy))
			g->sev[v.severity]++;
	return g;
}

/* The trace's key at a level (its one key; NULL when it has none). */
static const char *level_key(stats_ctx *c, const char *by, const summary *s, lg_buf *b)
{
	if (!strcmp(by, "agent"))
		return sum_cstr(s->agent, b, &c->oom);
	if (!strcmp(by, "model"))
		return sum_cstr(s->model, b, &c->oom);
	if (!strcmp(by, "integration"))
		return sum_cstr(s->integration, b, &c->oom);
	if (!strcmp(by, "user"))
		return sum_cstr(s->user, b, &c->oom);
	if (!strcmp(by, "session"))
		return sum_cstr(s->session, b, &c->oom);
	const char *ts = sum_cstr(s->timestamp, &c->tmp, &c->oom);
	b->len = 0;
	if (!strcmp(by, "day")) {
		if (!ts || strlen(ts) < 10 || lg_buf_add(b, ts, 10) || lg_buf_addc(b, '\0'))
			return NULL;
		return b->data;
	}
	/* hour: the UTC hour of the trace's time, as an ISO time. */
	int64_t ms;
	char iso[32];
	if (!ts || lg_time_parse(ts, &ms) != 0)
		return NULL;
	lg_time_format(ms - (ms % 3600000 + 3600000) % 3600000, iso);
	if (lg_buf_printf(b, "%.13s:00:00Z", iso) < 0) {
		c->oom = 1;
		return NULL;
	}
	return b->data;
}

/* Calls add for each key the trace has at a level: one (maybe NULL), or
 * by policy, once under each policy it violated (none without one). */
static void level_each(stats_ctx *c, size_t level, const summary *s, int64_t t, groups *gs, const char *policy);

static void level_add(stats_ctx *c, size_t level, const summary *s, int64_t t, groups *gs, const char *key,
		      const char *policy)
{
	group *g = group_add(gs, key, s, t, policy);
	if (!g) {
		c->oom = 1;
		return;
	}
	if (level + 1 < c->levels) {
		if (!g->sub && !(g->sub = calloc(1, sizeof *g->sub))) {
			c->oom = 1;
			return;
		}
		/* The inner key's buffer may be the outer's: the outer key is in g. */
		level_each(c, level + 1, s, t, g->sub, policy ? policy : strcmp(c->by[level], "policy") ? NULL : g->key);
	}
}

static void level_each(stats_ctx *c, size_t level, const summary *s, int64_t t, groups *gs, const char *policy)
{
	const char *by = c->by[level];
	if (!by) {
		level_add(c, level, s, t, gs, "all", policy);
		return;
	}
	if (strcmp(by, "policy") != 0) {
		level_add(c, level, s, t, gs, level_key(c, by, s, &c->kb[level]), policy);
		return;
	}
	/* A trace counts once under each policy it violated. */
	const unsigned char *pos = s->viol, *at = pos, *w;
	sum_violation v, x;
	for (; !c->oom && summary_next_violation(s, &pos, &v); at = pos) {
		int first = v.policy.s != NULL;
		for (w = s->viol; first && w < at && summary_next_violation(s, &w, &x);)
			if (x.policy.s && x.policy.n == v.policy.n && !memcmp(x.policy.s, v.policy.s, v.policy.n))
				first = 0;
		if (first) {
			const char *p = sum_cstr(v.policy, &c->kb[level], &c->oom);
			if (p)
				level_add(c, level, s, t, gs, p, p);
		}
	}
}

static int stats_one(const query_item *it, void *vctx)
{
	stats_ctx *c = vctx;
	level_each(c, 0, it->sum, db_time_of_key(it->key.mv_data), &c->top, NULL);
	return c->oom;
}

static int by_level(const char *s, size_t n)
{
	static const char *const ok[] = { "agent", "model", "day", "hour", "policy", "integration", "user", "session" };
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (strlen(ok[i]) == n && strncmp(s, ok[i], n) == 0)
			return (int)i;
	return -1;
}

int query_valid_by(const char *by)
{
	const char *comma = strchr(by, ',');
	if (!comma)
		return by_level(by, strlen(by)) >= 0;
	int a = by_level(by, (size_t)(comma - by)), b = by_level(comma + 1, strlen(comma + 1));
	return a >= 0 && b >= 0 && a != b;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int group_cmp(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->traces != y->traces)
		return x->traces > y->traces ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Nearest-rank 95th percentile. */
static double p95(group *g)
{
	if (!g->ndur)
		return NAN;
	qsort(g->dur, g->ndur, sizeof *g->dur, dbl_cmp);
	size_t rank = (size_t)ceil(0.95 * (double)g->ndur);
	return g->dur[rank ? rank - 1 : 0];
}

/* The groups packed to the front of the table and sorted, most traces
 * first (each level); returns how many. */
static size_t groups_sort(groups *gs)
{
	size_t n = 0;
	for (size_t i = 0; i < gs->cap; i++)
		if (gs->g[i].key)
			gs->g[n++] = gs->g[i];
	gs->n = n;
	if (n)
		qsort(gs->g, n, sizeof *gs->g, group_cmp);
	for (size_t i = 0; i < n; i++)
		if (gs->g[i].sub)
			groups_sort(gs->g[i].sub);
	return n;
}

static void groups_free(groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->g[i].key);
		free(gs->g[i].dur);
		if (gs->g[i].sub) {
			groups_free(gs->g[i].sub);
			free(gs->g[i].sub);
		}
	}
	free(gs->g);
}

static cJSON *group_json(group *g)
{
	cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateObject();
	double p = p95(g);
	char iso[32];
	lg_json_set(o, "key", cJSON_CreateString(g->key));
	lg_json_set(o, "traces", lg_json_int((int64_t)g->traces));
	lg_json_set(o, "successRate", lg_json_double(round((double)g->success / (double)g->traces * 1e4) / 1e4));
	lg_json_set(o, "avgDuration", g->ndur ? lg_json_double(round(g->dur_sum / (double)g->ndur * 10) / 10) : cJSON_CreateNull());
	lg_json_set(o, "p95Duration", g->ndur ? lg_json_double(p) : cJSON_CreateNull());
	lg_json_set(o, "tokens", lg_json_double(g->tokens));
	lg_json_set(o, "cost", lg_json_double(round(g->cost * 1e9) / 1e9));
	lg_json_set(v, "critical", lg_json_int((int64_t)g->sev[4]));
	lg_json_set(v, "high", lg_json_int((int64_t)g->sev[3]));
	lg_json_set(v, "medium", lg_json_int((int64_t)g->sev[2]));
	lg_json_set(v, "low", lg_json_int((int64_t)g->sev[1]));
	lg_json_set(v, "total", lg_json_int((int64_t)(g->sev[0] + g->sev[1] + g->sev[2] + g->sev[3] + g->sev[4])));
	lg_json_set(o, "violations", v);
	lg_json_set(o, "lastSeen", g->last != INT64_MIN ? cJSON_CreateString(lg_time_format(g->last, iso)) : cJSON_CreateNull());
	if (g->sub) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < g->sub->n; i++)
			cJSON_AddItemToArray(arr, group_json(&g->sub->g[i]));
		lg_json_set(o, "groups", arr);
	}
	return o;
}

/* A cell of the table: "-" for a sum that overflowed (finite values
 * can add up to infinity), never "inf" or "nan". */
static const char *cell(char *buf, size_t n, int decimals, double v)
{
	if (!isfinite(v))
		return "-";
	snprintf(buf, n, "%.*f", decimals, v);
	return buf;
}

/* The rows of gs; a second level's rows follow their group's, indented. */
static void print_rows(FILE *out, groups *gs, int indent)
{
	char avg[64], p95s[64], tok[400], cost[400], key[32];
	for (size_t i = 0; i < gs->n; i++) {
		group *g = &gs->g[i];
		double p = p95(g);
		snprintf(key, sizeof key, "%s%s", indent ? "  " : "", g->key);
		fprintf(out, "%-24.24s %8lu %7.1f%% %10s %10s %12s %12s %5lu %5lu %5lu %5lu\n",
			key, g->traces, 100.0 * (double)g->success / (double)g->traces,
			cell(avg, sizeof avg, 0, g->ndur ? g->dur_sum / (double)g->ndur : 0),
			cell(p95s, sizeof p95s, 0, isnan(p) ? 0 : p), cell(tok, sizeof tok, 0, g->tokens),
			cell(cost, sizeof cost, 6, g->cost), g->sev[4], g->sev[3], g->sev[2], g->sev[1]);
		if (g->sub)
			print_rows(out, g->sub, 1);
	}
}

static void print_table(FILE *out, const char *by, groups *gs)
{
	fprintf(out, "%-24s %8s %8s %10s %10s %12s %12s %5s %5s %5s %5s\n", by ? by : "scope",
		"traces", "success", "avg_ms", "p95_ms", "tokens", "cost_usd", "crit", "high", "med", "low");
	print_rows(out, gs, 0);
}

int query_stats(store_db *db, const query_filter *f, const char *by, int json, FILE *out)
{
	stats_ctx c;
	query_out o = { out, { 0 }, 0, 0, 0 };
	char first[32];
	memset(&c, 0, sizeof c);
	c.levels = 1;
	c.by[0] = by;
	const char *comma = by ? strchr(by, ',') : NULL;
	if (comma) {
		snprintf(first, sizeof first, "%.*s", (int)(comma - by), by);
		c.by[0] = first;
		c.by[1] = comma + 1;
		c.levels = 2;
	}
	int status = query_scan(db, f, NEED_SUMMARY, stats_one, &c);
	if (c.oom && !status) {
		lg_err("out of memory");
		status = LG_EXIT_BAD;
	}
	size_t n = groups_sort(&c.top);
	if (!status && json) {
		cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
		lg_json_set(root, "by", by ? cJSON_CreateString(by) : cJSON_CreateNull());
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, group_json(&c.top.g[i]));
		lg_json_set(root, "groups", arr);
		if (lg_json_print(&o.buf, root) == 0)
			query_out_line(&o, o.buf.data, o.buf.len);
		cJSON_Delete(root);
	} else if (!status) {
		print_table(out, by, &c.top);
	}
	groups_free(&c.top);
	for (size_t i = 0; i < 2; i++)
		lg_buf_free(&c.kb[i]);
	lg_buf_free(&c.tmp);
	return query_out_done(&o, status);
}
