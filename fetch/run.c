#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assemble.h"
#include "err.h"
#include "json.h"
#include "run.h"
#include "stop.h"
#include "strmap.h"
#include "stream.h"
#include "text.h"
#include "timeutil.h"
#include "url.h"
#include "window.h"

#define V2_FIELDS "core,basic,time,io,metadata,model,usage,prompt,metrics,trace_context"
#define V2_MAX_LIMIT 1000
#define LEGACY_MAX_LIMIT 100
/* Pages in a row that bring no new row before paging is called endless:
 * a server handing out fresh cursors with empty or repeated pages would
 * otherwise hold the run for ever. */
#define NO_PROGRESS_PAGES 5
/* A window at the minimum span may hold this many times --max-rows before
 * the run gives up: it cannot be split further, and rows are memory. */
#define ROW_HARD_FACTOR 2
/* Re-reads of the pages of one millisecond before giving up on collecting
 * every row of it (legacy pages have no order among equal timestamps). */
#define LEGACY_TIE_ROUNDS 16

/* Trace ids one v2 request re-fetches through the filter parameter. */
#define REFETCH_BATCH 50

/* WIN_SINGLE: the server ignored a re-fetch's filter of several trace ids
 * (a server from before it): read them one by one. */
typedef enum { WIN_DONE, WIN_AGAIN, WIN_FALLBACK, WIN_FAIL, WIN_SINGLE } win_result;

typedef struct {
	const run_opts *o;
	client *c;
	lg_stream st;
	lg_buf line;
	char run_id[64];
	int started;
	api_mode api;
	char *project_id;
	window_queue q;
	assembly a;
	long v2_limit;
	long traces, rows, windows;
	long forged;             /* server objects dropped for a "$lg" key */
	long win_traces;
	int v2_checked;          /* --api auto: v2 compared with legacy (or legacy absent) */
	int no_scores;           /* the scores API answered 404 */
	long scores;             /* scores attached to the traces out */
	char *filter;            /* re-fetch: the v2 filter of a batch of ids */
	strmap want;             /* re-fetch: the ids of that batch */
	int no_filter;           /* re-fetch: v2 ignored the filter */
	int64_t t0;
	char error[1100];
	int exit_code;
} run_state;

static const char *api_name(api_mode m)
{
	return m == API_V2 ? "v2" : m == API_LEGACY ? "legacy" : "auto";
}

static char *iso(int64_t ms, char buf[32])
{
	return lg_time_format(ms, buf);
}

static int write_json(run_state *s, const cJSON *j)
{
	s->line.len = 0;
	if (lg_json_print(&s->line, j) != 0)
		return -1;
	return lg_stream_write(&s->st, s->line.data, s->line.len);
}

static int emit_control(run_state *s, cJSON *ctl);

static int start_run(run_state *s)
{
	if (s->started)
		return 0;
	s->started = 1;
	char a[32], b[32], c[32];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "run-start");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "host", s->c->host);
	cJSON_AddStringToObject(j, "mode", s->o->mode);
	cJSON_AddStringToObject(j, "api", api_name(s->api));
	cJSON_AddStringToObject(j, "from", iso(s->o->from, a));
	cJSON_AddStringToObject(j, "to", iso(s->o->to, b));
	cJSON_AddStringToObject(j, "startedAt", iso(lg_time_now(), c));
	return emit_control(s, j);
}

static int emit_control(run_state *s, cJSON *ctl)
{
	int rc = write_json(s, ctl);
	cJSON_Delete(ctl);
	return rc;
}

/* A "$lg" key makes a line a control line for every later stage, and a
 * control line moves cursors and names integrations: an object from the
 * server that has one is a forgery (or a bug), never data. It is dropped
 * with a warning and counted in run-end's "forged". */
static int forged(run_state *s, const cJSON *t)
{
	const cJSON *k;
	for (k = t ? t->child : NULL; k; k = k->next)
		if (k->string && strcmp(k->string, "$lg") == 0)
			break;
	if (!k)
		return 0;
	s->forged++;
	if (!s->o->quiet) {
		const char *id = lg_json_str(t, "id");
		char clean[100];
		text_clean(id ? id : "(no id)", strlen(id ? id : "(no id)"), clean, sizeof clean, s->c->masks);
		lg_err("warning: trace %s from the server has a \"$lg\" key (a forged control line); dropped", clean);
	}
	return 1;
}

static int emit_trace(cJSON *t, void *ctx)
{
	run_state *s = ctx;
	if (forged(s, t))
		return 0;
	if (start_run(s) != 0 || write_json(s, t) != 0)
		return 1;
	s->traces++;
	s->win_traces++;
	s->rows += cJSON_GetArraySize(lg_json_get(t, "observations"));
	return 0;
}

static int emit_checkpoint(run_state *s, window w, long traces, long rows)
{
	char a[32], b[32];
	if (start_run(s) != 0)
		return -1;
	cJSON *j = cJSON_CreateObject(), *win = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "checkpoint");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "cursor", iso(w.to, b));
	cJSON_AddStringToObject(win, "from", iso(w.from, a));
	cJSON_AddStringToObject(win, "to", b);
	cJSON_AddItemToObject(j, "window", win);
	cJSON_AddItemToObject(j, "traces", lg_json_int(traces));
	cJSON_AddItemToObject(j, "rows", lg_json_int(rows));
	return emit_control(s, j);
}

static void emit_run_end(run_state *s)
{
	char c[32];
	if (s->st.stop || start_run(s) != 0)
		return;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "run-end");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "status", s->exit_code ? "failed" : "completed");
	cJSON_AddItemToObject(j, "error", s->exit_code ? cJSON_CreateString(s->error) : cJSON_CreateNull());
	cJSON_AddItemToObject(j, "exitCode", lg_json_int(s->exit_code));
	cJSON_AddItemToObject(j, "traces", lg_json_int(s->traces));
	cJSON_AddItemToObject(j, "rows", lg_json_int(s->rows));
	cJSON_AddItemToObject(j, "forged", lg_json_int(s->forged));
	cJSON_AddItemToObject(j, "requests", lg_json_int(s->c->requests));
	cJSON_AddItemToObject(j, "retries", lg_json_int(s->c->retries));
	cJSON_AddItemToObject(j, "throttledSeconds", lg_json_double((double)(int64_t)(s->c->throttled_s * 1000) / 1000.0));
	cJSON_AddStringToObject(j, "completedAt", iso(lg_time_now(), c));
	emit_control(s, j);
}

static win_result run_fail(run_state *s, int code, const char *msg)
{
	snprintf(s->error, sizeof s->error, "%s", msg);
	s->exit_code = code;
	return WIN_FAIL;
}

static win_result client_fail(run_state *s)
{
	/* a 404 the caller could not use has no exit code of its own */
	return run_fail(s, s->c->exit_code ? s->c->exit_code : LG_EXIT_API, s->c->error);
}

static void progress(run_state *s, int64_t upto, int final)
{
	if (!s->o->progress || s->o->quiet)
		return;
	double el = (double)(client_clock_ms() - s->t0) / 1000.0;
	double done = s->o->to > s->o->from ? (double)(upto - s->o->from) / (double)(s->o->to - s->o->from) : 1;
	double eta = done > 0 && done < 1 ? el / done - el : 0;
	fprintf(stderr, "\r%s: windows %ld, traces %ld, rows %ld, requests %ld, throttled %.0fs, "
		"%.0f rows/s, ETA %.0fs  %s", lg_progname, s->windows, s->traces, s->rows + s->a.rows,
		s->c->requests, s->c->throttled_s, el > 0 ? (double)(s->rows + s->a.rows) / el : 0, eta,
		final ? "\n" : "");
	fflush(stderr);
}

/* Too many rows for one window: drop them and re-read it narrower. */
static int overflowed(run_state *s, window w, long held, int64_t rows_span)
{
	if (held <= s->o->max_rows || w.to - w.from <= WINDOW_MIN_SPAN_MS)
		return 0;
	assembly_clear(&s->a);
	if (window_overflowed(&s->q, w, rows_span) != 0)
		return -1;
	if (s->c->verbose) {
		char a[32], b[32];
		lg_err("window %s..%s holds more than %ld rows; reading it in narrower windows",
		       iso(w.from, a), iso(w.to, b), s->o->max_rows);
	}
	return 1;
}

static win_result narrowed(run_state *s, window w)
{
	assembly_clear(&s->a);
	if (window_timed_out(&s->q, w) != 0)
		return run_fail(s, LG_EXIT_API, s->c->error[0] ? s->c->error : "the server cannot answer even a one-second window");
	if (!s->o->quiet)
		lg_err("the server asks for less: narrowing windows to %llds", (long long)(s->q.span_limit / 1000));
	return WIN_AGAIN;
}

/* Why paging must stop, or NULL: a cursor seen before in this window (a
 * cycle), or too many pages in a row without a new row (legacy paging has
 * no cursor: seen and cursor NULL). */
static const char *endless(strmap *seen, const char *cursor, long new_rows, int *idle)
{
	static int mark;
	*idle = new_rows > 0 ? 0 : *idle + 1;
	if (*idle >= NO_PROGRESS_PAGES)
		return "pages without new rows";
	if (!cursor)
		return NULL;
	if (strmap_get(seen, cursor))
		return "a cursor that came before (a cycle)";
	return strmap_put(seen, cursor, &mark) ? "out of memory" : NULL;
}

static win_result endless_fail(run_state *s, const char *why)
{
	char e[200];
	snprintf(e, sizeof e, "endless paging: the server sent %s; giving up on this run", why);
	return run_fail(s, LG_EXIT_API, e);
}

/* Rows held beyond what even a split could bound. */
static win_result too_many_rows(run_state *s, window w)
{
	char a[32], b[32], e[300];
	snprintf(e, sizeof e, "window %s..%s holds more than %ld rows and cannot be split further (--max-rows)",
		 iso(w.from, a), iso(w.to, b), (long)ROW_HARD_FACTOR * s->o->max_rows);
	return run_fail(s, LG_EXIT_API, e);
}

/* What a cursor-paged read asks for: the v2 observations of a window or
 * of one trace, or the v3 scores of a window. */
typedef enum { PAGES_WINDOW, PAGES_TRACE, PAGES_SCORES } pages_kind;

static void pages_url(const run_state *s, lg_buf *u, pages_kind kind, window w, const char *trace_id,
		      const char *cursor)
{
	u->len = 0;
	if (kind == PAGES_SCORES) {
		lg_buf_adds(u, "/api/public/v3/scores");
		url_param(u, "fields", "core,details,subject");
		url_param_long(u, "limit", 100);
		url_param_time(u, "fromTimestamp", w.from);
		url_param_time(u, "toTimestamp", w.to);
	} else {
		lg_buf_adds(u, "/api/public/v2/observations");
		url_param(u, "fields", V2_FIELDS);
		if (s->o->expand_metadata)
			url_param(u, "expandMetadata", s->o->expand_metadata);
		url_param_long(u, "limit", s->v2_limit);
		if (trace_id)
			url_param(u, "traceId", trace_id);
		else if (kind == PAGES_TRACE)
			url_param(u, "filter", s->filter);
		url_param_time(u, "fromStartTime", w.from);
		url_param_time(u, "toStartTime", w.to);
	}
	if (cursor)
		url_param(u, "cursor", cursor);
}

/* An answer that is no page, as the kind of read takes it: WIN_DONE ends
 * the read without failing (no scores API), WIN_AGAIN abandons it for
 * narrower windows, else how the read ends. */
static win_result pages_refused(run_state *s, pages_kind kind, window w, get_result g)
{
	if (g == GET_NOT_FOUND && kind == PAGES_SCORES) {
		if (s->c->verbose)
			lg_err("no v3 scores API at %s; traces come without scores", s->c->host);
		s->c->error[0] = '\0';
		s->no_scores = 1;
		return WIN_DONE;
	}
	if (g == GET_NOT_FOUND && s->api == API_AUTO) {
		if (!s->o->quiet && kind == PAGES_WINDOW)
			lg_err("no v2 observations API at %s (%s); using the legacy endpoints", s->c->host, s->c->error);
		return WIN_FALLBACK;
	}
	if (g == GET_NOT_FOUND) {
		snprintf(s->c->error + strlen(s->c->error), sizeof s->c->error - strlen(s->c->error),
			 " (no v2 observations API on this server: self-hosted Langfuse v3? try --api legacy)");
		return client_fail(s);
	}
	if ((g == GET_NARROW || g == GET_TOO_LARGE) && kind != PAGES_TRACE)
		return narrowed(s, w);
	return client_fail(s);
}

/* Reads a cursor-paged endpoint to its last page, each row into the
 * assembly. Paging stops on a cursor that repeats or cycles and on pages
 * that bring nothing new; a window's read also stops when it holds too
 * many rows (WIN_AGAIN: re-planned narrower). */
static win_result cursor_pages(run_state *s, pages_kind kind, window w, const char *trace_id)
{
	char *cursor = NULL;
	win_result res = WIN_DONE;
	lg_buf u = { 0 };
	strmap seen = { 0 };
	int idle = 0;
	for (;;) {
		long before = s->a.rows, added = 0;
		pages_url(s, &u, kind, w, trace_id, cursor);
		cJSON *body;
		get_result g = client_get(s->c, lg_buf_cstr(&u), &body);
		if (g == GET_TOO_LARGE && kind != PAGES_SCORES && s->v2_limit > 1) {
			s->v2_limit /= 2;
			if (!s->o->quiet)
				lg_err("response too large; page size now %ld", s->v2_limit);
			continue; /* the same cursor, a smaller limit */
		}
		if (g == GET_TOO_LARGE && kind != PAGES_SCORES) {
			char e[1000];
			snprintf(e, sizeof e, "a single observation is larger than the response limit (%.900s)", s->c->error);
			res = run_fail(s, LG_EXIT_API, e);
			break;
		}
		if (g != GET_OK) {
			res = pages_refused(s, kind, w, g);
			break;
		}
		if (kind != PAGES_SCORES)
			s->api = API_V2;
		cJSON *data = lg_json_get(body, "data");
		while (cJSON_IsArray(data) && data->child) {
			cJSON *row = cJSON_DetachItemViaPointer(data, data->child);
			if (kind == PAGES_TRACE && !trace_id && !strmap_get(&s->want, lg_json_str(row, "traceId") ?
									     lg_json_str(row, "traceId") : "")) {
				cJSON_Delete(row);
				s->no_filter = 1;
				continue;
			}
			int rc = kind == PAGES_SCORES ? assembly_add_score(&s->a, row) : assembly_add_v2(&s->a, row);
			if (rc < 0) {
				cJSON_Delete(body);
				res = run_fail(s, LG_EXIT_BAD, "out of memory");
				goto out;
			}
			added += kind == PAGES_SCORES;
		}
		const char *next = lg_json_str(lg_json_get(body, "meta"), "cursor");
		int same = next && cursor && strcmp(next, cursor) == 0;
		free(cursor);
		cursor = next && *next ? strdup(next) : NULL;
		cJSON_Delete(body);
		if (s->no_filter && kind == PAGES_TRACE && !trace_id) {
			res = WIN_SINGLE;
			break;
		}
		if (same) {
			res = run_fail(s, LG_EXIT_API, "the server returned the same cursor twice");
			break;
		}
		const char *why = endless(&seen, cursor, added + s->a.rows - before, &idle);
		if (why) {
			res = endless_fail(s, why);
			break;
		}
		if (kind == PAGES_WINDOW) {
			int64_t span = s->a.oldest == INT64_MAX ? 0 : w.to - s->a.oldest;
			int ov = overflowed(s, w, s->a.rows, span);
			if (ov) {
				res = ov > 0 ? WIN_AGAIN : run_fail(s, LG_EXIT_BAD, "out of memory");
				break;
			}
			if (s->a.rows > ROW_HARD_FACTOR * s->o->max_rows) {
				res = too_many_rows(s, w);
				break;
			}
			progress(s, w.from, 0);
		}
		if (!cursor)
			break;
	}
out:
	strmap_clear(&seen);
	free(cursor);
	lg_buf_free(&u);
	return res;
}

static long page_limit(const run_state *s)
{
	long l = s->o->batch_size;
	return l > 0 && l < LEGACY_MAX_LIMIT ? l : LEGACY_MAX_LIMIT;
}

/* A legacy page: GET, 404/410/narrow handling, rows handed to add(). Returns
 * the number of rows (>= 0) with *last_ms = the time key of the last row,
 * or -1 with *res set. With ids, each row's id is put there and *total is
 * the server's meta.totalItems. */
static long legacy_page(run_state *s, window w, const char *path_query, const char *time_key,
			int trace_rows, int64_t *last_ms, win_result *res, strmap *ids, long *total)
{
	cJSON *body;
	get_result g = client_get(s->c, path_query, &body);
	if (g == GET_NOT_FOUND) {
		snprintf(s->c->error + strlen(s->c->error), sizeof s->c->error - strlen(s->c->error),
			 " (no legacy endpoints on this server: Langfuse v4? try --api v2)");
		*res = client_fail(s);
		return -1;
	}
	if (g == GET_NARROW || g == GET_TOO_LARGE) {
		*res = narrowed(s, w);
		return -1;
	}
	if (g == GET_FAIL) {
		*res = client_fail(s);
		return -1;
	}
	s->api = API_LEGACY;
	cJSON *data = lg_json_get(body, "data");
	double d;
	if (total)
		*total = lg_json_get_num(lg_json_get(body, "meta"), "totalItems", &d) ? (long)d : -1;
	long n = 0;
	while (cJSON_IsArray(data) && data->child) {
		cJSON *row = cJSON_DetachItemViaPointer(data, data->child);
		const char *t = lg_json_str(row, time_key), *id = lg_json_str(row, "id");
		if (t)
			lg_time_parse(t, last_ms);
		if (ids && id && strmap_put(ids, id, ids) != 0) {
			cJSON_Delete(row);
			cJSON_Delete(body);
			*res = run_fail(s, LG_EXIT_BAD, "out of memory");
			return -1;
		}
		n++;
		int rc = trace_rows ? assembly_add_v1_trace(&s->a, row) : assembly_add_v1_observation(&s->a, row);
		if (rc < 0) {
			cJSON_Delete(body);
			*res = run_fail(s, LG_EXIT_BAD, "out of memory");
			return -1;
		}
	}
	cJSON_Delete(body);
	return n;
}

/* Every trace (traces) or observation starting in millisecond t. Legacy
 * ORDER BY has no tie-breaker: among equal timestamps the order may change
 * from one request to the next, so paging by offset through them can skip
 * rows. Traces are read in id order there (a total order). Observations
 * have no other order: their pages are read again until as many distinct
 * ids were seen as the server counts, and the run fails rather than go on
 * without some of them. */
static win_result legacy_tie(run_state *s, window w, int64_t t, int traces, lg_buf *u)
{
	strmap ids = { 0 };
	long total = -1, limit = page_limit(s), pages = 1;
	int64_t last = t;
	win_result res = WIN_DONE;
	for (int round = 0; round < LEGACY_TIE_ROUNDS; round++) {
		for (long page = 1; page <= pages; page++) {
			u->len = 0;
			lg_buf_adds(u, traces ? "/api/public/traces" : "/api/public/observations");
			url_param_long(u, "page", page);
			url_param_long(u, "limit", limit);
			if (traces) {
				url_param(u, "orderBy", "id.asc");
				url_param_time(u, "fromTimestamp", t);
				url_param_time(u, "toTimestamp", t + 1);
				url_param(u, "fields", "core,io,metrics");
			} else {
				url_param_time(u, "fromStartTime", t);
				url_param_time(u, "toStartTime", t + 1);
			}
			long n = legacy_page(s, w, lg_buf_cstr(u), traces ? "timestamp" : "startTime", traces,
					     &last, &res, &ids, &total);
			if (n < 0)
				goto out;
			pages = total > 0 ? (total + limit - 1) / limit : page;
			if (n < limit && total < 0)
				break;
		}
		if (total < 0 || (long)ids.n >= total)
			goto out;
	}
	char at[32], e[200];
	snprintf(e, sizeof e, "%ld %s start at %s but only %zu could be read in %d rounds (legacy pages have "
		 "no order among equal times); try again, or --api v2", total, traces ? "traces" : "observations",
		 iso(t, at), ids.n, LEGACY_TIE_ROUNDS);
	res = run_fail(s, LG_EXIT_API, e);
out:
	strmap_clear(&ids);
	return res;
}

/* After a legacy page of a window: whether the read ends here (*res says
 * how): too many rows held (re-planned narrower, or beyond any split), the
 * last page (short), or pages that bring nothing new. */
static int legacy_page_ends(run_state *s, window w, int short_page, long before, int *idle, win_result *res)
{
	long held = s->a.rows + s->a.traces_held;
	int ov = overflowed(s, w, held, 0);
	if (ov) {
		*res = ov > 0 ? WIN_AGAIN : run_fail(s, LG_EXIT_BAD, "out of memory");
		return 1;
	}
	if (held > ROW_HARD_FACTOR * s->o->max_rows) {
		*res = too_many_rows(s, w);
		return 1;
	}
	progress(s, w.from, 0);
	if (short_page) {
		*res = WIN_DONE;
		return 1;
	}
	const char *why = endless(NULL, NULL, held - before, idle);
	if (why) {
		*res = endless_fail(s, why);
		return 1;
	}
	return 0;
}

/* Traces ascending by timestamp with a fixed toTimestamp: fromTimestamp
 * steps to the last timestamp seen (offset pages drift). A whole page of
 * one timestamp is read by legacy_tie, then the steps go on after it. */
static win_result legacy_traces(run_state *s, window w, lg_buf *u)
{
	int64_t from = w.from, last = w.from;
	long limit = page_limit(s);
	win_result res = WIN_DONE;
	int idle = 0;
	for (;;) {
		long before = s->a.rows + s->a.traces_held;
		u->len = 0;
		lg_buf_adds(u, "/api/public/traces");
		url_param_long(u, "page", 1);
		url_param_long(u, "limit", limit);
		url_param(u, "orderBy", "timestamp.asc");
		url_param_time(u, "fromTimestamp", from);
		url_param_time(u, "toTimestamp", w.to);
		url_param(u, "fields", "core,io,metrics");
		long n = legacy_page(s, w, lg_buf_cstr(u), "timestamp", 1, &last, &res, NULL, NULL);
		if (n < 0)
			return res;
		if (legacy_page_ends(s, w, n < limit, before, &idle, &res))
			return res;
		if (last > from) {
			from = last;
		} else {
			if ((res = legacy_tie(s, w, from, 1, u)) != WIN_DONE)
				return res;
			if (++from >= w.to)
				return WIN_DONE;
		}
	}
}

/* Observations come newest first: toStartTime steps down to just after the
 * oldest start seen; a whole page of one start is read by legacy_tie, then
 * the steps go on below it. */
static win_result legacy_observations(run_state *s, window w, lg_buf *u)
{
	int64_t to = w.to, last = w.to;
	long limit = page_limit(s);
	win_result res = WIN_DONE;
	int idle = 0;
	for (;;) {
		long before = s->a.rows + s->a.traces_held;
		u->len = 0;
		lg_buf_adds(u, "/api/public/observations");
		url_param_long(u, "page", 1);
		url_param_long(u, "limit", limit);
		url_param_time(u, "fromStartTime", w.from);
		url_param_time(u, "toStartTime", to);
		long n = legacy_page(s, w, lg_buf_cstr(u), "startTime", 0, &last, &res, NULL, NULL);
		if (n < 0)
			return res;
		if (legacy_page_ends(s, w, n < limit, before, &idle, &res))
			return res;
		if (last + 1 < to) {
			to = last + 1;
		} else {
			if ((res = legacy_tie(s, w, last, 0, u)) != WIN_DONE)
				return res;
			if ((to = last) <= w.from)
				return WIN_DONE;
		}
	}
}

static win_result read_legacy(run_state *s, window w)
{
	lg_buf u = { 0 };
	win_result r = legacy_traces(s, w, &u);
	if (r == WIN_DONE)
		r = legacy_observations(s, w, &u);
	lg_buf_free(&u);
	return r;
}

static int fetch_project(run_state *s)
{
	cJSON *body;
	get_result g = client_get(s->c, "/api/public/projects", &body);
	if (g != GET_OK) {
		if (g != GET_FAIL)
			s->c->exit_code = LG_EXIT_API;
		return -1;
	}
	const char *id = lg_json_str(cJSON_GetArrayItem(lg_json_get(body, "data"), 0), "id");
	s->project_id = id ? strdup(id) : NULL;
	cJSON_Delete(body);
	return 0;
}

static void make_run_id(run_state *s)
{
	char t[32];
	if (s->o->run_id) {
		snprintf(s->run_id, sizeof s->run_id, "%s", s->o->run_id);
		return;
	}
	lg_time_format(lg_time_now(), t);
	char compact[32], *o = compact;
	for (const char *p = t; *p && *p != '.'; p++)
		if (*p != '-' && *p != ':')
			*o++ = *p;
	*o = '\0';
	srand48((long)client_clock_ms() ^ (long)getpid());
	snprintf(s->run_id, sizeof s->run_id, "%sZ-%05lx", compact, (unsigned long)(lrand48() & 0xfffff));
}

/* The number of traces the legacy API holds in [from, to) (meta.totalItems
 * of a one-row page), or -1 when it cannot say (404, 410, any failure: then
 * the failure is forgotten, it is no error of the run). */
static long legacy_trace_count(client *c, int64_t from, int64_t to)
{
	lg_buf u = { 0 };
	lg_buf_adds(&u, "/api/public/traces");
	url_param_long(&u, "page", 1);
	url_param_long(&u, "limit", 1);
	url_param_time(&u, "fromTimestamp", from);
	url_param_time(&u, "toTimestamp", to);
	url_param(&u, "fields", "core");
	cJSON *body = NULL;
	get_result g = client_get(c, lg_buf_cstr(&u), &body);
	lg_buf_free(&u);
	double d;
	long n = g == GET_OK && lg_json_get_num(lg_json_get(body, "meta"), "totalItems", &d) && d >= 0 ? (long)d : -1;
	cJSON_Delete(body);
	if (g != GET_OK) {
		c->error[0] = '\0';
		c->exit_code = 0;
	}
	return n;
}

/* v2 holds less than half of the traces the legacy API counts. The margin
 * is wide on purpose: v2 counts every trace with a row in the window, roots
 * that never arrived and rows of traces that started earlier included, and
 * what it must catch is a v2 that misses the window's data altogether. */
static int v2_short(long v2, long legacy)
{
	return legacy > 0 && v2 * 2 < legacy;
}

/* --api auto: a 200 from v2 does not prove v2 holds the data. A v3 server
 * with the v4 preview serves v2 from a table it never fills, and a v4
 * server fills v2 with older data by a background backfill. The first
 * window with data is counted both ways (one legacy request); when v2 is
 * short, the run reads the legacy endpoints instead. Returns 1 to switch. */
static int v2_holds_too_little(run_state *s, window w)
{
	long legacy = legacy_trace_count(s->c, w.from, w.to), v2 = (long)s->a.n;
	if (legacy < 0 || legacy > 0 || v2 > 0)
		s->v2_checked = 1; /* decided: no legacy API, or data to compare */
	if (!v2_short(v2, legacy))
		return 0;
	char a[32], b[32];
	if (!s->o->quiet)
		lg_err("v2 observations hold %ld traces in %s..%s where the legacy endpoints hold %ld "
	       "(v2 not filled, or still backfilling); using the legacy endpoints",
	       v2, iso(w.from, a), iso(w.to, b), legacy);
	return 1;
}

/* Whether a window's scores are read. An incremental run that reads a
 * settled range reads the scores of that range only: the settled ranges of
 * consecutive runs tile time, so each score is read once, when it is
 * overlap old (a score up to overlap late included), not once new and
 * again settled. Every other window reads its own. */
static int scores_due(const run_opts *o, window w)
{
	return o->fresh_from <= 0 || w.to <= o->settle_to;
}

/* Reads and emits one window. Returns 0 to go on, 1 to stop (limit, closed
 * output), -1 on failure. */
static int one_window(run_state *s, window w)
{
	win_result r = s->api == API_LEGACY ? read_legacy(s, w) : cursor_pages(s, PAGES_WINDOW, w, NULL);
	if (r == WIN_AGAIN)
		return 0;
	if (r == WIN_FALLBACK) {
		s->api = API_LEGACY;
		assembly_clear(&s->a);
		return window_plan(&s->q, w.from, w.to) == 0 ? 0 : -1;
	}
	if (r == WIN_FAIL)
		return -1;
	/* An incremental run reads what the runs before it found in v2: v2
	 * holding rows of the window is the server serving it, and only a
	 * window v2 holds empty is counted against the legacy API. Not the
	 * new range of a run that splits: its rows are read again in a
	 * settled range an overlap later, and counted there if v2 still holds
	 * none; an empty v2 is caught then, the rows read from the legacy API
	 * then, and every run between costs no count. */
	int incremental = strcmp(s->o->mode, "incremental") == 0;
	if (s->o->api == API_AUTO && s->api == API_V2 && !s->v2_checked && s->a.n && incremental)
		s->v2_checked = 1;
	int count_due = !incremental || s->o->fresh_from <= 0 || w.from < s->o->fresh_from;
	if (s->o->api == API_AUTO && s->api == API_V2 && !s->v2_checked && count_due && v2_holds_too_little(s, w)) {
		s->api = API_LEGACY;
		s->v2_checked = 1;
		assembly_clear(&s->a);
		return window_plan(&s->q, w.from, w.to) == 0 ? 0 : -1;
	}
	/* The scores whose timestamp lies in the window: attached to its
	 * traces, and those of a trace read in another window (or run) as a
	 * fragment of their own. A 404 (no v3 scores API, such as self-hosted
	 * v3) turns scores off for the run. */
	if (!s->no_scores && scores_due(s->o, w) && (r = cursor_pages(s, PAGES_SCORES, w, NULL)) != WIN_DONE)
		return r == WIN_AGAIN ? 0 : -1;
	long rows = s->a.rows;
	s->win_traces = 0;
	int rc = assembly_emit(&s->a, s->project_id, emit_trace, s);
	if (rc < 0) {
		run_fail(s, LG_EXIT_BAD, "out of memory");
		return -1;
	}
	if (rc == 0 && !s->st.stop)
		emit_checkpoint(s, w, s->win_traces, rows);
	errno = 0;
	if (!s->st.stop && fflush(s->st.out) != 0) {
		if (errno != EPIPE)
			s->st.write_error = errno ? errno : EIO;
		s->st.stop = 1;
	}
	if (s->st.stop)
		return 1;
	s->windows++;
	window_completed(&s->q, w, rows, s->o->max_rows);
	progress(s, w.to, 0);
	return s->o->limit && s->traces >= s->o->limit ? 1 : 0;
}

/* The run's windows: one range, or the settling range then the new one
 * (the queue is a stack: the newest goes in first). */
static int plan_windows(window_queue *q, const run_opts *o)
{
	if (o->fresh_from <= 0)
		return window_plan(q, o->from, o->to);
	return window_plan(q, o->fresh_from, o->to) || window_plan(q, o->from, o->settle_to) ? -1 : 0;
}

/* The state every run starts from, whether it reads windows or traces by
 * id: options, clock, page size, run id and the output stream. */
static int run_begin(run_state *s, const run_opts *o, FILE *out)
{
	memset(s, 0, sizeof *s);
	s->o = o;
	s->c = o->c;
	s->api = o->api;
	s->t0 = client_clock_ms();
	s->v2_limit = o->batch_size > 0 && o->batch_size < V2_MAX_LIMIT ? o->batch_size : V2_MAX_LIMIT;
	assembly_init(&s->a);
	make_run_id(s);
	return lg_stream_init(&s->st, out, NULL);
}

/* How every run ends: its error said (with the key hints when asked and
 * the server refused the keys), the run-end line unless stopped, the
 * output flushed, everything freed. The exit status. */
static int run_finish(run_state *s, FILE *out, int auth_hints)
{
	if (s->exit_code) {
		lg_err("%s", s->error);
		if (auth_hints && s->exit_code == LG_EXIT_AUTH)
			client_auth_hints(s->c, s->c->http.status);
	}
	if (!s->st.stop)
		emit_run_end(s);
	if (!s->st.stop && fflush(out) != 0 && errno != EPIPE)
		s->st.write_error = errno;
	int status = s->exit_code;
	if (s->st.write_error) {
		lg_err("write error: %s", strerror(s->st.write_error));
		status = LG_EXIT_IO;
	}
	assembly_clear(&s->a);
	window_free(&s->q);
	free(s->project_id);
	free(s->filter);
	strmap_clear(&s->want);
	lg_buf_free(&s->line);
	lg_stream_free(&s->st);
	return status;
}

int run_fetch(const run_opts *o, FILE *out)
{
	run_state s;
	if (run_begin(&s, o, out) != 0)
		return LG_EXIT_IO;
	if (fetch_project(&s) != 0) {
		run_fail(&s, s.c->exit_code, s.c->error);
	} else if (plan_windows(&s.q, o) != 0) {
		run_fail(&s, LG_EXIT_BAD, "out of memory");
	} else {
		/* A stop signal abandons the window being read: its traces are
		 * never emitted, the last checkpoint stays the last completed one. */
		window w;
		while (!s.st.stop && window_take(&s.q, &w)) {
			if (stop_requested()) {
				char e[64];
				snprintf(e, sizeof e, "interrupted by %s", stop_signal_name());
				run_fail(&s, LG_EXIT_BAD, e);
				break;
			}
			if (one_window(&s, w) != 0)
				break;
		}
	}
	progress(&s, o->to, 1);
	return run_finish(&s, out, 1);
}

/* Probes one data endpoint with a one-row request over the last minute. */
static get_result probe(client *c, const char *path, const char *from_key, const char *to_key)
{
	lg_buf u = { 0 };
	int64_t now = lg_time_now();
	lg_buf_adds(&u, path);
	url_param_long(&u, "limit", 1);
	url_param_time(&u, from_key, now - 60000);
	url_param_time(&u, to_key, now);
	cJSON *body = NULL;
	get_result g = client_get(c, lg_buf_cstr(&u), &body);
	cJSON_Delete(body);
	lg_buf_free(&u);
	return g;
}

/* Root rows v2 holds in [from, to), counted up to cap; -1 on failure. */
static long v2_root_count(client *c, int64_t from, int64_t to, long cap)
{
	lg_buf u = { 0 };
	char *cursor = NULL;
	long n = 0;
	do {
		u.len = 0;
		lg_buf_adds(&u, "/api/public/v2/observations");
		url_param(&u, "fields", "core");
		url_param(&u, "isRootObservation", "true");
		url_param_long(&u, "limit", V2_MAX_LIMIT);
		url_param_time(&u, "fromStartTime", from);
		url_param_time(&u, "toStartTime", to);
		if (cursor)
			url_param(&u, "cursor", cursor);
		cJSON *body = NULL;
		if (client_get(c, lg_buf_cstr(&u), &body) != GET_OK) {
			n = -1;
			break;
		}
		n += cJSON_GetArraySize(lg_json_get(body, "data"));
		const char *next = lg_json_str(lg_json_get(body, "meta"), "cursor");
		free(cursor);
		cursor = next && *next ? strdup(next) : NULL;
		cJSON_Delete(body);
	} while (cursor && n < cap);
	free(cursor);
	lg_buf_free(&u);
	return n;
}

/* --test with --api auto: v2 answered; does it hold what the legacy API
 * holds over the run's window? Rewrites api when it does not. */
static void compare_apis(const run_opts *o, char *api, size_t len)
{
	long legacy = legacy_trace_count(o->c, o->from, o->to);
	if (legacy <= 0)
		return;
	long v2 = v2_root_count(o->c, o->from, o->to, legacy);
	if (v2 < 0) {
		o->c->error[0] = '\0';
		o->c->exit_code = 0;
		return;
	}
	if (v2_short(v2, legacy))
		snprintf(api, len, "legacy traces and observations (v2 observations hold %ld traces in the window "
			 "where the legacy endpoints hold %ld: v2 not filled, or still backfilling)", v2, legacy);
	else
		snprintf(api, len, "v2 observations (%ld traces in the window, as the legacy endpoints)", legacy);
}

int run_test(const run_opts *o)
{
	client *c = o->c;
	cJSON *body;
	get_result g = client_get(c, "/api/public/projects", &body);
	if (g != GET_OK) {
		int code = g == GET_FAIL ? c->exit_code : LG_EXIT_API;
		lg_err("%s", c->error);
		if (code == LG_EXIT_AUTH)
			client_auth_hints(c, c->http.status);
		return code;
	}
	const cJSON *p = cJSON_GetArrayItem(lg_json_get(body, "data"), 0);
	const char *name = lg_json_str(p, "name"), *id = lg_json_str(p, "id");
	char api[300], clean_name[200], clean_id[100];
	text_clean(name ? name : "(unnamed)", strlen(name ? name : "(unnamed)"), clean_name, sizeof clean_name, c->masks);
	text_clean(id ? id : "no id", strlen(id ? id : "no id"), clean_id, sizeof clean_id, c->masks);
	int code = 0;
	g = o->api == API_LEGACY ? GET_NOT_FOUND : probe(c, "/api/public/v2/observations", "fromStartTime", "toStartTime");
	if (g == GET_OK) {
		snprintf(api, sizeof api, "v2 observations");
		if (o->api == API_AUTO)
			compare_apis(o, api, sizeof api);
	} else if (g == GET_NOT_FOUND && o->api != API_V2) {
		g = probe(c, "/api/public/traces", "fromTimestamp", "toTimestamp");
		if (g == GET_OK)
			snprintf(api, sizeof api, "legacy traces and observations%s",
				 o->api == API_AUTO ? " (no v2 observations: self-hosted Langfuse v3)" : "");
	}
	if (g != GET_OK) {
		code = g == GET_FAIL ? c->exit_code : LG_EXIT_API;
		lg_err("%s", c->error[0] ? c->error : "no data API answered");
	} else {
		printf("Connection successful\nProject: %s (%s)\nHost: %s\nAPI: %s\n",
		       clean_name, clean_id, c->host, api);
	}
	cJSON_Delete(body);
	if (fflush(stdout) != 0) {
		lg_err("write error: %s", strerror(errno));
		return LG_EXIT_IO;
	}
	return code;
}

/* ---- re-fetching traces by id ----
 * lg-sync re-reads the traces lg-store still holds incomplete: each one by
 * itself, v2 by traceId (every row of it whatever its start), legacy as
 * GET /traces/{id}, through the same assembly as a window. No checkpoint:
 * a re-fetch says nothing about the cursor. */

/* One trace by GET /traces/{id}: TraceWithFullDetails, split into the
 * trace and its observations for the assembly. A trace the server does not
 * know (404) is skipped. */
static win_result refetch_legacy(run_state *s, const char *id)
{
	lg_buf u = { 0 }, q = { 0 };
	url_param(&q, "i", id); /* "?i=<id percent-encoded>" */
	lg_buf_adds(&u, "/api/public/traces/");
	lg_buf_adds(&u, lg_buf_cstr(&q) + 3);
	cJSON *body;
	get_result g = client_get(s->c, lg_buf_cstr(&u), &body);
	lg_buf_free(&u);
	lg_buf_free(&q);
	if (g == GET_NOT_FOUND) {
		if (s->c->verbose)
			lg_err("trace %s: not found", id);
		return WIN_DONE;
	}
	if (g != GET_OK)
		return client_fail(s);
	s->api = API_LEGACY;
	cJSON *obs = lg_json_take(body, "observations");
	while (cJSON_IsArray(obs) && obs->child) {
		cJSON *o = cJSON_DetachItemViaPointer(obs, obs->child);
		if (cJSON_IsObject(o) && assembly_add_v1_observation(&s->a, o) < 0) {
			cJSON_Delete(obs);
			cJSON_Delete(body);
			return run_fail(s, LG_EXIT_BAD, "out of memory");
		} else if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
		}
	}
	cJSON_Delete(obs);
	if (assembly_add_v1_trace(&s->a, body) < 0)
		return run_fail(s, LG_EXIT_BAD, "out of memory");
	return WIN_DONE;
}

/* The v2 filter that asks for the n trace ids (the events table's trace id
 * column, "any of"), and the set of them to check the rows against. */
static int batch_filter(run_state *s, char *const *ids, size_t n)
{
	static int mark;
	strmap_clear(&s->want);
	free(s->filter);
	s->filter = NULL;
	cJSON *f = cJSON_CreateArray(), *c = cJSON_CreateObject(), *v = cJSON_CreateArray();
	cJSON_AddItemToArray(f, c);
	cJSON_AddStringToObject(c, "type", "stringOptions");
	cJSON_AddStringToObject(c, "column", "traceId");
	cJSON_AddStringToObject(c, "operator", "any of");
	cJSON_AddItemToObject(c, "value", v);
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++)
		bad = !cJSON_AddItemToArray(v, cJSON_CreateString(ids[i])) || strmap_put(&s->want, ids[i], &mark) != 0;
	s->filter = bad ? NULL : lg_json_to_string(f);
	cJSON_Delete(f);
	return s->filter ? 0 : -1;
}

/* Reads the n traces named into the assembly: v2 by the filter (several) or
 * traceId (one); legacy one by one. */
static win_result refetch_some(run_state *s, char *const *ids, size_t n)
{
	window all = { s->o->from, s->o->to };
	win_result r = WIN_FALLBACK;
	if (s->api != API_LEGACY && n > 1) {
		if (batch_filter(s, ids, n) != 0)
			return run_fail(s, LG_EXIT_BAD, "out of memory");
		r = cursor_pages(s, PAGES_TRACE, all, NULL);
		if (r == WIN_SINGLE) {
			assembly_clear(&s->a);
			if (s->c->verbose)
				lg_err("the server ignored the v2 filter on trace ids; re-fetching them one by one");
			for (size_t i = 0; i < n && r != WIN_FAIL && r != WIN_FALLBACK; i++)
				r = cursor_pages(s, PAGES_TRACE, all, ids[i]);
		}
	} else if (s->api != API_LEGACY) {
		r = cursor_pages(s, PAGES_TRACE, all, ids[0]);
	}
	if (r != WIN_FALLBACK)
		return r;
	assembly_clear(&s->a);
	for (size_t i = 0; i < n && r != WIN_FAIL; i++)
		r = refetch_legacy(s, ids[i]);
	return r;
}

int run_refetch(const run_opts *o, char *const *ids, size_t n, FILE *out)
{
	run_state s;
	if (run_begin(&s, o, out) != 0)
		return LG_EXIT_IO;
	if (fetch_project(&s) != 0) {
		run_fail(&s, s.c->exit_code, s.c->error);
	} else if (start_run(&s) == 0) {
		for (size_t i = 0, k; i < n && !s.st.stop; i += k) {
			if (stop_requested()) {
				char e[64];
				snprintf(e, sizeof e, "interrupted by %s", stop_signal_name());
				run_fail(&s, LG_EXIT_BAD, e);
				break;
			}
			k = s.no_filter ? 1 : n - i < REFETCH_BATCH ? n - i : REFETCH_BATCH;
			if (refetch_some(&s, ids + i, k) == WIN_FAIL)
				break;
			if (assembly_emit(&s.a, s.project_id, emit_trace, &s) < 0) {
				run_fail(&s, LG_EXIT_BAD, "out of memory");
				break;
			}
		}
	}
	return run_finish(&s, out, 0);
}
