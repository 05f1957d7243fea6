/* What run.c (one run: lock, pipeline, run lines) and run_after.c (the
 * steps after the pipeline) share. */
#ifndef SYNC_RUN_INT_H
#define SYNC_RUN_INT_H
#include <stddef.h>

#include "sync.h"

/* The pipeline's stages, in order. */
enum { FETCH, MAP, DETECT, POLICY, STORE, NSTAGES };
extern const char *const stage_names[NSTAGES];

/* A temporary file holding text, positioned at its start; -1 on failure. */
int temp_with(const char *text, size_t len);
/* Removes the run's quarantine files (q.STAGE.ndjson) that stayed empty. */
void quarantine_tidy(const char *q);

/* Re-runs detection and policies over the records whose merged content
 * changed. Returns 0 or the failing stage's status (r->line says why);
 * *count is the number of records re-evaluated. */
int reevaluate(const sync_ctx *c, const char *id, long *count, run_result *r);
/* Re-fetches the traces lg-store holds incomplete that are due, through
 * the same stages (quarantine files named after q). Returns 0 or the
 * failing stage's status (r->line says why); *count: traces re-fetched. */
int refetch_incomplete(const sync_ctx *c, const lg_integration *it, const char *q, long *count,
		       run_result *r);
/* Ships the store's changes to the integration's shipTo. Returns lg-ship's
 * status; its last line is added to r->line. */
int ship_changes(const sync_ctx *c, const lg_integration *it, run_result *r);
#endif
