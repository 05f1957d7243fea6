/* The store's file before and while LMDB maps it: its header checked with
 * pread(2) before the map exists, and a read outside it ended with the
 * damage reported. Returns: an exit status, the failure reported. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "err.h"

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
int db_check_file(const char *dir, unsigned flags)
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
static volatile sig_atomic_t fault_armed, ending;
static uintptr_t fault_lo, fault_hi;
static MDB_env *fault_env;
static char fault_msg[600];
static size_t fault_len;
static struct sigaction old_bus, old_segv;

/* Ends the program on a damaged store with the environment closed: its
 * reader slot in lock.mdb is freed at once, and what mdb_env_open
 * allocated is given back rather than left to the exit (a writer's page
 * lists, held only by pointers into them, are otherwise a leak to a leak
 * checker). Closing reads nothing of the file: it unmaps it. A fault while
 * closing ends at once. */
static void end_damaged(MDB_env *env)
{
	if (!ending && env) {
		ending = 1;
		mdb_env_close(env);
	}
	_exit(LG_EXIT_IO);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	(void)uc;
	if (fault_armed && a >= fault_lo && a < fault_hi) {
		if (!ending) {
			ssize_t w = write(2, fault_msg, fault_len);
			(void)w;
		}
		/* Freeing in a signal handler is safe here: the fault is a read
		 * of the map, which the allocator never makes, so no heap lock
		 * is held. */
		end_damaged(fault_env);
	}
	sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL); /* the fault repeats there */
}

void db_fault_watch(const store_db *db)
{
	fault_armed = 0;
	fault_env = db->env;
	if (!db->map)
		return;
	fault_lo = (uintptr_t)db->map;
	/* A node's offset in its page reaches at most 64 KB beyond it. */
	fault_hi = (uintptr_t)db->map + db->map_len + 0x20000;
	fault_armed = 1;
}

void db_fault_setup(const char *dir)
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
void db_on_lmdb_assert(MDB_env *env, const char *msg)
{
	const char *dir = NULL;
	mdb_env_get_path(env, &dir);
	lg_err("db: %s/data.mdb: LMDB: %s (%s)", dir ? dir : "?", msg, DB_FILE_ADVICE);
	end_damaged(env);
}

void db_fault_off(void)
{
	fault_armed = 0;
	fault_env = NULL;
}
