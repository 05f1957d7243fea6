/* lg-store put: the line loop. Each line is applied to the open write
 * transaction as soon as it is read, as mdb_load does: its bytes are then
 * held once, in LMDB's dirty pages. The transaction commits at every
 * checkpoint and run-end, at EOF, every --batch records, when its dirty
 * pages may reach their bound (put_txn.c) and whenever the input has been
 * silent a while (put_input.c). Returns: an exit status (put_int.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "private.h"
#include "put_int.h"
#include "timeutil.h"

/* Applies one line to the open transaction (begun if none), in a grown
 * map when it might not fit. Returns 0 or the exit status of a storage
 * failure (the transaction is then gone). */
static int apply_line(put_ctx *c, put_item *it)
{
	for (;;) {
		if (!c->tx.txn && put_txn_open(&c->tx))
			return LG_EXIT_IO;
		int rc = it->control ? put_control(c, it->tree) : put_record(c, it);
		if (rc == 0)
			return 0;
		if (rc != PUT_NEED_ROOM) {
			put_txn_abort(&c->tx);
			return db_fail(c->tx.db, rc == ENOMEM ? "out of memory" : "put", rc);
		}
		if (!it->control) { /* the merge may have moved parts of the tree */
			cJSON_Delete(it->tree);
			it->tree = NULL;
			it->outcome = PUT_NONE;
			it->stale = 0;
		}
		if ((rc = put_txn_make_room(&c->tx)))
			return rc;
	}
}

static void counted(put_ctx *c, const put_item *it)
{
	switch (it->outcome) {
	case PUT_NEW: c->tx.pending.ingested++; break;
	case PUT_UPDATED: c->tx.pending.updated++; break;
	case PUT_UNCHANGED: c->tx.pending.unchanged++; break;
	case PUT_CONFLICT: case PUT_NONE: return;
	}
	if (it->stale)
		c->tx.pending.stale++;
	if (c->run.id && it->outcome != PUT_UNCHANGED)
		c->run.ingested++;
}

/* ---- lines ---- */

void put_bad(put_ctx *c, unsigned long lineno, const char *why, const char *line, size_t len)
{
	c->bad++;
	lg_err("%s:%lu: %s", c->o->in_name, lineno, why);
	lg_quarantine(c->quarantine, c->o->in_name, lineno, why, line, len);
}

/* What put needs from a line before it may enter a transaction. */
static const char *check_line(const put_ctx *c, const cJSON *obj, char *why, size_t n)
{
	if (lg_control_type(obj))
		return control_refused(&c->run.trust, obj, c->o->integration, lg_time_now(), why, n);
	const char *id = lg_json_str(obj, "externalId");
	if (!id || !*id)
		return "record without a string \"externalId\"";
	if (strlen(id) > db_max_id(c->tx.db)) {
		snprintf(why, n, "externalId longer than %zu bytes", db_max_id(c->tx.db));
		return why;
	}
	const cJSON *vs = lg_json_get(obj, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		const char *vid = lg_json_str(v, "id");
		if (vid && (!*vid || strlen(vid) > c->tx.db->maxkey)) {
			snprintf(why, n, "violation id empty or longer than %zu bytes", c->tx.db->maxkey);
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
	c->tx.line_ops = 0;
	if (scan_plain_record(line, len, db_max_id(c->tx.db), c->tx.db->maxkey, c->hash_in_scan, &it.sr)) {
		it.plain = 1;
		if (!it.sr.hash_len) /* apply_plain_new judges the others */
			c->hash_in_scan = 0;
	} else {
		if (!(it.tree = lg_json_parse(line, len, &jerr))) {
			snprintf(why, sizeof why, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
			put_bad(c, lineno, why, line, len);
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
			put_bad(c, lineno, problem, line, len);
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
		c->tx.records++;
		db_trim_map(c->tx.db);
	}
	if (commit_now || c->tx.records >= c->o->batch || put_txn_full(&c->tx))
		return put_txn_commit(&c->tx);
	return 0;
}

int put_run(store_db *db, FILE *in, const put_opts *o, put_counts *counts)
{
	put_ctx c;
	lg_reader r;
	char *line;
	size_t len;
	int rc, status = 0, store_failed = 0;

	memset(&c, 0, sizeof c);
	memset(counts, 0, sizeof *counts); /* the caller prints them on every return */
	control_close(&c.run.trust);
	put_txn_init(&c.tx, db);
	c.o = o;
	if (o->quarantine && !(c.quarantine = lg_quarantine_open(o->quarantine)))
		return LG_EXIT_IO;
	put_input_open(&c.in, in);
	lg_reader_init(&r, in, o->in_name);
	while ((rc = put_next_line(&c, &r, &line, &len)) != LG_LINE_EOF) {
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
			put_bad(&c, r.lineno, r.why, line, line ? len : 0);
		} else if ((rc = take_line(&c, line, len, r.lineno)) != 0) {
			status = rc;
			store_failed = 1;
			break;
		}
	}
	/* What arrived before a read error is still stored. */
	if (!store_failed) {
		put_item end = { .control = 1 };
		if ((c.run.id && (rc = apply_line(&c, &end))) || (rc = put_txn_commit(&c.tx)))
			status = rc;
	}
	put_txn_abort(&c.tx);
	put_input_close(&c.in);
	lg_reader_free(&r);
	put_run_free(&c.run);
	if (c.ignored)
		lg_err("%lu control lines ignored (--no-control)", c.ignored);
	lg_buf_free(&c.buf);
	lg_buf_free(&c.sum);
	if (c.quarantine)
		fclose(c.quarantine);
	c.tx.total.failed += c.bad;
	*counts = c.tx.total;
	if (status)
		return status;
	return c.tx.total.failed ? LG_EXIT_BAD : 0;
}
