/* Sealing a store written before checksums. Returns: an LMDB code or
 * errno's (db.c reports it). */
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

/* The walk that seals sub-database i's values without their checksum;
 * one that cannot be sealed is reported and stops it (bad). */
typedef struct {
	store_db *db;
	size_t i;
	int bad;
} seal;

static int seal_pick(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v, int *take)
{
	seal *s = ctx;
	MDB_dbi dbi = db_dbi(s->db, s->i);
	MDB_val bare = *v;
	const char *why;
	(void)txn;
	if (db_verify_why(s->db, dbi, k, &bare, &why) != 0 ||
	    (bare.mv_size == v->mv_size && !legacy_ok(s->i, k, v))) {
		db_report_damage(s->db, dbi, k, "written before checksums, and unreadable: the store is left unsealed");
		s->bad = 1;
		return DB_DAMAGED;
	}
	*take = bare.mv_size == v->mv_size;
	return 0;
}

static int seal_apply(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	seal *s = ctx;
	return db_put(txn, db_dbi(s->db, s->i), k->mv_data, k->mv_size, v->mv_data, v->mv_size);
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
	seal s = { db, 0, 0 };
	int rc = 0;
	for (; s.i < db_count() && !rc && !s.bad; s.i++) {
		if (!db_dbi(db, s.i)) /* absent */
			continue;
		db_backfill_spec b = { db_dbi(db, s.i), 1, SEAL_ENTRIES, SEAL_BYTES, &s,
				       seal_pick, seal_apply, NULL, NULL };
		if ((rc = db_backfill(db, &b)) == DB_DAMAGED && s.bad)
			rc = 0;
	}
	while (!rc && !s.bad && (rc = seal_mark(db)) == MDB_MAP_FULL)
		rc = db_grow(db);
	if (!rc && !s.bad)
		db->sealed = 1;
	return rc;
}

