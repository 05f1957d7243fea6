/* One fetch run: windows oldest first, each read completely (v2 or legacy),
 * its traces emitted, then a checkpoint; run-start first and run-end last
 * (also on failure). */
#ifndef FETCH_RUN_H
#define FETCH_RUN_H
#include <stdint.h>
#include <stdio.h>

#include "client.h"

typedef enum { API_AUTO, API_V2, API_LEGACY } api_mode;

/* How late a row may become visible after its start and still be read
 * (docs/fetch.md, "Late rows"). */
#define FETCH_OVERLAP_MS (60 * 60000LL)
/* Rows a re-fetch by trace id asks for: started in the last 30 days. */
#define FETCH_REFETCH_SPAN_MS (30 * 86400000LL)

typedef struct {
	const char *integration;
	const char *expand_metadata; /* v2: metadata keys not truncated at 200 chars */
	const char *mode;        /* incremental | backfill | range */
	api_mode api;
	int64_t from, to;        /* [from, to) */
	int64_t settle_to, fresh_from; /* when fresh_from > 0 (incremental): the
	                          * settled range [from, settle_to), then the new
	                          * one [fresh_from, to) */
	long batch_size;         /* page size; 0 = the API's maximum */
	long max_rows;           /* rows one window may hold */
	long limit;              /* stop after this many traces (0 = all) */
	const char *run_id;      /* the run's id, or NULL: one is made */
	int progress, quiet;
	client *c;
} run_opts;

/* Runs and returns the exit status. */
int run_fetch(const run_opts *o, FILE *out);
/* lg-fetch --trace-id: the n traces named, each read whole (v2 by traceId
 * over [from, to), legacy GET /traces/{id}; auto falls back on 404), one
 * line per trace found, between run-start and run-end, no checkpoint. */
int run_refetch(const run_opts *o, char *const *ids, size_t n, FILE *out);
/* lg-fetch --test: credentials, project and API generation. */
int run_test(const run_opts *o);
#endif
