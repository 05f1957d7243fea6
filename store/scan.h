/* A validating scan of one NDJSON line that builds no tree: it lets `put`
 * store a plain new record as sent, without the cost of parsing into cJSON
 * nodes (most of put's time). Anything unusual answers 0 and takes the full
 * parser's path, so the verdict on bad lines is always common/json's. */
#ifndef STORE_SCAN_H
#define STORE_SCAN_H
#include <stddef.h>

typedef struct {
	size_t id_off, id_len;     /* externalId's bytes within the line */
	size_t ts_off, ts_len;     /* timestamp's bytes; ts_len 0 when absent */
} scan_record;

/* 1 when s is one valid JSON object whose externalId is a string without
 * escapes of 1..max_id bytes, whose timestamp (if any) is a string without
 * escapes, and which has none of the keys put must look into ("$lg",
 * "stale", "violations", "evaluation"). 0 otherwise. */
int scan_plain_record(const char *s, size_t n, size_t max_id, scan_record *out);
#endif
