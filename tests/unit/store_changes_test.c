/* The change feed: each write of a record gives it the next sequence in
 * the same transaction, the feed holds each record once at its last
 * change, an ack is a change, sequences are never given twice (an aborted
 * transaction's included), and a store from before the feed is put in it
 * in time order. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../store/admin.h"
#include "../../store/changes.h"
#include "../../store/db.h"
#include "../../store/put.h"
#include "t.h"

#define REC(id, ts, extra) \
	"{\"externalId\":\"" id "\",\"timestamp\":\"" ts "\",\"status\":\"success\"" extra "}\n"

static char dir[64];

static int put_text(store_db *db, const char *text)
{
	FILE *f = tmpfile();
	put_opts o = { 500, NULL, "<test>", NULL, 0 };
	put_counts n;
	fputs(text, f);
	rewind(f);
	int rc = put_run(db, f, &o, &n);
	fclose(f);
	return rc;
}

typedef struct {
	char ids[64];      /* the ids seen, one letter each */
	uint64_t seqs[16];
	size_t n;
} seen;

static int collect(void *ctx, uint64_t seq, const char *id, size_t idlen, const char *rec, size_t len)
{
	seen *s = ctx;
	(void)rec;
	(void)len;
	if (s->n < 16) {
		s->ids[s->n] = idlen ? id[0] : '?';
		s->seqs[s->n++] = seq;
	}
	return 0;
}

static seen walk(store_db *db, uint64_t since, size_t limit, uint64_t *last, int *more)
{
	seen s = { { 0 }, { 0 }, 0 };
	MDB_txn *txn;
	if (db_txn_begin(db, MDB_RDONLY, &txn) == 0) {
		if (changes_walk(db, txn, since, limit, collect, &s, last, more) != 0)
			s.n = 99;
		mdb_txn_abort(txn);
	}
	return s;
}

static void test_feed(store_db *db)
{
	uint64_t last;
	int more;
	T_INT(put_text(db, REC("a", "2026-11-01T00:00:00Z", "") REC("b", "2026-11-02T00:00:00Z", "")
			   REC("c", "2026-11-03T00:00:00Z", "")), 0, "put three");
	seen s = walk(db, 0, 0, &last, &more);
	T_STR(s.ids, "abc", "feed: three records in write order");
	T_INT(s.seqs[0] * 100 + s.seqs[1] * 10 + s.seqs[2], 123, "feed: sequences 1, 2, 3");
	T_INT(last, 3, "feed: last 3");
	T_INT(more, 0, "feed: no more");

	T_INT(put_text(db, REC("a", "2026-11-01T00:00:00Z", ",\"name\":\"changed\"")), 0, "put a changed");
	s = walk(db, 0, 0, &last, &more);
	T_STR(s.ids, "bca", "update: a once, at its last change");
	T_INT(s.seqs[2], 4, "update: a under sequence 4");
	s = walk(db, 3, 0, &last, &more);
	T_STR(s.ids, "a", "since 3: a alone");

	T_INT(put_text(db, REC("a", "2026-11-01T00:00:00Z", ",\"name\":\"changed\"")), 0, "put a unchanged");
	s = walk(db, 0, 0, &last, &more);
	T_INT(last, 4, "unchanged: no new sequence");

	s = walk(db, 0, 2, &last, &more);
	T_STR(s.ids, "bc", "limit 2: the first two");
	T_INT(last, 3, "limit 2: last is the second's");
	T_INT(more, 1, "limit 2: more");
	s = walk(db, 4, 0, &last, &more);
	T_INT(s.n, 0, "since the last: nothing");
	T_INT(last, 4, "since the last: last is since");
}

static void test_ack(store_db *db)
{
	uint64_t last;
	int more;
	T_INT(put_text(db, REC("v", "2026-11-04T00:00:00Z",
			       ",\"violations\":[{\"id\":\"v1\",\"policyId\":\"p\",\"severity\":\"high\",\"status\":\"new\"}]")),
	      0, "put a record with a violation");
	seen s = walk(db, 4, 0, &last, &more);
	T_STR(s.ids, "v", "violation record: in the feed");
	FILE *devnull = fopen("/dev/null", "w");
	T_INT(admin_set_violation(db, "v1", "acknowledged", NULL, devnull), 0, "ack");
	fclose(devnull);
	s = walk(db, 5, 0, &last, &more);
	T_STR(s.ids, "v", "ack: the record changed again");
	T_INT(last, 6, "ack: under sequence 6");
}

static void test_abort(store_db *db)
{
	MDB_txn *txn;
	uint64_t last;
	int more;
	/* A note in a transaction that aborts, then one in the next. */
	T_INT(db_txn_begin(db, 0, &txn), 0, "abort: begin");
	T_INT(changes_note(db, txn, "b", 1, 0), 0, "abort: note b");
	mdb_txn_abort(txn);
	T_INT(db_txn_begin(db, 0, &txn), 0, "abort: begin again");
	T_INT(changes_note(db, txn, "c", 1, 0), 0, "abort: note c");
	T_INT(mdb_txn_commit(txn), 0, "abort: commit");
	seen s = walk(db, 0, 0, &last, &more);
	T_STR(s.ids, "bavc", "abort: b where it was, c last");
	T_OK(s.seqs[3] > 6, "abort: c after every sequence given before");
	int increasing = 1;
	for (size_t i = 1; i < s.n; i++)
		increasing &= s.seqs[i] > s.seqs[i - 1];
	T_OK(increasing, "abort: sequences increase");
}

static void test_position(store_db *db)
{
	MDB_txn *txn;
	uint64_t at = 1;
	T_INT(db_txn_begin(db, MDB_RDONLY, &txn), 0, "position: begin");
	T_INT(changes_position(db, txn, "http://127.0.0.1:1/lg", &at), 0, "position: none yet");
	mdb_txn_abort(txn);
	T_INT(at, 0, "position: 0 when none");
	T_INT(changes_set_position(db, "http://127.0.0.1:1/lg", 12345678901ULL), 0, "position: set");
	db_txn_begin(db, MDB_RDONLY, &txn);
	changes_position(db, txn, "http://127.0.0.1:1/lg", &at);
	mdb_txn_abort(txn);
	T_INT(at, 12345678901LL, "position: read back");
}

/* A store from before the feed: the feed's databases and mark gone. */
static void test_migrate(void)
{
	store_db db;
	MDB_txn *txn;
	uint64_t last;
	int more;
	T_INT(db_open(&db, dir, 0, DB_WRITE), 0, "migrate: open");
	db_txn_begin(&db, 0, &txn);
	mdb_drop(txn, db.changes, 1);
	mdb_drop(txn, db.change_ids, 1);
	MDB_val k = { 4, (void *)(uintptr_t)"feed" };
	mdb_del(txn, db.state, &k, NULL);
	T_INT(mdb_txn_commit(txn), 0, "migrate: feed removed");
	db_close(&db);

	T_INT(db_open(&db, dir, 0, 0), 0, "migrate: reopen");
	T_INT(db.changes, 0, "migrate: no feed in a store from before");
	seen s = walk(&db, 0, 0, &last, &more);
	T_INT(s.n, 0, "migrate: nothing listed before");
	T_INT(changes_open_feed(&db), 0, "migrate: open the feed");
	s = walk(&db, 0, 0, &last, &more);
	T_STR(s.ids, "abcv", "migrate: every record, in time order");
	T_INT(last, 4, "migrate: sequences from 1");
	T_INT(db.feed, 1, "migrate: marked");
	FILE *devnull = fopen("/dev/null", "w");
	T_INT(admin_check(&db, devnull), 0, "migrate: check passes");
	fclose(devnull);
	db_close(&db);
	T_INT(db_open(&db, dir, 0, 0), 0, "migrate: reopen after");
	T_INT(db.feed, 1, "migrate: mark kept");
	db_close(&db);
}

int main(void)
{
	store_db db;
	snprintf(dir, sizeof dir, "/tmp/lg-changes-test.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	setenv("LG_NOW", "2026-11-10T00:00:00Z", 1);
	T_INT(db_open(&db, dir, 0, DB_WRITE | DB_CREATE), 0, "open a new store");
	T_INT(changes_open_feed(&db), 0, "a new store has its feed");
	test_feed(&db);
	test_ack(&db);
	test_abort(&db);
	test_position(&db);
	FILE *devnull = fopen("/dev/null", "w");
	T_INT(admin_check(&db, devnull), 0, "check passes");
	fclose(devnull);
	db_close(&db);
	test_migrate();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return t_done();
}
