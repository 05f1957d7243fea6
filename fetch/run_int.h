/* One fetch run's parts, shared by its files (run.h is the interface):
 *   run.c          a run from start to end: its state, the project, the
 *                  windows oldest first, each read, its scores, emitted
 *   run_out.c      what a run writes: run-start, traces, checkpoints,
 *                  run-end, and the progress line on stderr
 *   run_ends.c     how a read of pages ends: failure, narrower windows,
 *                  endless paging, too many rows held
 *   run_v2.c       cursor-paged reads: v2 observations of a window or of
 *                  traces by id, v3 scores of a window
 *   run_legacy.c   a window read from the legacy traces and observations
 *   run_byid.c     lg-fetch --trace-id: traces re-fetched by id
 *   run_apis.c     which API holds the data: --test, and --api auto's
 *                  count of v2 against legacy
 *
 * Return conventions, one per file:
 *   run.c          0, or -1 with the run's error in run_state (one_window
 *                  also 1: stop without failing); run_fetch and
 *                  run_finish the exit status
 *   run_out.c      0, or -1 on a write error (the stream says which);
 *                  run_emit_trace answers assembly_emit (non-zero stops)
 *   run_ends.c,    a win_result: how the read goes on (WIN_FAIL with the
 *   run_v2.c,      run's error in run_state); run_ends.c's tests answer
 *   run_legacy.c,  whether the read must end; legacy_page a row count or
 *   run_byid.c     -1; run_refetch the exit status
 *   run_apis.c     a count, or -1 when it cannot say (the failure
 *                  forgotten), and yes/no; run_test the exit status */
#ifndef FETCH_RUN_INT_H
#define FETCH_RUN_INT_H
#include <stdint.h>
#include <stdio.h>

#include "assemble.h"
#include "buf.h"
#include "client.h"
#include "run.h"
#include "stream.h"
#include "strmap.h"
#include "window.h"

#define V2_MAX_LIMIT 1000
/* Pages in a row that bring no new row before paging is called endless:
 * a server handing out fresh cursors with empty or repeated pages would
 * otherwise hold the run for ever. */
#define NO_PROGRESS_PAGES 5
/* A window at the minimum span may hold this many times --max-rows before
 * the run gives up: it cannot be split further, and rows are memory. */
#define ROW_HARD_FACTOR 2

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

/* What a cursor-paged read asks for: the v2 observations of a window or
 * of one trace, or the v3 scores of a window. */
typedef enum { PAGES_WINDOW, PAGES_TRACE, PAGES_SCORES } pages_kind;

/* run.c: the start every run shares, the project's id (for the traces
 * out), and how every run ends (its status). */
int run_begin(run_state *s, const run_opts *o, FILE *out);
int run_project(run_state *s);
int run_finish(run_state *s, FILE *out, int auth_hints);

/* run_out.c: a time as text; run-start (once, before any other line);
 * a trace (assembly_emit's callback); a checkpoint; run-end; progress. */
char *run_iso(int64_t ms, char buf[32]);
int run_emit_start(run_state *s);
int run_emit_trace(cJSON *t, void *ctx);
int run_emit_checkpoint(run_state *s, window w, long traces, long rows);
void run_emit_end(run_state *s);
void run_progress(run_state *s, int64_t upto, int final);

/* run_ends.c */
win_result run_fail(run_state *s, int code, const char *msg);
win_result run_client_fail(run_state *s);
int run_overflowed(run_state *s, window w, long held, int64_t rows_span);
win_result run_narrowed(run_state *s, window w);
const char *run_endless(strmap *seen, const char *cursor, long new_rows, int *idle);
win_result run_endless_fail(run_state *s, const char *why);
win_result run_too_many_rows(run_state *s, window w);

/* run_v2.c: a cursor-paged read to its last page (trace_id: one trace;
 * NULL with PAGES_TRACE: the batch in s->filter). */
win_result run_cursor_pages(run_state *s, pages_kind kind, window w, const char *trace_id);

/* run_legacy.c: a window's traces and observations. */
win_result run_read_legacy(run_state *s, window w);

/* run_apis.c: --api auto, v2 answered a window: 1 when it holds too
 * little of what the legacy endpoints hold (switch to them). */
int run_v2_holds_too_little(run_state *s, window w);
#endif
