/* Time windows [from, to), processed oldest first and split adaptively:
 * narrower after 422 "Request timed out" / 524 (span_limit, only shrinks),
 * and narrower when a window held more rows than the memory bound
 * (row_span, which widens again while windows stay small). */
#ifndef FETCH_WINDOW_H
#define FETCH_WINDOW_H
#include <stddef.h>
#include <stdint.h>

#define WINDOW_MIN_SPAN_MS 1000

typedef struct {
	int64_t from, to;
} window;

typedef struct {
	window *v;          /* a stack: v[n-1] is the oldest pending window */
	size_t n, cap;
	int64_t span_limit; /* 0 = none; set by timeouts */
	int64_t row_span;   /* 0 = none; set by row overflow */
} window_queue;

/* Plans [from, to) as one pending window. Returns 0, or -1 out of memory. */
int window_plan(window_queue *q, int64_t from, int64_t to);
/* Pops the oldest pending window, cut to the current span limits (the rest
 * stays pending). Returns 0 when empty. */
int window_take(window_queue *q, window *w);
/* The window timed out (422/524): halve the span limit and put it back.
 * Returns -1 when it is already at the minimum span (cannot split). */
int window_timed_out(window_queue *q, window w);
/* The window held more than the row bound; rows_span = the time the rows
 * held so far covered (newest first walk: to - oldest start seen), or 0 if
 * unknown. Puts it back to be re-read in narrower pieces. -1 when it is
 * already at the minimum span. */
int window_overflowed(window_queue *q, window w, int64_t rows_span);
/* A window completed with rows out of a bound: widen again when sparse. */
void window_completed(window_queue *q, window w, long rows, long bound);
void window_free(window_queue *q);
#endif
