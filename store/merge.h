/* How lg-store combines a stored record with an incoming one (docs/store.md,
 * "Merge rules"); each rule is unit-tested in tests/unit/store_merge_test.c. */
#ifndef STORE_MERGE_H
#define STORE_MERGE_H
#include <stdint.h>
#include <cjson/cJSON.h>

/* 1 when both records name an integration and the names differ. */
int merge_conflict(const cJSON *stored, const cJSON *incoming);

/* Merges incoming into base (a copy of the stored record), in place:
 *   spans      united by span id, the fuller copy wins (end time, output,
 *              tokens, input; on a tie the incoming one), ordered by start
 *   metadata   deep-merged (incoming non-null values win); source likewise
 *   tags       united, stored order first
 *   timestamp  the earlier of the two
 *   agent      the stronger signal (higher agent.confidence; ties: incoming),
 *              agents[] and metadata.agent_name follow it
 *   violations incoming replaces stored for the policies that ran; surviving
 *              ids keep status/notes/ack info, vanished ones become resolved
 *              when the evaluation saw the whole merged content
 *   evaluation incoming wins when present
 *   others     incoming non-null values win
 * Metrics (tokens, cost, model(s), latency, status, duration) are derived:
 * recomputed with lg_metrics_apply when the spans changed, else the stored
 * ones stay (a fragment's partial totals never win). "incomplete" is always
 * recomputed from the merged spans (lg_incomplete_apply). Items of incoming may be
 * moved out of it. Returns 0, or -1 out of memory. */
int merge_record(cJSON *base, cJSON *incoming, int64_t now_ms);

/* Violations without a status get "new"; returns how many. */
int merge_normalize_violations(cJSON *rec);

/* Sets "stale": true when the record's content hash differs from
 * evaluation.contentHash (or it was never evaluated), removes it otherwise.
 * Returns 1 if stale. */
int merge_mark_stale(cJSON *rec);

/* Recomputed content hash as 16 hex digits, for messages and tests. */
void merge_content_hash(const cJSON *rec, char out[17]);
#endif
