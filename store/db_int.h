/* The store's parts, shared by its files (db.h is the interface):
 *   db.c       the environment: the sub-databases, open, grow, the map's
 *              and the heap's resident memory, keys
 *   db_file.c  the file: its header checked before LMDB maps it, a read
 *              outside it ended with the damage reported
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

/* db_seal.c: seals every value without its checksum, then sets "format";
 * a value that cannot be sealed is reported and the store left unsealed.
 * Returns an LMDB code or errno's. */
int db_seal(store_db *db);

/* db_sum.c: db_verify, with why a value failed. */
int db_verify_why(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v, const char **why);
#endif
