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
#include <cjson/cJSON.h>
#include <lmdb.h>

typedef struct {
	MDB_env *env;
	MDB_dbi records, by_time, violations, stale, runs, state;
	size_t mapsize;
	size_t maxkey;       /* mdb_env_get_maxkeysize */
	const char *dir;
	long file_base;      /* file-backed resident pages at open (the program) */
	void *map;           /* LMDB's mapping of data.mdb (from /proc/self/maps) */
	size_t map_len;
	int statm;           /* /proc/self/statm, open for cheap re-reads; -1 */
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
/* Bounds what the map adds to resident memory. LMDB reads through a
 * read-only shared mapping, and every page a search touched stays resident,
 * with its neighbours (the kernel maps pages around each fault, whole large
 * folios): 87 MB after putting 10,000 records. When more than
 * STORE_MAP_RESIDENT bytes of file pages are mapped (/proc/self/statm, 0.3
 * us a read), the map's pages are dropped (MADV_DONTNEED). That is safe at
 * any time, inside a transaction too: without MDB_WRITEMAP the map is
 * read-only and LMDB never rewrites a page a live snapshot uses, so a
 * dropped page refaults from the page cache with the same bytes. */
void db_trim_map(store_db *db);
#ifndef STORE_MAP_RESIDENT
#define STORE_MAP_RESIDENT ((long)2 << 20)
#endif
/* After a commit: LMDB has freed its copies of the pages it wrote, but
 * values of many sizes leave holes in the heap that stay resident. When
 * more than STORE_HEAP_RESIDENT bytes of anonymous memory are resident
 * (statm), the free pages go back to the system (glibc's malloc_trim). */
void db_trim_heap(store_db *db);
#define STORE_HEAP_RESIDENT ((long)8 << 20)

/* Reports "db: <what>: <mdb_strerror>"; returns the exit status for rc. */
int db_fail(const store_db *db, const char *what, int rc);

/* Longest externalId we can index (by_time keys carry 8 more bytes). */
size_t db_max_id(const store_db *db);
/* A record's timestamp in ms, the one its time keys use: INT64_MIN when
 * it has none or an unreadable one. */
int64_t db_record_time(const cJSON *rec);
/* by_time key for (ms, id): writes STORE_TIME_KEY + idlen bytes into out. */
size_t db_time_key(unsigned char *out, int64_t ms, const char *id, size_t idlen);
int64_t db_time_of_key(const unsigned char *k);

/* Convenience wrappers around mdb_get / mdb_put with C strings as keys. */
int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val);
int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen);
int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen);
#endif
