/* The summaries sub-database: written beside each record, and built for
 * the records of a store from before it (summary.h). */
#include <errno.h>
#include <stdint.h>
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

/* The walk that summarizes the records of the time index without a
 * summary; the last batch marks the store. */
typedef struct {
	store_db *db;
	lg_buf sum; /* scratch for each summary */
} fill;

static int summary_pick(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v, int *take)
{
	store_db *db = ((fill *)ctx)->db;
	MDB_val s;
	(void)v;
	if (k->mv_size <= STORE_TIME_KEY) {
		db_report_damage(db, db->by_time, k, "key too short");
		return DB_DAMAGED;
	}
	int got = db_get(txn, db->summaries, k->mv_data, k->mv_size, &s);
	*take = got == MDB_NOTFOUND;
	return got == MDB_NOTFOUND ? 0 : got;
}

static int summary_apply(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	fill *f = ctx;
	store_db *db = f->db;
	const unsigned char *key = k->mv_data;
	size_t kn = k->mv_size;
	MDB_val r;
	lg_json_error jerr;
	(void)v;
	int rc = db_get(txn, db->records, (const char *)key + STORE_TIME_KEY, kn - STORE_TIME_KEY, &r);
	if (rc) {
		if (rc == MDB_NOTFOUND) {
			db_report_damage(db, db->by_time, k, "points at a missing record");
			rc = DB_DAMAGED;
		}
		return rc;
	}
	cJSON *rec = lg_json_parse(r.mv_data, r.mv_size, &jerr);
	if (!rec) {
		MDB_val id = { kn - STORE_TIME_KEY, (void *)(uintptr_t)(key + STORE_TIME_KEY) };
		db_report_damage(db, db->records, &id, "not JSON");
		return DB_DAMAGED;
	}
	rc = summary_note(db, txn, key, kn, rec, &f->sum);
	cJSON_Delete(rec);
	return rc;
}

static int summary_finish(void *ctx, MDB_txn *txn)
{
	store_db *db = ((fill *)ctx)->db;
	return db_put(txn, db->state, SUMMARY_KEY, sizeof SUMMARY_KEY - 1, "1", 1);
}

int summary_open(store_db *db)
{
	int rc = 0;
	if (db->summary)
		return 0;
	while (!db->summaries && (rc = create_summaries(db)) == MDB_MAP_FULL)
		if ((rc = db_grow(db)))
			break;
	if (!rc) {
		fill f = { db, { 0 } };
		db_backfill_spec s = { db->by_time, 0, SUMMARY_BATCH, SIZE_MAX, &f,
				       summary_pick, summary_apply, summary_finish, NULL };
		rc = db_backfill(db, &s);
		lg_buf_free(&f.sum);
	}
	if (rc)
		return db_fail(db, "summaries", rc);
	db->summary = 1;
	return 0;
}
