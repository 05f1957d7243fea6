/* lg-sync run, after the pipeline: the steps that go back to the store
 * once the fetched traces are in (re-fetching the traces still
 * incomplete, re-evaluating the records whose merged content changed,
 * shipping the changes on). Each runs its tools through pipeline_run and
 * says in r->line why it failed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proc.h"
#include "run_int.h"
#include "sync.h"
#include "timeutil.h"

int temp_with(const char *text, size_t len)
{
	FILE *f = tmpfile();
	if (!f)
		return -1;
	int fd = dup(fileno(f));
	fclose(f);
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0 && errno != EINTR) {
			close(fd);
			return -1;
		}
		off += w > 0 ? (size_t)w : 0;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Re-runs detection and policies over the records whose merged content
 * changed. Returns 0 or the failing stage's status (r->line says why);
 * *count is the number of records re-evaluated. */
int reevaluate(const sync_ctx *c, const char *id, long *count, run_result *r)
{
	char p0[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
	const char *exp[] = { tool_path("lg-store", p0, sizeof p0), "--db", c->db, "export", "--stale",
			      "--integration", id, NULL };
	lg_buf out = { 0 };
	stage s = { .name = "lg-store", .argv = exp };
	*count = 0;
	pipeline_run(&s, 1, -1, -1, &out, c->silent, 0);
	if (s.status) {
		sfmt(r->line, sizeof r->line, "re-evaluation failed: %s",
			 stage_error(&s) ? stage_error(&s) : "lg-store: export failed");
		lg_buf_free(&out);
		return s.status;
	}
	for (size_t i = 0; i < out.len; i++)
		*count += out.data[i] == '\n';
	if (out.len && out.data[out.len - 1] != '\n')
		++*count;
	if (*count == 0) {
		lg_buf_free(&out);
		return 0;
	}
	int fd = temp_with(out.data, out.len);
	lg_buf_free(&out);
	if (fd < 0) {
		sfmt(r->line, sizeof r->line, "re-evaluation failed: temporary file: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	const char *det[] = { tool_path("lg-detect", p0, sizeof p0), NULL };
	const char *pol_base[] = { tool_path("lg-policy", p1, sizeof p1), NULL };
	const char **pol = policy_argv(c, pol_base);
	if (!pol) {
		close(fd);
		sfmt(r->line, sizeof r->line, "re-evaluation failed: out of memory");
		return LG_EXIT_BAD;
	}
	const char *put[] = { tool_path("lg-store", p2, sizeof p2), "--db", c->db, "put", "--summary", "none", NULL };
	stage st[3] = { { .name = "lg-detect", .argv = det }, { .name = "lg-policy", .argv = pol },
			{ .name = "lg-store", .argv = put } };
	pipeline_run(st, 3, fd, -1, NULL, c->silent, 0);
	policy_argv_free(pol);
	close(fd);
	for (size_t i = 0; i < 3; i++)
		if (st[i].status) {
			sfmt(r->line, sizeof r->line, "re-evaluation failed: %s",
				 stage_error(&st[i]) ? stage_error(&st[i]) : st[i].name);
			return st[i].status;
		}
	return 0;
}

/* Incomplete traces re-fetched per run, and for how long, by default. */
#define REFETCH_LIMIT 20
#define REFETCH_HORIZON "24h"
/* lg-fetch's default overlap: how late a row may come and still be read. */
#define REFETCH_OVERLAP_MS (60 * 60000LL)

/* The lines of text that are not control lines, as a temporary file. */
static int data_lines(const lg_buf *in, long *lines)
{
	lg_buf out = { 0 };
	*lines = 0;
	for (size_t i = 0; i < in->len;) {
		const char *nl = memchr(in->data + i, '\n', in->len - i);
		size_t end = nl ? (size_t)(nl - in->data) + 1 : in->len;
		if (strncmp(in->data + i, "{\"$lg\":", 7) != 0) {
			lg_buf_add(&out, in->data + i, end - i);
			++*lines;
		}
		i = end;
	}
	int fd = temp_with(out.data ? out.data : "", out.len);
	lg_buf_free(&out);
	return fd;
}

/* Re-fetches the traces lg-store holds incomplete (a root or parent not
 * arrived yet, spans without an end) that are due: at most refetchLimit
 * per run, none first seen longer than refetchHorizon ago (those are given
 * up: stored, still marked, counted apart), and none younger than the
 * overlap, whose second read brings a late row for free. They go through
 * the same stages; lg-fetch's control lines stay out of the store, so the
 * sync run stays the integration's last run and the cursor never moves
 * here. Returns 0 or the failing stage's status (r->line says why). */
int refetch_incomplete(const sync_ctx *c, const lg_integration *it, const char *q, long *count,
			      run_result *r)
{
	long limit = it->refetch_limit < 0 ? REFETCH_LIMIT : it->refetch_limit;
	char p[NSTAGES][PATH_MAX], lim[32], batch[32], settle[48], qf[4][PATH_MAX];
	*count = 0;
	if (limit == 0)
		return 0;
	sfmt(lim, sizeof lim, "%ld", limit);
	/* lg-fetch reads a row again once it is an overlap old, on a grid of
	 * a quarter overlap: by then the row came, late or not, unless it is
	 * a root still running or never coming. */
	int64_t overlap = REFETCH_OVERLAP_MS;
	if (it->overlap && lg_duration_parse(it->overlap, &overlap) != 0)
		overlap = REFETCH_OVERLAP_MS;
	sfmt(settle, sizeof settle, "%lldms", (long long)(overlap + overlap / 4));
	const char *due[] = { tool_path("lg-store", p[STORE], sizeof p[STORE]), "--db", c->db, "incomplete", it->id,
			      "--due", "--limit", lim, "--horizon", it->refetch_horizon ? it->refetch_horizon : REFETCH_HORIZON,
			      "--settle", settle, NULL };
	lg_buf ids = { 0 }, out = { 0 };
	char err[1024];
	int rc = run_capture(due, &ids, err, sizeof err);
	if (rc) {
		sfmt(r->line, sizeof r->line, "re-fetch of incomplete traces failed: %s%s",
		     strncmp(err, "lg-store:", 9) == 0 ? "" : "lg-store: ", *err ? err : "incomplete failed");
		lg_buf_free(&ids);
		return rc;
	}
	long n = 0;
	for (size_t i = 0; i < ids.len; i++)
		n += ids.data[i] == '\n';
	int fd = n ? temp_with(ids.data, ids.len) : -1;
	lg_buf_free(&ids);
	if (n == 0)
		return 0;
	if (fd < 0) {
		sfmt(r->line, sizeof r->line, "re-fetch of incomplete traces failed: temporary file: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	const char *fetch[12] = { tool_path("lg-fetch", p[FETCH], sizeof p[FETCH]), "--integration", it->id,
				  "--trace-ids", "-", "--quiet" };
	size_t nf = 6;
	if (it->batch_size) {
		sfmt(batch, sizeof batch, "%ld", it->batch_size);
		fetch[nf++] = "--batch-size";
		fetch[nf++] = batch;
	}
	if (c->daemon) {
		fetch[nf++] = "--max-run-time";
		fetch[nf++] = it->max_run_time ? it->max_run_time : "15m";
	}
	fetch[nf] = NULL;
	stage f = { .name = "lg-fetch", .argv = fetch };
	pipeline_run(&f, 1, fd, -1, &out, c->silent, 1);
	close(fd);
	if (f.status) {
		const char *e = stage_error(&f);
		sfmt(r->line, sizeof r->line, "re-fetch of incomplete traces failed: %s%s",
		     e && strncmp(e, "lg-fetch:", 9) == 0 ? "" : "lg-fetch: ", e ? e : "exited with an error");
		lg_buf_free(&out);
		return f.status;
	}
	long traces;
	fd = data_lines(&out, &traces);
	lg_buf_free(&out);
	if (fd < 0) {
		sfmt(r->line, sizeof r->line, "re-fetch of incomplete traces failed: temporary file: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	for (size_t i = MAP; i < NSTAGES; i++)
		sfmt(qf[i - MAP], sizeof qf[i - MAP], "%s.%s.ndjson", q, stage_names[i]);
	const char *map[] = { tool_path("lg-map", p[MAP], sizeof p[MAP]), "--integration", it->id, "--quarantine",
			      qf[0], NULL };
	const char *det[] = { tool_path("lg-detect", p[DETECT], sizeof p[DETECT]), "--quarantine", qf[1], NULL };
	const char *pol[] = { tool_path("lg-policy", p[POLICY], sizeof p[POLICY]), "--quarantine", qf[2], NULL };
	const char *put[] = { p[STORE], "--db", c->db, "put", "--integration", it->id, "--quarantine", qf[3],
			      "--summary", "none", NULL };
	stage st[4] = { { .name = "lg-map", .argv = map }, { .name = "lg-detect", .argv = det },
			{ .name = "lg-policy", .argv = pol }, { .name = "lg-store", .argv = put } };
	pipeline_run(st, 4, fd, -1, NULL, c->silent, 0);
	close(fd);
	quarantine_tidy(q);
	for (size_t i = 0; i < 4; i++)
		if (st[i].status) {
			const char *e = stage_error(&st[i]);
			sfmt(r->line, sizeof r->line, "re-fetch of incomplete traces failed: %s%s%s",
			     e && strncmp(e, st[i].name, strlen(st[i].name)) == 0 ? "" : st[i].name,
			     e && strncmp(e, st[i].name, strlen(st[i].name)) == 0 ? "" : ": ", e ? e : "failed");
			return st[i].status;
		}
	*count = n;
	return 0;
}

/* After a completed run, the store's changes go to the integration's
 * ClickHouse (shipTo). lg-ship keeps its position in the store: what a
 * failure here leaves behind goes with the next run, so it retries only
 * briefly and does not hold the schedule. --init: the tables are created
 * when missing (IF NOT EXISTS: nothing else). */
int ship_changes(const sync_ctx *c, const lg_integration *it, run_result *r)
{
	char p[PATH_MAX];
	const char *argv[] = { tool_path("lg-ship", p, sizeof p), "--db", c->db, "--to", it->ship_to, "--init",
			       "--retry-for", "30s", NULL };
	stage s = { .name = "lg-ship", .argv = argv };
	pipeline_run(&s, 1, -1, -1, NULL, c->silent, 1);
	const char *e = s.status ? stage_error(&s) : s.last_any;
	size_t n = strlen(r->line);
	if (e && strncmp(e, "lg-ship: ", 9) == 0)
		e += 9;
	if (s.status)
		sfmt(r->line, sizeof r->line, "ship failed: %s", e ? e : "lg-ship failed");
	else if (e && *e)
		sfmt(r->line + n, sizeof r->line - n, "; %s", e);
	return s.status;
}

