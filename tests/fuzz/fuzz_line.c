/* libFuzzer target: common/line.c (lg_reader) against a tiny reference
 * model of the NDJSON line contract: split on '\n', drop one trailing '\r',
 * skip blank lines, reject lines longer than max or holding a NUL, number
 * every line. The first input byte picks max, so the over-long paths run;
 * the second, the sizes of the pieces the pipe delivers.
 * fuzz-links: */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "line.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The expected next event from position *pos of the input. */
typedef struct {
	int rc;
	const unsigned char *line;
	size_t len;
	unsigned long lineno;
} event;

static event model_next(const unsigned char *d, size_t n, size_t *pos, unsigned long *lineno, size_t max)
{
	for (;;) {
		event e = { LG_LINE_EOF, NULL, 0, *lineno };
		if (*pos >= n)
			return e;
		const unsigned char *s = d + *pos;
		const unsigned char *nl = memchr(s, '\n', n - *pos);
		size_t raw = nl ? (size_t)(nl - s) : n - *pos;
		*pos += raw + (nl ? 1 : 0);
		e.lineno = ++*lineno;
		size_t len = raw;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len > max) {
			e.rc = LG_LINE_BAD;
			return e;
		}
		size_t i = 0;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			continue;
		e.line = s;
		e.len = len;
		e.rc = memchr(s, '\0', len) ? LG_LINE_BAD : LG_LINE_OK;
		return e;
	}
}

/* The reader reads with read(2) as pipes deliver: in pieces. A writer
 * thread feeds the pipe in chunks of fuzz-chosen sizes and waits until each
 * one has been read, so line boundaries fall anywhere in a read. */
typedef struct {
	int fd;
	const unsigned char *d;
	size_t n;
	unsigned step;
} feeder;

static void *feed(void *arg)
{
	feeder *f = arg;
	size_t off = 0, k = 0;
	while (off < f->n) {
		size_t len = 1 + (k++ * 7919 + f->step) % (f->step + 1);
		if (len > f->n - off)
			len = f->n - off;
		ssize_t w = write(f->fd, f->d + off, len);
		if (w <= 0)
			break;
		off += (size_t)w;
		int pending = 1;
		while (ioctl(f->fd, FIONREAD, &pending) == 0 && pending > 0)
			sched_yield();
	}
	close(f->fd);
	return NULL;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max = (size_t)data[0] + 1;
	feeder fd = { -1, data + 2, size - 2, data[1] };
	const unsigned char *d = fd.d;
	size_t n = fd.n;
	int p[2];
	if (pipe(p) != 0)
		return 0;
	fd.fd = p[1];
	pthread_t th;
	if (pthread_create(&th, NULL, feed, &fd) != 0) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	FILE *f = fdopen(p[0], "r");
	if (!f)
		abort();
	lg_reader r;
	lg_reader_init(&r, f, "<fuzz>");
	r.max = max;
	size_t pos = 0;
	unsigned long mline = 0;
	for (;;) {
		char *line = NULL;
		size_t len = 0;
		int rc = lg_reader_next(&r, &line, &len);
		event e = model_next(d, n, &pos, &mline, max);
		if (rc != e.rc) {
			fprintf(stderr, "rc %d, model %d at line %lu\n", rc, e.rc, e.lineno);
			abort();
		}
		if (rc == LG_LINE_EOF)
			break;
		if (r.lineno != e.lineno) {
			fprintf(stderr, "lineno %lu, model %lu\n", r.lineno, e.lineno);
			abort();
		}
		if (e.line) {
			if (!line || len != e.len || memcmp(line, e.line, len) != 0 || line[len] != '\0') {
				fprintf(stderr, "line %lu differs from the model\n", e.lineno);
				abort();
			}
		}
	}
	lg_reader_free(&r);
	fclose(f);
	pthread_join(th, NULL);
	return 0;
}
