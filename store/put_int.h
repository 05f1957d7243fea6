/* lg-store put's parts, shared by its files (put.h is the interface):
 *   put.c          the line loop: checks a line, applies it, counts it,
 *                  commits at the end of a batch
 *   put_txn.c      the write transaction and the room it may take in the map
 *   put_record.c   records: the fast path, merges, the indexes
 *   put_control.c  runs and checkpoints ("$lg" control lines)
 *   put_input.c    the input: read without waiting, commit before a wait
 *
 * Return conventions, one per file:
 *   put.c, put_txn.c   an exit status (0, LG_EXIT_BAD, LG_EXIT_IO), the
 *                      failure already reported; put_txn_claim says yes or
 *                      no (bool)
 *   put_record.c,      0, PUT_NEED_ROOM, or a storage code: errno's
 *   put_control.c      (positive) or LMDB's (below -30000, DB_DAMAGED among
 *                      them), reported by the caller with db_fail
 *   put_input.c        the line reader's LG_LINE_* codes, and PUT_LINE_STOP */
#ifndef STORE_PUT_INT_H
#define STORE_PUT_INT_H
#include <stdbool.h>

#include "control.h"
#include "line.h"
#include "put.h"
#include "scan.h"
#include "stream.h"

/* An applier's answer when the map might not hold the line: nothing of the
 * line was written. (LMDB's codes are below -30000, errno's positive.) */
#define PUT_NEED_ROOM (-1)
/* put_next_line's answer after a commit failed while waiting for input. */
#define PUT_LINE_STOP (-100)

/* The open write transaction and its accounting. */
typedef struct {
	store_db *db;
	MDB_txn *txn;          /* NULL when none is open */
	size_t records;        /* records applied in it */
	size_t ops, bytes;     /* its puts and deletes, and the bytes of values they wrote */
	size_t pages;          /* the most pages it can have taken from the map */
	size_t room;           /* free pages at the map's end when it began */
	size_t need;           /* pages wanted by the line that found no room */
	size_t last_pages;     /* pages of the last committed transaction */
	size_t psize;
	unsigned line_ops;     /* operations of the line being applied */
	put_counts total, pending; /* pending: the open transaction's */
} put_txn;

/* The open run, from its run-start. */
typedef struct {
	char *id;
	unsigned long ingested;
	control_run trust;     /* what the run's control lines may do */
} put_run_state;

/* The input's descriptor and how it is waited on. */
typedef struct {
	int fd;                /* -1 if none */
	int nonblock;          /* reads fail with EAGAIN instead of waiting */
	int restore_flags;     /* the flags to put back on fd, -1 if untouched */
	int poll_first;        /* poll(2) before a read (a terminal) */
	int skip_tail;         /* the reader was skipping an over-long line when its read would wait */
} put_input;

typedef struct {
	const put_opts *o;
	FILE *quarantine;
	put_txn tx;
	put_run_state run;
	put_input in;
	lg_buf buf;            /* a record or run printed for its put */
	lg_buf sum;            /* a record's summary for its put */
	unsigned long bad;     /* bad lines */
	unsigned long ignored; /* control lines skipped (--no-control) */
	int status;            /* exit status of a storage failure while waiting for input */
	int hash_in_scan;      /* the last plain record was evaluated and new: hash the next one as it is scanned */
} put_ctx;

enum put_outcome { PUT_NONE, PUT_NEW, PUT_UPDATED, PUT_UNCHANGED, PUT_CONFLICT };

/* The line being applied; text is the reader's, valid until the next read. */
typedef struct {
	const char *text;
	size_t len;
	unsigned long lineno;
	cJSON *tree;           /* parsed: controls, records off the fast path */
	int control;           /* a "$lg" line, or (tree NULL) the end of input */
	int plain;             /* scan_plain_record said yes: no tree needed if new */
	scan_record sr;
	enum put_outcome outcome;
	int stale;
} put_item;

/* put_txn.c */
void put_txn_init(put_txn *t, store_db *db);
int put_txn_open(put_txn *t);
/* Commits the open transaction (none: nothing to do); its counts join the totals. */
int put_txn_commit(put_txn *t);
void put_txn_abort(put_txn *t);
/* Claims room for a line of ops puts and deletes writing bytes of values:
 * false, nothing claimed, when the transaction might then fill the map. */
bool put_txn_claim(put_txn *t, size_t ops, size_t bytes);
/* A line found no room: commit what came before it, then grow the map
 * until the line, its commit and a transaction like the last one fit. */
int put_txn_make_room(put_txn *t);
/* The open transaction's dirty pages may have reached their bound. */
bool put_txn_full(const put_txn *t);
/* Called with the result of each read, put or delete of a record. */
int put_txn_op(put_txn *t, int rc);

/* put_record.c: a record line, applied to the open transaction. */
int put_record(put_ctx *c, put_item *it);

/* put_control.c: a control line, or (ctl NULL) the end of the input. */
int put_control(put_ctx *c, const cJSON *ctl);
void put_run_free(put_run_state *run);

/* put_input.c */
void put_input_open(put_input *in, FILE *f);
void put_input_close(put_input *in);
/* lg_reader_next, committing the open transaction before any read that
 * would wait. Returns an LG_LINE_* code, or PUT_LINE_STOP when that commit
 * failed (c->status says how). */
int put_next_line(put_ctx *c, lg_reader *r, char **line, size_t *len);

/* put.c: reports a bad line and quarantines it. */
void put_bad(put_ctx *c, unsigned long lineno, const char *why, const char *line, size_t len);
#endif
