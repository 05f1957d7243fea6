#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "changes.h"
#include "summary.h"
#include "err.h"
#include "pending.h"
#include "json.h"
#include "merge.h"
#include "timeutil.h"

/* Writes one line; "write error" (exit 6) unless the reader went away. */
static int emit(FILE *out, const void *p, size_t n)
{
	errno = 0;
	if ((n && fwrite(p, 1, n, out) != n) || putc('\n', out) == EOF || fflush(out) != 0) {
		if (errno == EPIPE)
			return 0;
		lg_err("write error: %s", strerror(errno ? errno : EIO));
		return LG_EXIT_IO;
	}
	return 0;
}

static int emit_json(FILE *out, const cJSON *v)
{
	lg_buf b = { 0 };
	int rc = lg_json_print(&b, v) ? (lg_err("out of memory"), LG_EXIT_BAD) : emit(out, b.data, b.len);
	lg_buf_free(&b);
	return rc;
}

int admin_get(store_db *db, const char *id, FILE *out)
{
	MDB_txn *txn;
	MDB_val v;
	int rc = db_txn_begin(db, MDB_RDONLY, &txn), status;
	if (rc)
		return db_fail(db, "begin", rc);
	rc = db_get(txn, db->records, id, strlen(id), &v);
	if (rc == MDB_NOTFOUND) {
		lg_err("%s: not found", id);
		status = LG_EXIT_BAD;
	} else if (rc) {
		status = db_fail(db, "get", rc);
	} else {
		status = emit(out, v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	return status;
}

/* state[key] as a malloc'd C string in *out, NULL if absent. Returns 0
 * or an MDB rc (DB_DAMAGED reported). */
static int state_get(store_db *db, MDB_txn *txn, const char *key, char **out)
{
	MDB_val v;
	int rc = db_get(txn, db->state, key, strlen(key), &v);
	*out = NULL;
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (!(*out = malloc(v.mv_size + 1)))
		return ENOMEM;
	memcpy(*out, v.mv_data, v.mv_size);
	(*out)[v.mv_size] = '\0';
	return 0;
}

int admin_cursor(store_db *db, const char *integration, FILE *out)
{
	MDB_txn *txn;
	char key[512], *cur;
	int rc = db_txn_begin(db, MDB_RDONLY, &txn), status = 0;
	if (rc)
		return db_fail(db, "begin", rc);
	snprintf(key, sizeof key, "cursor/%s", integration);
	rc = state_get(db, txn, key, &cur);
	mdb_txn_abort(txn);
	if (rc)
		return db_fail(db, "cursor", rc);
	if (cur)
		status = emit(out, cur, strlen(cur));
	free(cur);
	return status;
}

/* Recovery from a cursor that should not be where it is: set by hand,
 * forwards or backwards, in one write transaction. */
int admin_cursor_reset(store_db *db, const char *integration, const char *time)
{
	MDB_txn *txn;
	char key[512];
	if (!*integration || strlen(integration) > 400)
		return lg_usage_error("cursor: not an integration id: '%s'", integration);
	char at[32];
	int64_t ms;
	if (lg_time_parse(time, &ms) != 0)
		return lg_usage_error("--reset: '%s' is not an ISO 8601 time", time);
	lg_time_format(ms, at);
	snprintf(key, sizeof key, "cursor/%s", integration);
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return db_fail(db, "begin", rc);
	rc = db_put(txn, db->state, key, strlen(key), at, strlen(at));
	if (rc) {
		mdb_txn_abort(txn);
		return db_fail(db, "cursor", rc);
	}
	if ((rc = mdb_txn_commit(txn)))
		return db_fail(db, "commit", rc);
	return 0;
}

/* The last run's fields, null before the first run; NULL (reported) when
 * what the store holds cannot be read. */
static cJSON *last_sync(store_db *db, MDB_txn *txn, const char *integration)
{
	static const char *const fields[] = {
		"id", "status", "itemsFetched", "itemsIngested", "startedAt", "completedAt", "error",
	};
	char key[512], *id;
	MDB_val v;
	lg_json_error jerr;
	snprintf(key, sizeof key, "lastrun/%s", integration ? integration : "");
	int rc = state_get(db, txn, key, &id);
	cJSON *run = NULL;
	if (!rc && id && (rc = db_get(txn, db->runs, id, strlen(id), &v)) == 0 &&
	    !(run = lg_json_parse(v.mv_data, v.mv_size, &jerr))) {
		MDB_val k = { strlen(id), id };
		db_report_damage(db, db->runs, &k, "not JSON");
		rc = DB_DAMAGED;
	}
	free(id);
	if (rc && rc != MDB_NOTFOUND) {
		db_fail(db, "status", rc);
		return NULL;
	}
	if (!run)
		return cJSON_CreateNull();
	cJSON *out = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		cJSON *f = lg_json_take(run, fields[i]);
		lg_json_set(out, fields[i], f ? f : cJSON_CreateNull());
	}
	cJSON_Delete(run);
	return out;
}

/* The runs, newest first: their ids begin with the UTC time they started
 * (lg-fetch and lg-sync name them so), so the sub-database's key order
 * read backwards is the order they ran in. Each as stored, one per line;
 * only integration's when given; at most limit (0: all). */
int admin_runs(store_db *db, const char *integration, long limit, FILE *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	long n = 0;
	int rc = db_txn_begin(db, MDB_RDONLY, &txn), status = 0;
	if (rc)
		return db_fail(db, "begin", rc);
	if ((rc = mdb_cursor_open(txn, db->runs, &cur))) {
		mdb_txn_abort(txn);
		return db_fail(db, "runs", rc);
	}
	for (rc = db_cursor_get(cur, &k, &v, MDB_LAST); rc == 0 && !status && (limit <= 0 || n < limit);
	     rc = db_cursor_get(cur, &k, &v, MDB_PREV)) {
		lg_json_error jerr;
		cJSON *run = lg_json_parse(v.mv_data, v.mv_size, &jerr);
		if (!run) {
			db_report_damage(db, db->runs, &k, "not JSON");
			rc = DB_DAMAGED;
			break;
		}
		const char *ri = lg_json_str(run, "integration");
		if (!integration || (ri && strcmp(ri, integration) == 0)) {
			status = emit(out, v.mv_data, v.mv_size);
			n++;
		}
		cJSON_Delete(run);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc && rc != MDB_NOTFOUND)
		return db_fail(db, "runs", rc);
	return status;
}

/* {"pending": traces still re-fetched, "gaveUp": past the horizon}. */
static cJSON *incomplete_counts(store_db *db, MDB_txn *txn, const char *integration)
{
	long pending = 0, gave_up = 0;
	if (db)
		pending_count(txn, db, integration, &pending, &gave_up);
	cJSON *c = cJSON_CreateObject();
	lg_json_set(c, "pending", lg_json_int(pending));
	lg_json_set(c, "gaveUp", lg_json_int(gave_up));
	return c;
}

int admin_status(store_db *db, const char *integration, int active, int scheduled, FILE *out)
{
	MDB_txn *txn = NULL;
	int rc = db ? db_txn_begin(db, MDB_RDONLY, &txn) : 0;
	if (rc)
		return admin_status_unreadable(active, scheduled, db_fail(db, "begin", rc), out);
	cJSON *last = db ? last_sync(db, txn, integration) : cJSON_CreateNull();
	cJSON *inc = last ? incomplete_counts(db, txn, integration) : NULL;
	if (txn)
		mdb_txn_abort(txn);
	if (!last)
		return admin_status_unreadable(active, scheduled, LG_EXIT_IO, out);
	cJSON *root = cJSON_CreateObject(), *data = cJSON_CreateObject();
	lg_json_set(root, "success", cJSON_CreateTrue());
	lg_json_set(data, "isActive", cJSON_CreateBool(active));
	lg_json_set(data, "hasSchedule", cJSON_CreateBool(scheduled));
	lg_json_set(data, "lastSync", last);
	lg_json_set(data, "incomplete", inc);
	lg_json_set(root, "data", data);
	int status = emit_json(out, root);
	cJSON_Delete(root);
	return status;
}

int admin_status_unreadable(int active, int scheduled, int status, FILE *out)
{
	cJSON *root = cJSON_CreateObject(), *data = cJSON_CreateObject();
	lg_json_set(root, "success", cJSON_CreateFalse());
	lg_json_set(root, "error", cJSON_CreateString("the store is unreadable (see the message on stderr; lg-store check)"));
	lg_json_set(data, "isActive", cJSON_CreateBool(active));
	lg_json_set(data, "hasSchedule", cJSON_CreateBool(scheduled));
	lg_json_set(data, "storeReadable", cJSON_CreateFalse());
	lg_json_set(data, "lastSync", cJSON_CreateNull());
	lg_json_set(root, "data", data);
	int written = emit_json(out, root);
	cJSON_Delete(root);
	return written ? written : status;
}

/* ---- ack / resolve ---- */

static cJSON *find_violation(cJSON *rec, const char *vid)
{
	cJSON *vs = lg_json_get(rec, "violations");
	for (cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *id = lg_json_str(v, "id");
		if (id && strcmp(id, vid) == 0)
			return v;
	}
	return NULL;
}

/* new -> acknowledged -> resolved; never back. Returns 0 changed, 1 no
 * change needed, -1 not allowed. */
static int transition(cJSON *v, const char *to, const char *note, int64_t now)
{
	const char *st = lg_json_str(v, "status");
	char ts[32];
	int resolving = strcmp(to, "resolved") == 0;
	if (st && strcmp(st, "resolved") == 0 && !resolving)
		return -1;
	if (st && strcmp(st, to) == 0 && !note)
		return 1;
	lg_time_format(now, ts);
	if (!st || strcmp(st, to) != 0) {
		lg_json_set(v, "status", cJSON_CreateString(to));
		lg_json_set(v, resolving ? "resolvedAt" : "acknowledgedAt", cJSON_CreateString(ts));
		if (resolving)
			lg_json_set(v, "resolution", cJSON_CreateString("resolved by user"));
	}
	if (note)
		lg_json_set(v, "notes", cJSON_CreateString(note));
	return 0;
}

static int set_violation_txn(store_db *db, MDB_txn *txn, const char *vid, const char *to,
			     const char *note, cJSON **shown)
{
	MDB_val idv, recv;
	lg_json_error jerr;
	int rc = db_get(txn, db->violations, vid, strlen(vid), &idv);
	if (rc == MDB_NOTFOUND)
		return lg_err("violation %s: not found", vid), -1;
	if (rc || (rc = db_get(txn, db->records, (const char *)idv.mv_data, idv.mv_size, &recv)) != 0)
		return rc;
	cJSON *rec = lg_json_parse(recv.mv_data, recv.mv_size, &jerr);
	cJSON *v = find_violation(rec, vid);
	if (!v) {
		cJSON_Delete(rec);
		return MDB_CORRUPTED;
	}
	int t = transition(v, to, note, lg_time_now());
	if (t < 0) {
		lg_err("violation %s: already resolved", vid);
		cJSON_Delete(rec);
		return -1;
	}
	*shown = cJSON_Duplicate(v, 1);
	if (t == 0) {
		lg_buf b = { 0 };
		rc = lg_json_print(&b, rec) ? ENOMEM : db_put(txn, db->records, (const char *)idv.mv_data, idv.mv_size, b.data, b.len);
		if (!rc) /* an ack or resolve is a change of the record */
			rc = changes_note(db, txn, (const char *)idv.mv_data, idv.mv_size, 0);
		if (!rc && idv.mv_size <= 1024) { /* and of its summary (a violation's status) */
			unsigned char key[STORE_TIME_KEY + 1024];
			size_t kn = db_time_key(key, db_record_time(rec), idv.mv_data, idv.mv_size);
			rc = summary_note(db, txn, key, kn, rec, &b);
		}
		lg_buf_free(&b);
	}
	cJSON_Delete(rec);
	return rc;
}

int admin_set_violation(store_db *db, const char *vid, const char *to, const char *note, FILE *out)
{
	cJSON *shown = NULL;
	for (;;) {
		MDB_txn *txn;
		int rc = db_txn_begin(db, 0, &txn);
		if (rc)
			return db_fail(db, "begin", rc);
		rc = set_violation_txn(db, txn, vid, to, note, &shown);
		if (rc) {
			mdb_txn_abort(txn);
		} else {
			rc = mdb_txn_commit(txn);
		}
		if (rc == -1)
			return LG_EXIT_BAD;
		if (rc == MDB_MAP_FULL) {
			cJSON_Delete(shown);
			shown = NULL;
			if ((rc = db_grow(db)) == 0)
				continue;
		}
		if (rc) {
			cJSON_Delete(shown);
			return db_fail(db, "update violation", rc);
		}
		break;
	}
	int status = emit_json(out, shown);
	cJSON_Delete(shown);
	return status;
}

/* ---- check ---- */

static int is_lmdb_rc(int rc)
{
	return rc <= MDB_KEYEXIST && rc >= MDB_LAST_ERRCODE;
}

/* The rename is durable once the directory holding it is synced. */
static void sync_dir_of(const char *file)
{
	char dir[4096];
	const char *slash = strrchr(file, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) + 1 : 1, slash ? file : ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

typedef struct {
	store_db *db;
	MDB_txn *txn;
	unsigned long problems, damaged, records, violations, stale, runs;
} checker;

/* "check: <key>: <why>", the first 20 of them. */
static void problem(checker *c, const char *why, const void *key, size_t n)
{
	if (c->problems++ < 20)
		lg_err("check: %.*s: %s", (int)(n > 500 ? 500 : n), (const char *)key, why);
}

static void check_record(checker *c, const MDB_val *k, const MDB_val *v)
{
	lg_json_error jerr;
	unsigned char key[1024];
	MDB_val tv, iv;
	cJSON *rec = lg_json_parse(v->mv_data, v->mv_size, &jerr);
	c->records++;
	if (!cJSON_IsObject(rec)) {
		problem(c, "record is not a JSON object", k->mv_data, k->mv_size);
		cJSON_Delete(rec);
		return;
	}
	const char *id = lg_json_str(rec, "externalId");
	if (!id || strlen(id) != k->mv_size || memcmp(id, k->mv_data, k->mv_size) != 0)
		problem(c, "record holds another externalId", k->mv_data, k->mv_size);
	if (k->mv_size + STORE_TIME_KEY <= sizeof key) {
		tv.mv_size = db_time_key(key, db_record_time(rec), k->mv_data, k->mv_size);
		tv.mv_data = key;
		MDB_val dummy;
		if (mdb_get(c->txn, c->db->by_time, &tv, &dummy) != 0)
			problem(c, "record missing from the time index", k->mv_data, k->mv_size);
	}
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *x = cJSON_IsArray(vs) ? vs->child : NULL; x; x = x->next) {
		const char *vid = lg_json_str(x, "id");
		if (!vid)
			continue;
		if (db_get(c->txn, c->db->violations, vid, strlen(vid), &iv) != 0 ||
		    iv.mv_size != k->mv_size || memcmp(iv.mv_data, k->mv_data, k->mv_size) != 0)
			problem(c, "violation not indexed to its record", vid, strlen(vid));
	}
	int stale = cJSON_IsTrue(lg_json_get(rec, "stale"));
	char hex[17];
	const char *want = lg_json_str(lg_json_get(rec, "evaluation"), "contentHash");
	merge_content_hash(rec, hex);
	if (stale != (!want || strcmp(want, hex) != 0))
		problem(c, "stale flag disagrees with evaluation.contentHash", k->mv_data, k->mv_size);
	if (k->mv_size + STORE_TIME_KEY <= sizeof key &&
	    (mdb_get(c->txn, c->db->stale, &tv, &iv) == 0) != stale)
		problem(c, "stale flag disagrees with the stale index", k->mv_data, k->mv_size);
	cJSON_Delete(rec);
}

/* A value that fails its checksum: listed (the first 20, apart from the
 * other problems), and nothing else is asked of it. */
static void damaged(checker *c, MDB_dbi dbi, const MDB_val *k)
{
	char what[300];
	if (c->damaged++ < 20)
		lg_err("check: %s: damaged (checksum mismatch, or outside the file)",
		       db_describe(c->db, dbi, k, what, sizeof what));
}

/* Calls fn on every entry of dbi whose checksum holds; returns an MDB rc. */
static int each(checker *c, MDB_dbi dbi, void (*fn)(checker *, const MDB_val *, const MDB_val *))
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(c->txn, dbi, &cur);
	if (rc)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (db_verify(c->db, dbi, &k, &v) != 0)
			damaged(c, dbi, &k);
		else if (fn)
			fn(c, &k, &v);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The record with this id, parsed; NULL when missing or damaged (the walk
 * of the records lists that). */
static cJSON *record_of(checker *c, const void *id, size_t n)
{
	MDB_val k = { n, (void *)(uintptr_t)id }, v;
	lg_json_error jerr;
	if (mdb_get(c->txn, c->db->records, &k, &v) != 0 || db_verify(c->db, c->db->records, &k, &v) != 0)
		return NULL;
	return lg_json_parse(v.mv_data, v.mv_size, &jerr);
}

/* The record a by_time or stale key names (NULL if missing), its id and
 * length; 0 when the key is malformed (reported). */
static int keyed_record(checker *c, const MDB_val *k, const char *index, cJSON **rec, const char **id, size_t *n)
{
	if (k->mv_size <= STORE_TIME_KEY) {
		char what[64];
		snprintf(what, sizeof what, "malformed %s index key", index);
		problem(c, what, "", 0);
		return 0;
	}
	*id = (const char *)k->mv_data + STORE_TIME_KEY;
	*n = k->mv_size - STORE_TIME_KEY;
	*rec = record_of(c, *id, *n);
	return 1;
}

static void check_time(checker *c, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	cJSON *rec;
	const char *id;
	size_t n;
	if (!keyed_record(c, k, "time", &rec, &id, &n))
		return;
	if (!rec)
		problem(c, "time index points at a missing record", id, n);
	else if (db_record_time(rec) != db_time_of_key(k->mv_data))
		problem(c, "time index holds an old timestamp", id, n);
	cJSON_Delete(rec);
}

static void check_violation(checker *c, const MDB_val *k, const MDB_val *v)
{
	cJSON *rec = record_of(c, v->mv_data, v->mv_size);
	char vid[1024];
	snprintf(vid, sizeof vid, "%.*s", (int)k->mv_size, (const char *)k->mv_data);
	c->violations++;
	if (!rec || !find_violation(rec, vid))
		problem(c, "violation index entry without a record holding it", k->mv_data, k->mv_size);
	cJSON_Delete(rec);
}

static void check_stale(checker *c, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	cJSON *rec;
	const char *id;
	size_t n;
	c->stale++;
	if (!keyed_record(c, k, "stale", &rec, &id, &n))
		return;
	if (!rec || !cJSON_IsTrue(lg_json_get(rec, "stale")))
		problem(c, "stale index entry for a record that is not stale", id, n);
	else if (db_record_time(rec) != db_time_of_key(k->mv_data))
		problem(c, "stale index holds an old timestamp", id, n);
	cJSON_Delete(rec);
}

static void check_run(checker *c, const MDB_val *k, const MDB_val *v)
{
	lg_json_error jerr;
	cJSON *run = lg_json_parse(v->mv_data, v->mv_size, &jerr);
	c->runs++;
	if (!cJSON_IsObject(run))
		problem(c, "run is not a JSON object", k->mv_data, k->mv_size);
	cJSON_Delete(run);
}

/* A change names a stored record whose index entry points back at it. */
static void check_change(checker *c, const MDB_val *k, const MDB_val *v)
{
	MDB_val ik = *v, iv, rk = *v, rv;
	if (mdb_get(c->txn, c->db->records, &rk, &rv) != 0)
		problem(c, "change feed entry for a missing record", v->mv_data, v->mv_size);
	else if (mdb_get(c->txn, c->db->change_ids, &ik, &iv) != 0 || db_verify(c->db, c->db->change_ids, &ik, &iv) != 0 ||
		 iv.mv_size != k->mv_size || memcmp(iv.mv_data, k->mv_data, k->mv_size) != 0)
		problem(c, "change feed entry not the record's last change", v->mv_data, v->mv_size);
}

/* A summary is the one its record gives, under the record's time key. */
static void check_summary(checker *c, const MDB_val *k, const MDB_val *v)
{
	cJSON *rec;
	const char *id;
	size_t n;
	summary s;
	lg_buf want = { 0 };
	if (!keyed_record(c, k, "summary", &rec, &id, &n))
		return;
	if (!rec)
		problem(c, "summary of a missing record", id, n);
	else if (db_record_time(rec) != db_time_of_key(k->mv_data))
		problem(c, "summary under an old timestamp", id, n);
	else if (summary_decode(v->mv_data, v->mv_size, &s) != 0)
		problem(c, "summary malformed", id, n);
	else if (summary_encode(rec, &want) != 0 || want.len != v->mv_size || memcmp(want.data, v->mv_data, want.len) != 0)
		problem(c, "summary disagrees with its record", id, n);
	lg_buf_free(&want);
	cJSON_Delete(rec);
}

/* Once the store is marked as summarized, each record has its summary. */
static int check_summaries(checker *c)
{
	MDB_stat st;
	int rc = c->db->summaries ? each(c, c->db->summaries, check_summary) : 0;
	if (rc || !c->db->summary)
		return rc;
	if ((rc = mdb_stat(c->txn, c->db->summaries, &st)))
		return rc;
	if (st.ms_entries != c->records)
		problem(c, "the summaries and the records differ in number", "summaries", 9);
	return 0;
}

/* Once the store is marked as in the feed, each record is in it once. */
static int check_feed(checker *c)
{
	MDB_stat changes, ids;
	int rc = c->db->changes ? each(c, c->db->changes, check_change) : 0;
	if (rc || !c->db->feed)
		return rc;
	if ((rc = mdb_stat(c->txn, c->db->changes, &changes)) || (rc = mdb_stat(c->txn, c->db->change_ids, &ids)))
		return rc;
	if (changes.ms_entries != c->records || ids.ms_entries != c->records)
		problem(c, "the change feed and the records differ in number", "changes", 7);
	return 0;
}

int admin_check(store_db *db, FILE *out)
{
	checker c = { db, NULL, 0, 0, 0, 0, 0, 0 };
	MDB_stat st;
	int rc = db_txn_begin(db, MDB_RDONLY, &c.txn);
	if (rc)
		return db_fail(db, "begin", rc);
	if (!(rc = each(&c, db->records, check_record)) && !(rc = each(&c, db->by_time, check_time)) &&
	    !(rc = each(&c, db->violations, check_violation)) && !(rc = each(&c, db->stale, check_stale)) &&
	    !(rc = each(&c, db->runs, check_run)))
		rc = each(&c, db->state, NULL);
	if (!rc)
		rc = check_feed(&c);
	if (!rc)
		rc = check_summaries(&c);
	if (!rc && (rc = mdb_stat(c.txn, db->by_time, &st)) == 0 && st.ms_entries != c.records)
		problem(&c, "the time index and the records differ in number", "records", 7);
	mdb_txn_abort(c.txn);
	if (rc)
		return db_fail(db, "check", rc);
	if (c.damaged)
		lg_err("check: %lu damaged entries (%s)", c.damaged, DB_FILE_ADVICE);
	fprintf(out, "%lu records, %lu violations, %lu stale, %lu runs: %s\n", c.records,
		c.violations, c.stale, c.runs, c.problems || c.damaged ? "PROBLEMS" : "ok");
	if (fflush(out) != 0 && errno != EPIPE) {
		lg_err("write error: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	return c.damaged ? LG_EXIT_IO : c.problems ? LG_EXIT_BAD : 0;
}

/* Every value of every sub-database verifies; damaged ones listed. */
static int verify_all(store_db *db)
{
	checker c = { db, NULL, 0, 0, 0, 0, 0, 0 };
	int rc = db_txn_begin(db, MDB_RDONLY, &c.txn);
	for (size_t i = 0; !rc && i < db_count(); i++)
		if (db_dbi(db, i))
			rc = each(&c, db_dbi(db, i), NULL);
	if (c.txn)
		mdb_txn_abort(c.txn);
	if (rc)
		return db_fail(db, "backup", rc);
	if (c.damaged) {
		lg_err("backup: %lu damaged entries: nothing written (%s)", c.damaged, DB_FILE_ADVICE);
		return LG_EXIT_IO;
	}
	return 0;
}

/* A compacted copy from one read transaction: consistent while writers
 * run. Written to a new file of a random name beside FILE (O_EXCL: never
 * through a link or file planted there), then renamed over FILE, so FILE
 * is whole or absent, and a symbolic link at FILE is replaced, not
 * followed. A damaged store is not copied: the copy would pass for good. */
int admin_backup(store_db *db, const char *file)
{
	char tmp[4096];
	int status = verify_all(db);
	if (status)
		return status;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", file) >= sizeof tmp) {
		lg_err("%s: %s", file, strerror(ENAMETOOLONG));
		return LG_EXIT_IO;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		lg_err("%s: %s", file, strerror(errno));
		return LG_EXIT_IO;
	}
	int rc = fchmod(fd, 0600) != 0 ? errno : 0;
	if (!rc)
		rc = mdb_env_copyfd2(db->env, fd, MDB_CP_COMPACT);
	if (!rc && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && !rc)
		rc = errno;
	if (!rc && rename(tmp, file) != 0)
		rc = errno;
	if (rc) {
		unlink(tmp);
		lg_err("%s: %s", file, is_lmdb_rc(rc) ? mdb_strerror(rc) : strerror(rc));
		return LG_EXIT_IO;
	}
	sync_dir_of(file);
	return 0;
}
