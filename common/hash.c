#include <stdio.h>
#include <string.h>

#include "hash.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

/* Violation ids and other short keys: FNV-1a, stable across versions. */
uint64_t lg_hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix(uint64_t x)
{
	x ^= x >> 33;
	x *= P2;
	x ^= x >> 29;
	x *= P3;
	x ^= x >> 32;
	return x;
}

/* Content hashing reads every byte of every record: eight bytes a step. */
static uint64_t hash_str(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * P1);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = rotl(h ^ (w * P2), 31) * P1;
		s += 8;
		n -= 8;
	}
	uint64_t t = 0;
	memcpy(&t, s, n);
	h = rotl(h ^ (t * P2), 27) * P1;
	return fmix(h);
}

/* An integer too long for a double keeps its exact text in the hash. */
static int exact_integer_text(const cJSON *v)
{
	const char *t = v->valuestring;
	return t && strlen(t) > 15 && !strpbrk(t, ".eE");
}

static uint64_t hash_value(const cJSON *v, int top_record);

static int skipped_key(const char *k)
{
	return strcmp(k, "violations") == 0 || strcmp(k, "evaluation") == 0 || strcmp(k, "stale") == 0;
}

static uint64_t hash_value(const cJSON *v, int top_record)
{
	switch (v->type & 0xFF) {
	case cJSON_NULL: return 0x6e756c6cULL;
	case cJSON_True: return 0x74727565ULL;
	case cJSON_False: return 0x66616c73ULL;
	case cJSON_Number: {
		if (exact_integer_text(v))
			return hash_str(v->valuestring, strlen(v->valuestring), 'i');
		double d = v->valuedouble == 0 ? 0 : v->valuedouble; /* -0 == 0 */
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		return fmix(bits ^ 'd');
	}
	case cJSON_String:
	case cJSON_Raw:
		return v->valuestring ? hash_str(v->valuestring, strlen(v->valuestring), 's') : 's';
	case cJSON_Array: {
		uint64_t h = 'a';
		for (const cJSON *c = v->child; c; c = c->next)
			h = rotl(h ^ (hash_value(c, 0) * P2), 31) * P1;
		return fmix(h);
	}
	case cJSON_Object: {
		/* Key order must not matter: combine the pairs with a sum. */
		uint64_t sum = 0, n = 0;
		for (const cJSON *c = v->child; c; c = c->next) {
			const char *k = c->string ? c->string : "";
			if (top_record && skipped_key(k))
				continue;
			sum += fmix(hash_str(k, strlen(k), 'k') * P3 + hash_value(c, 0));
			n++;
		}
		return fmix(sum ^ (n * P1) ^ 'o');
	}
	default:
		return 0;
	}
}

uint64_t lg_json_hash(const cJSON *v)
{
	return v ? hash_value(v, 0) : 0;
}

uint64_t lg_record_content_hash(const cJSON *record)
{
	return record ? hash_value(record, 1) : 0;
}

char *lg_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}
