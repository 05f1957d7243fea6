/* One fetch run: windows oldest first, each read completely (v2 or legacy),
 * its traces emitted, then a checkpoint; run-start first and run-end last
 * (also on failure). */
#ifndef FETCH_RUN_H
#define FETCH_RUN_H
#include <stdint.h>
#include <stdio.h>

#include "client.h"

typedef enum { API_AUTO, API_V2, API_LEGACY } api_mode;

typedef struct {
	const char *integration;
	const char *expand_metadata; /* v2: metadata keys not truncated at 200 chars */
	const char *mode;        /* incremental | backfill | range */
	api_mode api;
	int64_t from, to;        /* [from, to) */
	long batch_size;         /* page size; 0 = the API's maximum */
	long max_rows;           /* rows one window may hold */
	long limit;              /* stop after this many traces (0 = all) */
	int progress, quiet;
	client *c;
} run_opts;

/* Runs and returns the exit status. */
int run_fetch(const run_opts *o, FILE *out);
/* lg-fetch --test: credentials, project and API generation. */
int run_test(const run_opts *o);
#endif
