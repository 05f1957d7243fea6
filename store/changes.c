#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "changes.h"
#include "db_int.h"
#include "err.h"

/* Records put in the feed of an older store per transaction. */
#define FEED_BATCH 1000

static void seq_key(unsigned char out[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		out[i] = (unsigned char)(seq & 0xff);
}

static uint64_t seq_of(const void *p)
{
	const unsigned char *b = p;
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | b[i];
	return seq;
}

int changes_last(store_db *db, MDB_txn *txn, uint64_t *last)
{
	MDB_cursor *cur;
	MDB_val k, v;
	*last = 0;
	if (!db->changes)
		return 0;
	int rc = mdb_cursor_open(txn, db->changes, &cur);
	if (rc)
		return rc;
	rc = db_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (k.mv_size != 8)
		return MDB_CORRUPTED;
	*last = seq_of(k.mv_data);
	return 0;
}

int changes_note(store_db *db, MDB_txn *txn, const char *id, size_t idlen, int is_new)
{
	unsigned char key[8], old[8];
	MDB_val v;
	int rc;
	if (!db->changes)
		return 0;
	/* The last sequence is read once a transaction: only the writer
	 * holding the lock gives sequences out. (A transaction aborted leaves
	 * its successor, of the same id, with a higher count than stored:
	 * sequences skipped, never given twice.) */
	if (db->seq_txn != mdb_txn_id(txn)) {
		if ((rc = changes_last(db, txn, &db->seq)))
			return rc;
		db->seq_txn = mdb_txn_id(txn);
	}
	if (!is_new) {
		rc = db_get(txn, db->change_ids, id, idlen, &v);
		if (rc == 0 && v.mv_size == 8) {
			memcpy(old, v.mv_data, 8);
			if ((rc = db_del(txn, db->changes, (const char *)old, 8)))
				return rc;
		} else if (rc == 0) {
			return MDB_CORRUPTED;
		} else if (rc != MDB_NOTFOUND) {
			return rc;
		}
	}
	seq_key(key, db->seq + 1);
	if ((rc = db_put(txn, db->changes, (const char *)key, 8, id, idlen)) ||
	    (rc = db_put(txn, db->change_ids, id, idlen, key, 8)))
		return rc;
	db->seq++;
	return 0;
}

/* Opens (creates) the feed's sub-databases in a transaction of their own:
 * a handle opened in a transaction that aborts is gone with it. */
static int create_feed(store_db *db)
{
	MDB_txn *txn;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &db->changes)) ||
	    (rc = mdb_dbi_open(txn, "change_ids", MDB_CREATE, &db->change_ids)))
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);
	if (rc)
		db->changes = db->change_ids = 0;
	return rc;
}

/* The walk that puts the records of the time index that are not in the
 * feed there; the last batch marks the store. */
static int feed_pick(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v, int *take)
{
	store_db *db = ctx;
	MDB_val seq;
	(void)v;
	if (k->mv_size <= STORE_TIME_KEY)
		return MDB_CORRUPTED;
	int got = db_get(txn, db->change_ids, (const char *)k->mv_data + STORE_TIME_KEY,
			 k->mv_size - STORE_TIME_KEY, &seq);
	*take = got == MDB_NOTFOUND;
	return got == MDB_NOTFOUND ? 0 : got;
}

static int feed_apply(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	return changes_note(ctx, txn, (const char *)k->mv_data + STORE_TIME_KEY, k->mv_size - STORE_TIME_KEY, 1);
}

static int feed_finish(void *ctx, MDB_txn *txn)
{
	store_db *db = ctx;
	return db_put(txn, db->state, FEED_KEY, sizeof FEED_KEY - 1, "1", 1);
}

/* Each batch's transaction reads the last sequence given anew. */
static void feed_start(void *ctx)
{
	((store_db *)ctx)->seq_txn = 0;
}

int changes_open_feed(store_db *db)
{
	int rc = 0;
	if (db->feed)
		return 0;
	while (!db->changes && (rc = create_feed(db)) == MDB_MAP_FULL)
		if ((rc = db_grow(db)))
			break;
	if (!rc) {
		db_backfill_spec s = { db->by_time, 0, FEED_BATCH, SIZE_MAX, db,
				       feed_pick, feed_apply, feed_finish, feed_start };
		rc = db_backfill(db, &s);
		db->seq_txn = 0;
	}
	if (rc)
		return db_fail(db, "change feed", rc);
	db->feed = 1;
	return 0;
}

int changes_walk(store_db *db, MDB_txn *txn, uint64_t since, size_t limit, changes_fn fn, void *ctx,
		 uint64_t *last, int *more)
{
	MDB_cursor *cur;
	unsigned char key[8];
	size_t n = 0;
	*last = since;
	*more = 0;
	if (!db->changes || since == UINT64_MAX)
		return 0;
	seq_key(key, since + 1);
	MDB_val k = { 8, key }, v, r;
	int rc = mdb_cursor_open(txn, db->changes, &cur);
	if (rc)
		return rc;
	for (rc = db_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = db_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (limit && n == limit) {
			*more = 1;
			break;
		}
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		uint64_t seq = seq_of(k.mv_data);
		if ((rc = db_get(txn, db->records, v.mv_data, v.mv_size, &r))) {
			if (rc == MDB_NOTFOUND) {
				db_report_damage(db, db->changes, &k, "names a record that is not stored");
				rc = DB_DAMAGED;
			}
			break;
		}
		if ((rc = fn(ctx, seq, v.mv_data, v.mv_size, r.mv_data, r.mv_size)))
			break;
		*last = seq;
		n++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int print_one(void *ctx, uint64_t seq, const char *id, size_t idlen, const char *rec, size_t len)
{
	(void)seq;
	(void)id;
	(void)idlen;
	FILE *out = ctx;
	return fwrite(rec, 1, len, out) != len || putc('\n', out) == EOF ? EIO : 0;
}

int changes_print(store_db *db, uint64_t since, size_t limit, FILE *out)
{
	MDB_txn *txn;
	uint64_t last;
	int more, rc = db_txn_begin(db, MDB_RDONLY, &txn);
	if (rc)
		return db_fail(db, "begin", rc);
	rc = changes_walk(db, txn, since, limit, print_one, out, &last, &more);
	mdb_txn_abort(txn);
	if (rc == EIO) {
		if (errno == EPIPE)
			return 0;
		lg_err("write error: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	if (rc)
		return db_fail(db, "changes", rc);
	fprintf(out, "{\"$lg\":\"changes\",\"since\":%" PRIu64 ",\"last\":%" PRIu64 ",\"more\":%s}\n", since, last,
		more ? "true" : "false");
	if (fflush(out) != 0 && errno != EPIPE) {
		lg_err("write error: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	return 0;
}

static void position_key(char *key, size_t n, const char *who)
{
	snprintf(key, n, "ship/%s", who);
}

int changes_position(store_db *db, MDB_txn *txn, const char *who, uint64_t *seq)
{
	char key[600], num[32];
	MDB_val v;
	*seq = 0;
	position_key(key, sizeof key, who);
	int rc = db_get(txn, db->state, key, strlen(key), &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size == 0 || v.mv_size >= sizeof num)
		return MDB_CORRUPTED;
	memcpy(num, v.mv_data, v.mv_size);
	num[v.mv_size] = '\0';
	char *end;
	errno = 0;
	unsigned long long x = strtoull(num, &end, 10);
	if (*end || errno)
		return MDB_CORRUPTED;
	*seq = x;
	return 0;
}

int changes_set_position(store_db *db, const char *who, uint64_t seq)
{
	char key[600], num[32];
	position_key(key, sizeof key, who);
	int n = snprintf(num, sizeof num, "%" PRIu64, seq);
	for (;;) {
		MDB_txn *txn;
		int rc = db_txn_begin(db, 0, &txn);
		if (rc)
			return rc;
		if ((rc = db_put(txn, db->state, key, strlen(key), num, (size_t)n))) {
			mdb_txn_abort(txn);
		} else {
			rc = mdb_txn_commit(txn);
		}
		if (rc != MDB_MAP_FULL)
			return rc;
		if ((rc = db_grow(db)))
			return rc;
	}
}
