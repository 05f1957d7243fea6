/* A growable byte buffer; the only allocation pattern for output. And
 * lg_grow, the same doubling for an array of any element. */
#ifndef LG_BUF_H
#define LG_BUF_H
#include <stddef.h>
#include <string.h>

typedef struct {
	char *data;
	size_t len;
	size_t cap;
} lg_buf;

/* Returns 0, or -1 when memory is exhausted (the buffer is unchanged). */
int lg_buf_reserve(lg_buf *b, size_t extra);

/* Inline: the printer appends a few bytes at a time, millions of times. */
static inline int lg_buf_add(lg_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap && lg_buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int lg_buf_addc(lg_buf *b, char c)
{
	if (b->len + 2 > b->cap && lg_buf_reserve(b, 1))
		return -1;
	b->data[b->len++] = c;
	return 0;
}

int lg_buf_adds(lg_buf *b, const char *s);
int lg_buf_printf(lg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates without counting the NUL in len. */
const char *lg_buf_cstr(lg_buf *b);
void lg_buf_free(lg_buf *b);

/* An array p of *cap elements of size bytes, full: reallocated with twice
 * the room (first elements when it has none). The new array with *cap
 * updated, or NULL when memory is exhausted or the size would overflow
 * (p and *cap unchanged, p still the caller's to free). */
void *lg_grow(void *p, size_t *cap, size_t first, size_t size);
#endif
