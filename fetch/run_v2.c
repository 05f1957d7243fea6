/* Cursor-paged reads: the v2 observations of a window, of one trace or
 * of a batch of traces by the filter parameter, and the v3 scores of a
 * window, each row into the assembly. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "url.h"

#define V2_FIELDS "core,basic,time,io,metadata,model,usage,prompt,metrics,trace_context"

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
		return run_client_fail(s);
	}
	if ((g == GET_NARROW || g == GET_TOO_LARGE) && kind != PAGES_TRACE)
		return run_narrowed(s, w);
	return run_client_fail(s);
}

/* Reads a cursor-paged endpoint to its last page, each row into the
 * assembly. Paging stops on a cursor that repeats or cycles and on pages
 * that bring nothing new; a window's read also stops when it holds too
 * many rows (WIN_AGAIN: re-planned narrower). */
win_result run_cursor_pages(run_state *s, pages_kind kind, window w, const char *trace_id)
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
		const char *why = run_endless(&seen, cursor, added + s->a.rows - before, &idle);
		if (why) {
			res = run_endless_fail(s, why);
			break;
		}
		if (kind == PAGES_WINDOW) {
			int64_t span = s->a.oldest == INT64_MAX ? 0 : w.to - s->a.oldest;
			int ov = run_overflowed(s, w, s->a.rows, span);
			if (ov) {
				res = ov > 0 ? WIN_AGAIN : run_fail(s, LG_EXIT_BAD, "out of memory");
				break;
			}
			if (s->a.rows > ROW_HARD_FACTOR * s->o->max_rows) {
				res = run_too_many_rows(s, w);
				break;
			}
			run_progress(s, w.from, 0);
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
