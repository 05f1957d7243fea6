#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "line.h"
#include "private.h"
#include "stream.h"

int lg_stream_init(lg_stream *st, FILE *out, const char *quarantine_path)
{
	memset(st, 0, sizeof *st);
	st->out = out;
	/* A closed pipe is an errno, not a signal: "| head -n1" ends quietly. */
	signal(SIGPIPE, SIG_IGN);
	if (quarantine_path && !(st->quarantine = lg_quarantine_open(quarantine_path)))
		return LG_EXIT_IO;
	return 0;
}

void lg_stream_free(lg_stream *st)
{
	if (st->quarantine)
		fclose(st->quarantine);
	st->quarantine = NULL;
	lg_buf_free(&st->obuf);
}

const char *lg_control_type(const cJSON *obj)
{
	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	const cJSON *t = obj->child;
	/* "$lg" is by convention the first key; fall back to a search. */
	if (t && t->string && strcmp(t->string, "$lg") == 0)
		return cJSON_IsString(t) ? t->valuestring : "";
	t = lg_json_get(obj, "$lg");
	return t ? (cJSON_IsString(t) ? t->valuestring : "") : NULL;
}

void lg_quarantine(FILE *q, const char *name, unsigned long lineno, const char *why,
		   const char *line, size_t len)
{
	if (!q)
		return;
	fprintf(q, "# %s:%lu: %s\n", name, lineno, why);
	if (line)
		fwrite(line, 1, len, q);
	fputc('\n', q);
	fflush(q);
}

void lg_stream_reject(lg_stream *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->reject, sizeof st->reject, fmt, ap);
	va_end(ap);
}

int lg_stream_write(lg_stream *st, const char *s, size_t n)
{
	if (st->stop)
		return -1;
	errno = 0;
	if (fwrite(s, 1, n, st->out) != n || putc('\n', st->out) == EOF) {
		if (errno != EPIPE)
			st->write_error = errno ? errno : EIO;
		st->stop = 1;
		return -1;
	}
	return 0;
}

static void bad_line(lg_stream *st, const char *why, const char *line, size_t len)
{
	st->bad++;
	lg_err("%s:%lu: %s", st->in_name, st->lineno, why);
	lg_quarantine(st->quarantine, st->in_name, st->lineno, why, line, len);
}

/* The record as the line's own bytes wherever it did not change: each root
 * member the callback left in place (same item, not in st->splice_keys) is
 * copied from the line, the others printed. Returns 0, or -1 out of memory. */
static int splice(lg_stream *st, const cJSON *rec, const char *line)
{
	lg_buf *b = &st->obuf;
	int rc = lg_buf_addc(b, '{');
	for (const cJSON *m = rec->child; m && !rc; m = m->next) {
		size_t from, to;
		const char *key = m->string ? m->string : "";
		int keep = lg_json_top_span(m, &from, &to);
		for (const char *const *k = st->splice_keys; keep && *k; k++)
			if (strcmp(*k, key) == 0)
				keep = 0;
		if (m != rec->child)
			rc = lg_buf_addc(b, ',');
		if (rc)
			break;
		if (keep) {
			rc = lg_buf_add(b, line + from, to - from);
		} else {
			rc = lg_json_print_string(b, key, strlen(key));
			rc = rc || lg_buf_addc(b, ':') || lg_json_print(b, m);
		}
	}
	return rc || lg_buf_addc(b, '}') ? -1 : 0;
}

/* The sanitized build checks every splice unless LG_SPLICE_CHECK=0; any
 * build does with LG_SPLICE_CHECK=1 (the test suite sets it). */
#if defined(__SANITIZE_ADDRESS__)
#define SPLICE_CHECK_DEFAULT 1
#else
#define SPLICE_CHECK_DEFAULT 0
#endif

/* Every spliced record is compared with the whole record printed; a
 * difference is a bug in a tool's splice_keys, reported and fatal. */
static void splice_check(lg_stream *st, const cJSON *rec)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("LG_SPLICE_CHECK");
		on = e && *e ? strcmp(e, "1") == 0 : SPLICE_CHECK_DEFAULT;
	}
	if (!on)
		return;
	cJSON *got = lg_json_parse(st->obuf.data, st->obuf.len, NULL);
	if (!got || !lg_json_equal(got, rec)) {
		lg_err("%s:%lu: spliced record differs from the record (splice_keys misses a key)", st->in_name,
		       st->lineno);
		abort();
	}
	cJSON_Delete(got);
}

static void process_line(lg_stream *st, char *line, size_t len, lg_record_fn fn,
			 lg_control_fn cfn, void *ctx)
{
	lg_json_error jerr;
	cJSON *rec = lg_json_parse_arena(line, len, &jerr);
	char why[128];
	if (!rec) {
		snprintf(why, sizeof why, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
		bad_line(st, why, line, len);
		return;
	}
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		bad_line(st, "not a JSON object", line, len);
		return;
	}
	if (lg_control_type(rec)) {
		st->controls++;
		if (cfn)
			cfn(st, rec, ctx);
		cJSON_Delete(rec);
		lg_stream_write(st, line, len);
		return;
	}
	st->reject[0] = '\0';
	if (fn(st, &rec, ctx) != 0) {
		cJSON_Delete(rec);
		bad_line(st, st->reject[0] ? st->reject : "record rejected", line, len);
		return;
	}
	st->obuf.len = 0;
	if (st->splice_keys ? splice(st, rec, line) || (splice_check(st, rec), 0) : lg_json_print(&st->obuf, rec)) {
		cJSON_Delete(rec);
		bad_line(st, "out of memory printing record", line, len);
		return;
	}
	cJSON_Delete(rec);
	st->records++;
	lg_stream_write(st, st->obuf.data, st->obuf.len);
}

int lg_stream_run(lg_stream *st, FILE *in, const char *in_name,
		  lg_record_fn fn, lg_control_fn cfn, void *ctx)
{
	lg_reader r;
	char *line;
	size_t len;
	int rc, status = 0;

	st->in_name = in_name;
	lg_reader_init(&r, in, in_name);
	while (!st->stop && (rc = lg_reader_next(&r, &line, &len)) != LG_LINE_EOF) {
		st->lineno = r.lineno;
		if (rc == LG_LINE_IOERR) {
			lg_err("%s: %s", in_name, r.why);
			status = LG_EXIT_IO;
			break;
		}
		if (rc == LG_LINE_BAD) {
			bad_line(st, r.why, line, line ? len : 0);
			continue;
		}
		process_line(st, line, len, fn, cfn, ctx);
		lg_json_arena_reset(); /* the line's tree is gone */
	}
	lg_reader_free(&r);
	errno = 0;
	if (!st->stop && fflush(st->out) != 0) {
		if (errno != EPIPE)
			st->write_error = errno ? errno : EIO;
	}
	if (st->write_error) {
		lg_err("write error: %s", strerror(st->write_error));
		return LG_EXIT_IO;
	}
	if (status)
		return status;
	return st->bad ? LG_EXIT_BAD : LG_EXIT_OK;
}

int lg_stream_run_files(lg_stream *st, int n, char **paths,
			lg_record_fn fn, lg_control_fn cfn, void *ctx)
{
	int status = 0;
	if (n == 0)
		return lg_stream_run(st, stdin, "<stdin>", fn, cfn, ctx);
	for (int i = 0; i < n && !st->stop; i++) {
		FILE *f = strcmp(paths[i], "-") == 0 ? stdin : fopen(paths[i], "r");
		if (!f) {
			lg_err("%s: %s", paths[i], strerror(errno));
			status = LG_EXIT_IO;
			continue;
		}
		int rc = lg_stream_run(st, f, f == stdin ? "<stdin>" : paths[i], fn, cfn, ctx);
		if (f != stdin)
			fclose(f);
		if (rc > status)
			status = rc;
	}
	return status;
}
