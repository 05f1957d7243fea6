/* A walk over a sub-database that brings an older store up to date (db_int.h). */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "db_int.h"

/* One batch in one write transaction: the entries of the tree after *from
 * (empty: from the first) as pick chooses them, kept aside, then applied
 * once the cursor is gone (a put may move the pages it reads); *from then
 * names the last entry looked at, *done says the end was reached. */
static int backfill_batch(store_db *db, const db_backfill_spec *s, lg_buf *from, int *done)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { from->len, from->data }, v;
	lg_buf todo = { 0 }, last = { 0 };
	size_t n = 0;
	int (*get)(MDB_cursor *, MDB_val *, MDB_val *, MDB_cursor_op) = s->raw ? mdb_cursor_get : db_cursor_get;
	int rc = db_txn_begin(db, 0, &txn);
	if (rc)
		return rc;
	if (s->start)
		s->start(s->ctx);
	if ((rc = mdb_cursor_open(txn, s->dbi, &cur))) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = get(cur, &k, &v, from->len ? MDB_SET_RANGE : MDB_FIRST);
	if (!rc && from->len && k.mv_size == from->len && memcmp(k.mv_data, from->data, from->len) == 0)
		rc = get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && n < s->max_entries && todo.len < s->max_bytes; rc = get(cur, &k, &v, MDB_NEXT)) {
		int take = 0;
		last.len = 0;
		if (lg_buf_add(&last, k.mv_data, k.mv_size)) {
			rc = ENOMEM;
			break;
		}
		if ((rc = s->pick(s->ctx, txn, &k, &v, &take)))
			break;
		if (!take)
			continue;
		size_t lens[2] = { k.mv_size, v.mv_size };
		n++;
		if (lg_buf_add(&todo, lens, sizeof lens) || lg_buf_add(&todo, k.mv_data, k.mv_size) ||
		    lg_buf_add(&todo, v.mv_data, v.mv_size))
			rc = ENOMEM;
	}
	mdb_cursor_close(cur);
	*done = rc == MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t o = 0; !rc && o < todo.len;) {
		size_t lens[2];
		memcpy(lens, todo.data + o, sizeof lens);
		o += sizeof lens;
		MDB_val ik = { lens[0], todo.data + o }, iv = { lens[1], todo.data + o + lens[0] };
		rc = s->apply(s->ctx, txn, &ik, &iv);
		o += lens[0] + lens[1];
	}
	if (!rc && *done && s->finish)
		rc = s->finish(s->ctx, txn);
	if (rc)
		mdb_txn_abort(txn);
	else if ((rc = mdb_txn_commit(txn)) == 0 && last.len) {
		from->len = 0;
		rc = lg_buf_add(from, last.data, last.len) ? ENOMEM : 0;
	}
	lg_buf_free(&todo);
	lg_buf_free(&last);
	return rc;
}

int db_backfill(store_db *db, const db_backfill_spec *s)
{
	lg_buf from = { 0 };
	int rc = 0, done = 0;
	while (!rc && !done)
		if ((rc = backfill_batch(db, s, &from, &done)) == MDB_MAP_FULL)
			rc = db_grow(db);
	lg_buf_free(&from);
	return rc;
}
