/* A validating scan of one NDJSON line that builds no tree: it lets `put`
 * store a new record as sent, without the cost of parsing into cJSON nodes
 * (most of put's time), and can hash the record's content in the same pass
 * (the value lg_record_content_hash gives the parsed record), so an
 * evaluated record is read once. Anything unusual answers 0 and takes the
 * full parser's path, so the verdict on bad lines is always common/json's. */
#ifndef STORE_SCAN_H
#define STORE_SCAN_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t id_off, id_len;     /* externalId's bytes within the line */
	size_t ts_off, ts_len;     /* timestamp's bytes; ts_len 0 when absent */
	int evaluated;             /* has an "evaluation" object */
	size_t hash_off, hash_len; /* its contentHash string; hash_len 0 when none */
	size_t viol_off, viol_len; /* the "violations" array; viol_len 0 when absent */
	int hashed;                /* hash holds the record's content hash */
	uint64_t hash;             /* lg_record_content_hash of the parsed record */
} scan_record;

/* 1 when s is one valid JSON object that put can store as sent when it is
 * new: its externalId a string without escapes of 1..max_id bytes, its
 * timestamp (if any) a string without escapes, no "$lg" or "stale" key, an
 * "incomplete" (if any) null; an
 * "evaluation" (if any) an object whose contentHash (if a string) has no
 * escapes; "violations" (if any) an array of objects, each with "status"
 * and an "id" string without escapes of 1..max_vid bytes; none of these
 * keys twice. 0 otherwise (the full parser decides). With want_hash, the
 * content hash is computed as the line is checked (out->hashed): the
 * caller asks when the record is likely to carry evaluation.contentHash
 * (a stream through lg-policy), since the others never need it. */
int scan_plain_record(const char *s, size_t n, size_t max_id, size_t max_vid, int want_hash, scan_record *out);

/* Calls fn with each violation id of the array sr found (s is the line
 * scan_plain_record accepted). */
void scan_violation_ids(const char *s, const scan_record *sr, void (*fn)(void *ctx, const char *id, size_t n),
			void *ctx);
#endif
