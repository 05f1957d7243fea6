/* Content hashes of JSON values, independent of object key order and of how
 * a number was spelled (1.50 and 1.5 hash alike). lg-policy stamps the hash
 * of what it evaluated; lg-store compares it with the merged record to know
 * whether the policies must run again. */
#ifndef LG_HASH_H
#define LG_HASH_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* 64-bit hash of v: object key order and number spelling do not matter;
 * integers longer than a double holds are hashed by their exact digits. */
uint64_t lg_json_hash(const cJSON *v);
/* Hash of a record without the keys that evaluation itself adds or that
 * change without the content changing: violations, evaluation, stale. */
uint64_t lg_record_content_hash(const cJSON *record);
/* lg_record_content_hash of the record whose JSON text is s (n bytes),
 * read in one pass that builds no tree: the same value as hashing what
 * lg_json_parse makes of s, and -1 exactly where lg_json_parse fails
 * (invalid JSON, bad UTF-8, nesting beyond LG_JSON_MAX_DEPTH). 0 on success. */
int lg_record_text_hash(const char *s, size_t n, uint64_t *out);
/* 16 lowercase hex digits. */
char *lg_hash_hex(uint64_t h, char out[17]);
/* Hash of a byte string (for ids). */
uint64_t lg_hash_bytes(const void *p, size_t n, uint64_t seed);
#define LG_HASH_SEED 0xcbf29ce484222325ULL
#endif
