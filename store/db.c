#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "err.h"

int db_default_dir(const char *opt, char *out, size_t outlen)
{
	const char *e;
	int n;
	if (opt && *opt)
		n = snprintf(out, outlen, "%s", opt);
	else if ((e = getenv("LG_DB")) && *e)
		n = snprintf(out, outlen, "%s", e);
	else if ((e = getenv("XDG_DATA_HOME")) && *e)
		n = snprintf(out, outlen, "%s/langguard/db", e);
	else if ((e = getenv("HOME")) && *e)
		n = snprintf(out, outlen, "%s/.local/share/langguard/db", e);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* mkdir -p with mode 0700 for every directory we create. */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);
	if (n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int db_fail(const store_db *db, const char *what, int rc)
{
	if (rc == MDB_MAP_FULL)
		lg_err("db: %s: %s (raise --map-size)", what, mdb_strerror(rc));
	else
		lg_err("db: %s: %s", what, mdb_strerror(rc));
	(void)db;
	return LG_EXIT_IO;
}

/* A read transaction when the sub-databases exist (no commit to sync for
 * every reader), a write transaction the first time. */
static int open_dbis(store_db *db, unsigned flags)
{
	static const char *names[] = { "records", "by_time", "violations", "stale", "runs", "state" };
	MDB_dbi *slots[] = { &db->records, &db->by_time, &db->violations, &db->stale, &db->runs, &db->state };
	MDB_txn *txn;
	int rc = db_txn_begin(db, flags, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if ((rc = mdb_dbi_open(txn, names[i], flags & MDB_RDONLY ? 0 : MDB_CREATE, slots[i])) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	return mdb_txn_commit(txn);
}

int db_open(store_db *db, const char *dir, size_t mapsize)
{
	int rc;
	memset(db, 0, sizeof *db);
	db->dir = dir;
	if (make_dirs(dir) != 0) {
		lg_err("db: %s: %s", dir, strerror(errno));
		return LG_EXIT_IO;
	}
	if ((rc = mdb_env_create(&db->env)) != 0)
		return db_fail(db, dir, rc);
	mdb_env_set_maxdbs(db->env, 8);
	/* The map never shrinks below what the file already holds. */
	db->mapsize = mapsize ? mapsize : STORE_DEFAULT_MAPSIZE;
	if ((rc = mdb_env_set_mapsize(db->env, db->mapsize)) != 0 ||
	    (rc = mdb_env_open(db->env, dir, MDB_NOTLS, 0600)) != 0) {
		lg_err("db: %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(db->env);
		db->env = NULL;
		return LG_EXIT_IO;
	}
	MDB_envinfo info;
	if (mdb_env_info(db->env, &info) == 0 && info.me_mapsize > db->mapsize)
		db->mapsize = info.me_mapsize;
	db->maxkey = (size_t)mdb_env_get_maxkeysize(db->env);
	rc = open_dbis(db, MDB_RDONLY);
	while (rc == MDB_NOTFOUND || rc == MDB_MAP_FULL) {
		if (rc == MDB_MAP_FULL && (rc = db_grow(db)) != 0)
			break;
		rc = open_dbis(db, 0);
	}
	if (rc) {
		lg_err("db: %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(db->env);
		db->env = NULL;
		return LG_EXIT_IO;
	}
	return 0;
}

void db_close(store_db *db)
{
	if (db->env)
		mdb_env_close(db->env);
	db->env = NULL;
}

int db_txn_begin(store_db *db, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(db->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		if ((rc = mdb_env_set_mapsize(db->env, 0)) != 0)
			return rc;
		MDB_envinfo info;
		if (mdb_env_info(db->env, &info) == 0)
			db->mapsize = info.me_mapsize;
		rc = mdb_txn_begin(db->env, NULL, flags, txn);
	}
	return rc;
}

int db_grow(store_db *db)
{
	MDB_envinfo info;
	if (mdb_env_info(db->env, &info) == 0 && info.me_mapsize > db->mapsize)
		db->mapsize = info.me_mapsize;
	size_t next = db->mapsize * 2;
	if (next < db->mapsize)
		return MDB_MAP_FULL;
	int rc = mdb_env_set_mapsize(db->env, next);
	if (rc == 0)
		db->mapsize = next;
	return rc;
}

size_t db_max_id(const store_db *db)
{
	return db->maxkey - STORE_TIME_KEY;
}

size_t db_time_key(unsigned char *out, int64_t ms, const char *id, size_t idlen)
{
	/* Flip the sign bit so unsigned byte order is numeric order. */
	uint64_t u = (uint64_t)ms ^ 0x8000000000000000ULL;
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	memcpy(out + STORE_TIME_KEY, id, idlen);
	return STORE_TIME_KEY + idlen;
}

int64_t db_time_of_key(const unsigned char *k)
{
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | k[i];
	return (int64_t)(u ^ 0x8000000000000000ULL);
}

int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	return mdb_get(txn, dbi, &k, val);
}

int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key }, d = { vlen, (void *)(uintptr_t)v };
	return mdb_put(txn, dbi, &k, &d, 0);
}

int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
