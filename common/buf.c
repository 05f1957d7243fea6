#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int lg_buf_reserve(lg_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

void *lg_grow(void *p, size_t *cap, size_t first, size_t size)
{
	size_t n = *cap ? *cap * 2 : first;
	if (n < *cap || (size && n > SIZE_MAX / size))
		return NULL;
	void *v = realloc(p, n * size);
	if (v)
		*cap = n;
	return v;
}

int lg_buf_adds(lg_buf *b, const char *s)
{
	return lg_buf_add(b, s, strlen(s));
}

int lg_buf_printf(lg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || lg_buf_reserve(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *lg_buf_cstr(lg_buf *b)
{
	if (lg_buf_reserve(b, 0))
		return NULL;
	b->data[b->len] = '\0';
	return b->data;
}

void lg_buf_free(lg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
