#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "json.h"
#include "query_int.h"
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

/* ---- summaries ---- */

/* Whether a walk may read summaries instead of records: the store has one
 * for every record, and no filter asks for what they leave out. */
static int by_summary(const store_db *db, const query_filter *f)
{
	return db->summary && db->summaries && !f->stale && !f->meta_key;
}

static int sum_in_range(const summary *s, unsigned bit, double v, double lo, double hi)
{
	if (isnan(lo) && isnan(hi))
		return 1;
	if (!(s->has & bit))
		return 0;
	return (isnan(lo) || v >= lo) && (isnan(hi) || v <= hi);
}

/* query_match on the summary (every filter but --meta and --stale). */
static int summary_match(const query_filter *f, const summary *s)
{
	if (f->agent && !sum_is(s->agent, f->agent))
		return 0;
	if (f->status && !sum_is(s->status, f->status))
		return 0;
	if (f->integration && !sum_is(s->integration, f->integration))
		return 0;
	if (f->user && !sum_is(s->user, f->user))
		return 0;
	if (f->session && !sum_is(s->session, f->session))
		return 0;
	if (f->has_violations || f->severity || f->policy) {
		const unsigned char *pos = s->viol;
		sum_violation v;
		int any = 0;
		while (!any && summary_next_violation(s, &pos, &v))
			any = (!f->policy || sum_is(v.policy, f->policy)) && (!f->severity || v.severity >= f->severity);
		if (!any)
			return 0;
	}
	return sum_in_range(s, SUM_DURATION, s->duration, f->min_duration, f->max_duration) &&
	       sum_in_range(s, SUM_TOKENS, s->tokens, f->min_tokens, f->max_tokens) &&
	       sum_in_range(s, SUM_COST, s->cost, f->min_cost, f->max_cost);
}

/* query_match_violation on a summary's violation, for the violations
 * `violations` prints (objects only). */
static int sum_violation_match(const query_filter *vf, const sum_violation *v)
{
	if (!v->object)
		return 0;
	if (vf->status && !sum_is(v->status, vf->status))
		return 0;
	if (vf->policy && !sum_is(v->policy, vf->policy))
		return 0;
	return !vf->severity || v->severity >= vf->severity;
}

/* ---- scanning ---- */

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

/* The record a time key of index dbi names, its checksum verified: 0, or
 * an exit status with the damage reported. */
static int keyed_record(store_db *db, MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, MDB_val *rv)
{
	int rc = db_get(txn, db->records, (const char *)k->mv_data + STORE_TIME_KEY, k->mv_size - STORE_TIME_KEY, rv);
	if (!rc)
		return 0;
	if (rc == MDB_NOTFOUND)
		db_report_damage(db, dbi, k, "points at a missing record");
	return db_fail(db, "scan", rc == MDB_NOTFOUND ? DB_DAMAGED : rc);
}

static cJSON *parse_record(store_db *db, const MDB_val *k, const MDB_val *rv)
{
	lg_json_error jerr;
	cJSON *rec = lg_json_parse(rv->mv_data, rv->mv_size, &jerr);
	if (!rec) {
		MDB_val id = { k->mv_size - STORE_TIME_KEY, (char *)k->mv_data + STORE_TIME_KEY };
		db_report_damage(db, db->records, &id, "not JSON");
	}
	return rec;
}

/* Calls fn for every matching record in timestamp order (newest first with
 * f->reverse), with what need asks for (NEED_RAW: the record's bytes, and
 * its tree only when a filter made the walk parse it). fn returns 0 to go
 * on, 1 to stop. Returns an exit status. */
int query_scan(store_db *db, const query_filter *f, int need, query_visit fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	lg_buf sb = { 0 };
	int rc = db_txn_begin(db, MDB_RDONLY, &txn), status = 0;
	if (rc)
		return db_fail(db, "begin", rc);
	int sums = by_summary(db, f) && (need == NEED_SUMMARY || (need == NEED_RAW && query_filter_active(f)));
	/* --stale walks the stale index: same keys, only the stale records;
	 * summaries have the same keys too. */
	MDB_dbi dbi = sums ? db->summaries : f->stale ? db->stale : db->by_time;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return db_fail(db, "cursor", rc);
	}
	int parse = need != NEED_RAW || query_filter_active(f), whole = !f->after_id;
	size_t seen = 0;
	MDB_cursor_op step = f->reverse ? MDB_PREV : MDB_NEXT;
	for (rc = scan_first(cur, f, &k, &v); rc == 0; rc = db_cursor_get(cur, &k, &v, step)) {
		if (k.mv_size <= STORE_TIME_KEY) {
			db_report_damage(db, dbi, &k, "key too short");
			status = LG_EXIT_IO;
			break;
		}
		int64_t t = db_time_of_key(k.mv_data);
		if (f->reverse ? t < f->from : t >= f->to)
			break;
		seen++;
		query_item it = { db, txn, k, { 0, NULL }, NULL, NULL };
		summary s;
		cJSON *rec = NULL;
		if (sums) {
			if (summary_decode(v.mv_data, v.mv_size, &s) != 0) {
				db_report_damage(db, dbi, &k, "malformed");
				status = LG_EXIT_IO;
				break;
			}
			if (!summary_match(f, &s))
				continue;
			it.sum = &s;
			if (need == NEED_RAW && (status = keyed_record(db, txn, dbi, &k, &it.raw)))
				break;
		} else {
			if ((status = keyed_record(db, txn, dbi, &k, &it.raw)))
				break;
			if (parse) {
				if (!(rec = parse_record(db, &k, &it.raw))) {
					status = LG_EXIT_IO;
					break;
				}
				if (!query_match(f, rec)) {
					cJSON_Delete(rec);
					continue;
				}
				it.rec = rec;
			}
			if (need == NEED_SUMMARY) {
				sb.len = 0;
				if (summary_encode(rec, &sb) != 0 || summary_decode(sb.data, sb.len, &s) != 0) {
					cJSON_Delete(rec);
					lg_err("out of memory");
					status = LG_EXIT_BAD;
					break;
				}
				it.sum = &s;
			}
		}
		int stop = fn(&it, ctx);
		cJSON_Delete(rec);
		if (stop) {
			whole = 0;
			break;
		}
	}
	if (!status && rc != 0 && rc != MDB_NOTFOUND)
		status = db_fail(db, "scan", rc);
	if (!status && whole && f->from == INT64_MIN && f->to == INT64_MAX)
		status = scan_complete(db, txn, dbi, seen);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	lg_buf_free(&sb);
	return status;
}

int query_out_line(query_out *o, const void *p, size_t n)
{
	if (fwrite(p, 1, n, o->out) != n || putc('\n', o->out) == EOF) {
		o->failed = errno == EPIPE ? -1 : (errno ? errno : EIO);
		return 1;
	}
	return 0;
}

int query_out_done(query_out *o, int status)
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

static int export_one(const query_item *it, void *vctx)
{
	query_out *o = vctx;
	return query_out_line(o, it->raw.mv_data, it->raw.mv_size) || (o->limit && ++o->n >= o->limit);
}

int query_export(store_db *db, const query_filter *f, FILE *out)
{
	query_out o = { out, { 0 }, 0, 0, (unsigned long)f->limit };
	return query_out_done(&o, query_scan(db, f, NEED_RAW, export_one, &o));
}

static int count_one(const query_item *it, void *vctx)
{
	(void)it;
	((query_out *)vctx)->n++;
	return 0;
}

int query_count(store_db *db, const query_filter *f, FILE *out)
{
	query_out o = { out, { 0 }, 0, 0, 0 };
	/* With summaries, a count reads no record. */
	int status = query_scan(db, f, by_summary(db, f) ? NEED_SUMMARY : NEED_RAW, count_one, &o);
	if (status == 0)
		fprintf(out, "%lu\n", o.n);
	return query_out_done(&o, status);
}

typedef struct {
	query_out o;
	query_filter vf;
	int total;            /* count every match, past the limit too */
	unsigned long found;  /* matching violations */
	int status;           /* of a record read by the visitor */
} viol_ctx;

/* Each matching violation of rec, with the trace it belongs to; past the
 * limit only counted. 1 when the walk may stop. */
static int violations_print(viol_ctx *c, const cJSON *rec)
{
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		if (!cJSON_IsObject(v) || !query_match_violation(&c->vf, v))
			continue;
		c->found++;
		if (c->o.limit && c->o.n >= c->o.limit)
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
		if (err || query_out_line(&c->o, c->o.buf.data, c->o.buf.len))
			return 1;
		if (c->o.limit && ++c->o.n >= c->o.limit && !c->total)
			return 1;
	}
	return 0;
}

static int violations_one(const query_item *it, void *vctx)
{
	viol_ctx *c = vctx;
	if (it->rec)
		return violations_print(c, it->rec);
	/* From the summary: the record is read only for lines to print. */
	const unsigned char *pos = it->sum->viol;
	sum_violation v;
	unsigned long n = 0;
	while (summary_next_violation(it->sum, &pos, &v))
		n += (unsigned long)sum_violation_match(&c->vf, &v);
	if (!n)
		return 0;
	if (c->o.limit && c->o.n >= c->o.limit) {
		c->found += n;
		return !c->total;
	}
	MDB_val rv;
	cJSON *rec = NULL;
	if ((c->status = keyed_record(it->db, it->txn, it->db->summaries, &it->key, &rv)) ||
	    !(rec = parse_record(it->db, &it->key, &rv))) {
		c->status = c->status ? c->status : LG_EXIT_IO;
		return 1;
	}
	int stop = violations_print(c, rec);
	cJSON_Delete(rec);
	return stop;
}

int query_violations(store_db *db, const query_filter *f, int total, FILE *out)
{
	viol_ctx c = { { out, { 0 }, 0, 0, (unsigned long)f->limit }, *f, total, 0, 0 };
	query_filter rf = *f;
	/* status, severity and policy apply to each violation, not the record. */
	rf.status = NULL;
	rf.severity = 0;
	rf.policy = NULL;
	rf.has_violations = 1;
	c.vf.policy = f->policy;
	int status = query_scan(db, &rf, by_summary(db, &rf) ? NEED_SUMMARY : NEED_TREE, violations_one, &c);
	if (!status)
		status = c.status;
	if (!status && total && !c.o.failed)
		fprintf(out, "{\"$lg\":\"violations\",\"total\":%lu}\n", c.found);
	return query_out_done(&c.o, status);
}
