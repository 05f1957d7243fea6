/* The summaries sub-database: written beside each record, and built for
 * the records of a store from before it (summary.h). */
#include <errno.h>
#include <string.h>

#include "db_int.h"
#include "err.h"
#include "json.h"
#include "summary.h"

/* Records summarized per transaction when a store from before summaries
 * gets them. */
#define SUMMARY_BATCH 1000

int summary_make(const cJSON *rec, const char *text, size_t len, lg_buf *out)
{
	int rc;
	out->len = 0;
	if (rec) {
		rc = summary_encode(rec, out);
	} else if ((rc = summary_encode_text(text, len, out)) == 1) {
		lg_json_error jerr;
		cJSON *tree = lg_json_parse(text, len, &jerr);
		out->len = 0;
		rc = tree ? summary_encode(tree, out) : -1;
		cJSON_Delete(tree);
	}
	return rc ? ENOMEM : 0;
}

int summary_put(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen, const lg_buf *sum)
{
	return db->summaries ? db_put(txn, db->summaries, (const char *)key, klen, sum->data, sum->len) : 0;
}

int summary_note(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen, const cJSON *rec,
		 lg_buf *scratch)
{
	if (!db->summaries)
		return 0;
	int rc = summary_make(rec, NULL, 0, scratch);
	return rc ? rc : summary_put(db, txn, key, klen, scratch);
}

int summary_forget(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen)
{
	return db->summaries ? db_del(txn, db->summaries, (const char *)key, klen) : 0;
}

/* Opens (creates) the sub-database in a transaction of its own: a handle
 * opened in a transaction that aborts is gone with it. */
static int create_summaries(store_db *db)
{
	MDB_txn *txn;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_dbi_open(txn, "summaries", MDB_CREATE, &db->summaries)))
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);
	if (rc)
		db->summaries = 0;
	return rc;
}

/* Summarizes up to SUMMARY_BATCH records of the time index after *from
 * (empty: from the first) that have no summary, in one transaction; *from
 * then names the last key looked at, *done says the end was reached (and
 * the store is marked). */
static int summary_batch(store_db *db, lg_buf *from, int *done)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { from->len, from->data }, v;
	lg_buf todo = { 0 }, last = { 0 }, sum = { 0 };
	size_t n = 0;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->by_time, &cur))) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = db_cursor_get(cur, &k, &v, from->len ? MDB_SET_RANGE : MDB_FIRST);
	if (!rc && from->len && k.mv_size == from->len && memcmp(k.mv_data, from->data, from->len) == 0)
		rc = db_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && n < SUMMARY_BATCH; rc = db_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val s;
		last.len = 0;
		if (k.mv_size <= STORE_TIME_KEY) {
			db_report_damage(db, db->by_time, &k, "key too short");
			rc = DB_DAMAGED;
			break;
		}
		if (lg_buf_add(&last, k.mv_data, k.mv_size)) {
			rc = ENOMEM;
			break;
		}
		int got = db_get(txn, db->summaries, k.mv_data, k.mv_size, &s);
		if (got == 0)
			continue;
		if (got != MDB_NOTFOUND) {
			rc = got;
			break;
		}
		n++;
		if (lg_buf_add(&todo, &k.mv_size, sizeof k.mv_size) || lg_buf_add(&todo, k.mv_data, k.mv_size))
			rc = ENOMEM;
	}
	mdb_cursor_close(cur);
	*done = rc == MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		rc = 0;
	/* Written once the cursor is gone: a put may move the pages it reads. */
	for (size_t o = 0; !rc && o < todo.len;) {
		size_t kn;
		MDB_val r;
		lg_json_error jerr;
		memcpy(&kn, todo.data + o, sizeof kn);
		o += sizeof kn;
		const unsigned char *key = (const unsigned char *)todo.data + o;
		o += kn;
		if ((rc = db_get(txn, db->records, (const char *)key + STORE_TIME_KEY, kn - STORE_TIME_KEY, &r))) {
			if (rc == MDB_NOTFOUND) {
				MDB_val tk = { kn, (void *)(uintptr_t)key };
				db_report_damage(db, db->by_time, &tk, "points at a missing record");
				rc = DB_DAMAGED;
			}
			break;
		}
		cJSON *rec = lg_json_parse(r.mv_data, r.mv_size, &jerr);
		if (!rec) {
			MDB_val id = { kn - STORE_TIME_KEY, (void *)(uintptr_t)(key + STORE_TIME_KEY) };
			db_report_damage(db, db->records, &id, "not JSON");
			rc = DB_DAMAGED;
			break;
		}
		rc = summary_note(db, txn, key, kn, rec, &sum);
		cJSON_Delete(rec);
	}
	if (!rc && *done)
		rc = db_put(txn, db->state, SUMMARY_KEY, sizeof SUMMARY_KEY - 1, "1", 1);
	if (rc)
		mdb_txn_abort(txn);
	else if ((rc = mdb_txn_commit(txn)) == 0 && last.len) {
		from->len = 0;
		rc = lg_buf_add(from, last.data, last.len) ? ENOMEM : 0;
	}
	lg_buf_free(&todo);
	lg_buf_free(&last);
	lg_buf_free(&sum);
	return rc;
}

int summary_open(store_db *db)
{
	lg_buf from = { 0 };
	int rc = 0, done = 0;
	if (db->summary)
		return 0;
	while (!db->summaries && (rc = create_summaries(db)) == MDB_MAP_FULL)
		if ((rc = db_grow(db)))
			break;
	while (!rc && !done)
		if ((rc = summary_batch(db, &from, &done)) == MDB_MAP_FULL)
			rc = db_grow(db);
	lg_buf_free(&from);
	if (rc)
		return db_fail(db, "summaries", rc);
	db->summary = 1;
	return 0;
}
