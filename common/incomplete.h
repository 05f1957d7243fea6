/* Why a LangGuard record is not whole yet. Langfuse rows can arrive late:
 * a long-running root span is exported only when it ends, hours after its
 * children. lg-map marks each record it builds, lg-store marks the result
 * of every merge, and lg-sync re-fetches the traces still marked. */
#ifndef LG_INCOMPLETE_H
#define LG_INCOMPLETE_H
#include <cjson/cJSON.h>

/* The reasons, in this order (docs/record.md, "incomplete"):
 *   "no-root"       spans, but none without a parent
 *   "orphan-spans"  a span names a parent that is not among the spans
 *   "open-spans"    a span other than an event has no endTime
 * Returns a new array of the reasons that hold, or NULL when none holds
 * or out of memory (lg_incomplete_apply tells the two apart). A record
 * without spans is whole: there is nothing it could be waiting for. */
cJSON *lg_incomplete_reasons(const cJSON *record);

/* Sets record.incomplete to the reasons, or null when whole (a whole
 * record without the key is left without it: records stored before the
 * key existed stay unchanged). Returns 1 if incomplete, 0 if whole, -1 out
 * of memory. */
int lg_incomplete_apply(cJSON *record);
#endif
