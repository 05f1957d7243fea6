/* Sealing a store written before checksums. Returns: an LMDB code or
 * errno's (db.c reports it). */
#include <errno.h>
#include <string.h>

#include "db_int.h"
#include "err.h"
#include "json.h"

/* ---- sealing a store written before checksums ----
 * A writer's db_open gives every value without a checksum its checksum,
 * in transactions of bounded size (put's memory stays bounded; a kill
 * loses nothing: the next writer goes on), and then sets "format" in
 * state: from then on a value without its checksum is damage. A value
 * without one is first checked for what its sub-database holds, so damage
 * done before is never sealed as good data: such a store stays unsealed,
 * read as before. */
#define SEAL_ENTRIES 1000
#define SEAL_BYTES ((size_t)2 << 20)

static int legacy_ok(size_t i, const MDB_val *k, const MDB_val *v)
{
	lg_json_error jerr;
	int records = strcmp(db_subdb_name(i), "records") == 0;
	if (db_subdb_time_key(i))
		return k->mv_size > STORE_TIME_KEY && v->mv_size == 0;
	if (!records && strcmp(db_subdb_name(i), "runs") != 0)
		return v->mv_size > 0; /* an externalId, a cursor, a run id */
	cJSON *o = lg_json_parse(v->mv_data, v->mv_size, &jerr);
	const char *id = lg_json_str(o, "externalId");
	int ok = cJSON_IsObject(o) &&
		 (!records || (id && strlen(id) == k->mv_size && memcmp(id, k->mv_data, k->mv_size) == 0));
	cJSON_Delete(o);
	return ok;
}

/* Seals the entries of sub-database i after *from (empty: from the
 * first), up to a batch, in one transaction; *from then names the last
 * one looked at, *done says the end was reached, *bad that a value could
 * not be sealed (reported). */
static int seal_batch(store_db *db, size_t i, lg_buf *from, int *done, int *bad)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { from->len, from->data }, v;
	MDB_dbi dbi = db_dbi(db, i);
	lg_buf todo = { 0 }, last = { 0 };
	size_t entries = 0;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_cursor_get(cur, &k, &v, from->len ? MDB_SET_RANGE : MDB_FIRST);
	if (!rc && from->len && k.mv_size == from->len && memcmp(k.mv_data, from->data, from->len) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && entries < SEAL_ENTRIES && todo.len < SEAL_BYTES && !*bad;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val bare = v;
		const char *why;
		last.len = 0;
		if (lg_buf_add(&last, k.mv_data, k.mv_size)) {
			rc = ENOMEM;
			break;
		}
		if (db_verify_why(db, dbi, &k, &bare, &why) != 0 || (bare.mv_size == v.mv_size && !legacy_ok(i, &k, &v))) {
			db_report_damage(db, dbi, &k, "written before checksums, and unreadable: the store is left unsealed");
			*bad = 1;
		} else if (bare.mv_size == v.mv_size) {
			size_t lens[2] = { k.mv_size, v.mv_size };
			entries++;
			if (lg_buf_add(&todo, lens, sizeof lens) || lg_buf_add(&todo, k.mv_data, k.mv_size) ||
			    lg_buf_add(&todo, v.mv_data, v.mv_size))
				rc = ENOMEM;
		}
	}
	mdb_cursor_close(cur);
	*done = rc == MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	/* The copies are put back once the cursor is gone: a put may move
	 * the pages they came from. */
	for (size_t o = 0; !rc && !*bad && o < todo.len;) {
		size_t lens[2];
		memcpy(lens, todo.data + o, sizeof lens);
		o += sizeof lens;
		rc = db_put(txn, dbi, todo.data + o, lens[0], todo.data + o + lens[0], lens[1]);
		o += lens[0] + lens[1];
	}
	if (rc || *bad)
		mdb_txn_abort(txn);
	else if ((rc = mdb_txn_commit(txn)) == 0 && last.len) {
		from->len = 0;
		rc = lg_buf_add(from, last.data, last.len) ? ENOMEM : 0;
	}
	lg_buf_free(&todo);
	lg_buf_free(&last);
	return rc;
}

static int seal_mark(store_db *db)
{
	MDB_txn *txn;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if ((rc = db_put(txn, db->state, FORMAT_KEY, sizeof FORMAT_KEY - 1, FORMAT_SEALED,
			 sizeof FORMAT_SEALED - 1)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int db_seal(store_db *db)
{
	lg_buf from = { 0 };
	int rc = 0, bad = 0;
	for (size_t i = 0; i < db_count() && !rc && !bad; i++) {
		int done = !db_dbi(db, i); /* absent */
		from.len = 0;
		while (!done && !bad && !rc) {
			rc = seal_batch(db, i, &from, &done, &bad);
			if (rc == MDB_MAP_FULL)
				rc = db_grow(db);
		}
	}
	while (!rc && !bad && (rc = seal_mark(db)) == MDB_MAP_FULL)
		rc = db_grow(db);
	if (!rc && !bad)
		db->sealed = 1;
	lg_buf_free(&from);
	return rc;
}

