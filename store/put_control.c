/* put's control lines: runs (run-start, run-end, a stream ended early) and
 * checkpoints, which move the cursor. Returns: 0, PUT_NEED_ROOM, or a
 * storage code (put_int.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "put_int.h"
#include "timeutil.h"

/* Room for a line of ops puts and deletes writing bytes of values, or
 * PUT_NEED_ROOM. */
static int reserve(put_ctx *c, size_t ops, size_t bytes)
{
	return put_txn_claim(&c->tx, ops, bytes) ? 0 : PUT_NEED_ROOM;
}

static int put_json(put_ctx *c, MDB_dbi dbi, const char *key, const cJSON *val)
{
	c->buf.len = 0;
	if (lg_json_print(&c->buf, val))
		return ENOMEM;
	return db_put(c->tx.txn, dbi, key, strlen(key), c->buf.data, c->buf.len);
}

static cJSON *load_run(put_ctx *c, const char *id)
{
	MDB_val v;
	lg_json_error jerr;
	cJSON *run = NULL;
	if (db_get(c->tx.txn, c->tx.db->runs, id, strlen(id), &v) == 0)
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
	int rc = put_json(c, c->tx.db->runs, id, run);
	snprintf(key, sizeof key, "lastrun/%s", integ ? integ : "");
	if (!rc)
		rc = db_put(c->tx.txn, c->tx.db->state, key, strlen(key), id, strlen(id));
	if (!rc && integ)
		rc = db_put(c->tx.txn, c->tx.db->state, "lastrun/", 8, id, strlen(id));
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
	if (c->run.id && strcmp(c->run.id, id) == 0)
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->run.ingested));
	const char *at = end ? lg_json_str(end, "completedAt") : NULL;
	set_opt_str(run, "completedAt", at ? at : lg_time_format(lg_time_now(), now));
	if (end && lg_json_get(end, "exitCode"))
		lg_json_set(run, "exitCode", cJSON_Duplicate(lg_json_get(end, "exitCode"), 1));
	int rc = save_run(c, run);
	cJSON_Delete(run);
	if (c->run.id && strcmp(c->run.id, id) == 0) {
		free(c->run.id);
		c->run.id = NULL;
		c->run.ingested = 0;
		control_close(&c->run.trust);
	}
	return rc;
}

static int apply_run_start(put_ctx *c, const cJSON *ctl)
{
	int rc;
	if (c->run.id && (rc = close_run(c, c->run.id, "failed", "no run-end before the next run-start", NULL)))
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
	c->run.id = strdup(id);
	c->run.ingested = 0;
	return rc ? rc : control_open(&c->run.trust, ctl) ? ENOMEM : 0;
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
	int rc = db_get(c->tx.txn, c->tx.db->state, key, strlen(key), &v);
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
	if ((rc = db_put(c->tx.txn, c->tx.db->state, key, strlen(key), cur, strlen(cur))))
		return rc;
	const char *run_id = lg_json_str(ctl, "run");
	if (run_id && c->run.id && strcmp(run_id, c->run.id) == 0) {
		cJSON *run = load_run(c, run_id);
		lg_json_set(run, "itemsIngested", lg_json_int((int64_t)c->run.ingested));
		lg_json_set(run, "cursor", cJSON_CreateString(cur));
		rc = put_json(c, c->tx.db->runs, run_id, run);
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
	if ((c->run.id && strcmp(c->run.id, id) == 0) || db_get(c->tx.txn, c->tx.db->runs, id, strlen(id), &v) != 0)
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
int put_control(put_ctx *c, const cJSON *ctl)
{
	int rc = reserve(c, 8, 8192);
	if (rc)
		return rc;
	if (!ctl)
		return c->run.id ? close_run(c, c->run.id, "failed", "stream ended early", NULL) : 0;
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

void put_run_free(put_run_state *run)
{
	free(run->id);
	run->id = NULL;
	control_close(&run->trust);
}
