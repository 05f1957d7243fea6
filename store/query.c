#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "json.h"
#include "query.h"
#include "timeutil.h"

void query_filter_init(query_filter *f)
{
	memset(f, 0, sizeof *f);
	f->from = INT64_MIN;
	f->to = INT64_MAX;
	f->min_duration = f->max_duration = NAN;
	f->min_tokens = f->max_tokens = NAN;
	f->min_cost = f->max_cost = NAN;
}

int query_parse_after(const char *s, int64_t *ms, const char **id)
{
	const char *colon = strchr(s, ':');
	char *end;
	if (!colon || colon == s || !colon[1])
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end != colon)
		return -1;
	*ms = (int64_t)v;
	*id = colon + 1;
	return 0;
}

int query_severity(const char *s)
{
	static const char *const names[] = { "low", "medium", "high", "critical" };
	for (int i = 0; s && i < 4; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i + 1;
	return 0;
}

int query_filter_active(const query_filter *f)
{
	return f->agent || f->status || f->integration || f->user || f->session || f->policy ||
	       f->meta_key || f->severity || f->has_violations || f->stale ||
	       !isnan(f->min_duration) || !isnan(f->max_duration) || !isnan(f->min_tokens) ||
	       !isnan(f->max_tokens) || !isnan(f->min_cost) || !isnan(f->max_cost);
}

static int str_is(const cJSON *obj, const char *key, const char *want)
{
	const char *s = lg_json_str(obj, key);
	return s && strcmp(s, want) == 0;
}

/* The agent name: agent.name, else metadata.agent_name. */
static const char *agent_name(const cJSON *rec)
{
	const char *a = lg_json_str(lg_json_get(rec, "agent"), "name");
	return a ? a : lg_json_str(lg_json_get(rec, "metadata"), "agent_name");
}

static int in_range(const cJSON *item, double lo, double hi)
{
	double v;
	if (isnan(lo) && isnan(hi))
		return 1;
	if (!lg_json_num(item, &v))
		return 0;
	return (isnan(lo) || v >= lo) && (isnan(hi) || v <= hi);
}

static int meta_matches(const cJSON *rec, const char *key, const char *val)
{
	const cJSON *v = lg_json_path(lg_json_get(rec, "metadata"), key);
	if (cJSON_IsString(v))
		return strcmp(v->valuestring, val) == 0;
	if (cJSON_IsNumber(v) && v->valuestring)
		return strcmp(v->valuestring, val) == 0;
	if (cJSON_IsBool(v))
		return strcmp(val, cJSON_IsTrue(v) ? "true" : "false") == 0;
	return cJSON_IsNull(v) && strcmp(val, "null") == 0;
}

int query_match_violation(const query_filter *f, const cJSON *v)
{
	if (f->status && !str_is(v, "status", f->status))
		return 0;
	if (f->policy && !str_is(v, "policy", f->policy))
		return 0;
	return !f->severity || query_severity(lg_json_str(v, "severity")) >= f->severity;
}

static int violations_match(const query_filter *f, const cJSON *rec)
{
	const cJSON *vs = lg_json_get(rec, "violations");
	query_filter vf;
	query_filter_init(&vf);
	vf.severity = f->severity;
	vf.policy = f->policy;
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next)
		if (query_match_violation(&vf, v))
			return 1;
	return 0;
}

int query_match(const query_filter *f, const cJSON *rec)
{
	const cJSON *md = lg_json_get(rec, "metadata");
	const char *a;
	if (f->agent && (!(a = agent_name(rec)) || strcmp(a, f->agent) != 0))
		return 0;
	if (f->status && !str_is(rec, "status", f->status))
		return 0;
	if (f->integration && !str_is(lg_json_get(rec, "source"), "integration", f->integration))
		return 0;
	if (f->user && !str_is(rec, "userId", f->user))
		return 0;
	if (f->session && !str_is(rec, "sessionId", f->session))
		return 0;
	if (f->stale && !cJSON_IsTrue(lg_json_get(rec, "stale")))
		return 0;
	if ((f->has_violations || f->severity || f->policy) && !violations_match(f, rec))
		return 0;
	if (!in_range(lg_json_get(rec, "duration"), f->min_duration, f->max_duration))
		return 0;
	if (!in_range(lg_json_get(lg_json_get(md, "tokens"), "total"), f->min_tokens, f->max_tokens))
		return 0;
	if (!in_range(lg_json_get(md, "cost"), f->min_cost, f->max_cost))
		return 0;
	return !f->meta_key || meta_matches(rec, f->meta_key, f->meta_val);
}

/* ---- scanning ---- */

typedef int (*visit_fn)(const MDB_val *raw, const cJSON *rec, void *ctx);

/* A walk of a whole index saw as many entries as the index says it holds:
 * a damaged branch page can hide a subtree, or show one twice, with every
 * entry in it intact. */
static int scan_complete(store_db *db, MDB_txn *txn, MDB_dbi dbi, size_t seen)
{
	MDB_stat st;
	int rc = mdb_stat(txn, dbi, &st);
	if (rc)
		return db_fail(db, "scan", rc);
	if (st.ms_entries == seen)
		return 0;
	lg_err("db: %s: %zu entries read, %zu counted (%s)", db_dbi_name(db, dbi), seen,
	       (size_t)st.ms_entries, DB_DAMAGE_ADVICE);
	return LG_EXIT_IO;
}

/* Where a walk starts: the first key at or after the start (oldest first),
 * or the last key before it (newest first, which starts at --to). With
 * --after, the first key past that record's, either way. */
static int scan_first(MDB_cursor *cur, const query_filter *f, MDB_val *k, MDB_val *v)
{
	unsigned char key[STORE_TIME_KEY + 512];
	size_t idlen = f->after_id ? strlen(f->after_id) : 0;
	int rc;
	if (idlen > sizeof key - STORE_TIME_KEY)
		idlen = sizeof key - STORE_TIME_KEY; /* longer than any stored id: the same position */
	if (!f->reverse) {
		k->mv_size = f->after_id && f->after_ms >= f->from ? db_time_key(key, f->after_ms, f->after_id, idlen)
								   : db_time_key(key, f->from, "", 0);
		k->mv_data = key;
		rc = db_cursor_get(cur, k, v, MDB_SET_RANGE);
		if (rc == 0 && f->after_id && f->after_ms >= f->from && k->mv_size == STORE_TIME_KEY + idlen &&
		    memcmp(k->mv_data, key, k->mv_size) == 0)
			rc = db_cursor_get(cur, k, v, MDB_NEXT);
		return rc;
	}
	k->mv_size = f->after_id && f->after_ms < f->to ? db_time_key(key, f->after_ms, f->after_id, idlen)
							 : db_time_key(key, f->to, "", 0);
	k->mv_data = key;
	if (f->to == INT64_MAX && !f->after_id)
		return db_cursor_get(cur, k, v, MDB_LAST);
	rc = db_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return db_cursor_get(cur, k, v, MDB_LAST);
	return rc ? rc : db_cursor_get(cur, k, v, MDB_PREV);
}

/* Calls fn for every matching record in timestamp order (newest first with
 * f->reverse). fn returns 0 to go on, 1 to stop. need_tree: 0 lets fn see
 * raw bytes only (rec NULL) when no filter is set. Returns an exit status. */
static int scan(store_db *db, const query_filter *f, int need_tree, visit_fn fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v, rv;
	int rc = db_txn_begin(db, MDB_RDONLY, &txn), status = 0;
	if (rc)
		return db_fail(db, "begin", rc);
	/* --stale walks the stale index: same keys, only the stale records. */
	if ((rc = mdb_cursor_open(txn, f->stale ? db->stale : db->by_time, &cur)) != 0) {
		mdb_txn_abort(txn);
		return db_fail(db, "cursor", rc);
	}
	int parse = need_tree || query_filter_active(f), whole = !f->after_id;
	size_t seen = 0;
	MDB_cursor_op step = f->reverse ? MDB_PREV : MDB_NEXT;
	for (rc = scan_first(cur, f, &k, &v); rc == 0; rc = db_cursor_get(cur, &k, &v, step)) {
		if (k.mv_size <= STORE_TIME_KEY) {
			db_report_damage(db, f->stale ? db->stale : db->by_time, &k, "key too short");
			status = LG_EXIT_IO;
			break;
		}
		int64_t t = db_time_of_key(k.mv_data);
		if (f->reverse ? t < f->from : t >= f->to)
			break;
		seen++;
		if ((rc = db_get(txn, db->records, (const char *)k.mv_data + STORE_TIME_KEY,
				 k.mv_size - STORE_TIME_KEY, &rv)) != 0) {
			if (rc == MDB_NOTFOUND)
				db_report_damage(db, f->stale ? db->stale : db->by_time, &k,
						 "points at a missing record");
			status = db_fail(db, "scan", rc == MDB_NOTFOUND ? DB_DAMAGED : rc);
			break;
		}
		cJSON *rec = NULL;
		if (parse) {
			lg_json_error jerr;
			if (!(rec = lg_json_parse(rv.mv_data, rv.mv_size, &jerr))) {
				MDB_val id = { k.mv_size - STORE_TIME_KEY, (char *)k.mv_data + STORE_TIME_KEY };
				db_report_damage(db, db->records, &id, "not JSON");
				status = LG_EXIT_IO;
				break;
			}
			if (!query_match(f, rec)) {
				cJSON_Delete(rec);
				continue;
			}
		}
		int stop = fn(&rv, rec, ctx);
		cJSON_Delete(rec);
		if (stop) {
			whole = 0;
			break;
		}
	}
	if (!status && rc != 0 && rc != MDB_NOTFOUND)
		status = db_fail(db, "scan", rc);
	if (!status && whole && f->from == INT64_MIN && f->to == INT64_MAX)
		status = scan_complete(db, txn, f->stale ? db->stale : db->by_time, seen);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return status;
}

typedef struct {
	FILE *out;
	lg_buf buf;
	int failed;
	unsigned long n;
	unsigned long limit;  /* stop after this many lines; 0: never */
} out_ctx;

static int out_line(out_ctx *o, const void *p, size_t n)
{
	if (fwrite(p, 1, n, o->out) != n || putc('\n', o->out) == EOF) {
		o->failed = errno == EPIPE ? -1 : (errno ? errno : EIO);
		return 1;
	}
	return 0;
}

/* Flushes and turns a write failure into "write error" (EPIPE is quiet). */
static int out_done(out_ctx *o, int status)
{
	errno = 0;
	if (!o->failed && fflush(o->out) != 0)
		o->failed = errno == EPIPE ? -1 : (errno ? errno : EIO);
	lg_buf_free(&o->buf);
	if (o->failed > 0) {
		lg_err("write error: %s", strerror(o->failed));
		return LG_EXIT_IO;
	}
	return status;
}

static int export_one(const MDB_val *raw, const cJSON *rec, void *vctx)
{
	out_ctx *o = vctx;
	(void)rec;
	return out_line(o, raw->mv_data, raw->mv_size) || (o->limit && ++o->n >= o->limit);
}

int query_export(store_db *db, const query_filter *f, FILE *out)
{
	out_ctx o = { out, { 0 }, 0, 0, (unsigned long)f->limit };
	return out_done(&o, scan(db, f, 0, export_one, &o));
}

static int count_one(const MDB_val *raw, const cJSON *rec, void *vctx)
{
	(void)raw, (void)rec;
	((out_ctx *)vctx)->n++;
	return 0;
}

int query_count(store_db *db, const query_filter *f, FILE *out)
{
	out_ctx o = { out, { 0 }, 0, 0, 0 };
	int status = scan(db, f, 0, count_one, &o);
	if (status == 0)
		fprintf(out, "%lu\n", o.n);
	return out_done(&o, status);
}

typedef struct {
	out_ctx o;
	query_filter vf;
} viol_ctx;

/* Each matching violation, with the trace it belongs to. */
static int violations_one(const MDB_val *raw, const cJSON *rec, void *vctx)
{
	viol_ctx *c = vctx;
	const cJSON *vs = lg_json_get(rec, "violations");
	(void)raw;
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		if (!cJSON_IsObject(v) || !query_match_violation(&c->vf, v))
			continue;
		cJSON *line = cJSON_Duplicate(v, 1);
		const char *a = agent_name(rec), *in = lg_json_str(lg_json_get(rec, "source"), "integration");
		const char *ts = lg_json_str(rec, "timestamp");
		lg_json_set(line, "externalId", cJSON_CreateString(lg_json_str(rec, "externalId")));
		lg_json_set(line, "traceTimestamp", ts ? cJSON_CreateString(ts) : cJSON_CreateNull());
		lg_json_set(line, "agent", a ? cJSON_CreateString(a) : cJSON_CreateNull());
		lg_json_set(line, "integration", in ? cJSON_CreateString(in) : cJSON_CreateNull());
		c->o.buf.len = 0;
		int err = !line || lg_json_print(&c->o.buf, line);
		cJSON_Delete(line);
		if (err || out_line(&c->o, c->o.buf.data, c->o.buf.len))
			return 1;
		if (c->o.limit && ++c->o.n >= c->o.limit)
			return 1;
	}
	return 0;
}

int query_violations(store_db *db, const query_filter *f, FILE *out)
{
	viol_ctx c = { { out, { 0 }, 0, 0, (unsigned long)f->limit }, *f };
	query_filter rf = *f;
	/* status, severity and policy apply to each violation, not the record. */
	rf.status = NULL;
	rf.severity = 0;
	rf.policy = NULL;
	rf.has_violations = 1;
	c.vf.policy = f->policy;
	return out_done(&c.o, scan(db, &rf, 1, violations_one, &c));
}

/* ---- stats ---- */

typedef struct {
	char *key;
	unsigned long traces, success;
	double *dur;
	size_t ndur, capdur;
	double dur_sum, tokens, cost;
	unsigned long sev[5];
} group;

typedef struct {
	group *g;
	size_t n, cap;       /* open addressing on cap (a power of two) */
	const char *by;
	int oom;
} groups;

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
		gs->n++;
	}
	return &gs->g[j];
}

static void group_add(groups *gs, const char *key, const cJSON *rec)
{
	group *g = group_get(gs, key && *key ? key : "(none)"); /* "" is unset too */
	const cJSON *md = lg_json_get(rec, "metadata");
	double d;
	if (!g) {
		gs->oom = 1;
		return;
	}
	g->traces++;
	g->success += str_is(rec, "status", "success");
	/* Only finite numbers are measurements: 1e999 parses as infinity,
	 * and one would make every sum and average inf or nan. */
	if (lg_json_get_num(rec, "duration", &d) && isfinite(d)) {
		if (g->ndur == g->capdur) {
			size_t cap = g->capdur ? g->capdur * 2 : 16;
			double *p = realloc(g->dur, cap * sizeof *p);
			if (!p) {
				gs->oom = 1;
				return;
			}
			g->dur = p;
			g->capdur = cap;
		}
		g->dur[g->ndur++] = d;
		g->dur_sum += d;
	}
	if (lg_json_get_num(lg_json_get(md, "tokens"), "total", &d) && isfinite(d))
		g->tokens += d;
	if (lg_json_get_num(md, "cost", &d) && isfinite(d))
		g->cost += d;
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next)
		if (!strcmp(gs->by ? gs->by : "", "policy") ? str_is(v, "policy", key) : 1)
			g->sev[query_severity(lg_json_str(v, "severity"))]++;
}

static int stats_one(const MDB_val *raw, const cJSON *rec, void *vctx)
{
	groups *gs = vctx;
	const char *by = gs->by, *key = NULL;
	char day[11], hour[32];
	(void)raw;
	if (!by) {
		key = "all";
	} else if (!strcmp(by, "agent")) {
		key = agent_name(rec);
	} else if (!strcmp(by, "model")) {
		key = lg_json_str(lg_json_get(rec, "metadata"), "model");
	} else if (!strcmp(by, "day")) {
		const char *ts = lg_json_str(rec, "timestamp");
		if (ts && strlen(ts) >= 10) {
			memcpy(day, ts, 10);
			day[10] = '\0';
			key = day;
		}
	} else if (!strcmp(by, "hour")) {
		/* The UTC hour of the trace's time, as an ISO time. */
		int64_t ms;
		const char *ts = lg_json_str(rec, "timestamp");
		if (ts && lg_time_parse(ts, &ms) == 0) {
			char iso[32];
			lg_time_format(ms - (ms % 3600000 + 3600000) % 3600000, iso);
			snprintf(hour, sizeof hour, "%.13s:00:00Z", iso);
			key = hour;
		}
	} else if (!strcmp(by, "integration")) {
		key = lg_json_str(lg_json_get(rec, "source"), "integration");
	} else if (!strcmp(by, "user")) {
		key = lg_json_str(rec, "userId");
	} else if (!strcmp(by, "session")) {
		key = lg_json_str(rec, "sessionId");
	} else if (!strcmp(by, "policy")) {
		/* A trace counts once under each policy it violated. */
		const cJSON *vs = lg_json_get(rec, "violations");
		for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
			const char *p = lg_json_str(v, "policy");
			int first = 1;
			for (const cJSON *w = vs->child; w != v && p; w = w->next)
				if (str_is(w, "policy", p))
					first = 0;
			if (p && first)
				group_add(gs, p, rec);
		}
		return gs->oom;
	}
	group_add(gs, key, rec);
	return gs->oom;
}

int query_valid_by(const char *by)
{
	static const char *const ok[] = { "agent", "model", "day", "hour", "policy", "integration", "user", "session" };
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (strcmp(by, ok[i]) == 0)
			return 1;
	return 0;
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

static cJSON *group_json(group *g)
{
	cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateObject();
	double p = p95(g);
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

static void print_table(FILE *out, const char *by, group *g, size_t n)
{
	char avg[64], p95s[64], tok[400], cost[400];
	fprintf(out, "%-24s %8s %8s %10s %10s %12s %12s %5s %5s %5s %5s\n", by ? by : "scope",
		"traces", "success", "avg_ms", "p95_ms", "tokens", "cost_usd", "crit", "high", "med", "low");
	for (size_t i = 0; i < n; i++) {
		double p = p95(&g[i]);
		fprintf(out, "%-24.24s %8lu %7.1f%% %10s %10s %12s %12s %5lu %5lu %5lu %5lu\n",
			g[i].key, g[i].traces, 100.0 * (double)g[i].success / (double)g[i].traces,
			cell(avg, sizeof avg, 0, g[i].ndur ? g[i].dur_sum / (double)g[i].ndur : 0),
			cell(p95s, sizeof p95s, 0, isnan(p) ? 0 : p), cell(tok, sizeof tok, 0, g[i].tokens),
			cell(cost, sizeof cost, 6, g[i].cost), g[i].sev[4], g[i].sev[3], g[i].sev[2], g[i].sev[1]);
	}
}

int query_stats(store_db *db, const query_filter *f, const char *by, int json, FILE *out)
{
	groups gs = { NULL, 0, 0, by, 0 };
	out_ctx o = { out, { 0 }, 0, 0, 0 };
	int status = scan(db, f, 1, stats_one, &gs);
	size_t n = 0;
	if (gs.oom && !status) {
		lg_err("out of memory");
		status = LG_EXIT_BAD;
	}
	for (size_t i = 0; i < gs.cap; i++)
		if (gs.g[i].key)
			gs.g[n++] = gs.g[i];
	if (n)
		qsort(gs.g, n, sizeof *gs.g, group_cmp);
	if (!status && json) {
		cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
		lg_json_set(root, "by", by ? cJSON_CreateString(by) : cJSON_CreateNull());
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, group_json(&gs.g[i]));
		lg_json_set(root, "groups", arr);
		if (lg_json_print(&o.buf, root) == 0)
			out_line(&o, o.buf.data, o.buf.len);
		cJSON_Delete(root);
	} else if (!status) {
		print_table(out, by, gs.g, n);
	}
	for (size_t i = 0; i < n; i++) {
		free(gs.g[i].key);
		free(gs.g[i].dur);
	}
	free(gs.g);
	return out_done(&o, status);
}
