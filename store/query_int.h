/* lg-store's queries, shared by their files (query.h is the interface):
 *   query.c        the filters, the walk over the time index (or the
 *                  summaries), and the walks that read records: export,
 *                  count, violations
 *   query_stats.c  stats: aggregates of the walk's summaries in groups of
 *                  one or two levels, as JSON or a table
 * Every function returns an exit status, the failure already reported
 * (query_out_line: 1 when the walk should stop). */
#ifndef STORE_QUERY_INT_H
#define STORE_QUERY_INT_H
#include <stdio.h>

#include "buf.h"
#include "query.h"
#include "summary.h"

/* What a walk hands each matching trace: its time key, and what the walk
 * was asked for: the record's bytes, its tree, its summary. */
typedef struct {
	store_db *db;
	MDB_txn *txn;
	MDB_val key;
	MDB_val raw;         /* mv_data NULL: not read */
	const cJSON *rec;    /* NULL: not parsed */
	const summary *sum;  /* NULL: not asked for */
} query_item;

/* A walk's visitor: 0 to go on, 1 to stop. */
typedef int (*query_visit)(const query_item *it, void *ctx);

/* What a walk's visitor needs of each trace. With summaries in the store,
 * NEED_SUMMARY reads no record at all, and NEED_RAW with a filter reads
 * only the records whose summary matches; without them each record is
 * read and (for a filter or a summary) parsed. */
enum { NEED_RAW, NEED_TREE, NEED_SUMMARY };

/* Calls fn for every trace f matches, in timestamp order (newest first
 * with f->reverse), with what need asks for. */
int query_scan(store_db *db, const query_filter *f, int need, query_visit fn, void *ctx);

/* A query's output: lines written, and the first write error. */
typedef struct {
	FILE *out;
	lg_buf buf;
	int failed;
	unsigned long n;
	unsigned long limit;  /* stop after this many lines; 0: never */
} query_out;

/* Writes a line and its newline: 0, or 1 after a write error. */
int query_out_line(query_out *o, const void *p, size_t n);
/* Flushes and turns a write failure into "write error" (EPIPE is quiet):
 * status, or LG_EXIT_IO. */
int query_out_done(query_out *o, int status);
#endif
