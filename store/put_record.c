/* put's records: the fast path for new ones, merges into stored ones, and
 * the indexes kept in line with them. Returns: 0, PUT_NEED_ROOM, or a
 * storage code (put_int.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "merge.h"
#include "pending.h"
#include "put_int.h"
#include "summary.h"
#include "timeutil.h"

/* Room for a line of ops puts and deletes writing bytes of values, or
 * PUT_NEED_ROOM. */
static int reserve(put_ctx *c, size_t ops, size_t bytes)
{
	return put_txn_claim(&c->tx, ops, bytes) ? 0 : PUT_NEED_ROOM;
}

/* Adds or removes rec's time key (timestamp + id) in by_time or stale,
 * or (dbi summaries) its summary, c->sum, there. */
static int time_key(put_ctx *c, MDB_dbi dbi, const cJSON *rec, const char *id, int del)
{
	unsigned char key[1024];
	size_t n = db_time_key(key, db_record_time(rec), id, strlen(id));
	if (dbi == c->tx.db->summaries)
		return put_txn_op(&c->tx, del ? summary_forget(c->tx.db, c->tx.txn, key, n)
					      : summary_put(c->tx.db, c->tx.txn, key, n, &c->sum));
	if (del)
		return put_txn_op(&c->tx, db_del(c->tx.txn, dbi, (const char *)key, n));
	return put_txn_op(&c->tx, db_put(c->tx.txn, dbi, (const char *)key, n, "", 0));
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

/* Brings every index in line with rec (old: what was stored, or NULL),
 * its summary made in c->sum: at most 7 + PENDING_INDEX_OPS + old's and
 * rec's violations puts and deletes. */
static int index_record(put_ctx *c, const cJSON *old, const cJSON *rec, const char *id, int stale)
{
	int rc = 0;
	MDB_txn *txn = c->tx.txn;
	size_t idlen = strlen(id);
	if (old && db_record_time(old) != db_record_time(rec) &&
	    ((rc = time_key(c, c->tx.db->by_time, old, id, 1)) || (rc = time_key(c, c->tx.db->stale, old, id, 1)) ||
	     (rc = time_key(c, c->tx.db->summaries, old, id, 1))))
		return rc;
	if ((rc = time_key(c, c->tx.db->by_time, rec, id, 0)) || (rc = time_key(c, c->tx.db->summaries, rec, id, 0)))
		return rc;
	const cJSON *vs = lg_json_get(old, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && !has_violation(rec, vid) && (rc = put_txn_op(&c->tx, db_del(txn, c->tx.db->violations, vid, strlen(vid)))))
			return rc;
	}
	vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (rc = put_txn_op(&c->tx, db_put(txn, c->tx.db->violations, vid, strlen(vid), id, idlen))))
			return rc;
	}
	if ((rc = time_key(c, c->tx.db->stale, rec, id, !stale)))
		return rc;
	return put_txn_op(&c->tx, pending_index_record(txn, c->tx.db, rec, id, lg_time_now()));
}

/* After a record's put (rc): its entry in the change feed. */
static int noted(put_ctx *c, const char *id, size_t idlen, int is_new, int rc)
{
	return rc ? rc : put_txn_op(&c->tx, changes_note(c->tx.db, c->tx.txn, id, idlen, is_new));
}

/* Prints rec into c->buf, claims room for it and its index, stores it. */
static int write_record(put_ctx *c, const cJSON *old, const cJSON *rec, const char *id, int stale)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, rec) || summary_make(rec, NULL, 0, &c->sum))
		return ENOMEM;
	int rc = reserve(c, 8 + CHANGES_OPS + PENDING_INDEX_OPS + count_violations(old) + count_violations(rec),
			 c->buf.len + c->sum.len + 1024);
	if (!rc)
		rc = noted(c, id, strlen(id), !old,
			   put_txn_op(&c->tx, db_put(c->tx.txn, c->tx.db->records, id, strlen(id), c->buf.data, c->buf.len)));
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
	return noted(c, id, idlen, 1, put_txn_op(&c->tx, db_put_parts(c->tx.txn, c->tx.db->records, id, idlen, parts, 3, flags)));
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
		vp->rc = put_txn_op(&vp->c->tx, db_put(vp->c->tx.txn, vp->c->tx.db->violations, vid, n, vp->id, vp->idlen));
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
	if (look_first && (rc = put_txn_op(&c->tx, db_get(c->tx.txn, c->tx.db->records, id, it->sr.id_len, &v))) != MDB_NOTFOUND) {
		c->hash_in_scan = 0;
		return rc ? rc : MDB_KEYEXIST;
	}
	int stale = plain_stale(it);
	if (stale < 0)
		return MDB_KEYEXIST;
	vid_put vp = { c, id, it->sr.id_len, 0, 0 };
	scan_violation_ids(text, &it->sr, count_violation, &vp);
	if (summary_make(NULL, text, it->len, &c->sum))
		return ENOMEM;
	if ((rc = reserve(c, 4 + CHANGES_OPS + vp.n, it->len + c->sum.len + 32 + 3 * it->sr.id_len)))
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
	it->outcome = PUT_NEW;
	c->hash_in_scan = evaluated;
	size_t kn = db_time_key(key, ms, id, it->sr.id_len);
	if ((rc = put_txn_op(&c->tx, db_put(c->tx.txn, c->tx.db->by_time, (const char *)key, kn, "", 0))) ||
	    (rc = put_txn_op(&c->tx, summary_put(c->tx.db, c->tx.txn, key, kn, &c->sum))))
		return rc;
	scan_violation_ids(text, &it->sr, index_violation, &vp);
	if (vp.rc)
		return vp.rc;
	return stale ? put_txn_op(&c->tx, db_put(c->tx.txn, c->tx.db->stale, (const char *)key, kn, "", 0)) : 0;
}

static void conflict(put_ctx *c, const put_item *it, const cJSON *stored, const char *id)
{
	const char *a = lg_json_str(lg_json_get(stored, "source"), "integration");
	const char *b = lg_json_str(lg_json_get(it->tree, "source"), "integration");
	lg_buf m = { 0 };
	lg_buf_printf(&m, "externalId %s belongs to integration %s, not %s", id, a, b);
	c->tx.total.failed++;
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
	/* A summary's bytes are at most the record's, 64 more and 10 a
	 * violation (each of its strings is one of the record's). */
	int rc = reserve(c, 4 + CHANGES_OPS + PENDING_INDEX_OPS + count_violations(in),
			 2 * it->len + 2144 + 34 * count_violations(in));
	if (rc)
		return rc;
	cJSON *flag = lg_json_take(in, "stale");
	int as_sent = !flag && merge_normalize_violations(in) == 0;
	cJSON_Delete(flag);
	it->stale = merge_mark_stale(in);
	it->outcome = PUT_NEW;
	if (as_sent) {
		rc = write_text(c, id, strlen(id), it, 0);
	} else {
		c->buf.len = 0;
		rc = lg_json_print(&c->buf, in)
			     ? ENOMEM
			     : noted(c, id, strlen(id), 1,
				     put_txn_op(&c->tx, db_put(c->tx.txn, c->tx.db->records, id, strlen(id), c->buf.data, c->buf.len)));
	}
	if (!rc && summary_make(in, NULL, 0, &c->sum))
		rc = ENOMEM;
	return rc ? rc : index_record(c, NULL, in, id, it->stale);
}

int put_record(put_ctx *c, put_item *it)
{
	int rc;
	lg_json_error jerr;
	if (it->plain && !it->tree) {
		if ((rc = apply_plain_new(c, it)) != MDB_KEYEXIST)
			return rc;
		it->outcome = PUT_NONE;
	}
	if (!it->tree && !(it->tree = lg_json_parse(it->text, it->len, &jerr)))
		return ENOMEM; /* the scan accepted it: the parser does too */
	cJSON *in = it->tree;
	const char *id = lg_json_str(in, "externalId");
	MDB_val v;
	rc = db_get(c->tx.txn, c->tx.db->records, id, strlen(id), &v);
	if (rc == MDB_NOTFOUND)
		return apply_new(c, it, id);
	if (rc)
		return rc;
	cJSON *stored = lg_json_parse(v.mv_data, v.mv_size, &jerr);
	if (!stored)
		return MDB_CORRUPTED;
	if (merge_conflict(stored, in)) {
		conflict(c, it, stored, id);
		it->outcome = PUT_CONFLICT;
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
		it->outcome = PUT_UNCHANGED;
	} else {
		it->outcome = PUT_UPDATED;
		rc = write_record(c, stored, merged, id, it->stale);
	}
	cJSON_Delete(merged);
	cJSON_Delete(stored);
	return rc;
}
