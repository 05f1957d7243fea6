/* The lg-store database: one LMDB environment in a 0700 directory with
 * named sub-databases (docs/store.md):
 *   records     externalId -> record JSON
 *   by_time     8-byte big-endian timestamp + externalId -> ""  (export order)
 *   violations  violation id -> externalId
 *   stale       like by_time, for the records whose policies must run again
 *   runs        run id -> run JSON
 *   state       "cursor/<integration>" -> ISO time,
 *               "lastrun/<integration>" and "lastrun/" -> run id
 * The map starts at --map-size and grows by itself on MDB_MAP_FULL. */
#ifndef STORE_DB_H
#define STORE_DB_H
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

typedef struct {
	MDB_env *env;
	MDB_dbi records, by_time, violations, stale, runs, state;
	size_t mapsize;
	size_t maxkey;       /* mdb_env_get_maxkeysize */
	const char *dir;
} store_db;

#define STORE_TIME_KEY 8                    /* bytes of timestamp before the id */
#define STORE_DEFAULT_MAPSIZE ((size_t)64 << 20)

/* The directory: --db, else $LG_DB, else $XDG_DATA_HOME/langguard/db, else
 * ~/.local/share/langguard/db. Writes into out; 0, or -1 if none is known. */
int db_default_dir(const char *opt, char *out, size_t outlen);
/* Creates the directory (0700, parents too) and opens the environment and
 * its sub-databases. Returns 0 or an exit status with the error reported. */
int db_open(store_db *db, const char *dir, size_t mapsize);
void db_close(store_db *db);
/* Begins a transaction, adopting a map grown by another process. */
int db_txn_begin(store_db *db, unsigned flags, MDB_txn **txn);
/* Doubles the map (no transaction of ours may be open). Returns an MDB rc. */
int db_grow(store_db *db);
/* Reports "db: <what>: <mdb_strerror>"; returns the exit status for rc. */
int db_fail(const store_db *db, const char *what, int rc);

/* Longest externalId we can index (by_time keys carry 8 more bytes). */
size_t db_max_id(const store_db *db);
/* by_time key for (ms, id): writes STORE_TIME_KEY + idlen bytes into out. */
size_t db_time_key(unsigned char *out, int64_t ms, const char *id, size_t idlen);
int64_t db_time_of_key(const unsigned char *k);

/* Convenience wrappers around mdb_get / mdb_put with C strings as keys. */
int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val);
int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen);
int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen);
#endif
