/* Rows in, Langfuse traces out. Both APIs end up in the TraceWithFullDetails
 * shape (observations as full v1 ObservationsView objects), so lg-map sees
 * no difference:
 *  - v2 rows are converted (raw-string io parsed when it holds JSON, decimal
 *    string prices as numbers, providedModelName -> model, inputUsage ->
 *    usage.input, totalCost -> calculatedTotalCost ...), deduplicated by id
 *    and grouped by traceId; the trace takes its name/tags/release/user/
 *    session from the denormalised fields and input/output/metadata from
 *    the root observation.
 *  - legacy traces (from /traces) are joined with the window's
 *    observations (from /observations).
 * Observations (or scores) whose trace lies in another window become a
 * fragment trace (lg-store merges fragments). */
#ifndef FETCH_ASSEMBLE_H
#define FETCH_ASSEMBLE_H
#include <stdint.h>
#include <cjson/cJSON.h>

#include "strmap.h"

typedef struct trace_group trace_group;

typedef struct {
	strmap seen;          /* observation id -> non-NULL */
	strmap groups;        /* traceId -> trace_group* */
	trace_group **list;
	size_t n, cap;
	long rows;            /* distinct observations held */
	long traces_held;     /* legacy trace objects held */
	long dups;            /* repeated rows dropped */
	int64_t oldest;       /* earliest startTime held (INT64_MAX: none) */
} assembly;

void assembly_init(assembly *a);
/* Adds one v2 row (ownership taken). Returns 1 added, 0 duplicate or
 * unusable (no id/traceId), -1 out of memory. */
int assembly_add_v2(assembly *a, cJSON *row);
/* Adds one legacy ObservationsView (ownership taken); same returns. */
int assembly_add_v1_observation(assembly *a, cJSON *obs);
/* Adds one legacy trace (TraceWithDetails, ownership taken); same returns. */
int assembly_add_v1_trace(assembly *a, cJSON *trace);

/* Adds one score from /api/public/v3/scores (ownership taken) to the trace
 * it scores (subject trace, or observation with its traceId), in the v1
 * shape. A trace not held gets a group of its own: it is emitted as a
 * fragment holding only its scores (no observations, timestamp null), which
 * lg-store merges into the trace stored from an earlier window. Returns 1
 * added, 0 the score is not a trace's (or repeated), -1 out of memory. */
int assembly_add_score(assembly *a, cJSON *score);

typedef int (*trace_fn)(cJSON *trace, void *ctx);
/* Builds every trace held, earliest first (then by id), and hands each to
 * fn (which must not keep it). Stops at the first non-zero return of fn
 * and returns it; -1 out of memory. Empties the assembly either way. */
int assembly_emit(assembly *a, const char *project_id, trace_fn fn, void *ctx);
void assembly_clear(assembly *a);

/* Exposed for tests: a v2 row converted in place to ObservationsView; the
 * denormalised trace fields move into *trace_ctx (NULL if it has none). */
int v2_row_convert(cJSON *row, cJSON **trace_ctx);
#endif
