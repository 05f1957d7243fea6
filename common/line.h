/* NDJSON line reader: any length up to LG_LINE_MAX, CRLF tolerated, a last
 * line without newline is fine, NUL bytes rejected, lines numbered. */
#ifndef LG_LINE_H
#define LG_LINE_H
#include <stdio.h>
#include <stddef.h>

#define LG_LINE_MAX ((size_t)64 << 20)

enum { LG_LINE_EOF = 0, LG_LINE_OK = 1, LG_LINE_BAD = -1, LG_LINE_IOERR = -2 };

typedef struct {
	FILE *fp;
	const char *name;      /* "<stdin>" or a path, for messages */
	char *buf;
	size_t cap, start, end, scan;
	size_t max;            /* longest accepted line, LG_LINE_MAX by default */
	unsigned long lineno;  /* number of the line last returned */
	int eof;
	char why[96];          /* reason after LG_LINE_BAD / LG_LINE_IOERR */
} lg_reader;

void lg_reader_init(lg_reader *r, FILE *fp, const char *name);
/* Next non-blank line, NUL-terminated, without its "\n" or "\r\n". The pointer
 * is valid until the next call. LG_LINE_BAD: the line was skipped, r->why
 * says why and (*line, *len) hold what was kept of it (maybe nothing). */
int lg_reader_next(lg_reader *r, char **line, size_t *len);
void lg_reader_free(lg_reader *r);
#endif
