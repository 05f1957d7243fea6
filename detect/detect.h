/* Which agent produced a LangGuard record, and how sure we are
 * (docs/detect.md): collects candidates from tags, metadata, AGENT
 * observations and naming patterns, picks the strongest by the configured
 * precedence, lists disagreements as conflicts, and writes agent, agents[]
 * and metadata.agent_name. */
#ifndef LG_DETECT_H
#define LG_DETECT_H
#include <cjson/cJSON.h>

#include "buf.h"
#include "rules.h"

typedef struct detect_cand detect_cand;

typedef struct {
	detect_rules *rules;
	detect_cand *c;           /* candidates of the current record, reused */
	size_t n, cap;
	lg_buf keys;              /* key text of the current candidates */
	struct span_link *links;  /* id -> parentId of the current spans, reused */
	size_t nlinks, caplinks;
} detector;

void detect_init(detector *d, detect_rules *r);
/* Re-derives agent, agents[] and metadata.agent_name of rec from its
 * signals (a previous run's output is not a signal). With explain, appends
 * one human-readable line saying what fired and why. Returns 0, or -1 out
 * of memory. */
int detect_record(detector *d, cJSON *rec, lg_buf *explain);
void detect_free(detector *d);
#endif
