#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "json.h"
#include "line.h"
#include "merge.h"
#include "put.h"
#include "scan.h"
#include "stream.h"
#include "timeutil.h"

enum outcome { O_NONE, O_NEW, O_UPDATED, O_UNCHANGED, O_CONFLICT };

typedef struct {
	size_t off, len;       /* the line, in put_ctx.texts */
	unsigned long lineno;
	cJSON *tree;           /* parsed; consumed when applied */
	int control;
	int plain;             /* scan_plain_record said yes: no tree needed if new */
	scan_record sr;
	enum outcome outcome;
	int stale;
	char *why;             /* conflict message, reported after commit */
} put_item;

/* What a transaction may change besides the database; copied back when it
 * commits, thrown away when it is redone. */
typedef struct {
	char *run;             /* the open run, from run-start */
	unsigned long run_ingested;
} run_state;

typedef struct {
	store_db *db;
	const put_opts *o;
	FILE *quarantine;
	put_item *items;
	size_t n, cap, records;
	run_state committed, work;
	put_counts total;
	lg_buf buf;
	lg_buf texts;          /* the batch's lines, one arena: no large malloc per line */
	unsigned long bad;
} put_ctx;

static const char *text_of(const put_ctx *c, const put_item *it)
{
	return c->texts.data + it->off;
}

static void run_state_set(run_state *dst, const run_state *src)
{
	free(dst->run);
	dst->run = src->run ? strdup(src->run) : NULL;
	dst->run_ingested = src->run_ingested;
}

static int64_t record_time(const cJSON *rec)
{
	int64_t ms;
	const char *ts = lg_json_str(rec, "timestamp");
	return ts && lg_time_parse(ts, &ms) == 0 ? ms : INT64_MIN;
}

/* Adds or removes rec's time key (timestamp + id) in by_time or stale. */
static int time_key(MDB_txn *txn, MDB_dbi dbi, const cJSON *rec, const char *id, int del)
{
	unsigned char key[1024];
	size_t n = db_time_key(key, record_time(rec), id, strlen(id));
	if (del)
		return db_del(txn, dbi, (const char *)key, n);
	return db_put(txn, dbi, (const char *)key, n, "", 0);
}

static int has_violation(const cJSON *rec, const char *vid)
{
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *id = lg_json_str(v, "id");
		if (id && strcmp(id, vid) == 0)
			return 1;
	}
	return 0;
}

/* Brings every index in line with rec (old: what was stored, or NULL). */
static int index_record(put_ctx *c, MDB_txn *txn, const cJSON *old, const cJSON *rec,
			const char *id, int stale)
{
	int rc = 0;
	size_t idlen = strlen(id);
	if (old && record_time(old) != record_time(rec) &&
	    ((rc = time_key(txn, c->db->by_time, old, id, 1)) || (rc = time_key(txn, c->db->stale, old, id, 1))))
		return rc;
	if ((rc = time_key(txn, c->db->by_time, rec, id, 0)))
		return rc;
	const cJSON *vs = lg_json_get(old, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && !has_violation(rec, vid) && (rc = db_del(txn, c->db->violations, vid, strlen(vid))))
			return rc;
	}
	vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (rc = db_put(txn, c->db->violations, vid, strlen(vid), id, idlen)))
			return rc;
	}
	return time_key(txn, c->db->stale, rec, id, !stale);
}

static int write_record(put_ctx *c, MDB_txn *txn, const char *id, const cJSON *rec)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, rec))
		return ENOMEM;
	return db_put(txn, c->db->records, id, strlen(id), c->buf.data, c->buf.len);
}

/* A new record that needed no change is stored as it was sent (no second
 * printing), with the stale flag appended before its closing brace. */
static int write_text(put_ctx *c, MDB_txn *txn, const char *id, const put_item *it)
{
	const char *text = text_of(c, it);
	size_t n = it->len;
	while (n && text[n - 1] != '}')
		n--;
	if (!n)
		return write_record(c, txn, id, it->tree);
	c->buf.len = 0;
	if (lg_buf_add(&c->buf, text, n - 1) ||
	    (it->stale && lg_buf_adds(&c->buf, ",\"stale\":true")) || lg_buf_addc(&c->buf, '}'))
		return ENOMEM;
	return db_put(txn, c->db->records, id, strlen(id), c->buf.data, c->buf.len);
}

typedef struct {
	put_ctx *c;
	MDB_txn *txn;
	const char *id;
	size_t idlen;
	int rc;
} vid_put;

static void index_violation(void *ctx, const char *vid, size_t n)
{
	vid_put *vp = ctx;
	if (!vp->rc)
		vp->rc = db_put(vp->txn, vp->c->db->violations, vid, n, vp->id, vp->idlen);
}

/* Stale unless the record's content hash is the one lg-policy stamped
 * (merge_mark_stale's rule), hashed from the text: no tree. -1 if the
 * text cannot be hashed (never, for a line the scan accepted). */
static int plain_stale(const put_ctx *c, const put_item *it)
{
	char hex[17];
	uint64_t h;
	const char *text = text_of(c, it);
	if (!it->sr.hash_len) /* never evaluated: stale without hashing */
		return 1;
	if (lg_record_text_hash(text, it->len, &h) != 0)
		return -1;
	lg_hash_hex(h, hex);
	return !(it->sr.hash_len == 16 && memcmp(text + it->sr.hash_off, hex, 16) == 0);
}

/* A plain record (see scan.h) that is new: stored as sent, indexed from the
 * offsets the scan found. Returns MDB_KEYEXIST when it is not new (or
 * needs the tree after all). */
static int apply_plain_new(put_ctx *c, MDB_txn *txn, put_item *it)
{
	const char *text = text_of(c, it);
	char id[1024], ts[64];
	unsigned char key[1024 + STORE_TIME_KEY];
	int64_t ms;
	MDB_val v;
	memcpy(id, text + it->sr.id_off, it->sr.id_len);
	id[it->sr.id_len] = '\0';
	int rc = db_get(txn, c->db->records, id, it->sr.id_len, &v);
	if (rc != MDB_NOTFOUND)
		return rc ? rc : MDB_KEYEXIST;
	int stale = plain_stale(c, it);
	if (stale < 0)
		return MDB_KEYEXIST;
	memcpy(ts, text + it->sr.ts_off, it->sr.ts_len);
	ts[it->sr.ts_len] = '\0';
	if (!it->sr.ts_len || lg_time_parse(ts, &ms) != 0)
		ms = INT64_MIN;
	it->stale = stale;
	it->outcome = O_NEW;
	size_t kn = db_time_key(key, ms, id, it->sr.id_len);
	vid_put vp = { c, txn, id, it->sr.id_len, 0 };
	if ((rc = write_text(c, txn, id, it)) || (rc = db_put(txn, c->db->by_time, (const char *)key, kn, "", 0)))
		return rc;
	scan_violation_ids(text, &it->sr, index_violation, &vp);
	if (vp.rc)
		return vp.rc;
	return stale ? db_put(txn, c->db->stale, (const char *)key, kn, "", 0) : 0;
}

static int apply_record(put_ctx *c, MDB_txn *txn, put_item *it)
{
	int rc;
	if (it->plain) {
		if ((rc = apply_plain_new(c, txn, it)) != MDB_KEYEXIST)
			return rc;
		it->outcome = O_NONE;
		lg_json_error jerr;
		if (!(it->tree = lg_json_parse(text_of(c, it), it->len, &jerr)))
			return ENOMEM;
	}
	cJSON *in = it->tree;
	const char *id = lg_json_str(in, "externalId");
	MDB_val v;
	rc = db_get(txn, c->db->records, id, strlen(id), &v);
	if (rc == MDB_NOTFOUND) {
		cJSON *flag = lg_json_take(in, "stale");
		int as_sent = !flag && merge_normalize_violations(in) == 0;
		cJSON_Delete(flag);
		it->stale = merge_mark_stale(in);
		rc = as_sent ? write_text(c, txn, id, it) : write_record(c, txn, id, in);
		if (rc == 0)
			rc = index_record(c, txn, NULL, in, id, it->stale);
		it->outcome = O_NEW;
		return rc;
	}
	if (rc)
		return rc;
	lg_json_error jerr;
	cJSON *stored = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	if (!stored)
		return MDB_CORRUPTED;
	if (merge_conflict(stored, in)) {
		const char *a = lg_json_str(lg_json_get(stored, "source"), "integration");
		const char *b = lg_json_str(lg_json_get(in, "source"), "integration");
		lg_buf m = { 0 };
		lg_buf_printf(&m, "externalId %s belongs to integration %s, not %s", id, a, b);
		it->why = m.data;
		it->outcome = O_CONFLICT;
		cJSON_Delete(stored);
		return 0;
	}
	cJSON *merged = cJSON_Duplicate(stored, 1);
	if (!merged || merge_record(merged, in, lg_time_now()) != 0) {
		cJSON_Delete(merged);
		cJSON_Delete(stored);
		return ENOMEM;
	}
	it->stale = merge_mark_stale(merged);
	if (lg_json_equal(merged, stored)) {
		it->outcome = O_UNCHANGED;
	} else {
		it->outcome = O_UPDATED;
		if ((rc = write_record(c, txn, id, merged)) == 0)
			rc = index_record(c, txn, stored, merged, id, it->stale);
	}
	cJSON_Delete(merged);
	cJSON_Delete(stored);
	return rc;
}

static int put_json(put_ctx *c, MDB_txn *txn, MDB_dbi dbi, const char *key, const cJSON *val)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, val))
		return ENOMEM;
	return db_put(txn, dbi, key, strlen(key), c->buf.data, c->buf.len);
}

static cJSON *load_run(put_ctx *c, MDB_txn *txn, const char *id)
{
	MDB_val v;
	lg_json_error jerr;
	cJSON *run = NULL;
	if (db_get(txn, c->db->runs, id, strlen(id), &v) == 0)
		run = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	if (!cJSON_IsObject(run)) {
		cJSON_Delete(run);
		run = cJSON_CreateObject();
		lg_json_set(run, "id", cJSON_CreateString(id));
		lg_json_set(run, "startedAt", cJSON_CreateNull());
	}
	return run;
}

static void set_opt_str(cJSON *obj, const char *key, const char *s)
{
	lg_json_set(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

/* Saves the run and points lastrun/<integration> and lastrun/ at it. */
static int save_run(put_ctx *c, MDB_txn *txn, cJSON *run)
{
	char key[512];
	const char *id = lg_json_str(run, "id");
	const char *integ = lg_json_str(run, "integration");
	int rc = put_json(c, txn, c->db->runs, id, run);
	snprintf(key, sizeof key, "lastrun/%s", integ ? integ : "");
	if (!rc)
		rc = db_put(txn, c->db->state, key, strlen(key), id, strlen(id));
	if (!rc && integ)
		rc = db_put(txn, c->db->state, "lastrun/", 8, id, strlen(id));
	return rc;
}

/* Ends the open run: status, error, counts, completedAt. */
static int close_run(put_ctx *c, MDB_txn *txn, const char *id, const char *status,
		     const char *error, const cJSON *end)
{
	char now[32];
	cJSON *run = load_run(c, txn, id);
	double traces;
	set_opt_str(run, "status", status);
	set_opt_str(run, "error", error);
	if (end && lg_json_get_num(end, "traces", &traces))
		lg_json_set(run, "itemsFetched", cJSON_Duplicate(lg_json_get(end, "traces"), 1));
	else if (!lg_json_get(run, "itemsFetched"))
		lg_json_set(run, "itemsFetched", lg_json_int(0));
	if (c->work.run && strcmp(c->work.run, id) == 0)
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->work.run_ingested));
	const char *at = end ? lg_json_str(end, "completedAt") : NULL;
	set_opt_str(run, "completedAt", at ? at : lg_time_format(lg_time_now(), now));
	if (end && lg_json_get(end, "exitCode"))
		lg_json_set(run, "exitCode", cJSON_Duplicate(lg_json_get(end, "exitCode"), 1));
	int rc = save_run(c, txn, run);
	cJSON_Delete(run);
	if (c->work.run && strcmp(c->work.run, id) == 0) {
		free(c->work.run);
		c->work.run = NULL;
		c->work.run_ingested = 0;
	}
	return rc;
}

static int apply_run_start(put_ctx *c, MDB_txn *txn, const cJSON *ctl)
{
	int rc;
	if (c->work.run && (rc = close_run(c, txn, c->work.run, "failed",
					   "no run-end before the next run-start", NULL)))
		return rc;
	const char *id = lg_json_str(ctl, "run");
	cJSON *run = cJSON_CreateObject();
	static const char *const copied[] = { "integration", "mode", "api", "from", "to", "startedAt" };
	lg_json_set(run, "id", cJSON_CreateString(id));
	for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
		const cJSON *v = lg_json_get(ctl, copied[i]);
		lg_json_set(run, copied[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	set_opt_str(run, "status", "running");
	lg_json_set(run, "itemsFetched", lg_json_int(0));
	lg_json_set(run, "itemsIngested", lg_json_int(0));
	set_opt_str(run, "completedAt", NULL);
	set_opt_str(run, "error", NULL);
	rc = save_run(c, txn, run);
	cJSON_Delete(run);
	c->work.run = strdup(id);
	c->work.run_ingested = 0;
	return rc;
}

/* The cursor only moves forward: a backfill of old windows never makes an
 * incremental sync read again what it already has. */
static int apply_checkpoint(put_ctx *c, MDB_txn *txn, const cJSON *ctl)
{
	char key[512];
	const char *integ = lg_json_str(ctl, "integration"), *cur = lg_json_str(ctl, "cursor");
	int64_t have, want;
	MDB_val v;
	snprintf(key, sizeof key, "cursor/%s", integ);
	lg_time_parse(cur, &want);
	int rc = db_get(txn, c->db->state, key, strlen(key), &v);
	if (rc == 0) {
		char old[64];
		size_t n = v.mv_size < sizeof old - 1 ? v.mv_size : sizeof old - 1;
		memcpy(old, v.mv_data, n);
		old[n] = '\0';
		if (lg_time_parse(old, &have) == 0 && have >= want)
			return 0;
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	if ((rc = db_put(txn, c->db->state, key, strlen(key), cur, strlen(cur))))
		return rc;
	const char *run_id = lg_json_str(ctl, "run");
	if (run_id && c->work.run && strcmp(run_id, c->work.run) == 0) {
		cJSON *run = load_run(c, txn, run_id);
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->work.run_ingested));
		lg_json_set(run, "cursor", cJSON_CreateString(cur));
		rc = put_json(c, txn, c->db->runs, run_id, run);
		cJSON_Delete(run);
	}
	return rc;
}

static int apply_control(put_ctx *c, MDB_txn *txn, const cJSON *ctl)
{
	const char *t = lg_control_type(ctl);
	if (strcmp(t, "run-start") == 0)
		return apply_run_start(c, txn, ctl);
	if (strcmp(t, "checkpoint") == 0)
		return apply_checkpoint(c, txn, ctl);
	if (strcmp(t, "run-end") == 0) {
		const char *st = lg_json_str(ctl, "status");
		return close_run(c, txn, lg_json_str(ctl, "run"), st ? st : "completed",
				 lg_json_str(ctl, "error"), ctl);
	}
	return 0; /* other control lines are for other stages */
}

/* Back to the state before the batch was applied (to redo it). */
static void reset_item(put_item *it)
{
	cJSON_Delete(it->tree);
	it->tree = NULL;
	free(it->why);
	it->why = NULL;
	it->outcome = O_NONE;
	it->stale = 0;
}

static int reparse(const put_ctx *c, put_item *it)
{
	lg_json_error jerr;
	it->tree = lg_json_parse(text_of(c, it), it->len, &jerr);
	return it->tree ? 0 : ENOMEM;
}

static int apply_items(put_ctx *c, MDB_txn *txn, int at_eof)
{
	int rc = 0;
	for (size_t i = 0; i < c->n && !rc; i++) {
		put_item *it = &c->items[i];
		if (!it->tree && !it->plain && (rc = reparse(c, it)))
			break;
		if (it->control) {
			rc = apply_control(c, txn, it->tree);
			continue;
		}
		rc = apply_record(c, txn, it);
		cJSON_Delete(it->tree);
		it->tree = NULL;
		db_trim_map(c->db);
		if (it->outcome == O_NEW || it->outcome == O_UPDATED)
			c->work.run_ingested += c->work.run ? 1 : 0;
	}
	if (!rc && at_eof && c->work.run)
		rc = close_run(c, txn, c->work.run, "failed", "stream ended early", NULL);
	return rc;
}

static void free_items(put_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].why);
		cJSON_Delete(c->items[i].tree);
	}
	c->n = c->records = 0;
	c->texts.len = 0;
}

/* Counts and reports the outcome of a committed batch. */
static void tally(put_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		put_item *it = &c->items[i];
		switch (it->outcome) {
		case O_NEW: c->total.ingested++; break;
		case O_UPDATED: c->total.updated++; break;
		case O_UNCHANGED: c->total.unchanged++; break;
		case O_CONFLICT:
			c->total.failed++;
			lg_err("%s:%lu: %s", c->o->in_name, it->lineno, it->why);
			lg_quarantine(c->quarantine, c->o->in_name, it->lineno, it->why, text_of(c, it), it->len);
			break;
		case O_NONE: break;
		}
		if (it->stale && it->outcome != O_CONFLICT)
			c->total.stale++;
	}
}

/* One write transaction for everything pending; redone in a bigger map on
 * MDB_MAP_FULL, nothing touched after commit. */
static int flush(put_ctx *c, int at_eof)
{
	if (c->n == 0 && !(at_eof && c->committed.run))
		return 0;
	for (;;) {
		MDB_txn *txn;
		run_state_set(&c->work, &c->committed);
		int rc = db_txn_begin(c->db, 0, &txn);
		if (rc)
			return db_fail(c->db, "begin", rc);
		rc = apply_items(c, txn, at_eof);
		if (rc) {
			mdb_txn_abort(txn);
		} else {
			db_trim_map(c->db); /* the commit reads the free list through the map */
			rc = mdb_txn_commit(txn);
		}
		if (rc == MDB_MAP_FULL) {
			if ((rc = db_grow(c->db)) != 0)
				return db_fail(c->db, "grow map", rc);
			for (size_t i = 0; i < c->n; i++)
				reset_item(&c->items[i]);
			continue;
		}
		if (rc)
			return db_fail(c->db, rc == ENOMEM ? "out of memory" : "commit", rc);
		break;
	}
	run_state_set(&c->committed, &c->work);
	db_trim_map(c->db);
	tally(c);
	free_items(c);
	return 0;
}

static void bad(put_ctx *c, unsigned long lineno, const char *why, const char *line, size_t len)
{
	c->bad++;
	lg_err("%s:%lu: %s", c->o->in_name, lineno, why);
	lg_quarantine(c->quarantine, c->o->in_name, lineno, why, line, len);
}

/* What put needs from a line before it may enter a transaction. */
static const char *check_line(const put_ctx *c, const cJSON *obj, char *why, size_t n)
{
	const char *t = lg_control_type(obj);
	if (t) {
		int64_t ms;
		if ((strcmp(t, "run-start") == 0 || strcmp(t, "run-end") == 0) && !lg_json_str(obj, "run"))
			return "control line without \"run\"";
		if (strcmp(t, "checkpoint") == 0) {
			const char *cur = lg_json_str(obj, "cursor"), *in = lg_json_str(obj, "integration");
			if (!in || !*in || strlen(in) > 400)
				return "checkpoint without a valid \"integration\"";
			if (!cur || lg_time_parse(cur, &ms) != 0)
				return "checkpoint without a valid \"cursor\"";
		}
		return NULL;
	}
	const char *id = lg_json_str(obj, "externalId");
	if (!id || !*id)
		return "record without a string \"externalId\"";
	if (strlen(id) > db_max_id(c->db)) {
		snprintf(why, n, "externalId longer than %zu bytes", db_max_id(c->db));
		return why;
	}
	const cJSON *vs = lg_json_get(obj, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (!*vid || strlen(vid) > c->db->maxkey)) {
			snprintf(why, n, "violation id empty or longer than %zu bytes", c->db->maxkey);
			return why;
		}
	}
	return NULL;
}

static int add_item(put_ctx *c, const char *line, size_t len, unsigned long lineno, cJSON *obj)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		put_item *p = realloc(c->items, cap * sizeof *p);
		if (!p)
			return -1;
		c->items = p;
		c->cap = cap;
	}
	put_item *it = &c->items[c->n];
	memset(it, 0, sizeof *it);
	it->off = c->texts.len;
	if (lg_buf_add(&c->texts, line, len))
		return -1;
	it->len = len;
	it->lineno = lineno;
	it->tree = obj;
	it->control = lg_control_type(obj) != NULL;
	c->n++;
	if (!it->control)
		c->records++;
	return 0;
}

/* A batch is also committed when its lines reach this many bytes: they are
 * held twice at commit (here and in LMDB's dirty pages), so this bounds
 * put's memory whatever the record sizes (docs/store.md). */
#define BATCH_BYTES ((size_t)1 << 20)

static int batch_full(const put_ctx *c)
{
	return c->records >= c->o->batch || c->texts.len >= BATCH_BYTES;
}

/* Parses one line; returns 1 when the pending batch must be committed now. */
static int take_line(put_ctx *c, char *line, size_t len, unsigned long lineno)
{
	lg_json_error jerr;
	char why[128];
	scan_record sr;
	if (scan_plain_record(line, len, db_max_id(c->db), c->db->maxkey, &sr)) {
		if (add_item(c, line, len, lineno, NULL) != 0) {
			bad(c, lineno, "out of memory", line, len);
			return 0;
		}
		c->items[c->n - 1].plain = 1;
		c->items[c->n - 1].sr = sr;
		return batch_full(c);
	}
	cJSON *obj = lg_json_parse(line, len, &jerr);
	if (!obj) {
		snprintf(why, sizeof why, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
		bad(c, lineno, why, line, len);
		return 0;
	}
	const char *problem = cJSON_IsObject(obj) ? check_line(c, obj, why, sizeof why) : "not a JSON object";
	if (problem) {
		bad(c, lineno, problem, line, len);
		cJSON_Delete(obj);
		return 0;
	}
	const char *t = lg_control_type(obj);
	int commit_now = t && (strcmp(t, "checkpoint") == 0 || strcmp(t, "run-end") == 0);
	if (add_item(c, line, len, lineno, obj) != 0) {
		cJSON_Delete(obj);
		bad(c, lineno, "out of memory", line, len);
		return 0;
	}
	return commit_now || batch_full(c);
}

int put_run(store_db *db, FILE *in, const put_opts *o, put_counts *counts)
{
	put_ctx c;
	lg_reader r;
	char *line;
	size_t len;
	int rc, status = 0;

	memset(&c, 0, sizeof c);
	c.db = db;
	c.o = o;
	if (o->quarantine && !(c.quarantine = fopen(o->quarantine, "a"))) {
		lg_err("%s: %s", o->quarantine, strerror(errno));
		return LG_EXIT_IO;
	}
	lg_reader_init(&r, in, o->in_name);
	int store_failed = 0;
	while (!store_failed && (rc = lg_reader_next(&r, &line, &len)) != LG_LINE_EOF) {
		if (rc == LG_LINE_IOERR) {
			lg_err("%s: %s", o->in_name, r.why);
			status = LG_EXIT_IO;
			break;
		} else if (rc == LG_LINE_BAD) {
			bad(&c, r.lineno, r.why, line, line ? len : 0);
		} else if (take_line(&c, line, len, r.lineno) && (rc = flush(&c, 0)) != 0) {
			status = rc;
			store_failed = 1;
		}
	}
	/* What arrived before a read error is still stored. */
	if (!store_failed && (rc = flush(&c, 1)) != 0)
		status = rc;
	lg_reader_free(&r);
	free_items(&c);
	free(c.items);
	free(c.committed.run);
	free(c.work.run);
	lg_buf_free(&c.buf);
	lg_buf_free(&c.texts);
	if (c.quarantine)
		fclose(c.quarantine);
	c.total.failed += c.bad;
	*counts = c.total;
	if (status)
		return status;
	return c.total.failed ? LG_EXIT_BAD : 0;
}
