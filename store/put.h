/* lg-store put: NDJSON records and "$lg" control lines in, upserts and sync
 * state out. Each line goes into the open write transaction as it is read;
 * it commits at checkpoints, run-end, EOF, every batch, at a dirty-page
 * bound, and before any read that would wait (docs/store.md). */
#ifndef STORE_PUT_H
#define STORE_PUT_H
#include <stdio.h>

#include "db.h"

typedef struct {
	unsigned long ingested, updated, unchanged, failed, stale;
} put_counts;

typedef struct {
	size_t batch;              /* most records per transaction */
	const char *quarantine;    /* NULL: none */
	const char *in_name;
	const char *integration;   /* runs must belong to it; NULL: any */
	int no_control;            /* skip "$lg" lines: records only */
} put_opts;

/* Reads in to EOF. Returns the exit status (0, 1 bad or conflicting
 * records, 6 storage error); *counts holds what was committed. */
int put_run(store_db *db, FILE *in, const put_opts *o, put_counts *counts);
#endif
