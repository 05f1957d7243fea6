#include <stdlib.h>

#include "buf.h"
#include "window.h"

static int push(window_queue *q, window w)
{
	if (q->n == q->cap) {
		window *v = lg_grow(q->v, &q->cap, 16, sizeof *v);
		if (!v)
			return -1;
		q->v = v;
	}
	q->v[q->n++] = w;
	return 0;
}

int window_plan(window_queue *q, int64_t from, int64_t to)
{
	return from < to ? push(q, (window){ from, to }) : 0;
}

static int64_t max_span(const window_queue *q)
{
	int64_t s = q->span_limit;
	if (q->row_span && (!s || q->row_span < s))
		s = q->row_span;
	return s;
}

int window_take(window_queue *q, window *w)
{
	if (!q->n)
		return 0;
	*w = q->v[--q->n];
	int64_t s = max_span(q);
	if (s && w->to - w->from > s) {
		window rest = { w->from + s, w->to };
		w->to = w->from + s;
		q->v[q->n++] = rest; /* the slot just freed */
	}
	return 1;
}

int window_timed_out(window_queue *q, window w)
{
	int64_t span = w.to - w.from;
	if (span <= WINDOW_MIN_SPAN_MS)
		return -1;
	q->span_limit = span / 2 < WINDOW_MIN_SPAN_MS ? WINDOW_MIN_SPAN_MS : span / 2;
	return push(q, w);
}

int window_overflowed(window_queue *q, window w, int64_t rows_span)
{
	int64_t span = w.to - w.from;
	if (span <= WINDOW_MIN_SPAN_MS)
		return -1;
	/* Aim at half the bound per window: the rows seen covered rows_span. */
	int64_t s = rows_span > 0 && rows_span < span ? rows_span / 2 : span / 2;
	q->row_span = s < WINDOW_MIN_SPAN_MS ? WINDOW_MIN_SPAN_MS : s;
	return push(q, w);
}

void window_completed(window_queue *q, window w, long rows, long bound)
{
	if (q->row_span && rows < bound / 4 && w.to - w.from >= q->row_span)
		q->row_span *= 2;
}

void window_free(window_queue *q)
{
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}
