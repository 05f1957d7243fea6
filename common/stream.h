/* The stream contract (docs/stream.md) in one loop that lg-map, lg-detect
 * and lg-policy share: read NDJSON, pass "$lg" control lines through
 * unchanged and in order, hand data records to a callback, print what it
 * returns, report bad lines with file:line, quarantine them, go on. */
#ifndef LG_STREAM_H
#define LG_STREAM_H
#include <stdio.h>
#include <cjson/cJSON.h>

#include "buf.h"

typedef struct lg_stream lg_stream;

/* Called per data record. Return 0 to emit *rec (the callback may replace
 * it; it is freed by the loop), or -1 with lg_stream_reject() called to
 * mark the line bad. *rec and ctl live in the parse arena (json.h): nothing
 * of them may be kept past the call. */
typedef int (*lg_record_fn)(lg_stream *st, cJSON **rec, void *ctx);
/* Called per control line (already parsed; the line passes through as is).
 * May be NULL. */
typedef void (*lg_control_fn)(lg_stream *st, const cJSON *ctl, void *ctx);

struct lg_stream {
	const char *in_name;       /* "<stdin>" or path */
	FILE *out;
	FILE *quarantine;          /* NULL: none */
	unsigned long lineno;
	unsigned long records, controls, bad;
	lg_buf obuf;
	char reject[256];
	/* Set (NULL-terminated) by a tool whose callback keeps the record and
	 * changes only some root members: the others are written as the input
	 * line had them, not printed again. It lists the root keys the
	 * callback may change in place; a member it replaces or adds (through
	 * lg_json_set) is found without being listed. NULL: print it all. */
	const char *const *splice_keys;
	int stop;                  /* set by EPIPE: reader gone, stop quietly */
	int write_error;
};

/* Opens the quarantine file (append) when path is non-NULL. Returns 0, or
 * LG_EXIT_IO with a message. */
int lg_stream_init(lg_stream *st, FILE *out, const char *quarantine_path);
/* Runs the loop over in. Returns the exit status: 0, 1 (bad lines), or
 * LG_EXIT_IO (read or write error; "write error" reported). */
int lg_stream_run(lg_stream *st, FILE *in, const char *in_name,
		  lg_record_fn fn, lg_control_fn cfn, void *ctx);
/* Runs the loop over each named file in turn ("-" is stdin), or over stdin
 * when n is 0. A missing file is reported and skipped (LG_EXIT_IO at the
 * end); returns the worst status of all. */
int lg_stream_run_files(lg_stream *st, int n, char **paths,
			lg_record_fn fn, lg_control_fn cfn, void *ctx);
/* Marks the current record bad with a reason (printf-style). */
void lg_stream_reject(lg_stream *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes one already formatted line (no newline in it); sets stop/write_error. */
int lg_stream_write(lg_stream *st, const char *s, size_t n);
void lg_stream_free(lg_stream *st);

/* The control-line type: the string value of "$lg", or NULL for data. */
const char *lg_control_type(const cJSON *obj);
/* Writes line verbatim to the quarantine file, after a "# file:line: why". */
void lg_quarantine(FILE *q, const char *name, unsigned long lineno, const char *why,
		   const char *line, size_t len);
#endif
