/* Record metrics, computed from a LangGuard record's spans[]. One function,
 * used by lg-map when it builds a record and by lg-store when it merges
 * fragments, so both always agree (docs/record.md). */
#ifndef LG_METRICS_H
#define LG_METRICS_H
#include <cjson/cJSON.h>

enum {
	/* Also set record.duration from the earliest span start to the latest
	 * span end (what lg-store does after merging fragments). */
	LG_METRICS_DURATION_FROM_SPANS = 1,
};

/* Sets, replacing what was there:
 *   metadata.tokens {input, output, total}   sums over spans
 *   metadata.cost                            sum of span costs (USD)
 *   metadata.model                           model of the llm span with most tokens (or null)
 *   metadata.models[]                        distinct span models, first-seen order
 *   metadata.latency {totalMs, llmMs, retrievalMs, toolMs, otherMs, ttftMs}
 *   status                                   error / warning / success from span levels
 * Returns 0, or -1 out of memory. */
int lg_metrics_apply(cJSON *record, int flags);

/* Span duration in ms from its "duration", else from start/end; -1 unknown. */
double lg_span_duration_ms(const cJSON *span);
/* Round a cost to 12 decimals so sums print cleanly (0.1+0.2 -> 0.3). */
double lg_round_cost(double usd);
#endif
