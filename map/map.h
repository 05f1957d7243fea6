/* Langfuse trace (TraceWithFullDetails) -> LangGuard record (docs/record.md). */
#ifndef LG_MAP_H
#define LG_MAP_H
#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct {
	const char *integration;   /* source.integration, or NULL */
	const char *host;          /* prefix for a relative htmlPath, or NULL */
} map_opts;

/* Builds a record from trace, taking subtrees out of it (trace is left
 * gutted; the caller still frees it). NULL with err filled in when the
 * trace can't be mapped (e.g. no id). */
cJSON *map_trace(cJSON *trace, const map_opts *o, char *err, size_t errlen);
/* GENERATION -> "llm", RETRIEVER -> "retrieval", other types lowercased. */
const char *span_type_from_observation(const char *type, char *buf, size_t buflen);
#endif
