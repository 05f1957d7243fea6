#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

uint64_t lg_hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t mix(uint64_t h, const char *tag, const char *s, size_t n)
{
	h = lg_hash_bytes(tag, 1, h);
	h = lg_hash_bytes(&n, sizeof n, h);
	return lg_hash_bytes(s, n, h);
}

static uint64_t hash_value(const cJSON *v, uint64_t h, int top_record);

static int cmp_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static int skipped_key(const char *k)
{
	return strcmp(k, "violations") == 0 || strcmp(k, "evaluation") == 0 || strcmp(k, "stale") == 0;
}

static uint64_t hash_object(const cJSON *v, uint64_t h, int top_record)
{
	size_t n = 0, i = 0;
	for (const cJSON *c = v->child; c; c = c->next)
		n++;
	const cJSON **kids = n ? malloc(n * sizeof *kids) : NULL;
	if (n && !kids)
		return h ^ 0xdeadULL;
	for (const cJSON *c = v->child; c; c = c->next)
		kids[i++] = c;
	if (n > 1)
		qsort(kids, n, sizeof *kids, cmp_key);
	h = mix(h, "{", "", 0);
	for (i = 0; i < n; i++) {
		const char *k = kids[i]->string ? kids[i]->string : "";
		if (top_record && skipped_key(k))
			continue;
		h = mix(h, "k", k, strlen(k));
		h = hash_value(kids[i], h, 0);
	}
	free(kids);
	return mix(h, "}", "", 0);
}

static uint64_t hash_value(const cJSON *v, uint64_t h, int top_record)
{
	char num[40];
	switch (v->type & 0xFF) {
	case cJSON_NULL: return mix(h, "n", "", 0);
	case cJSON_True: return mix(h, "t", "", 0);
	case cJSON_False: return mix(h, "f", "", 0);
	case cJSON_Number:
		snprintf(num, sizeof num, "%.17g", v->valuedouble);
		/* Big integers keep their exact text; doubles would merge them. */
		if (v->valuestring && strlen(v->valuestring) > 15 && !strpbrk(v->valuestring, ".eE"))
			return mix(h, "i", v->valuestring, strlen(v->valuestring));
		return mix(h, "d", num, strlen(num));
	case cJSON_String:
	case cJSON_Raw:
		return mix(h, "s", v->valuestring ? v->valuestring : "", v->valuestring ? strlen(v->valuestring) : 0);
	case cJSON_Array:
		h = mix(h, "[", "", 0);
		for (const cJSON *c = v->child; c; c = c->next)
			h = hash_value(c, h, 0);
		return mix(h, "]", "", 0);
	case cJSON_Object:
		return hash_object(v, h, top_record);
	default:
		return h;
	}
}

uint64_t lg_json_hash(const cJSON *v)
{
	return v ? hash_value(v, LG_HASH_SEED, 0) : LG_HASH_SEED;
}

uint64_t lg_record_content_hash(const cJSON *record)
{
	return record ? hash_value(record, LG_HASH_SEED, 1) : LG_HASH_SEED;
}

char *lg_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}
