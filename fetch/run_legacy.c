/* A window read from the legacy endpoints: its traces, then its
 * observations, paged by time rather than offset (offset pages drift while
 * rows arrive), and the rows of one millisecond read apart. */
#include <string.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "timeutil.h"
#include "url.h"

#define LEGACY_MAX_LIMIT 100
/* Re-reads of the pages of one millisecond before giving up on collecting
 * every row of it (legacy pages have no order among equal timestamps). */
#define LEGACY_TIE_ROUNDS 16

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
		*res = run_client_fail(s);
		return -1;
	}
	if (g == GET_NARROW || g == GET_TOO_LARGE) {
		*res = run_narrowed(s, w);
		return -1;
	}
	if (g == GET_FAIL) {
		*res = run_client_fail(s);
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

/* The URL of a legacy page: traces in the order named, or observations
 * (newest first, the server's only order), with a time in [from, to). */
static void legacy_url(lg_buf *u, int traces, const char *order, long page, long limit, int64_t from,
		       int64_t to)
{
	u->len = 0;
	lg_buf_adds(u, traces ? "/api/public/traces" : "/api/public/observations");
	url_param_long(u, "page", page);
	url_param_long(u, "limit", limit);
	if (traces) {
		url_param(u, "orderBy", order);
		url_param_time(u, "fromTimestamp", from);
		url_param_time(u, "toTimestamp", to);
		url_param(u, "fields", "core,io,metrics");
	} else {
		url_param_time(u, "fromStartTime", from);
		url_param_time(u, "toStartTime", to);
	}
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
			legacy_url(u, traces, "id.asc", page, limit, t, t + 1);
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
		 run_iso(t, at), ids.n, LEGACY_TIE_ROUNDS);
	res = run_fail(s, LG_EXIT_API, e);
out:
	strmap_clear(&ids);
	return res;
}

/* A page of a window's walk (its URL in u), read into the assembly; then
 * whether the walk ends here (*res says how): the page failed, too many
 * rows held (re-planned narrower, or beyond any split), the last page
 * (short), or pages that bring nothing new. */
static int legacy_walk_page(run_state *s, window w, lg_buf *u, int traces, int64_t *last, int *idle,
			    win_result *res)
{
	long before = s->a.rows + s->a.traces_held;
	long n = legacy_page(s, w, lg_buf_cstr(u), traces ? "timestamp" : "startTime", traces, last, res, NULL,
			     NULL);
	if (n < 0)
		return 1;
	int short_page = n < page_limit(s);
	long held = s->a.rows + s->a.traces_held;
	int ov = run_overflowed(s, w, held, 0);
	if (ov) {
		*res = ov > 0 ? WIN_AGAIN : run_fail(s, LG_EXIT_BAD, "out of memory");
		return 1;
	}
	if (held > ROW_HARD_FACTOR * s->o->max_rows) {
		*res = run_too_many_rows(s, w);
		return 1;
	}
	run_progress(s, w.from, 0);
	if (short_page) {
		*res = WIN_DONE;
		return 1;
	}
	const char *why = run_endless(NULL, NULL, held - before, idle);
	if (why) {
		*res = run_endless_fail(s, why);
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
		legacy_url(u, 1, "timestamp.asc", 1, limit, from, w.to);
		if (legacy_walk_page(s, w, u, 1, &last, &idle, &res))
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
		legacy_url(u, 0, NULL, 1, limit, w.from, to);
		if (legacy_walk_page(s, w, u, 0, &last, &idle, &res))
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

win_result run_read_legacy(run_state *s, window w)
{
	lg_buf u = { 0 };
	win_result r = legacy_traces(s, w, &u);
	if (r == WIN_DONE)
		r = legacy_observations(s, w, &u);
	lg_buf_free(&u);
	return r;
}
