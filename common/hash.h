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

/* The pieces of lg_record_content_hash for a walker of JSON text that hashes
 * as it validates (store/scan.c hashes a record in the same pass that checks
 * it): each gives exactly what hashing the parsed item gives. A string
 * body is the bytes between its quotes, already checked as the parser checks
 * them; a number's text is one the parser accepts. */
static inline uint64_t lg_hash_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t lg_hash_fmix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xC2B2AE3D27D4EB4FULL;
	x ^= x >> 29;
	x *= 0x165667B19E3779F9ULL;
	x ^= x >> 32;
	return x;
}

#define LG_HASH_NULL 0x6e756c6cULL
#define LG_HASH_TRUE 0x74727565ULL
#define LG_HASH_FALSE 0x66616c73ULL
/* An object: the sum of lg_hash_pair over its members, then
 * lg_hash_object_end(sum, members). */
static inline uint64_t lg_hash_pair(uint64_t key_hash, uint64_t value_hash)
{
	return lg_hash_fmix(key_hash * 0x165667B19E3779F9ULL + value_hash);
}

static inline uint64_t lg_hash_object_end(uint64_t sum, uint64_t n)
{
	return lg_hash_fmix(sum ^ (n * 0x9E3779B185EBCA87ULL) ^ 'o');
}

/* An array: acc = LG_HASH_ARRAY_START, lg_hash_array_add for each item in
 * order, then lg_hash_array_end(acc). */
#define LG_HASH_ARRAY_START ((uint64_t)'a')
static inline uint64_t lg_hash_array_add(uint64_t acc, uint64_t item_hash)
{
	return lg_hash_rotl(acc ^ (item_hash * 0xC2B2AE3D27D4EB4FULL), 31) * 0x9E3779B185EBCA87ULL;
}

static inline uint64_t lg_hash_array_end(uint64_t acc)
{
	return lg_hash_fmix(acc);
}

/* A string without escapes, as a key (key 1) or a value (key 0). */
uint64_t lg_hash_text_plain(const char *body, size_t n, int key);
/* A string with escapes, decoded as the parser decodes it (into *scratch,
 * *cap bytes, grown as needed; the caller frees it). -1 where the parser
 * fails: a bad escape, \u0000 in a key; or out of memory. */
int lg_hash_text_escaped(const char *body, size_t n, int key, char **scratch, size_t *cap, uint64_t *out);
/* A number's text (n bytes). -1 only when out of memory. */
int lg_hash_text_number(const char *s, size_t n, uint64_t *out);

/* 16 lowercase hex digits. */
char *lg_hash_hex(uint64_t h, char out[17]);
/* Hash of a byte string (for ids). */
uint64_t lg_hash_bytes(const void *p, size_t n, uint64_t seed);
/* Hash of any bytes, eight a step (the string hash of the content hash):
 * for checksums of large values, where lg_hash_bytes's byte loop is slow.
 * Its values never change: stored checksums depend on them. */
uint64_t lg_hash_data(const void *p, size_t n, uint64_t seed);
#define LG_HASH_SEED 0xcbf29ce484222325ULL
#endif
