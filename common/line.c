#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line.h"

#define CHUNK ((size_t)1 << 16)
/* The input pipe's kernel buffer we ask for: a pipe holds 64 KB (about
 * seven records), so a stage that pauses (lg-store in fdatasync) soon
 * stopped the stages before it; 1 MB, Linux's default limit for a user,
 * lets them keep working through such pauses. Not process memory. */
#define PIPE_WANT (1 << 20)

void lg_reader_init(lg_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name;
	r->max = LG_LINE_MAX;
#ifdef F_SETPIPE_SZ
	int fd = fp ? fileno(fp) : -1, size = fd >= 0 ? fcntl(fd, F_GETPIPE_SZ) : -1;
	if (size > 0 && size < PIPE_WANT) /* a pipe, and a small one */
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_WANT); /* best effort */
#endif
}

void lg_reader_free(lg_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Reads more input after end; returns bytes read, 0 at EOF, -1 on error. */
static long fill(lg_reader *r)
{
	if (r->start > 0 && r->start == r->end) {
		r->start = r->end = r->scan = 0;
	} else if (r->start > 0 && r->end + CHUNK + 1 > r->cap) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->end + CHUNK + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : CHUNK * 4;
		while (cap < r->end + CHUNK + 1)
			cap *= 2;
		char *p = realloc(r->buf, cap);
		if (!p) {
			snprintf(r->why, sizeof r->why, "out of memory");
			return -1;
		}
		r->buf = p;
		r->cap = cap;
	}
	/* read(2), not fread: fread waits until the whole chunk is there, so a
	 * line that arrived (a checkpoint from a slow producer) would sit in a
	 * pipe until 256 KiB more followed. */
	size_t n;
	int fd = fileno(r->fp);
	if (fd >= 0) {
		ssize_t got;
		do
			got = read(fd, r->buf + r->end, r->cap - r->end - 1);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			snprintf(r->why, sizeof r->why, "read error: %s", strerror(errno));
			return -1;
		}
		n = (size_t)got;
	} else {
		n = fread(r->buf + r->end, 1, r->cap - r->end - 1, r->fp);
		if (n == 0 && ferror(r->fp)) {
			snprintf(r->why, sizeof r->why, "read error: %s", strerror(errno));
			return -1;
		}
	}
	if (n == 0)
		r->eof = 1;
	r->end += n;
	return (long)n;
}

/* Drops input up to and including the next newline (an over-long line). */
static int skip_rest(lg_reader *r)
{
	for (;;) {
		char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		if (nl) {
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		r->start = r->end = r->scan = 0;
		if (r->eof)
			return 0;
		if (fill(r) < 0)
			return -1;
	}
}

int lg_reader_next(lg_reader *r, char **line, size_t *len)
{
	for (;;) {
		char *nl = r->end > r->scan ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
		/* max + 1: the line may still end in "\r\n", and its verdict
		 * must not depend on how the pipe split it. */
		if (!nl && r->end - r->start > r->max + 1) {
			r->lineno++;
			snprintf(r->why, sizeof r->why, "line longer than %zu bytes", r->max);
			*line = NULL;
			*len = 0;
			return skip_rest(r) ? LG_LINE_IOERR : LG_LINE_BAD;
		}
		if (!nl && !r->eof) {
			r->scan = r->end;
			if (fill(r) < 0)
				return LG_LINE_IOERR;
			continue;
		}
		if (!nl && r->start == r->end)
			return LG_LINE_EOF;

		size_t lstart = r->start;
		size_t lend = nl ? (size_t)(nl - r->buf) : r->end;
		r->start = r->scan = nl ? lend + 1 : r->end;
		r->lineno++;
		if (lend > lstart && r->buf[lend - 1] == '\r')
			lend--;
		if (lend - lstart > r->max) {
			snprintf(r->why, sizeof r->why, "line longer than %zu bytes", r->max);
			*line = NULL;
			*len = 0;
			return LG_LINE_BAD;
		}
		char *s = r->buf + lstart;
		size_t n = lend - lstart;
		s[n] = '\0';
		size_t i = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			continue; /* blank line: no record, nothing to lose */
		*line = s;
		*len = n;
		char *nul = memchr(s, '\0', n);
		if (nul) {
			snprintf(r->why, sizeof r->why, "NUL byte at byte %zu", (size_t)(nul - s) + 1);
			return LG_LINE_BAD;
		}
		return LG_LINE_OK;
	}
}
