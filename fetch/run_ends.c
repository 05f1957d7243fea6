/* How a read of pages ends when it cannot simply go on: the run fails, the
 * window is re-read narrower (the server asks for less, or it holds too
 * many rows), or the server pages endlessly. */
#include "err.h"
#include "run_int.h"

win_result run_fail(run_state *s, int code, const char *msg)
{
	snprintf(s->error, sizeof s->error, "%s", msg);
	s->exit_code = code;
	return WIN_FAIL;
}

win_result run_client_fail(run_state *s)
{
	/* a 404 the caller could not use has no exit code of its own */
	return run_fail(s, s->c->exit_code ? s->c->exit_code : LG_EXIT_API, s->c->error);
}

/* Too many rows for one window: drop them and re-read it narrower. */
int run_overflowed(run_state *s, window w, long held, int64_t rows_span)
{
	if (held <= s->o->max_rows || w.to - w.from <= WINDOW_MIN_SPAN_MS)
		return 0;
	assembly_clear(&s->a);
	if (window_overflowed(&s->q, w, rows_span) != 0)
		return -1;
	if (s->c->verbose) {
		char a[32], b[32];
		lg_err("window %s..%s holds more than %ld rows; reading it in narrower windows",
		       run_iso(w.from, a), run_iso(w.to, b), s->o->max_rows);
	}
	return 1;
}

win_result run_narrowed(run_state *s, window w)
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
const char *run_endless(strmap *seen, const char *cursor, long new_rows, int *idle)
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

win_result run_endless_fail(run_state *s, const char *why)
{
	char e[200];
	snprintf(e, sizeof e, "endless paging: the server sent %s; giving up on this run", why);
	return run_fail(s, LG_EXIT_API, e);
}

/* Rows held beyond what even a split could bound. */
win_result run_too_many_rows(run_state *s, window w)
{
	char a[32], b[32], e[300];
	snprintf(e, sizeof e, "window %s..%s holds more than %ld rows and cannot be split further (--max-rows)",
		 run_iso(w.from, a), run_iso(w.to, b), (long)ROW_HARD_FACTOR * s->o->max_rows);
	return run_fail(s, LG_EXIT_API, e);
}
