/* libFuzzer target: common/line.c (lg_reader) against a tiny reference
 * model of the NDJSON line contract: split on '\n', drop one trailing '\r',
 * skip blank lines, reject lines longer than max or holding a NUL, number
 * every line. The first input byte picks max, so the over-long paths run.
 * fuzz-links: */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		/* An unterminated last line is measured before its '\r' is
		 * stripped (the reader cannot know yet that it is the last). */
		if (len > max || (!nl && raw > max)) {
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

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = (size_t)data[0] + 1;
	const unsigned char *d = data + 1;
	size_t n = size - 1;
	/* fmemopen refuses a zero-sized buffer on some libcs. */
	char *copy = malloc(n + 1);
	memcpy(copy, d, n);
	FILE *f = n ? fmemopen(copy, n, "r") : fopen("/dev/null", "r");
	if (!f) {
		free(copy);
		return 0;
	}
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
	free(copy);
	return 0;
}
