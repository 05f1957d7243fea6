#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "t.h"

static FILE *mem(const char *s, size_t n)
{
	FILE *f = tmpfile();
	fwrite(s, 1, n, f);
	rewind(f);
	return f;
}

int main(void)
{
	lg_reader r;
	char *line;
	size_t len;
	const char in[] = "a\r\n\n  \nbb\nc\0d\nlast";
	FILE *f = mem(in, sizeof in - 1);
	lg_reader_init(&r, f, "<test>");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_OK, "first line");
	T_STR(line, "a", "CRLF stripped");
	T_INT(r.lineno, 1, "line 1");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_OK, "blank lines skipped");
	T_STR(line, "bb", "fourth line");
	T_INT(r.lineno, 4, "blank lines still counted");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_BAD, "NUL rejected");
	T_STR(r.why, "NUL byte at byte 2", "NUL position");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_OK, "last line without newline");
	T_STR(line, "last", "last line content");
	T_INT(r.lineno, 6, "last line number");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_EOF, "eof");
	lg_reader_free(&r);
	fclose(f);

	/* A line longer than the limit is skipped whole; the next one is fine. */
	size_t big = 300000;
	char *buf = malloc(big + 16);
	memset(buf, 'x', big);
	memcpy(buf + big, "\nok\n", 4);
	f = mem(buf, big + 4);
	lg_reader_init(&r, f, "<test>");
	r.max = 100000;
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_BAD, "over-long line rejected");
	T_STR(r.why, "line longer than 100000 bytes", "over-long reason");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_OK, "line after over-long");
	T_STR(line, "ok", "line after over-long content");
	T_INT(r.lineno, 2, "line after over-long number");
	lg_reader_free(&r);
	fclose(f);

	/* A long line under the limit arrives whole. */
	buf[big] = '\n';
	f = mem(buf, big + 1);
	lg_reader_init(&r, f, "<test>");
	T_INT(lg_reader_next(&r, &line, &len), LG_LINE_OK, "300 KB line read");
	T_INT(len, big, "300 KB line length");
	lg_reader_free(&r);
	fclose(f);
	free(buf);
	return t_done();
}
