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

#include "db.h"
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
};
#define NSUBDBS (sizeof subdbs / sizeof *subdbs)

static MDB_dbi *dbi_slot(store_db *db, size_t i)
{
	MDB_dbi *slots[NSUBDBS] = { &db->records, &db->by_time, &db->violations, &db->stale, &db->runs, &db->state };
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

static size_t subdb_index(const store_db *db, MDB_dbi dbi)
{
	for (size_t i = 0; db && i < NSUBDBS; i++)
		if (db_dbi(db, i) == dbi)
			return i;
	return NSUBDBS;
}

const char *db_dbi_name(const store_db *db, MDB_dbi dbi)
{
	size_t i = subdb_index(db, dbi);
	return i < NSUBDBS ? subdbs[i].name : "?";
}

/* The key state holds once every value carries its checksum. */
#define FORMAT_KEY "format"
#define FORMAT_SEALED "2"
static void fault_watch(const store_db *db);
static int verify(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v, const char **why);

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
 * Reads whether every value is sealed. */
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
		}
		if (rc) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	MDB_val k = { sizeof FORMAT_KEY - 1, (void *)(uintptr_t)FORMAT_KEY };
	db->sealed = mdb_get(txn, db->state, &k, &v) == 0;
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
	fault_watch(db);
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

/* ---- before the map ----
 * LMDB maps the whole file and trusts its header: a page number past the
 * end of a truncated file is a SIGBUS at the first read, a page size of 0
 * a division by zero. So the two meta pages are read with pread(2) first
 * and checked as LMDB will use them. Their layout is LMDB's data format 1
 * (lmdb.h's MDB_meta after a 16-byte page header), stable since 2011. */
#define META_FLAGS 10            /* uint16 page flags */
#define META_MAGIC 16            /* uint32 0xBEEFC0DE */
#define META_VERSION 20          /* uint32 1 */
#define META_PSIZE 40            /* uint32: the free list's md_pad */
#define META_LAST_PG 136         /* uint64 last page used */
#define META_TXNID 144           /* uint64 the transaction it records */
#define META_SIZE 152

/* The one answer that may come from a writer committing twice between
 * our two reads, not from damage. */
static const char HEADER_RACE[] = "header damaged (transaction ids)";

typedef struct {
	uint32_t psize;
	uint64_t last_pg, txnid;
} meta_info;

static uint32_t rd32(const unsigned char *p)
{
	uint32_t x;
	memcpy(&x, p, 4);
	return x;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* One meta page at off: 0, or a reason it is not one. */
static const char *read_meta(int fd, off_t off, meta_info *m)
{
	unsigned char b[META_SIZE];
	ssize_t n = pread(fd, b, sizeof b, off);
	if (n != (ssize_t)sizeof b)
		return n < 0 ? strerror(errno) : "shorter than its header";
	if (!(b[META_FLAGS] & 0x08) || rd32(b + META_MAGIC) != 0xBEEFC0DEu)
		return "not an LMDB file, or its header is damaged";
	if (rd32(b + META_VERSION) != 1)
		return "an LMDB data format this lmdb does not read";
	m->psize = rd32(b + META_PSIZE);
	m->last_pg = rd64(b + META_LAST_PG);
	m->txnid = rd64(b + META_TXNID);
	return NULL;
}

/* The header as LMDB reads it: meta 0, meta 1 one page further, the one
 * with the larger transaction id in use. Commits alternate between the
 * two, so their ids differ by one, the larger in slot (id & 1), or are
 * both 0 (a new store); anything else is a flipped bit. */
static const char *check_header(int fd, off_t size, char *why, size_t n)
{
	meta_info m[2];
	const char *bad;
	if ((bad = read_meta(fd, 0, &m[0])))
		return bad;
	if (m[0].psize < 512 || m[0].psize > 0x10000 || (m[0].psize & (m[0].psize - 1)))
		return "header damaged (page size)";
	if ((bad = read_meta(fd, m[0].psize, &m[1])))
		return bad;
	int cur = m[1].txnid > m[0].txnid;
	uint64_t d = m[cur].txnid - m[!cur].txnid;
	if (m[cur].txnid && (d != 1 || (m[cur].txnid & 1) != (uint64_t)cur))
		return HEADER_RACE;
	uint64_t need = (m[cur].last_pg + 1) * m[0].psize;
	if (m[cur].last_pg > ((uint64_t)1 << 40) || (uint64_t)size < need) {
		snprintf(why, n, "truncated: %lld bytes, its pages need %llu", (long long)size,
			 (unsigned long long)need);
		return why;
	}
	return NULL;
}

/* Whether data.mdb may be opened: it does not exist yet (LMDB creates
 * it), it is empty and creating is allowed, or its header holds. A
 * concurrent first put has the file empty for an instant: an empty file
 * is looked at again for 50 ms. The header too: a reader between two
 * commits can see both metas move; damage does not go away. Reports and
 * returns an exit status. */
static int check_file(const char *dir, unsigned flags)
{
	char path[4200], why[128];
	const char *bad = NULL;
	struct stat st;
	/* LMDB opens both files following links; lg never writes through one. */
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		lg_err("db: %s: a symbolic link: refused", path);
		return LG_EXIT_IO;
	}
	memset(&st, 0, sizeof st);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ELOOP) {
			lg_err("db: %s: a symbolic link: refused", path);
			return LG_EXIT_IO;
		}
		if (fd < 0)
			return errno == ENOENT ? 0 : (lg_err("db: %s: %s", path, strerror(errno)), LG_EXIT_IO);
		if (fstat(fd, &st) != 0) {
			bad = strerror(errno);
		} else if (!S_ISREG(st.st_mode)) {
			bad = "not a regular file";
		} else if (st.st_size == 0) {
			bad = flags & DB_CREATE ? NULL : "empty (0 bytes): not a store";
		} else {
			bad = check_header(fd, st.st_size, why, sizeof why);
		}
		close(fd);
		if (!bad)
			return 0;
		if (bad != (const char *)HEADER_RACE && st.st_size != 0)
			break;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (st.st_size == 0)
		lg_err("db: %s: %s (restore a backup, or remove it; put --create takes it for a new store)", path, bad);
	else
		lg_err("db: %s: %s (%s)", path, bad, DB_FILE_ADVICE);
	return LG_EXIT_IO;
}

/* ---- faults in the map ----
 * A file truncated or damaged after the checks above can still send a read
 * past its end (SIGBUS) or past the map (SIGSEGV), in LMDB or here. Such a
 * fault ends the program with the damage reported and exit 6; a fault
 * anywhere else goes to the handler that was there before (a bug must
 * still crash). */
static volatile sig_atomic_t fault_armed;
static uintptr_t fault_lo, fault_hi;
static char fault_msg[600];
static size_t fault_len;
static struct sigaction old_bus, old_segv;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	(void)uc;
	if (fault_armed && a >= fault_lo && a < fault_hi) {
		ssize_t w = write(2, fault_msg, fault_len);
		(void)w;
		_exit(LG_EXIT_IO);
	}
	sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL); /* the fault repeats there */
}

static void fault_watch(const store_db *db)
{
	fault_armed = 0;
	if (!db->map)
		return;
	fault_lo = (uintptr_t)db->map;
	/* A node's offset in its page reaches at most 64 KB beyond it. */
	fault_hi = (uintptr_t)db->map + db->map_len + 0x20000;
	fault_armed = 1;
}

static void fault_setup(const char *dir)
{
	struct sigaction sa;
	int n = snprintf(fault_msg, sizeof fault_msg, "%s: db: %s/data.mdb: a read outside the file (%s)\n",
			 lg_progname, dir, DB_FILE_ADVICE);
	fault_len = n < 0 ? 0 : (size_t)n < sizeof fault_msg ? (size_t)n : sizeof fault_msg - 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
}

/* LMDB's own consistency checks (mdb_assert) abort; a damaged file is
 * what trips them here. */
static void on_lmdb_assert(MDB_env *env, const char *msg)
{
	const char *dir = NULL;
	mdb_env_get_path(env, &dir);
	lg_err("db: %s/data.mdb: LMDB: %s (%s)", dir ? dir : "?", msg, DB_FILE_ADVICE);
	_exit(LG_EXIT_IO);
}

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
	int records = strcmp(subdbs[i].name, "records") == 0;
	if (subdbs[i].time_key)
		return k->mv_size > STORE_TIME_KEY && v->mv_size == 0;
	if (!records && strcmp(subdbs[i].name, "runs") != 0)
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
		if (verify(db, dbi, &k, &bare, &why) != 0 || (bare.mv_size == v.mv_size && !legacy_ok(i, &k, &v))) {
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

static int seal_store(store_db *db)
{
	lg_buf from = { 0 };
	int rc = 0, bad = 0;
	for (size_t i = 0; i < NSUBDBS && !rc && !bad; i++) {
		int done = 0;
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
	if ((rc = check_file(dir, flags)) != 0)
		return rc;
	if ((rc = mdb_env_create(&db->env)) != 0)
		return db_fail(db, dir, rc);
	mdb_env_set_userctx(db->env, db);
	mdb_env_set_assert(db->env, on_lmdb_assert);
	mdb_env_set_maxdbs(db->env, 8);
	fault_setup(dir);
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
		rc = seal_store(db);
	if (rc)
		return open_fail(db, dir, rc);
	db->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	db->file_base = file_pages(db);
	return 0;
}

void db_close(store_db *db)
{
	fault_armed = 0;
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

/* ---- checksums ---- */

/* Seeded with the sub-database's name: an entry found in another tree
 * (a damaged root or branch page points there) does not pass. */
static uint64_t value_sum(const store_db *db, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
	size_t i = subdb_index(db, dbi);
	uint64_t seed = i < NSUBDBS ? lg_hash_data(subdbs[i].name, strlen(subdbs[i].name), LG_HASH_SEED)
				    : LG_HASH_SEED;
	return lg_hash_data(v, vn, lg_hash_data(k, kn, seed));
}

static void sum_write(unsigned char *out, uint64_t h)
{
	for (int i = 0; i < DB_SUM_LEN; i++)
		out[i] = (unsigned char)(h >> (8 * i));
}

static uint64_t sum_read(const unsigned char *p)
{
	uint64_t h = 0;
	for (int i = DB_SUM_LEN - 1; i >= 0; i--)
		h = h << 8 | p[i];
	return h;
}

static store_db *txn_db(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

/* Whether [p, p + n) is inside data.mdb, when it is inside the map at all
 * (a write transaction's own pages are in the heap). LMDB takes a value's
 * size from its node: a flipped bit there points past the file. */
static int in_file(store_db *db, const void *p, size_t n)
{
	const char *m = db ? db->map : NULL, *q = p;
	struct stat st;
	mdb_filehandle_t fd;
	if (!m || q < m || q >= m + db->map_len)
		return 1;
	size_t off = (size_t)(q - m);
	if (off + n >= off && off + n <= db->file_size)
		return 1;
	if (mdb_env_get_fd(db->env, &fd) == 0 && fstat(fd, &st) == 0)
		db->file_size = (size_t)st.st_size;
	return off + n >= off && off + n <= db->file_size;
}

static int verify(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v, const char **why)
{
	if (!in_file(db, k->mv_data, k->mv_size) || !in_file(db, v->mv_data, v->mv_size)) {
		*why = "lies outside the file";
		return DB_DAMAGED;
	}
	if (v->mv_size >= DB_SUM_LEN) {
		size_t n = v->mv_size - DB_SUM_LEN;
		if (sum_read((const unsigned char *)v->mv_data + n) == value_sum(db, dbi, k->mv_data, k->mv_size, v->mv_data, n)) {
			v->mv_size = n;
			return 0;
		}
	}
	*why = "checksum mismatch";
	return db && db->sealed ? DB_DAMAGED : 0;
}

int db_verify(store_db *db, MDB_dbi dbi, const MDB_val *k, MDB_val *v)
{
	const char *why;
	return verify(db, dbi, k, v, &why);
}

char *db_describe(const store_db *db, MDB_dbi dbi, const MDB_val *k, char *out, size_t n)
{
	size_t i = subdb_index(db, dbi), skip = i < NSUBDBS && subdbs[i].time_key ? STORE_TIME_KEY : 0;
	const unsigned char *p = k->mv_data;
	size_t len = k->mv_size > skip ? k->mv_size - skip : 0, o;
	int w = snprintf(out, n, "%s '", i < NSUBDBS ? subdbs[i].label : "entry");
	o = w < 0 ? 0 : (size_t)w;
	/* The key as text: a damaged one may hold anything. */
	for (size_t j = 0; j < len && o + 6 < n; j++)
		out[o++] = p[skip + j] >= 0x20 && p[skip + j] < 0x7f ? (char)p[skip + j] : '?';
	snprintf(out + o, n - o, "%s'", o + 6 >= n ? "..." : "");
	return out;
}

void db_report_damage(const store_db *db, MDB_dbi dbi, const MDB_val *k, const char *why)
{
	char what[300];
	lg_err("db: %s: %s (%s)", db_describe(db, dbi, k, what, sizeof what), why, DB_DAMAGE_ADVICE);
}

static int checked(MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, MDB_val *v)
{
	store_db *db = txn_db(txn);
	const char *why;
	int rc = verify(db, dbi, k, v, &why);
	if (rc)
		db_report_damage(db, dbi, k, why);
	return rc;
}

int db_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc = mdb_get(txn, dbi, &k, val);
	return rc ? rc : checked(txn, dbi, &k, val);
}

int db_cursor_get(MDB_cursor *cur, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
	int rc = mdb_cursor_get(cur, key, val, op);
	return rc ? rc : checked(mdb_cursor_txn(cur), mdb_cursor_dbi(cur), key, val);
}

int db_put_parts(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const db_part *parts,
		 size_t nparts, unsigned flags)
{
	size_t n = 0;
	for (size_t i = 0; i < nparts; i++)
		n += parts[i].n;
	MDB_val k = { klen, (void *)(uintptr_t)key }, d = { n + DB_SUM_LEN, NULL };
	int rc = mdb_put(txn, dbi, &k, &d, flags | MDB_RESERVE);
	if (rc)
		return rc;
	unsigned char *out = d.mv_data;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n)
			memcpy(out, parts[i].p, parts[i].n);
		out += parts[i].n;
	}
	sum_write(out, value_sum(txn_db(txn), dbi, key, klen, d.mv_data, n));
	return 0;
}

int db_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen, const void *v, size_t vlen)
{
	db_part p = { v, vlen };
	return db_put_parts(txn, dbi, key, klen, &p, 1, 0);
}

int db_del(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
