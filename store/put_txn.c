/* put's write transaction and the room it may take in the map. Returns:
 * an exit status, the failure reported (put_int.h). */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "put_int.h"

/* The transaction commits when its dirty pages may reach PUT_DIRTY_MAX:
 * they are put's memory, which must stay small whatever the input. */
#ifndef PUT_DIRTY_MAX
#define PUT_DIRTY_MAX ((size_t)6 << 20)
#endif

/* ---- room in the map ----
 * A transaction that fills the map is lost whole (LMDB fails it), and its
 * lines are gone from a pipe. So before a line writes anything, the pages
 * it can take at worst are counted against the room the map had when the
 * transaction began; a line that might not fit first commits what came
 * before it, then the map grows (it is address space: the file grows only
 * with the pages written). */

/* Worst case of one put or delete: the path copied (depth pages), a split
 * at every level and a new root (depth + 1), the depth grown by one. */
static size_t op_pages(const put_txn *t)
{
	const MDB_dbi dbis[] = { 1 /* LMDB's main tree */, t->db->records, t->db->by_time,
				 t->db->violations, t->db->stale, t->db->runs, t->db->state,
				 t->db->summaries ? t->db->summaries : t->db->by_time };
	unsigned depth = 0;
	MDB_stat st;
	for (size_t i = 0; i < sizeof dbis / sizeof *dbis; i++)
		if (mdb_stat(t->txn, dbis[i], &st) == 0 && st.ms_depth > depth)
			depth = st.ms_depth;
	return 2 * ((size_t)depth + 1) + 2;
}

/* What the commit itself takes: the free list (8 bytes for each page the
 * transaction replaced, counted twice) and the sub-databases' roots. */
static size_t commit_pages(const put_txn *t, size_t pages)
{
	return pages / (t->psize / 16) + 128;
}

bool put_txn_claim(put_txn *t, size_t ops, size_t bytes)
{
	size_t pages = ops * op_pages(t) + bytes / t->psize + 2, total = t->pages + pages;
	if (total + commit_pages(t, total) > t->room) {
		t->need = pages;
		return false;
	}
	t->pages = total;
	t->ops += ops;
	/* A value too large for a leaf takes whole overflow pages. */
	t->bytes += bytes > t->psize / 2 ? (bytes + 16 + t->psize - 1) / t->psize * t->psize : bytes;
	return true;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The most memory the open transaction's dirty pages can hold: its values,
 * and a leaf page and a branch page for each put or delete, but no more
 * pages than the trees have (in a small store the same pages are touched
 * again and again; in a large one each op may dirty its own). */
static size_t dirty_bytes(const put_txn *t)
{
	const MDB_dbi dbis[] = { t->db->records, t->db->by_time, t->db->violations,
				 t->db->stale, t->db->runs, t->db->state, t->db->summaries };
	size_t leaf = 0, branch = 0;
	MDB_stat st;
	for (size_t i = 0; i < sizeof dbis / sizeof *dbis; i++) {
		if (dbis[i] && mdb_stat(t->txn, dbis[i], &st) == 0) {
			leaf += st.ms_leaf_pages;
			branch += st.ms_branch_pages;
		}
	}
	size_t pages = min_size(t->ops, leaf) + min_size(t->ops, branch) + 2 * (sizeof dbis / sizeof *dbis);
	return pages * t->psize + t->bytes;
}

bool put_txn_full(const put_txn *t)
{
	return t->txn && dirty_bytes(t) >= PUT_DIRTY_MAX;
}

/* Free pages between the committed end of the data and the end of the map. */
static size_t map_room(const put_txn *t)
{
	MDB_envinfo info;
	if (mdb_env_info(t->db->env, &info) != 0)
		return 0;
	size_t maxpg = info.me_mapsize / t->psize, used = info.me_last_pgno + 1;
	return maxpg > used + 1 ? maxpg - used - 1 : 0;
}

/* ---- the transaction ---- */

void put_txn_init(put_txn *t, store_db *db)
{
	MDB_stat st;
	memset(t, 0, sizeof *t);
	t->db = db;
	t->psize = mdb_env_stat(db->env, &st) == 0 ? st.ms_psize : 4096;
}

int put_txn_open(put_txn *t)
{
	int rc = db_txn_begin(t->db, 0, &t->txn);
	if (rc) {
		t->txn = NULL;
		return db_fail(t->db, "begin", rc);
	}
	t->room = map_room(t); /* we hold the writer lock: no one else commits */
	t->pages = t->ops = t->bytes = t->records = 0;
	memset(&t->pending, 0, sizeof t->pending);
	return 0;
}

int put_txn_commit(put_txn *t)
{
	if (!t->txn)
		return 0;
	db_trim_map(t->db); /* the commit reads the free list through the map */
	int rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	if (rc)
		return db_fail(t->db, rc == ENOMEM ? "out of memory" : "commit", rc);
	t->total.ingested += t->pending.ingested;
	t->total.updated += t->pending.updated;
	t->total.unchanged += t->pending.unchanged;
	t->total.stale += t->pending.stale;
	t->last_pages = t->pages;
	db_trim_map(t->db);
	db_trim_heap(t->db);
	return 0;
}

void put_txn_abort(put_txn *t)
{
	if (t->txn)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
}

int put_txn_make_room(put_txn *t)
{
	int rc = put_txn_commit(t);
	if (rc)
		return rc;
	size_t want = t->need + commit_pages(t, t->need) + t->last_pages;
	while (map_room(t) <= want)
		if ((rc = db_grow(t->db)) != 0)
			return db_fail(t->db, "grow map", rc);
	return 0;
}

/* Each page an operation faults in may be mapped with the whole large
 * folio around it (recent kernels do that for the page cache our commits
 * filled), so one record can add megabytes of the map: a transaction's
 * first records, which find none of the trees' paths mapped, and records
 * touching many leaves (violations) have the map checked after each
 * operation; the rest once a record (put.c). Passes rc on. */
int put_txn_op(put_txn *t, int rc)
{
	if (t->records < 2 || ++t->line_ops > 4)
		db_trim_map(t->db);
	return rc;
}
