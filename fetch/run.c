/* One fetch run: the state it starts from (options, clock, page size, run
 * id, the output stream), the project, then the windows oldest first: each
 * read completely (v2 or legacy), its scores read, its traces emitted, then
 * a checkpoint. How the run ends is the same for a re-fetch by id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "stop.h"
#include "timeutil.h"

int run_project(run_state *s)
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
	win_result r = s->api == API_LEGACY ? run_read_legacy(s, w) : run_cursor_pages(s, PAGES_WINDOW, w, NULL);
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
	if (s->o->api == API_AUTO && s->api == API_V2 && !s->v2_checked && count_due && run_v2_holds_too_little(s, w)) {
		s->api = API_LEGACY;
		s->v2_checked = 1;
		assembly_clear(&s->a);
		return window_plan(&s->q, w.from, w.to) == 0 ? 0 : -1;
	}
	/* The scores whose timestamp lies in the window: attached to its
	 * traces, and those of a trace read in another window (or run) as a
	 * fragment of their own. A 404 (no v3 scores API, such as self-hosted
	 * v3) turns scores off for the run. */
	if (!s->no_scores && scores_due(s->o, w) && (r = run_cursor_pages(s, PAGES_SCORES, w, NULL)) != WIN_DONE)
		return r == WIN_AGAIN ? 0 : -1;
	long rows = s->a.rows;
	s->win_traces = 0;
	int rc = assembly_emit(&s->a, s->project_id, run_emit_trace, s);
	if (rc < 0) {
		run_fail(s, LG_EXIT_BAD, "out of memory");
		return -1;
	}
	if (rc == 0 && !s->st.stop)
		run_emit_checkpoint(s, w, s->win_traces, rows);
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
	run_progress(s, w.to, 0);
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
int run_begin(run_state *s, const run_opts *o, FILE *out)
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
int run_finish(run_state *s, FILE *out, int auth_hints)
{
	if (s->exit_code) {
		lg_err("%s", s->error);
		if (auth_hints && s->exit_code == LG_EXIT_AUTH)
			client_auth_hints(s->c, s->c->http.status);
	}
	if (!s->st.stop)
		run_emit_end(s);
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
	if (run_project(&s) != 0) {
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
	run_progress(&s, o->to, 1);
	return run_finish(&s, out, 1);
}
