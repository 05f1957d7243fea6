/* The store's parts, shared by its files (db.h is the interface):
 *   db.c       the environment: the sub-databases, open, grow, the map's
 *              and the heap's resident memory, keys
 *   db_file.c  the file: its header checked before LMDB maps it, a read
 *              outside it ended with the damage reported
 *   db_backfill.c  a walk that brings an older store up to date
 *   db_seal.c  sealing a store written before checksums
 *   db_sum.c   the checksum of every value: db_get, db_put and the rest */
#ifndef STORE_DB_INT_H
#define STORE_DB_INT_H
#include "db.h"

/* The key state holds once every value carries its checksum. */
#define FORMAT_KEY "format"
#define FORMAT_SEALED "2"
/* The key state holds once every record is in the change feed. */
#define FEED_KEY "feed"
/* The key state holds once every record has its summary. */
#define SUMMARY_KEY "summary"

/* Sub-database i (0 .. db_count() - 1): its name, what one entry is called
 * in messages ("entry" for an unknown i), whether its keys start with a
 * timestamp; the index of a handle (db_count() if none). */
const char *db_subdb_name(size_t i);
const char *db_subdb_label(size_t i);
int db_subdb_time_key(size_t i);
size_t db_subdb_index(const store_db *db, MDB_dbi dbi);

/* db_file.c. Whether data.mdb may be opened: an exit status, reported. */
int db_check_file(const char *dir, unsigned flags);
void db_fault_setup(const char *dir);
/* Called whenever the map may have moved; db_fault_off when it is gone. */
void db_fault_watch(const store_db *db);
void db_fault_off(void);
void db_on_lmdb_assert(MDB_env *env, const char *msg);

/* db_backfill.c. Brings every entry of a sub-database that needs it up
 * to date, in key order, in write transactions of a bounded size each (the
 * writer's memory stays bounded, and a kill loses nothing: the next
 * writer's walk passes over what is done), growing the map when full. pick
 * says whether an entry needs the work (*take; an rc stops the walk);
 * apply does it for each entry taken, after the batch's walk; finish, if
 * any, runs in the last batch's transaction (to mark the store); start, if
 * any, at the beginning of each batch's transaction. The entries are read
 * with their checksums checked (db_cursor_get), or as stored with raw.
 * Returns an LMDB code, errno's, or pick's, apply's or finish's rc. */
typedef struct {
	MDB_dbi dbi;
	int raw;
	size_t max_entries, max_bytes; /* taken per transaction: entries, bytes of their keys and values */
	void *ctx;
	int (*pick)(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v, int *take);
	int (*apply)(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v);
	int (*finish)(void *ctx, MDB_txn *txn);
	void (*start)(void *ctx);
} db_backfill_spec;
int db_backfill(store_db *db, const db_backfill_spec *s);

/* db_seal.c: seals every value without its checksum, then sets "format";
 * a value that cannot be sealed is reported and the store left unsealed.
 * Returns an LMDB code or errno's. */
int db_seal(store_db *db);

/* db_sum.c: db_verify, with why a value failed. */
int db_verify_why(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v, const char **why);
#endif
