#include <errno.h>
#include <string.h>

#include "err.h"
#include "pending.h"
#include "json.h"
#include "timeutil.h"

#define PREFIX "incomplete/"

static size_t entry_key(char *out, size_t cap, const char *integration, const char *id)
{
	int n = snprintf(out, cap, PREFIX "%s/%s", integration, id ? id : "");
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static cJSON *entry_get(MDB_txn *txn, store_db *db, const char *key, size_t klen)
{
	MDB_val v;
	lg_json_error je;
	if (db_get(txn, db->state, key, klen, &v) != 0)
		return NULL;
	cJSON *e = lg_json_parse(v.mv_data, v.mv_size, &je);
	if (!cJSON_IsObject(e)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

static int entry_put(MDB_txn *txn, store_db *db, const char *key, size_t klen, const cJSON *e)
{
	char *s = lg_json_to_string(e);
	if (!s)
		return ENOMEM;
	int rc = db_put(txn, db->state, key, klen, s, strlen(s));
	cJSON_free(s);
	return rc;
}

int pending_index_record(MDB_txn *txn, store_db *db, const cJSON *rec, const char *id, int64_t now)
{
	const char *integ = lg_json_str(lg_json_get(rec, "source"), "integration");
	const cJSON *reasons = lg_json_get(rec, "incomplete");
	char key[1024], ts[32];
	size_t klen;
	if (!integ || !(klen = entry_key(key, sizeof key, integ, id)) || klen > db->maxkey)
		return 0; /* no integration to re-fetch from, or an id too long to index */
	cJSON *e = entry_get(txn, db, key, klen);
	if (!cJSON_IsArray(reasons) || !reasons->child) {
		int rc = e ? db_del(txn, db->state, key, klen) : 0;
		cJSON_Delete(e);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (!e) {
		const char *since = lg_json_str(rec, "timestamp");
		e = cJSON_CreateObject();
		lg_json_set(e, "since", since ? cJSON_CreateString(since) : cJSON_CreateNull());
		lg_json_set(e, "firstSeen", cJSON_CreateString(lg_time_format(now, ts)));
		lg_json_set(e, "tries", lg_json_int(0));
		lg_json_set(e, "lastTry", cJSON_CreateNull());
		lg_json_set(e, "gaveUp", cJSON_CreateFalse());
	}
	lg_json_set(e, "reasons", cJSON_Duplicate(reasons, 1));
	int rc = entry_put(txn, db, key, klen, e);
	cJSON_Delete(e);
	return rc;
}

static int64_t time_at(const cJSON *e, const char *key, int64_t dflt)
{
	int64_t ms;
	const char *s = lg_json_str(e, key);
	return s && lg_time_parse(s, &ms) == 0 ? ms : dflt;
}

/* The wait before the next re-fetch: as long as the trace was old at the
 * last look (a root that ran an hour is looked for an hour later), between
 * PENDING_WAIT_MIN_MS and PENDING_WAIT_MAX_MS. */
static int is_due(const cJSON *e, int64_t now)
{
	int64_t seen = time_at(e, "firstSeen", now), last = time_at(e, "lastTry", seen);
	int64_t since = time_at(e, "since", seen), wait = last - since;
	if (wait < PENDING_WAIT_MIN_MS)
		wait = PENDING_WAIT_MIN_MS;
	if (wait > PENDING_WAIT_MAX_MS)
		wait = PENDING_WAIT_MAX_MS;
	return now - last >= wait;
}

/* Walks the entries under prefix; fn returns 0 to go on, 1 to stop, or an
 * MDB rc. Entries fn changes (*dirty) are written back after the walk:
 * a put under an open cursor may move the pages its keys point into. */
typedef int (*entry_fn)(void *ctx, const char *id, cJSON *e, int *dirty);

static int write_back(MDB_txn *txn, store_db *db, cJSON *changed)
{
	int rc = 0;
	for (const cJSON *c = changed->child; c && !rc; c = c->next) {
		const char *k = lg_json_string(cJSON_GetArrayItem(c, 0)), *v = lg_json_string(cJSON_GetArrayItem(c, 1));
		rc = db_put(txn, db->state, k, strlen(k), v, strlen(v));
	}
	return rc;
}

static int walk(MDB_txn *txn, store_db *db, const char *prefix, entry_fn fn, void *ctx)
{
	MDB_cursor *cur;
	size_t plen = strlen(prefix), base = strlen(PREFIX);
	int rc = mdb_cursor_open(txn, db->state, &cur);
	if (rc)
		return rc;
	cJSON *changed = cJSON_CreateArray();
	MDB_val k = { plen, (void *)(uintptr_t)prefix }, v;
	for (rc = db_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = db_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char key[1024], integ[512];
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0 || k.mv_size >= sizeof key)
			break;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		char *slash = strchr(key + base, '/');
		lg_json_error je;
		cJSON *e = slash ? lg_json_parse(v.mv_data, v.mv_size, &je) : NULL;
		if (!cJSON_IsObject(e)) {
			cJSON_Delete(e);
			continue;
		}
		snprintf(integ, sizeof integ, "%.*s", (int)(slash - key - base), key + base);
		lg_json_set(e, "integration", cJSON_CreateString(integ));
		int dirty = 0, r = fn(ctx, slash + 1, e, &dirty);
		if (dirty && r == 0) {
			cJSON_Delete(lg_json_take(e, "integration"));
			cJSON *pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_CreateString(key));
			char *s = lg_json_to_string(e);
			cJSON_AddItemToArray(pair, s ? cJSON_CreateString(s) : cJSON_CreateNull());
			cJSON_free(s);
			cJSON_AddItemToArray(changed, pair);
			r = s ? 0 : ENOMEM;
		}
		cJSON_Delete(e);
		if (r) {
			rc = r == 1 ? 0 : r;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (!rc)
		rc = changed ? write_back(txn, db, changed) : ENOMEM;
	cJSON_Delete(changed);
	return rc;
}

typedef struct {
	long pending, gave_up;
} counts;

static int count_one(void *ctx, const char *id, cJSON *e, int *dirty)
{
	counts *c = ctx;
	(void)id, (void)dirty;
	if (cJSON_IsTrue(lg_json_get(e, "gaveUp")))
		c->gave_up++;
	else
		c->pending++;
	return 0;
}

static void prefix_of(char *out, size_t cap, const char *integration)
{
	if (integration)
		snprintf(out, cap, PREFIX "%s/", integration);
	else
		snprintf(out, cap, PREFIX);
}

void pending_count(MDB_txn *txn, store_db *db, const char *integration, long *pending, long *gave_up)
{
	char prefix[600];
	counts c = { 0, 0 };
	prefix_of(prefix, sizeof prefix, integration);
	walk(txn, db, prefix, count_one, &c);
	*pending = c.pending;
	*gave_up = c.gave_up;
}

typedef struct {
	FILE *out;
	long limit, shown;
	int due, werr;
	int64_t now, horizon, settle;
	lg_buf line;
} listing;

static int print_line(listing *l, const char *s, size_t n)
{
	if (fwrite(s, 1, n, l->out) != n || putc('\n', l->out) == EOF) {
		l->werr = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

static int list_one(void *ctx, const char *id, cJSON *e, int *dirty)
{
	listing *l = ctx;
	if (l->limit && l->shown >= l->limit)
		return 1;
	if (!l->due) {
		cJSON *o = cJSON_CreateObject();
		lg_json_set(o, "integration", lg_json_take(e, "integration"));
		lg_json_set(o, "externalId", cJSON_CreateString(id));
		for (cJSON *c = e->child; c;) {
			cJSON *next = c->next;
			lg_json_set(o, c->string, cJSON_Duplicate(c, 1));
			c = next;
		}
		l->line.len = 0;
		int bad = lg_json_print(&l->line, o);
		cJSON_Delete(o);
		if (bad)
			return ENOMEM;
		l->shown++;
		return print_line(l, l->line.data, l->line.len);
	}
	if (cJSON_IsTrue(lg_json_get(e, "gaveUp")))
		return 0;
	if (l->now - time_at(e, "firstSeen", l->now) > l->horizon) {
		lg_json_set(e, "gaveUp", cJSON_CreateTrue());
		*dirty = 1;
		return 0;
	}
	if (l->now - time_at(e, "since", l->now) < l->settle || !is_due(e, l->now))
		return 0;
	double tries = 0;
	char ts[32];
	lg_json_get_num(e, "tries", &tries);
	lg_json_set(e, "tries", lg_json_int((int64_t)tries + 1));
	lg_json_set(e, "lastTry", cJSON_CreateString(lg_time_format(l->now, ts)));
	*dirty = 1;
	l->shown++;
	return print_line(l, id, strlen(id));
}

int pending_command(store_db *db, const char *integration, long limit, int due, int64_t horizon_ms,
		    int64_t settle_ms, FILE *out)
{
	char prefix[600];
	MDB_txn *txn;
	listing l = { out, limit, 0, due, 0, lg_time_now(), horizon_ms, settle_ms, { 0 } };
	prefix_of(prefix, sizeof prefix, integration);
	int rc = db_txn_begin(db, due ? 0 : MDB_RDONLY, &txn);
	if (rc)
		return db_fail(db, "begin", rc);
	rc = walk(txn, db, prefix, list_one, &l);
	lg_buf_free(&l.line);
	if (rc) {
		mdb_txn_abort(txn);
		return rc == ENOMEM ? (lg_err("out of memory"), LG_EXIT_BAD) : db_fail(db, "incomplete", rc);
	}
	/* The claims are committed only once the ids are out: a lost list is
	 * tried again next time. */
	if (!l.werr && fflush(out) != 0)
		l.werr = errno ? errno : EIO;
	if (l.werr) {
		mdb_txn_abort(txn);
		if (l.werr == EPIPE)
			return 0;
		lg_err("write error: %s", strerror(l.werr));
		return LG_EXIT_IO;
	}
	if (due && (rc = mdb_txn_commit(txn)) != 0)
		return db_fail(db, "commit", rc);
	if (!due)
		mdb_txn_abort(txn);
	return 0;
}
