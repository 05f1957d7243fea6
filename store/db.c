#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "err.h"
#include "hash.h"
#include "timeutil.h"
#include "json.h"
#include "private.h"

/* The sub-databases: name, what one entry is called in messages, whether
 * its keys start with a timestamp (STORE_TIME_KEY bytes), and whether
 * every store has it (the first put creates them all at once: one missing
 * beside records is damage; one added later is created when missing). */
static const struct {
	const char *name, *label;
	int time_key, always;
} subdbs[] = {
	{ "records", "record", 0, 1 },      { "by_time", "time index entry", 1, 1 },
	{ "violations", "violation", 0, 1 }, { "stale", "stale index entry", 1, 1 },
	{ "runs", "run", 0, 1 },            { "state", "state", 0, 1 },
	{ "changes", "change", 0, 0 },      { "change_ids", "change index entry", 0, 0 },
	{ "summaries", "summary", 1, 0 },
};
#define NSUBDBS (sizeof subdbs / sizeof *subdbs)

static MDB_dbi *dbi_slot(store_db *db, size_t i)
{
	MDB_dbi *slots[NSUBDBS] = { &db->records, &db->by_time, &db->violations, &db->stale, &db->runs, &db->state,
				    &db->changes, &db->change_ids, &db->summaries };
	return slots[i];
}

size_t db_count(void)
{
	return NSUBDBS;
}

MDB_dbi db_dbi(const store_db *db, size_t i)
{
	return *dbi_slot((store_db *)(uintptr_t)db, i);
}

size_t db_subdb_index(const store_db *db, MDB_dbi dbi)
{
	for (size_t i = 0; db && i < NSUBDBS; i++)
		if (db_dbi(db, i) == dbi)
			return i;
	return NSUBDBS;
}

const char *db_dbi_name(const store_db *db, MDB_dbi dbi)
{
	size_t i = db_subdb_index(db, dbi);
	return i < NSUBDBS ? subdbs[i].name : "?";
}

const char *db_subdb_name(size_t i)
{
	return subdbs[i].name;
}

const char *db_subdb_label(size_t i)
{
	return i < NSUBDBS ? subdbs[i].label : "entry";
}

int db_subdb_time_key(size_t i)
{
	return i < NSUBDBS && subdbs[i].time_key;
}


/* open_dbis's answer for an LMDB file holding other databases than ours. */
#define DB_FOREIGN (-30501)

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

/* LMDB's codes for a file whose structure does not hold together. */
static int is_damage(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
	       rc == MDB_INCOMPATIBLE || rc == MDB_CURSOR_FULL || rc == MDB_BAD_VALSIZE ||
	       rc == MDB_VERSION_MISMATCH || rc == MDB_BAD_TXN; /* after one of these in the transaction */
}

int db_fail(const store_db *db, const char *what, int rc)
{
	if (rc == DB_DAMAGED)
		; /* reported where it was found */
	else if (rc == MDB_MAP_FULL)
		lg_err("db: %s: %s (raise --map-size)", what, mdb_strerror(rc));
	else if (is_damage(rc))
		lg_err("db: %s: %s (%s)", what, mdb_strerror(rc), DB_FILE_ADVICE);
	else
		lg_err("db: %s: %s", what, mdb_strerror(rc));
	(void)db;
	return LG_EXIT_IO;
}

/* A read transaction when the sub-databases exist (no commit to sync for
 * every reader), a write transaction the first time. Another program's
 * LMDB databases are not taken for a store: without "records" the main
 * database must be empty (a store whose first put created nothing yet).
 * Reads whether every value is sealed, every record in the feed and
 * every record summarized. */
static int open_dbis(store_db *db, unsigned flags)
{
	MDB_txn *txn;
	MDB_val v;
	int rc = db_txn_begin(db, flags, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < NSUBDBS; i++) {
		rc = mdb_dbi_open(txn, subdbs[i].name, flags & MDB_RDONLY ? 0 : MDB_CREATE, dbi_slot(db, i));
		if (rc == MDB_NOTFOUND && i == 0) {
			MDB_dbi main_dbi;
			MDB_stat st;
			if (mdb_dbi_open(txn, NULL, 0, &main_dbi) == 0 && mdb_stat(txn, main_dbi, &st) == 0 &&
			    st.ms_entries > 0)
				rc = DB_FOREIGN;
		} else if (rc == MDB_NOTFOUND && subdbs[i].always) {
			lg_err("db: %s/data.mdb: the %s database is missing (%s)", db->dir, subdbs[i].name,
			       DB_FILE_ADVICE);
			rc = DB_DAMAGED;
		} else if (rc == MDB_NOTFOUND) { /* came later: created by the writer that needs it */
			*dbi_slot(db, i) = 0;
			rc = 0;
		}
		if (rc) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	MDB_val k = { sizeof FORMAT_KEY - 1, (void *)(uintptr_t)FORMAT_KEY };
	db->sealed = mdb_get(txn, db->state, &k, &v) == 0;
	MDB_val f = { sizeof FEED_KEY - 1, (void *)(uintptr_t)FEED_KEY };
	db->feed = db->changes && mdb_get(txn, db->state, &f, &v) == 0;
	MDB_val m = { sizeof SUMMARY_KEY - 1, (void *)(uintptr_t)SUMMARY_KEY };
	db->summary = db->summaries && mdb_get(txn, db->state, &m, &v) == 0;
	return mdb_txn_commit(txn);
}

/* Resident pages of this process, all and file-backed (statm's
 * "resident" and "shared"); -1 on failure. */
static long resident_pages(const store_db *db, long *file)
{
	char b[160];
	long size, resident, shared;
	ssize_t n = db->statm >= 0 ? pread(db->statm, b, sizeof b - 1, 0) : -1;
	if (n <= 0)
		return -1;
	b[n] = '\0';
	/* strtol, not sscanf: this runs after every few LMDB operations. */
	char *p = b, *e;
	size = strtol(p, &e, 10);
	resident = strtol(p = e, &e, 10);
	shared = strtol(p = e, &e, 10);
	if (e == p || size < 0)
		return -1;
	*file = shared;
	return resident;
}

static long file_pages(const store_db *db)
{
	long file;
	return resident_pages(db, &file) < 0 ? -1 : file;
}

void db_trim_heap(store_db *db)
{
#ifdef __GLIBC__
	long file, all = resident_pages(db, &file), page = sysconf(_SC_PAGESIZE);
	if (all >= 0 && page > 0 && (all - file) * page > STORE_HEAP_RESIDENT)
		malloc_trim(0);
#else
	(void)db;
#endif
}

/* Finds LMDB's mapping of the data file (mdb_env_info's me_mapaddr is only
 * set with MDB_FIXEDMAP): the line of /proc/self/maps with its inode. */
static void find_map(store_db *db)
{
	struct stat st;
	char line[4352];
	mdb_filehandle_t fd;
	db->map = NULL;
	db->map_len = 0;
	if (mdb_env_get_fd(db->env, &fd) != 0 || fstat(fd, &st) != 0)
		return;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, ino, off;
		unsigned maj, min;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) == 7 &&
		    ino == (unsigned long)st.st_ino && makedev(maj, min) == st.st_dev && off == 0 &&
		    perms[3] == 's' && hi - lo > db->map_len) {
			db->map = (void *)lo;
			db->map_len = hi - lo;
		}
	}
	fclose(f);
}

/* Called whenever the map may have moved (open, grow, adopt). Random
 * access: no read-ahead around each fault (LMDB's searches jump). */
static void map_advise(store_db *db)
{
	unsigned flags = 0;
	find_map(db);
	db_fault_watch(db);
	if (db->map && mdb_env_get_flags(db->env, &flags) == 0 && !(flags & MDB_WRITEMAP))
		madvise(db->map, db->map_len, MADV_RANDOM);
}

void db_trim_map(store_db *db)
{
	unsigned flags = 0;
	long page = sysconf(_SC_PAGESIZE), now = file_pages(db);
	/* Only the read-only map: with MDB_WRITEMAP its pages would be ours.
	 * All of it: asking LMDB where the data ends would read its meta page
	 * through the map, one more fault per trim. */
	if (!db->map || now < 0 || page <= 0 || db->file_base < 0 ||
	    (now - db->file_base) * page <= STORE_MAP_RESIDENT ||
	    mdb_env_get_flags(db->env, &flags) != 0 || (flags & MDB_WRITEMAP))
		return;
	madvise(db->map, db->map_len, MADV_DONTNEED);
	/* What stays is the program's own pages: the next baseline. */
	if ((now = file_pages(db)) >= 0)
		db->file_base = now;
}

static int open_fail(store_db *db, const char *dir, int rc)
{
	if (rc == DB_FOREIGN)
		lg_err("db: %s/data.mdb: an LMDB file, but not a store (no records database)", dir);
	else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
		lg_err("db: %s/data.mdb: not a store: %s", dir, mdb_strerror(rc));
	else if (rc != DB_DAMAGED)
		db_fail(db, dir, rc);
	mdb_env_close(db->env);
	db->env = NULL;
	return LG_EXIT_IO;
}

int db_open(store_db *db, const char *dir, size_t mapsize, unsigned flags)
{
	int rc;
	memset(db, 0, sizeof *db);
	db->dir = dir;
	db->statm = -1;
	char why[4400];
	if (make_dirs(dir) != 0) {
		lg_err("db: %s: %s", dir, strerror(errno));
		return LG_EXIT_IO;
	}
	/* A store in a directory others may write to could have its files
	 * swapped or a link planted for LMDB to follow: refused (lg makes it
	 * 0700; a team sharing a store through its group cannot work anyway,
	 * the files being 0600). */
	if (lg_private_dir(dir, why, sizeof why) != 0) {
		lg_err("db: %s", why);
		return LG_EXIT_IO;
	}
	if ((rc = db_check_file(dir, flags)) != 0)
		return rc;
	if ((rc = mdb_env_create(&db->env)) != 0)
		return db_fail(db, dir, rc);
	mdb_env_set_userctx(db->env, db);
	mdb_env_set_assert(db->env, db_on_lmdb_assert);
	mdb_env_set_maxdbs(db->env, (MDB_dbi)NSUBDBS);
	db_fault_setup(dir);
	/* The map never shrinks below what the file already holds. */
	db->mapsize = mapsize ? mapsize : STORE_DEFAULT_MAPSIZE;
	if ((rc = mdb_env_set_mapsize(db->env, db->mapsize)) != 0 ||
	    (rc = mdb_env_open(db->env, dir, MDB_NOTLS, 0600)) != 0)
		return open_fail(db, dir, rc);
	MDB_envinfo info;
	if (mdb_env_info(db->env, &info) == 0 && info.me_mapsize > db->mapsize)
		db->mapsize = info.me_mapsize;
	db->maxkey = (size_t)mdb_env_get_maxkeysize(db->env);
	map_advise(db);
	rc = open_dbis(db, MDB_RDONLY);
	while (rc == MDB_NOTFOUND || rc == MDB_MAP_FULL) {
		if (rc == MDB_MAP_FULL && (rc = db_grow(db)) != 0)
			break;
		rc = open_dbis(db, 0);
	}
	if (!rc && (flags & DB_WRITE) && !db->sealed)
		rc = db_seal(db);
	if (rc)
		return open_fail(db, dir, rc);
	db->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	db->file_base = file_pages(db);
	return 0;
}

void db_close(store_db *db)
{
	db_fault_off();
	if (db->env)
		mdb_env_close(db->env);
	db->env = NULL;
	if (db->statm >= 0)
		close(db->statm);
	db->statm = -1;
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
		map_advise(db);
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
	if (rc == 0) {
		db->mapsize = next;
		map_advise(db);
	}
	return rc;
}

size_t db_max_id(const store_db *db)
{
	return db->maxkey - STORE_TIME_KEY;
}

int64_t db_record_time(const cJSON *rec)
{
	int64_t ms;
	const char *ts = lg_json_str(rec, "timestamp");
	return ts && lg_time_parse(ts, &ms) == 0 ? ms : INT64_MIN;
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

