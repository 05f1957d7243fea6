/* lg-sync run: one run of one integration is
 *   lg-fetch | lg-map | lg-detect | lg-policy | lg-store put
 * under the integration's lock, then the steps after it (run_after.c); a
 * run the stages could not record themselves is recorded here (run-start /
 * run-end control lines). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "proc.h"
#include "private.h"
#include "run_int.h"
#include "sync.h"
#include "timeutil.h"

const char *const stage_names[NSTAGES] = { "lg-fetch", "lg-map", "lg-detect", "lg-policy", "lg-store" };

/* Exit codes above 7 (signals, sanitizers) are not ours: reported as 1. */
static int normalize_code(int code)
{
	return code >= 1 && code <= 7 ? code : LG_EXIT_BAD;
}

/* The stage that caused a failed pipeline: the first non-zero status that
 * is not a broken pipe (a stage dying makes its writer see SIGPIPE). */
static int failed_stage(const stage *st, size_t n)
{
	int first_pipe = -1;
	for (size_t i = 0; i < n; i++) {
		if (st[i].status != 0 && st[i].status != 128 + 13)
			return (int)i;
		if (st[i].status == 128 + 13 && first_pipe < 0)
			first_pipe = (int)i;
	}
	return first_pipe;
}

static const char *now_iso(char out[32])
{
	return lg_time_format(lg_time_now(), out);
}

static cJSON *last_sync(const sync_ctx *c, const char *id, cJSON **status)
{
	*status = store_status(c, id);
	return lg_json_get(lg_json_get(*status, "data"), "lastSync");
}

static long long num_or0(const cJSON *o, const char *key)
{
	double d;
	return lg_json_get_num(o, key, &d) ? (long long)d : 0;
}

static void add_line(lg_buf *b, cJSON *o)
{
	lg_json_print(b, o);
	lg_buf_addc(b, '\n');
	cJSON_Delete(o);
}

/* Records a failed run that the stages could not record themselves:
 * lg-fetch failed before its run-end, or a later stage broke the pipeline. */
static void record_failure(const sync_ctx *c, const lg_integration *it, const char *prev, int code,
			   const char *msg, const char *mode, const char *started)
{
	cJSON *status;
	const cJSON *last = last_sync(c, it->id, &status);
	const char *run = lg_json_str(last, "id");
	const char *st = lg_json_str(last, "status");
	int same = !run || (prev && strcmp(run, prev) == 0);
	if (!same && st && strcmp(st, "failed") == 0) { /* lg-fetch recorded it */
		cJSON_Delete(status);
		return;
	}
	lg_buf in = { 0 };
	char runid[96], t[32];
	if (same) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
		srand((unsigned)(now ^ getpid()));
		if (c->run_id)
			sfmt(runid, sizeof runid, "%s", c->run_id);
		else
			sfmt(runid, sizeof runid, "sync-%s-%ld-%d", stamp, (long)getpid(), rand() % 32768);
		cJSON *o = cJSON_CreateObject();
		lg_json_set(o, "$lg", cJSON_CreateString("run-start"));
		lg_json_set(o, "run", cJSON_CreateString(runid));
		lg_json_set(o, "integration", cJSON_CreateString(it->id));
		lg_json_set(o, "host", cJSON_CreateString(it->host));
		lg_json_set(o, "mode", cJSON_CreateString(mode));
		lg_json_set(o, "api", cJSON_CreateNull());
		lg_json_set(o, "from", cJSON_CreateNull());
		lg_json_set(o, "to", cJSON_CreateNull());
		lg_json_set(o, "startedAt", cJSON_CreateString(started));
		add_line(&in, o);
	} else {
		sfmt(runid, sizeof runid, "%s", run);
	}
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "$lg", cJSON_CreateString("run-end"));
	lg_json_set(o, "run", cJSON_CreateString(runid));
	lg_json_set(o, "integration", cJSON_CreateString(it->id));
	lg_json_set(o, "status", cJSON_CreateString("failed"));
	lg_json_set(o, "error", cJSON_CreateString(msg));
	lg_json_set(o, "exitCode", lg_json_int(code));
	lg_json_set(o, "traces", lg_json_int(same ? 0 : num_or0(last, "itemsFetched")));
	lg_json_set(o, "rows", lg_json_int(0));
	lg_json_set(o, "requests", lg_json_int(0));
	lg_json_set(o, "retries", lg_json_int(0));
	lg_json_set(o, "throttledSeconds", lg_json_int(0));
	lg_json_set(o, "completedAt", cJSON_CreateString(now_iso(t)));
	add_line(&in, o);
	cJSON_Delete(status);

	int fd = temp_with(in.data, in.len);
	lg_buf_free(&in);
	char path[PATH_MAX];
	const char *argv[] = { tool_path("lg-store", path, sizeof path), "--db", c->db, "put", "--integration",
			       it->id, NULL };
	stage s = { .name = "lg-store", .argv = argv };
	if (fd < 0) {
		lg_err("%s: could not record the failed run: %s", it->id, strerror(errno));
		return;
	}
	pipeline_run(&s, 1, fd, -1, NULL, 1, 0);
	close(fd);
	if (s.status != 0)
		lg_err("%s: could not record the failed run: %s", it->id,
		       stage_error(&s) ? stage_error(&s) : "lg-store put failed");
}

/* The summary of a run a stop signal ended. */
static void stopped_line(const sync_ctx *c, const char *id, const char *sig, run_result *r)
{
	lg_buf cur = { 0 };
	const char *argv[] = { "lg-store", "--db", c->db, "cursor", id, NULL };
	run_capture(argv, &cur, NULL, 0);
	while (cur.len && (cur.data[cur.len - 1] == '\n' || cur.data[cur.len - 1] == '\r'))
		cur.len--;
	const char *cursor = cur.len ? lg_buf_cstr(&cur) : "";
	cJSON *status;
	const cJSON *last = last_sync(c, id, &status);
	char tail[600];
	if (*cursor)
		sfmt(tail, sizeof tail, "the next run resumes from %s", cursor);
	else
		sfmt(tail, sizeof tail, "no window completed, the next run starts over");
	sfmt(r->line, sizeof r->line, "stopped by %s: %lld traces fetched, %lld stored; %s", sig,
		 num_or0(last, "itemsFetched"), num_or0(last, "itemsIngested"), tail);
	cJSON_Delete(status);
	lg_buf_free(&cur);
}

static void completed_line(const sync_ctx *c, const char *id, const lg_buf *put, long reevaluated,
			   long refetched, time_t t0, run_result *r)
{
	cJSON *status, *p = NULL;
	const cJSON *last = last_sync(c, id, &status);
	const cJSON *inc = lg_json_get(lg_json_get(status, "data"), "incomplete");
	lg_json_error je;
	if (put->len)
		p = lg_json_parse(put->data, put->len, &je);
	sfmt(r->line, sizeof r->line,
		 "completed: %lld traces fetched, %lld new, %lld updated, %lld unchanged, %ld re-evaluated in %llds",
		 num_or0(last, "itemsFetched"), num_or0(p, "ingested"), num_or0(p, "updated"),
		 num_or0(p, "unchanged"), reevaluated, (long long)(time(NULL) - t0));
	long long pending = num_or0(inc, "pending"), gave_up = num_or0(inc, "gaveUp");
	size_t n = strlen(r->line);
	if (refetched || pending || gave_up)
		sfmt(r->line + n, sizeof r->line - n,
		     "; %ld incomplete re-fetched, %lld still incomplete, %lld given up", refetched, pending, gave_up);
	cJSON_Delete(p);
	cJSON_Delete(status);
}

/* lg-fetch's arguments for this run: a range, the lookback, or on from the
 * stored cursor. Returns 0, or the status of a failed cursor query. */
static int fetch_args(const sync_ctx *c, const lg_integration *it, const run_opts *o, const char **args,
		      size_t *n, char *bufs, size_t buflen, const char **mode, run_result *r)
{
	const char *lookback = it->raw && lg_json_str(it->raw, "lookback") ? lg_json_str(it->raw, "lookback") : "7d";
	if (it->batch_size) {
		sfmt(bufs, buflen / 2, "%ld", it->batch_size);
		args[(*n)++] = "--batch-size";
		args[(*n)++] = bufs;
	}
	if (o->limit) {
		args[(*n)++] = "--limit";
		args[(*n)++] = o->limit;
	}
	if (c->quiet)
		args[(*n)++] = "--quiet";
	if (c->run_id) {
		args[(*n)++] = "--run-id";
		args[(*n)++] = c->run_id;
	}
	/* The daemon runs integrations one after another: a server that keeps
	 * a run going (endless pages, slow bodies) must not starve the others.
	 * lg-fetch stops at the bound as on SIGTERM: the next run resumes from
	 * the last completed window. */
	if (c->daemon) {
		args[(*n)++] = "--max-run-time";
		args[(*n)++] = it->max_run_time ? it->max_run_time : "15m";
	}
	*mode = o->mode;
	if (o->since || strcmp(o->mode, "backfill") == 0) {
		if (o->since) {
			*mode = "range";
			args[(*n)++] = "--since";
			args[(*n)++] = o->since;
		} else {
			args[(*n)++] = "--lookback";
			args[(*n)++] = lookback;
		}
		if (o->until) {
			args[(*n)++] = "--until";
			args[(*n)++] = o->until;
		}
		return 0;
	}
	lg_buf cur = { 0 };
	char err[1024];
	const char *argv[] = { "lg-store", "--db", c->db, "cursor", it->id, NULL };
	int rc = run_capture(argv, &cur, err, sizeof err);
	while (cur.len && (cur.data[cur.len - 1] == '\n' || cur.data[cur.len - 1] == '\r'))
		cur.len--;
	if (rc) {
		sfmt(r->line, sizeof r->line, "%s%s", strncmp(err, "lg-store:", 9) == 0 ? "" : "lg-store: ",
			 *err ? err : "cursor failed");
	} else if (cur.len) {
		char *cb = bufs + buflen / 2;
		sfmt(cb, buflen / 2, "%s", lg_buf_cstr(&cur));
		args[(*n)++] = "--cursor";
		args[(*n)++] = cb;
		if (it->overlap) {
			args[(*n)++] = "--overlap";
			args[(*n)++] = it->overlap;
		}
	} else {
		args[(*n)++] = "--lookback";
		args[(*n)++] = lookback;
	}
	lg_buf_free(&cur);
	return rc;
}

void quarantine_tidy(const char *q)
{
	char path[PATH_MAX];
	struct stat st;
	for (size_t i = MAP; i < NSTAGES; i++) {
		sfmt(path, sizeof path, "%s.%s.ndjson", q, stage_names[i]);
		if (stat(path, &st) == 0 && st.st_size == 0)
			unlink(path);
	}
}

/* The pipeline's outcome when it failed at stage i: its line and status. */
static int pipeline_failed(const sync_ctx *c, const lg_integration *it, const stage *st, int i,
			   const char *prev, const char *mode, const char *started, const char *q,
			   run_result *r)
{
	int code = st[i].status;
	char msg[1200];
	const char *e = stage_error(&st[i]);
	size_t nl = strlen(stage_names[i]);
	if (code > 128 && code < 160)
		sfmt(msg, sizeof msg, "%s: killed by signal %d", stage_names[i], code - 128);
	else if (!e)
		sfmt(msg, sizeof msg, "%s: exited with status %d", stage_names[i], code);
	else if (strncmp(e, stage_names[i], nl) == 0 && e[nl] == ':')
		sfmt(msg, sizeof msg, "%s", e);
	else
		sfmt(msg, sizeof msg, "%s: %s", stage_names[i], e);
	/* lg-fetch ended by our stop: recorded in lg-fetch's own words. */
	if (i == FETCH && stop_name() && (code == 1 || code == 128 + 15)) {
		r->stopped = stop_name();
		sfmt(msg, sizeof msg, "interrupted by SIGTERM");
	}
	code = normalize_code(code);
	record_failure(c, it, prev, code, msg, mode, started);
	sfmt(r->line, sizeof r->line, "failed (exit %d): %s", code, msg);
	if (r->stopped)
		stopped_line(c, it->id, r->stopped, r);
	char qf[PATH_MAX];
	struct stat sb;
	sfmt(qf, sizeof qf, "%s.%s.ndjson", q, stage_names[i]);
	if (stat(qf, &sb) == 0 && sb.st_size > 0) {
		size_t len = strlen(r->line);
		sfmt(r->line + len, sizeof r->line - len, " (bad lines kept in %s)", qf);
	}
	return code;
}

static int run_locked(sync_ctx *c, const lg_integration *it, const run_opts *o, run_result *r)
{
	time_t t0 = time(NULL);
	const char *args[40];
	size_t n = 0;
	char bufs[256], started[32], q[PATH_MAX], qdir[PATH_MAX];
	char paths[NSTAGES][PATH_MAX], qmap[PATH_MAX], qdet[PATH_MAX], qpol[PATH_MAX], qsto[PATH_MAX];
	const char *mode;
	args[n++] = tool_path("lg-fetch", paths[FETCH], sizeof paths[FETCH]);
	args[n++] = "--integration";
	args[n++] = it->id;
	int rc = fetch_args(c, it, o, args, &n, bufs, sizeof bufs, &mode, r);
	if (rc)
		return normalize_code(rc);
	args[n] = NULL;
	now_iso(started);
	cJSON *status;
	const cJSON *last = last_sync(c, it->id, &status);
	char prev[256];
	sfmt(prev, sizeof prev, "%s", lg_json_str(last, "id") ? lg_json_str(last, "id") : "");
	cJSON_Delete(status);

	/* Bad lines are kept verbatim, per stage, next to the store. */
	sfmt(qdir, sizeof qdir, "%s/quarantine", c->db);
	sfmt(q, sizeof q, "%s/%s", qdir, it->id);
	if (lg_mkdir_private(qdir) != 0) {
		sfmt(r->line, sizeof r->line, "cannot create %s", qdir);
		return LG_EXIT_IO;
	}
	sfmt(qmap, sizeof qmap, "%s.lg-map.ndjson", q);
	sfmt(qdet, sizeof qdet, "%s.lg-detect.ndjson", q);
	sfmt(qpol, sizeof qpol, "%s.lg-policy.ndjson", q);
	sfmt(qsto, sizeof qsto, "%s.lg-store.ndjson", q);
	const char *map[] = { tool_path("lg-map", paths[MAP], sizeof paths[MAP]), "--integration", it->id,
			      "--quarantine", qmap, NULL };
	const char *det[] = { tool_path("lg-detect", paths[DETECT], sizeof paths[DETECT]), "--quarantine", qdet, NULL };
	const char *pol_base[] = { tool_path("lg-policy", paths[POLICY], sizeof paths[POLICY]), "--quarantine", qpol, NULL };
	const char **pol = policy_argv(c, pol_base);
	if (!pol) {
		sfmt(r->line, sizeof r->line, "out of memory");
		return LG_EXIT_BAD;
	}
	const char *put[] = { tool_path("lg-store", paths[STORE], sizeof paths[STORE]), "--db", c->db, "put",
			      "--integration", it->id, "--quarantine", qsto, "--summary", "json", NULL };
	stage st[NSTAGES] = {
		{ .name = "lg-fetch", .argv = args }, { .name = "lg-map", .argv = map },
		{ .name = "lg-detect", .argv = det }, { .name = "lg-policy", .argv = pol },
		{ .name = "lg-store", .argv = put },
	};
	lg_buf summary = { 0 };
	pipeline_run(st, NSTAGES, -1, -1, &summary, c->silent, 1);
	policy_argv_free(pol);
	quarantine_tidy(q);
	int i = failed_stage(st, NSTAGES);
	if (i >= 0) {
		lg_buf_free(&summary);
		return pipeline_failed(c, it, st, i, prev, mode, started, q, r);
	}
	long reevaluated = 0, refetched = 0;
	/* After a window run from the cursor only: a range or a backfill
	 * says nothing of what came late, and a stopped run stops here. */
	if (strcmp(mode, "incremental") == 0 && !stop_name())
		rc = refetch_incomplete(c, it, q, &refetched, r);
	if (rc == 0)
		rc = reevaluate(c, it->id, &reevaluated, r);
	if (rc == 0)
		completed_line(c, it->id, &summary, reevaluated, refetched, t0, r);
	if (rc == 0 && it->ship_to && !stop_name())
		rc = ship_changes(c, it, r);
	lg_buf_free(&summary);
	return normalize_code(rc) * (rc != 0);
}

void sync_one(sync_ctx *c, const lg_integration *it, const run_opts *o, run_result *r)
{
	memset(r, 0, sizeof *r);
	if (stop_name()) {
		r->stopped = stop_name();
		r->code = LG_EXIT_BAD;
		sfmt(r->line, sizeof r->line, "not started: stopped by %s", r->stopped);
		return;
	}
	char lock[4400];
	lock_path(c, it->id, lock, sizeof lock);
	if (lg_mkdir_private(c->db) != 0) {
		r->code = LG_EXIT_IO;
		sfmt(r->line, sizeof r->line, "db: cannot create %s", c->db);
		return;
	}
	/* Where group or others may write, they could plant a link for the
	 * lock or swap the store's files. */
	struct stat sb;
	if (stat(c->db, &sb) == 0 && (sb.st_mode & 022)) {
		r->code = LG_EXIT_IO;
		sfmt(r->line, sizeof r->line, "db: %s: writable by group or others, who could plant links or swap "
		     "files there (chmod go-w %s)", c->db, c->db);
		return;
	}
	if (lstat(lock, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		r->code = LG_EXIT_IO;
		sfmt(r->line, sizeof r->line, "%s: a symbolic link: refused", lock);
		return;
	}
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r->code = LG_EXIT_IO;
		sfmt(r->line, sizeof r->line, "cannot open %s: %s", lock, strerror(errno));
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		r->busy = 1;
		r->code = LG_EXIT_BAD;
		sfmt(r->line, sizeof r->line, "a sync run is already in progress (lock %s)", lock);
		return;
	}
	r->code = run_locked(c, it, o, r);
	close(fd); /* releases the lock */
}

enum { OPT_MODE = 256, OPT_SINCE, OPT_UNTIL, OPT_LIMIT, OPT_RUN_ID };

int cmd_run(sync_ctx *c, int argc, char **argv)
{
	static const struct option run_longopts[] = {
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "run-id", required_argument, NULL, OPT_RUN_ID },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	run_opts o = { .mode = "incremental" };
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", run_longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_MODE: o.mode = optarg; break;
		case OPT_SINCE: o.since = *optarg ? optarg : NULL; break;
		case OPT_UNTIL: o.until = *optarg ? optarg : NULL; break;
		case OPT_LIMIT: o.limit = optarg; break;
		case OPT_RUN_ID: c->run_id = optarg; break;
		case 'q': c->quiet = 1; break;
		case 'h': usage(); return 0;
		default: return lg_bad_option(opt, optopt, argv[optind - 1]);
		}
	}
	if (strcmp(o.mode, "incremental") != 0 && strcmp(o.mode, "backfill") != 0)
		return lg_usage_error("run: --mode must be incremental or backfill");
	if (o.limit && (o.limit[0] < '1' || o.limit[0] > '9' || strspn(o.limit, "0123456789") != strlen(o.limit)))
		return lg_usage_error("run: invalid --limit '%s'", o.limit);
	if (c->run_id && (!*c->run_id || strlen(c->run_id) > 63 ||
			  strspn(c->run_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != strlen(c->run_id)))
		return lg_usage_error("run: --run-id: want 1 to 63 letters, digits, '.', '_', ':', '-'");
	/* One id names one run. */
	if (c->run_id && argc - optind != 1)
		return lg_usage_error("run: --run-id names the run of one integration");
	if (o.until && !o.since && strcmp(o.mode, "backfill") != 0)
		return lg_usage_error("run: --until needs --since or --mode backfill");
	lg_config cfg;
	const char **ids = NULL;
	int n = 0, skipped = 0, rc = sync_select(c, &cfg, argv + optind, argc - optind, &ids, &n, &skipped);
	if (rc)
		return rc;
	if (signals_install() != 0) {
		lg_err("sigaction: %s", strerror(errno));
		rc = LG_EXIT_BAD;
	}
	/* SIGTERM or SIGINT (Ctrl-C): the current run stops after its last
	 * completed window and is recorded; the next integrations are not
	 * started; exit 1. */
	int status = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		if (stop_name()) {
			lg_err("interrupted: %s and the rest not synced", ids[i]);
			status = LG_EXIT_BAD;
			break;
		}
		run_result r;
		sync_one(c, lg_config_find(&cfg, ids[i]), &o, &r);
		if (r.code || !c->quiet)
			lg_err("%s: %s", ids[i], r.line);
		if (r.code && !status)
			status = r.code;
	}
	if (rc == 0)
		rc = status ? status : skipped ? LG_EXIT_USAGE : 0;
	free(ids);
	lg_config_free(&cfg);
	return rc;
}
