/* The lg-store database: one LMDB environment in a 0700 directory with
 * named sub-databases (docs/store.md):
 *   records     externalId -> record JSON
 *   by_time     8-byte big-endian timestamp + externalId -> ""  (export order)
 *   violations  violation id -> externalId
 *   stale       like by_time, for the records whose policies must run again
 *   runs        run id -> run JSON
 *   state       "cursor/<integration>" -> ISO time,
 *               "lastrun/<integration>" and "lastrun/" -> run id,
 *               "format" -> "2" once every value carries its checksum,
 *               "feed" -> "1" once every record is in the change feed,
 *               "summary" -> "1" once every record has its summary,
 *               "ship/<destination>" -> the last change shipped there
 *   changes     8-byte big-endian change sequence -> externalId: each
 *               record once, under the sequence of its last change
 *   change_ids  externalId -> its 8-byte sequence in changes
 *   summaries   like by_time -> the record's summary (summary.h)
 * changes and change_ids came later: a store from before has neither until
 * a writer creates them (changes_open_feed); so did summaries
 * (summary_open); a handle of 0 says absent.
 * Every value, empty ones too, ends in DB_SUM_LEN bytes of checksum over its
 * key and its bytes; db_get, db_cursor_get and db_put add and verify it, and
 * the value they hand out is without it.
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
	MDB_dbi changes, change_ids; /* 0: absent (a store from before the feed) */
	MDB_dbi summaries;           /* 0: absent (a store from before summaries) */
	size_t mapsize;
	size_t maxkey;       /* mdb_env_get_maxkeysize */
	const char *dir;
	long file_base;      /* file-backed resident pages at open (the program) */
	void *map;           /* LMDB's mapping of data.mdb (from /proc/self/maps) */
	size_t map_len;
	int statm;           /* /proc/self/statm, open for cheap re-reads; -1 */
	size_t file_size;    /* of data.mdb when last looked at */
	int sealed;          /* "format" is set: a value without its checksum is damage */
	int feed;            /* "feed" is set: every record is in changes */
	int summary;         /* "summary" is set: every record is in summaries */
	size_t seq_txn;      /* the write transaction seq belongs to (mdb_txn_id) */
	uint64_t seq;        /* the last change sequence given out in it */
} store_db;

#define STORE_TIME_KEY 8                    /* bytes of timestamp before the id */
#define STORE_DEFAULT_MAPSIZE ((size_t)64 << 20)

/* The directory: --db, else $LG_DB, else $XDG_DATA_HOME/langguard/db, else
 * ~/.local/share/langguard/db. Writes into out; 0, or -1 if none is known. */
int db_default_dir(const char *opt, char *out, size_t outlen);
/* db_open's flags. */
#define DB_WRITE 1           /* a writer: upgrades a store without checksums */
#define DB_CREATE 2          /* an empty (0-byte) data.mdb is a new store */
/* Creates the directory (0700, parents too) and opens the environment and
 * its sub-databases. Refuses, before any page is read through the map, an
 * empty data.mdb (unless DB_CREATE), one that is not LMDB's or holds
 * another program's databases, and one shorter than its pages. Returns 0
 * or an exit status with the error reported. */
int db_open(store_db *db, const char *dir, size_t mapsize, unsigned flags);
void db_close(store_db *db);
/* Begins a transaction, adopting a map grown by another process. */
int db_txn_begin(store_db *db, unsigned flags, MDB_txn **txn);
/* Doubles the map (no transaction of ours may be open). Returns an MDB rc. */
int db_grow(store_db *db);
/* Bounds what the map adds to resident memory. LMDB reads through a
 * read-only shared mapping, and every page a search touched stays resident,
 * with its neighbours (the kernel maps pages around each fault, whole large
 * folios), so the map of a large store would all become resident. When more
 * than STORE_MAP_RESIDENT bytes of file pages are mapped (/proc/self/statm,
 * cheap to re-read), the map's pages are dropped (MADV_DONTNEED). That is safe at
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

/* ---- checksums ----
 * The last DB_SUM_LEN bytes of a value: lg_hash_data of the value's bytes
 * before them, seeded with lg_hash_data of its key, itself seeded with
 * lg_hash_data of the sub-database's name (seeded LG_HASH_SEED), stored
 * little-endian. A store
 * written before checksums (no "format" in state) is read as it is, a value
 * checked when it carries a checksum; a writer's db_open seals it. */
#define DB_SUM_LEN 8
/* An rc beside LMDB's: a value that fails its checksum or lies outside the
 * file. db_get and db_cursor_get have reported it; db_fail says nothing more. */
#define DB_DAMAGED (-30500)
/* What to tell the user after a sign of damage: in some values, or in the
 * file as a whole (check cannot read it either). */
#define DB_DAMAGE_ADVICE "the store is damaged: 'lg-store check' lists what is; restore from a backup"
#define DB_FILE_ADVICE "the store is damaged: restore from a backup"

/* mdb_get / mdb_cursor_get / mdb_put with the checksum checked or added;
 * a damaged value is reported (naming the sub-database and the key) and
 * gives DB_DAMAGED. Keys as C strings and lengths. */
int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val);
int db_cursor_get(MDB_cursor *cur, MDB_val *key, MDB_val *val, MDB_cursor_op op);
int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen);
int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen);
/* A value given in pieces, copied once into its place (MDB_RESERVE).
 * flags: mdb_put's (MDB_NOOVERWRITE). */
typedef struct {
	const void *p;
	size_t n;
} db_part;
int db_put_parts(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const db_part *parts,
		 size_t nparts, unsigned flags);
/* Checks v (key k of dbi) and takes its checksum off: 0, or DB_DAMAGED
 * with nothing reported (check lists them itself). */
int db_verify(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v);
/* "record 'ID'": which entry, for messages (a key as printable text, the
 * id alone for a time key, at most n bytes). */
char *db_describe(const store_db *db, MDB_dbi dbi, const MDB_val *k, char *out, size_t n);
/* "db: record 'ID': why (the store is damaged: ...)". */
void db_report_damage(const store_db *db, MDB_dbi dbi, const MDB_val *k, const char *why);
/* The sub-databases, for walks over all of them: their count, and each
 * one's handle (0 when absent: skip it) and name ("records", ...). */
size_t db_count(void);
MDB_dbi db_dbi(const store_db *db, size_t i);
const char *db_dbi_name(const store_db *db, MDB_dbi dbi);
#endif
