#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "err.h"
#include "hash.h"
#include "pending.h"
#include "json.h"
#include "line.h"
#include "merge.h"
#include "private.h"
#include "put.h"
#include "scan.h"
#include "stream.h"
#include "timeutil.h"

/* Each line is applied to the open write transaction as soon as it is read,
 * as mdb_load does: its bytes are then held once, in LMDB's dirty pages.
 * The transaction commits at every checkpoint and run-end, at EOF, every
 * --batch records or when its dirty pages may reach PUT_DIRTY_MAX (they are
 * put's memory, which must stay small whatever the input), and
 * whenever the input has been silent for PUT_IDLE_MS: the writer lock is
 * never held while the input is idle, and a checkpoint is committed as
 * soon as it arrives. */
#ifndef PUT_DIRTY_MAX
#define PUT_DIRTY_MAX ((size_t)6 << 20)
#endif

/* How long the input may stay silent before the open transaction is
 * committed: "idle" above. */
#ifndef PUT_IDLE_MS
#define PUT_IDLE_MS 50
#endif

/* An applier's answer when the map might not hold the line: nothing of the
 * line was written. (LMDB's codes are below -30000, errno's positive.) */
#define PUT_NEED_ROOM (-1)
/* next_line's answer after a commit failed while waiting for input. */
#define PUT_LINE_STOP (-100)

enum outcome { O_NONE, O_NEW, O_UPDATED, O_UNCHANGED, O_CONFLICT };

/* The line being applied; text is the reader's, valid until the next read. */
typedef struct {
	const char *text;
	size_t len;
	unsigned long lineno;
	cJSON *tree;           /* parsed: controls, records off the fast path */
	int control;           /* a "$lg" line, or (tree NULL) the end of input */
	int plain;             /* scan_plain_record said yes: no tree needed if new */
	scan_record sr;
	enum outcome outcome;
	int stale;
} put_item;

typedef struct {
	char *run;             /* the open run, from run-start */
	unsigned long run_ingested;
} run_state;

typedef struct {
	store_db *db;
	const put_opts *o;
	FILE *quarantine;
	MDB_txn *txn;          /* the open write transaction, or NULL */
	size_t records;        /* records applied in it */
	size_t ops, bytes;     /* its puts and deletes, and the bytes of values they wrote */
	size_t pages;          /* the most pages it can have taken from the map */
	size_t room;           /* free pages at the map's end when it began */
	size_t need;           /* pages wanted by the line that found no room */
	size_t last_pages;     /* pages of the last committed transaction */
	size_t psize;
	unsigned line_ops;     /* operations of the line being applied */
	run_state run;
	control_run trust;     /* what the open run's control lines may do */
	unsigned long ignored; /* control lines skipped (--no-control) */
	put_counts total, pending; /* pending: the open transaction's */
	lg_buf buf;
	unsigned long bad;
	int fd;                /* the input's descriptor, -1 if none */
	int nonblock;          /* reads fail with EAGAIN instead of waiting */
	int restore_flags;     /* the flags to put back on fd, -1 if untouched */
	int poll_first;        /* poll(2) before a read (a terminal) */
	int skip_tail;         /* the reader was skipping an over-long line when its read would wait */
	int status;            /* exit status of a storage failure */
	int hash_in_scan;      /* the last plain record was evaluated and new: hash the next one as it is scanned */
} put_ctx;

/* ---- room in the map ----
 * A transaction that fills the map is lost whole (LMDB fails it), and its
 * lines are gone from a pipe. So before a line writes anything, the pages
 * it can take at worst are counted against the room the map had when the
 * transaction began; a line that might not fit first commits what came
 * before it, then the map grows (it is address space: the file grows only
 * with the pages written). */

/* Worst case of one put or delete: the path copied (depth pages), a split
 * at every level and a new root (depth + 1), the depth grown by one. */
static size_t op_pages(const put_ctx *c)
{
	const MDB_dbi dbis[] = { 1 /* LMDB's main tree */, c->db->records, c->db->by_time,
				 c->db->violations, c->db->stale, c->db->runs, c->db->state };
	unsigned depth = 0;
	MDB_stat st;
	for (size_t i = 0; i < sizeof dbis / sizeof *dbis; i++)
		if (mdb_stat(c->txn, dbis[i], &st) == 0 && st.ms_depth > depth)
			depth = st.ms_depth;
	return 2 * ((size_t)depth + 1) + 2;
}

/* What the commit itself takes: the free list (8 bytes for each page the
 * transaction replaced, counted twice) and the sub-databases' roots. */
static size_t commit_pages(const put_ctx *c, size_t pages)
{
	return pages / (c->psize / 16) + 128;
}

/* Claims room for a line of ops puts and deletes writing bytes of values.
 * PUT_NEED_ROOM, nothing claimed, when the transaction might then fill the
 * map. */
static int reserve(put_ctx *c, size_t ops, size_t bytes)
{
	size_t pages = ops * op_pages(c) + bytes / c->psize + 2, total = c->pages + pages;
	if (total + commit_pages(c, total) > c->room) {
		c->need = pages;
		return PUT_NEED_ROOM;
	}
	c->pages = total;
	c->ops += ops;
	/* A value too large for a leaf takes whole overflow pages. */
	c->bytes += bytes > c->psize / 2 ? (bytes + 16 + c->psize - 1) / c->psize * c->psize : bytes;
	return 0;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The most memory the open transaction's dirty pages can hold: its values,
 * and a leaf page and a branch page for each put or delete, but no more
 * pages than the trees have (in a small store the same pages are touched
 * again and again; in a large one each op may dirty its own). */
static size_t dirty_bytes(const put_ctx *c)
{
	const MDB_dbi dbis[] = { c->db->records, c->db->by_time, c->db->violations,
				 c->db->stale, c->db->runs, c->db->state };
	size_t leaf = 0, branch = 0;
	MDB_stat st;
	for (size_t i = 0; i < sizeof dbis / sizeof *dbis; i++) {
		if (mdb_stat(c->txn, dbis[i], &st) == 0) {
			leaf += st.ms_leaf_pages;
			branch += st.ms_branch_pages;
		}
	}
	size_t pages = min_size(c->ops, leaf) + min_size(c->ops, branch) + 2 * (sizeof dbis / sizeof *dbis);
	return pages * c->psize + c->bytes;
}

/* Free pages between the committed end of the data and the end of the map. */
static size_t map_room(const put_ctx *c)
{
	MDB_envinfo info;
	if (mdb_env_info(c->db->env, &info) != 0)
		return 0;
	size_t maxpg = info.me_mapsize / c->psize, used = info.me_last_pgno + 1;
	return maxpg > used + 1 ? maxpg - used - 1 : 0;
}

static int txn_open(put_ctx *c)
{
	int rc = db_txn_begin(c->db, 0, &c->txn);
	if (rc) {
		c->txn = NULL;
		return db_fail(c->db, "begin", rc);
	}
	c->room = map_room(c); /* we hold the writer lock: no one else commits */
	c->pages = c->ops = c->bytes = c->records = 0;
	memset(&c->pending, 0, sizeof c->pending);
	return 0;
}

/* Commits the open transaction; its counts join the totals. */
static int txn_commit(put_ctx *c)
{
	if (!c->txn)
		return 0;
	db_trim_map(c->db); /* the commit reads the free list through the map */
	int rc = mdb_txn_commit(c->txn);
	c->txn = NULL;
	if (rc)
		return db_fail(c->db, rc == ENOMEM ? "out of memory" : "commit", rc);
	c->total.ingested += c->pending.ingested;
	c->total.updated += c->pending.updated;
	c->total.unchanged += c->pending.unchanged;
	c->total.stale += c->pending.stale;
	c->last_pages = c->pages;
	db_trim_map(c->db);
	db_trim_heap(c->db);
	return 0;
}

static void txn_abort(put_ctx *c)
{
	if (c->txn)
		mdb_txn_abort(c->txn);
	c->txn = NULL;
}

/* A line found no room: commit what came before it, then grow the map
 * until the line, its commit and a transaction like the last one fit. */
static int make_room(put_ctx *c)
{
	int rc = txn_commit(c);
	if (rc)
		return rc;
	size_t want = c->need + commit_pages(c, c->need) + c->last_pages;
	while (map_room(c) <= want)
		if ((rc = db_grow(c->db)) != 0)
			return db_fail(c->db, "grow map", rc);
	return 0;
}

/* ---- records ---- */

/* Called with the result of each read, put or delete of a record. Each
 * page it faults in may be mapped with the whole large folio around it
 * (recent kernels do that for the page cache our commits filled), so one
 * record can add megabytes of the map: a transaction's first records,
 * which find none of the trees' paths mapped, and records touching many
 * leaves (violations) have the map checked after each operation; the rest
 * once a record (take_line). */
static int op_done(put_ctx *c, int rc)
{
	if (c->records < 2 || ++c->line_ops > 4)
		db_trim_map(c->db);
	return rc;
}

/* Adds or removes rec's time key (timestamp + id) in by_time or stale. */
static int time_key(put_ctx *c, MDB_dbi dbi, const cJSON *rec, const char *id, int del)
{
	unsigned char key[1024];
	size_t n = db_time_key(key, db_record_time(rec), id, strlen(id));
	if (del)
		return op_done(c, db_del(c->txn, dbi, (const char *)key, n));
	return op_done(c, db_put(c->txn, dbi, (const char *)key, n, "", 0));
}

static int has_violation(const cJSON *rec, const char *vid)
{
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *id = lg_json_str(v, "id");
		if (id && strcmp(id, vid) == 0)
			return 1;
	}
	return 0;
}

static size_t count_violations(const cJSON *rec)
{
	const cJSON *vs = lg_json_get(rec, "violations");
	return cJSON_IsArray(vs) ? (size_t)cJSON_GetArraySize(vs) : 0;
}

/* Brings every index in line with rec (old: what was stored, or NULL):
 * at most 5 + PENDING_INDEX_OPS + old's and rec's violations puts and deletes. */
static int index_record(put_ctx *c, const cJSON *old, const cJSON *rec, const char *id, int stale)
{
	int rc = 0;
	MDB_txn *txn = c->txn;
	size_t idlen = strlen(id);
	if (old && db_record_time(old) != db_record_time(rec) &&
	    ((rc = time_key(c, c->db->by_time, old, id, 1)) || (rc = time_key(c, c->db->stale, old, id, 1))))
		return rc;
	if ((rc = time_key(c, c->db->by_time, rec, id, 0)))
		return rc;
	const cJSON *vs = lg_json_get(old, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && !has_violation(rec, vid) && (rc = op_done(c, db_del(txn, c->db->violations, vid, strlen(vid)))))
			return rc;
	}
	vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (rc = op_done(c, db_put(txn, c->db->violations, vid, strlen(vid), id, idlen))))
			return rc;
	}
	if ((rc = time_key(c, c->db->stale, rec, id, !stale)))
		return rc;
	return op_done(c, pending_index_record(txn, c->db, rec, id, lg_time_now()));
}

/* Prints rec into c->buf, claims room for it and its index, stores it. */
static int write_record(put_ctx *c, const cJSON *old, const cJSON *rec, const char *id, int stale)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, rec))
		return ENOMEM;
	int rc = reserve(c, 6 + PENDING_INDEX_OPS + count_violations(old) + count_violations(rec), c->buf.len + 1024);
	if (!rc)
		rc = op_done(c, db_put(c->txn, c->db->records, id, strlen(id), c->buf.data, c->buf.len));
	return rc ? rc : index_record(c, old, rec, id, stale);
}

/* A new record that needed no change is stored as it was sent, written
 * straight into its place in the page (db_put_parts: no copy of the line),
 * with the stale flag before its closing brace. flags: MDB_NOOVERWRITE
 * to get MDB_KEYEXIST, nothing written, when the record is not new. */
static int write_text(put_ctx *c, const char *id, size_t idlen, const put_item *it, unsigned flags)
{
	static const char flag[] = ",\"stale\":true";
	size_t n = it->len, extra = it->stale ? sizeof flag - 1 : 0;
	while (n && it->text[n - 1] != '}')
		n--;
	if (!n)
		return EINVAL; /* not an object: the scan or the parser let it in */
	db_part parts[] = { { it->text, n - 1 }, { flag, extra }, { "}", 1 } };
	return op_done(c, db_put_parts(c->txn, c->db->records, id, idlen, parts, 3, flags));
}

typedef struct {
	put_ctx *c;
	const char *id;
	size_t idlen, n;
	int rc;
} vid_put;

static void count_violation(void *ctx, const char *vid, size_t n)
{
	(void)vid;
	(void)n;
	((vid_put *)ctx)->n++;
}

static void index_violation(void *ctx, const char *vid, size_t n)
{
	vid_put *vp = ctx;
	if (!vp->rc)
		vp->rc = op_done(vp->c, db_put(vp->c->txn, vp->c->db->violations, vid, n, vp->id, vp->idlen));
}

/* Stale unless the record's content hash is the one lg-policy stamped
 * (merge_mark_stale's rule), hashed from the text: no tree. -1 if the
 * text cannot be hashed (never, for a line the scan accepted). */
static int plain_stale(const put_item *it)
{
	char hex[17];
	uint64_t h;
	if (!it->sr.hash_len) /* never evaluated: stale without hashing */
		return 1;
	if (it->sr.hashed)
		h = it->sr.hash;
	else if (lg_record_text_hash(it->text, it->len, &h) != 0)
		return -1;
	lg_hash_hex(h, hex);
	return !(it->sr.hash_len == 16 && memcmp(it->text + it->sr.hash_off, hex, 16) == 0);
}

/* A plain record (see scan.h) that is new: stored as sent, indexed from the
 * offsets the scan found. Returns MDB_KEYEXIST when it is not new (or
 * needs the tree after all). */
static int apply_plain_new(put_ctx *c, put_item *it)
{
	const char *text = it->text;
	char id[1024], ts[64];
	unsigned char key[1024 + STORE_TIME_KEY];
	int64_t ms;
	MDB_val v;
	memcpy(id, text + it->sr.id_off, it->sr.id_len);
	id[it->sr.id_len] = '\0';
	/* A record lg-policy stamped whose hash the scan did not compute is
	 * looked up first: its hash is worth computing only when it is new.
	 * For the others (never evaluated: stale without hashing; or hashed
	 * by the scan) the put itself (MDB_NOOVERWRITE) says whether it is.
	 * The scan hashes the next record while evaluated records come new:
	 * a re-put (found, merged from the tree) would waste the hash. */
	int rc = 0, evaluated = it->sr.hash_len != 0, look_first = evaluated && !it->sr.hashed;
	if (look_first && (rc = op_done(c, db_get(c->txn, c->db->records, id, it->sr.id_len, &v))) != MDB_NOTFOUND) {
		c->hash_in_scan = 0;
		return rc ? rc : MDB_KEYEXIST;
	}
	int stale = plain_stale(it);
	if (stale < 0)
		return MDB_KEYEXIST;
	vid_put vp = { c, id, it->sr.id_len, 0, 0 };
	scan_violation_ids(text, &it->sr, count_violation, &vp);
	if ((rc = reserve(c, 3 + vp.n, it->len + 16)))
		return rc;
	memcpy(ts, text + it->sr.ts_off, it->sr.ts_len);
	ts[it->sr.ts_len] = '\0';
	if (!it->sr.ts_len || lg_time_parse(ts, &ms) != 0)
		ms = INT64_MIN;
	it->stale = stale;
	if ((rc = write_text(c, id, it->sr.id_len, it, look_first ? 0 : MDB_NOOVERWRITE))) {
		if (rc == MDB_KEYEXIST)
			c->hash_in_scan = 0;
		return rc;
	}
	it->outcome = O_NEW;
	c->hash_in_scan = evaluated;
	size_t kn = db_time_key(key, ms, id, it->sr.id_len);
	if ((rc = op_done(c, db_put(c->txn, c->db->by_time, (const char *)key, kn, "", 0))))
		return rc;
	scan_violation_ids(text, &it->sr, index_violation, &vp);
	if (vp.rc)
		return vp.rc;
	return stale ? op_done(c, db_put(c->txn, c->db->stale, (const char *)key, kn, "", 0)) : 0;
}

static void conflict(put_ctx *c, const put_item *it, const cJSON *stored, const char *id)
{
	const char *a = lg_json_str(lg_json_get(stored, "source"), "integration");
	const char *b = lg_json_str(lg_json_get(it->tree, "source"), "integration");
	lg_buf m = { 0 };
	lg_buf_printf(&m, "externalId %s belongs to integration %s, not %s", id, a, b);
	c->total.failed++;
	lg_err("%s:%lu: %s", c->o->in_name, it->lineno, m.data ? m.data : "conflict");
	lg_quarantine(c->quarantine, c->o->in_name, it->lineno, m.data ? m.data : "conflict", it->text, it->len);
	lg_buf_free(&m);
}

/* A new record off the fast path: stored as sent when nothing in it had to
 * change, else printed from the tree. */
static int apply_new(put_ctx *c, put_item *it, const char *id)
{
	cJSON *in = it->tree;
	/* Room first: the checks below change the tree. */
	int rc = reserve(c, 3 + PENDING_INDEX_OPS + count_violations(in), it->len + 1040 + 24 * count_violations(in));
	if (rc)
		return rc;
	cJSON *flag = lg_json_take(in, "stale");
	int as_sent = !flag && merge_normalize_violations(in) == 0;
	cJSON_Delete(flag);
	it->stale = merge_mark_stale(in);
	it->outcome = O_NEW;
	if (as_sent) {
		rc = write_text(c, id, strlen(id), it, 0);
	} else {
		c->buf.len = 0;
		rc = lg_json_print(&c->buf, in) ? ENOMEM
						: op_done(c, db_put(c->txn, c->db->records, id, strlen(id), c->buf.data, c->buf.len));
	}
	return rc ? rc : index_record(c, NULL, in, id, it->stale);
}

static int apply_record(put_ctx *c, put_item *it)
{
	int rc;
	lg_json_error jerr;
	if (it->plain && !it->tree) {
		if ((rc = apply_plain_new(c, it)) != MDB_KEYEXIST)
			return rc;
		it->outcome = O_NONE;
	}
	if (!it->tree && !(it->tree = lg_json_parse(it->text, it->len, &jerr)))
		return ENOMEM; /* the scan accepted it: the parser does too */
	cJSON *in = it->tree;
	const char *id = lg_json_str(in, "externalId");
	MDB_val v;
	rc = db_get(c->txn, c->db->records, id, strlen(id), &v);
	if (rc == MDB_NOTFOUND)
		return apply_new(c, it, id);
	if (rc)
		return rc;
	cJSON *stored = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	if (!stored)
		return MDB_CORRUPTED;
	if (merge_conflict(stored, in)) {
		conflict(c, it, stored, id);
		it->outcome = O_CONFLICT;
		cJSON_Delete(stored);
		return 0;
	}
	cJSON *merged = cJSON_Duplicate(stored, 1);
	if (!merged || merge_record(merged, in, lg_time_now()) != 0) {
		cJSON_Delete(merged);
		cJSON_Delete(stored);
		return ENOMEM;
	}
	it->stale = merge_mark_stale(merged);
	if (lg_json_equal(merged, stored)) {
		it->outcome = O_UNCHANGED;
	} else {
		it->outcome = O_UPDATED;
		rc = write_record(c, stored, merged, id, it->stale);
	}
	cJSON_Delete(merged);
	cJSON_Delete(stored);
	return rc;
}

/* ---- runs and checkpoints ---- */

static int put_json(put_ctx *c, MDB_dbi dbi, const char *key, const cJSON *val)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, val))
		return ENOMEM;
	return db_put(c->txn, dbi, key, strlen(key), c->buf.data, c->buf.len);
}

static cJSON *load_run(put_ctx *c, const char *id)
{
	MDB_val v;
	lg_json_error jerr;
	cJSON *run = NULL;
	if (db_get(c->txn, c->db->runs, id, strlen(id), &v) == 0)
		run = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	if (!cJSON_IsObject(run)) {
		cJSON_Delete(run);
		run = cJSON_CreateObject();
		lg_json_set(run, "id", cJSON_CreateString(id));
		lg_json_set(run, "startedAt", cJSON_CreateNull());
	}
	return run;
}

static void set_opt_str(cJSON *obj, const char *key, const char *s)
{
	lg_json_set(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

/* Saves the run and points lastrun/<integration> and lastrun/ at it. */
static int save_run(put_ctx *c, cJSON *run)
{
	char key[512];
	const char *id = lg_json_str(run, "id");
	const char *integ = lg_json_str(run, "integration");
	int rc = put_json(c, c->db->runs, id, run);
	snprintf(key, sizeof key, "lastrun/%s", integ ? integ : "");
	if (!rc)
		rc = db_put(c->txn, c->db->state, key, strlen(key), id, strlen(id));
	if (!rc && integ)
		rc = db_put(c->txn, c->db->state, "lastrun/", 8, id, strlen(id));
	return rc;
}

/* Ends the open run: status, error, counts, completedAt. */
static int close_run(put_ctx *c, const char *id, const char *status, const char *error, const cJSON *end)
{
	char now[32];
	cJSON *run = load_run(c, id);
	double traces;
	set_opt_str(run, "status", status);
	set_opt_str(run, "error", error);
	if (end && lg_json_get_num(end, "traces", &traces))
		lg_json_set(run, "itemsFetched", cJSON_Duplicate(lg_json_get(end, "traces"), 1));
	else if (!lg_json_get(run, "itemsFetched"))
		lg_json_set(run, "itemsFetched", lg_json_int(0));
	if (c->run.run && strcmp(c->run.run, id) == 0)
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->run.run_ingested));
	const char *at = end ? lg_json_str(end, "completedAt") : NULL;
	set_opt_str(run, "completedAt", at ? at : lg_time_format(lg_time_now(), now));
	if (end && lg_json_get(end, "exitCode"))
		lg_json_set(run, "exitCode", cJSON_Duplicate(lg_json_get(end, "exitCode"), 1));
	int rc = save_run(c, run);
	cJSON_Delete(run);
	if (c->run.run && strcmp(c->run.run, id) == 0) {
		free(c->run.run);
		c->run.run = NULL;
		c->run.run_ingested = 0;
		control_close(&c->trust);
	}
	return rc;
}

static int apply_run_start(put_ctx *c, const cJSON *ctl)
{
	int rc;
	if (c->run.run && (rc = close_run(c, c->run.run, "failed", "no run-end before the next run-start", NULL)))
		return rc;
	const char *id = lg_json_str(ctl, "run");
	cJSON *run = cJSON_CreateObject();
	static const char *const copied[] = { "integration", "mode", "api", "from", "to", "startedAt" };
	lg_json_set(run, "id", cJSON_CreateString(id));
	for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
		const cJSON *v = lg_json_get(ctl, copied[i]);
		lg_json_set(run, copied[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	set_opt_str(run, "status", "running");
	lg_json_set(run, "itemsFetched", lg_json_int(0));
	lg_json_set(run, "itemsIngested", lg_json_int(0));
	set_opt_str(run, "completedAt", NULL);
	set_opt_str(run, "error", NULL);
	rc = save_run(c, run);
	cJSON_Delete(run);
	c->run.run = strdup(id);
	c->run.run_ingested = 0;
	return rc ? rc : control_open(&c->trust, ctl) ? ENOMEM : 0;
}

/* The cursor only moves forward: a backfill of old windows never makes an
 * incremental sync read again what it already has. */
static int apply_checkpoint(put_ctx *c, const cJSON *ctl)
{
	char key[512];
	const char *integ = lg_json_str(ctl, "integration"), *cur = lg_json_str(ctl, "cursor");
	int64_t have, want;
	MDB_val v;
	snprintf(key, sizeof key, "cursor/%s", integ);
	lg_time_parse(cur, &want);
	int rc = db_get(c->txn, c->db->state, key, strlen(key), &v);
	if (rc == 0) {
		char old[64];
		size_t n = v.mv_size < sizeof old - 1 ? v.mv_size : sizeof old - 1;
		memcpy(old, v.mv_data, n);
		old[n] = '\0';
		if (lg_time_parse(old, &have) == 0 && have >= want)
			return 0;
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	if ((rc = db_put(c->txn, c->db->state, key, strlen(key), cur, strlen(cur))))
		return rc;
	const char *run_id = lg_json_str(ctl, "run");
	if (run_id && c->run.run && strcmp(run_id, c->run.run) == 0) {
		cJSON *run = load_run(c, run_id);
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->run.run_ingested));
		lg_json_set(run, "cursor", cJSON_CreateString(cur));
		rc = put_json(c, c->db->runs, run_id, run);
		cJSON_Delete(run);
	}
	return rc;
}

/* A run-end for a run that is not open may close a stored run only of its
 * own integration: it must not rewrite another integration's run. A
 * refused one counts as a bad line. */
static int foreign_end(put_ctx *c, const cJSON *ctl)
{
	const char *id = lg_json_str(ctl, "run"), *integ = lg_json_str(ctl, "integration");
	lg_json_error jerr;
	MDB_val v;
	if ((c->run.run && strcmp(c->run.run, id) == 0) || db_get(c->txn, c->db->runs, id, strlen(id), &v) != 0)
		return 0;
	cJSON *run = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	const char *ri = lg_json_str(run, "integration");
	int foreign = ri && (!integ || strcmp(ri, integ) != 0);
	if (foreign) {
		c->bad++;
		lg_err("%s: run-end for run %s of integration %s refused: it names %s", c->o->in_name, id, ri,
		       integ ? integ : "none");
	}
	cJSON_Delete(run);
	return foreign;
}

/* A control line, or (ctl NULL) the end of the input: a run still open
 * ended early. At most 8 puts of small values. */
static int apply_control(put_ctx *c, const cJSON *ctl)
{
	int rc = reserve(c, 8, 8192);
	if (rc)
		return rc;
	if (!ctl)
		return c->run.run ? close_run(c, c->run.run, "failed", "stream ended early", NULL) : 0;
	const char *t = lg_control_type(ctl);
	if (strcmp(t, "run-start") == 0)
		return apply_run_start(c, ctl);
	if (strcmp(t, "checkpoint") == 0)
		return apply_checkpoint(c, ctl);
	if (strcmp(t, "run-end") == 0) {
		const char *st = lg_json_str(ctl, "status");
		if (foreign_end(c, ctl))
			return 0;
		return close_run(c, lg_json_str(ctl, "run"), st ? st : "completed", lg_json_str(ctl, "error"), ctl);
	}
	return 0; /* other control lines are for other stages */
}

/* Applies one line to the open transaction (begun if none), in a grown
 * map when it might not fit. Returns 0 or the exit status of a storage
 * failure (the transaction is then gone). */
static int apply_line(put_ctx *c, put_item *it)
{
	for (;;) {
		if (!c->txn && txn_open(c))
			return LG_EXIT_IO;
		int rc = it->control ? apply_control(c, it->tree) : apply_record(c, it);
		if (rc == 0)
			return 0;
		if (rc != PUT_NEED_ROOM) {
			txn_abort(c);
			return db_fail(c->db, rc == ENOMEM ? "out of memory" : "put", rc);
		}
		if (!it->control) { /* the merge may have moved parts of the tree */
			cJSON_Delete(it->tree);
			it->tree = NULL;
			it->outcome = O_NONE;
			it->stale = 0;
		}
		if ((rc = make_room(c)))
			return rc;
	}
}

static void counted(put_ctx *c, const put_item *it)
{
	switch (it->outcome) {
	case O_NEW: c->pending.ingested++; break;
	case O_UPDATED: c->pending.updated++; break;
	case O_UNCHANGED: c->pending.unchanged++; break;
	case O_CONFLICT: case O_NONE: return;
	}
	if (it->stale)
		c->pending.stale++;
	if (c->run.run && it->outcome != O_UNCHANGED)
		c->run.run_ingested++;
}

/* ---- input ---- */

static void bad(put_ctx *c, unsigned long lineno, const char *why, const char *line, size_t len)
{
	c->bad++;
	lg_err("%s:%lu: %s", c->o->in_name, lineno, why);
	lg_quarantine(c->quarantine, c->o->in_name, lineno, why, line, len);
}

/* What put needs from a line before it may enter a transaction. */
static const char *check_line(const put_ctx *c, const cJSON *obj, char *why, size_t n)
{
	if (lg_control_type(obj))
		return control_refused(&c->trust, obj, c->o->integration, lg_time_now(), why, n);
	const char *id = lg_json_str(obj, "externalId");
	if (!id || !*id)
		return "record without a string \"externalId\"";
	if (strlen(id) > db_max_id(c->db)) {
		snprintf(why, n, "externalId longer than %zu bytes", db_max_id(c->db));
		return why;
	}
	const cJSON *vs = lg_json_get(obj, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (!*vid || strlen(vid) > c->db->maxkey)) {
			snprintf(why, n, "violation id empty or longer than %zu bytes", c->db->maxkey);
			return why;
		}
	}
	return NULL;
}

/* Checks and applies one line; commits when it ends a batch or is a
 * checkpoint or run-end. Returns 0 or a storage failure's exit status. */
static int take_line(put_ctx *c, const char *line, size_t len, unsigned long lineno)
{
	lg_json_error jerr;
	char why[256];
	put_item it = { .text = line, .len = len, .lineno = lineno };
	int commit_now = 0;
	c->line_ops = 0;
	if (scan_plain_record(line, len, db_max_id(c->db), c->db->maxkey, c->hash_in_scan, &it.sr)) {
		it.plain = 1;
		if (!it.sr.hash_len) /* apply_plain_new judges the others */
			c->hash_in_scan = 0;
	} else {
		if (!(it.tree = lg_json_parse(line, len, &jerr))) {
			snprintf(why, sizeof why, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
			bad(c, lineno, why, line, len);
			return 0;
		}
		if (c->o->no_control && lg_control_type(it.tree)) {
			c->ignored++;
			cJSON_Delete(it.tree);
			return 0;
		}
		const char *problem = cJSON_IsObject(it.tree) ? check_line(c, it.tree, why, sizeof why)
							       : "not a JSON object";
		if (problem) {
			bad(c, lineno, problem, line, len);
			cJSON_Delete(it.tree);
			return 0;
		}
		const char *t = lg_control_type(it.tree);
		it.control = t != NULL;
		commit_now = t && (strcmp(t, "checkpoint") == 0 || strcmp(t, "run-end") == 0);
	}
	int rc = apply_line(c, &it);
	cJSON_Delete(it.tree);
	if (rc)
		return rc;
	if (!it.control) {
		counted(c, &it);
		c->records++;
		db_trim_map(c->db);
	}
	if (commit_now || c->records >= c->o->batch || (c->txn && dirty_bytes(c) >= PUT_DIRTY_MAX))
		return txn_commit(c);
	return 0;
}

/* A pipe or socket is read without waiting (O_NONBLOCK): a read that
 * would wait fails with EAGAIN, even in the middle of a line, and put
 * commits before it waits in poll(2). A terminal is polled before each
 * read instead (its file description is the shell's too). Files never
 * wait. */
static void input_open(put_ctx *c, FILE *in)
{
	struct stat st;
	c->fd = fileno(in);
	c->restore_flags = -1;
	if (c->fd < 0 || fstat(c->fd, &st) != 0)
		return;
	int fl = fcntl(c->fd, F_GETFL);
	if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && fl >= 0) {
		if ((fl & O_NONBLOCK) || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			c->nonblock = 1;
			c->restore_flags = fl & O_NONBLOCK ? -1 : fl;
			return;
		}
	}
	c->poll_first = S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

static void input_close(put_ctx *c)
{
	if (c->restore_flags >= 0)
		fcntl(c->fd, F_SETFL, c->restore_flags);
}

static int input_ready(int fd, int timeout)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n;
	while ((n = poll(&p, 1, timeout)) < 0 && errno == EINTR)
		;
	return n != 0;
}

/* The reader holds a whole line already (or the end of the input). */
static int line_buffered(const lg_reader *r)
{
	return r->eof || (r->end > r->scan && memchr(r->buf + r->scan, '\n', r->end - r->scan));
}

/* lg_reader_next, committing the open transaction before any read that
 * would wait. Returns an LG_LINE_* code, or PUT_LINE_STOP when that commit
 * failed (c->status says how). */
static int next_line(put_ctx *c, lg_reader *r, char **line, size_t *len)
{
	static char unset;
	for (;;) {
		unsigned long before = r->lineno;
		if (c->poll_first && c->txn && !line_buffered(r) && !input_ready(c->fd, 0) &&
		    (c->status = txn_commit(c)))
			return PUT_LINE_STOP;
		*line = &unset;
		int rc = lg_reader_next(r, line, len);
		int wait = rc == LG_LINE_IOERR && c->nonblock && (errno == EAGAIN || errno == EWOULDBLOCK);
		/* An over-long line whose read would wait: the reader had set
		 * *line NULL and counted it, and once its newline comes it counts
		 * the rest as a line of its own; that count is taken back and the
		 * rest dropped. */
		if (c->skip_tail && r->lineno != before) {
			r->lineno--;
			if (!(wait && !*line))
				c->skip_tail = 0;
			if ((rc == LG_LINE_OK || rc == LG_LINE_BAD) && r->lineno == before)
				continue;
		}
		if (!wait)
			return rc;
		if (!*line && !c->skip_tail) {
			char why[64];
			snprintf(why, sizeof why, "line longer than %zu bytes", r->max);
			bad(c, r->lineno, why, NULL, 0);
			c->skip_tail = 1;
		}
		/* A producer slower than put leaves the pipe empty between
		 * lines: waiting PUT_IDLE_MS before committing keeps such a
		 * stream in a few large transactions instead of one per line. */
		if (c->txn && input_ready(c->fd, PUT_IDLE_MS))
			continue;
		if ((c->status = txn_commit(c)))
			return PUT_LINE_STOP;
		input_ready(c->fd, -1);
	}
}

int put_run(store_db *db, FILE *in, const put_opts *o, put_counts *counts)
{
	put_ctx c;
	lg_reader r;
	char *line;
	size_t len;
	int rc, status = 0, store_failed = 0;
	MDB_stat st;

	memset(&c, 0, sizeof c);
	memset(counts, 0, sizeof *counts); /* the caller prints them on every return */
	control_close(&c.trust);
	c.db = db;
	c.o = o;
	c.psize = mdb_env_stat(db->env, &st) == 0 ? st.ms_psize : 4096;
	if (o->quarantine && !(c.quarantine = lg_quarantine_open(o->quarantine)))
		return LG_EXIT_IO;
	input_open(&c, in);
	lg_reader_init(&r, in, o->in_name);
	while ((rc = next_line(&c, &r, &line, &len)) != LG_LINE_EOF) {
		if (rc == PUT_LINE_STOP) {
			status = c.status;
			store_failed = 1;
			break;
		}
		if (rc == LG_LINE_IOERR) {
			lg_err("%s: %s", o->in_name, r.why);
			status = LG_EXIT_IO;
			break;
		}
		if (rc == LG_LINE_BAD) {
			bad(&c, r.lineno, r.why, line, line ? len : 0);
		} else if ((rc = take_line(&c, line, len, r.lineno)) != 0) {
			status = rc;
			store_failed = 1;
			break;
		}
	}
	/* What arrived before a read error is still stored. */
	if (!store_failed) {
		put_item end = { .control = 1 };
		if ((c.run.run && (rc = apply_line(&c, &end))) || (rc = txn_commit(&c)))
			status = rc;
	}
	txn_abort(&c);
	input_close(&c);
	lg_reader_free(&r);
	free(c.run.run);
	control_close(&c.trust);
	if (c.ignored)
		lg_err("%lu control lines ignored (--no-control)", c.ignored);
	lg_buf_free(&c.buf);
	if (c.quarantine)
		fclose(c.quarantine);
	c.total.failed += c.bad;
	*counts = c.total;
	if (status)
		return status;
	return c.total.failed ? LG_EXIT_BAD : 0;
}
