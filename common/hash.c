#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "utf8.h"
#include "json.h"

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

/* The last n < 8 bytes at s as memcpy(&t, s, n) makes them (t zeroed),
 * without a byte loop whose stores the 8-byte load must wait for: whole
 * loads that overlap, from the string's own bytes only (from s + n - 8 when
 * the string had 8 bytes before, whole). */
static inline uint64_t tail_word(const char *s, size_t n, int whole)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w;
	uint32_t a4, b4;
	uint16_t a2, b2;
	if (n == 0)
		return 0;
	if (whole) {
		memcpy(&w, s + n - 8, 8);
		return w >> (8 * (8 - n));
	}
	if (n >= 4) {
		memcpy(&a4, s, 4);
		memcpy(&b4, s + n - 4, 4);
		return a4 | (uint64_t)b4 << (8 * (n - 4));
	}
	if (n >= 2) {
		memcpy(&a2, s, 2);
		memcpy(&b2, s + n - 2, 2);
		return a2 | (uint64_t)b2 << (8 * (n - 2));
	}
	return (unsigned char)s[0];
#else
	uint64_t t = 0;
	(void)whole;
	memcpy(&t, s, n);
	return t;
#endif
}

/* Content hashing reads every byte of every record: eight bytes a step. */
static uint64_t hash_str(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * P1);
	int whole = n >= 8;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = lg_hash_rotl(h ^ (w * P2), 31) * P1;
		s += 8;
		n -= 8;
	}
	h = lg_hash_rotl(h ^ (tail_word(s, n, whole) * P2), 27) * P1;
	return lg_hash_fmix(h);
}

uint64_t lg_hash_data(const void *p, size_t n, uint64_t seed)
{
	return hash_str(p, n, seed);
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

/* The hash of a double as hash_value takes it: -0 == 0. */
static uint64_t hash_double(double d)
{
	uint64_t bits;
	if (d == 0)
		d = 0;
	memcpy(&bits, &d, sizeof bits);
	return lg_hash_fmix(bits ^ 'd');
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
		return hash_double(v->valuedouble);
	}
	case cJSON_String:
	case cJSON_Raw:
		return v->valuestring ? hash_str(v->valuestring, strlen(v->valuestring), 's') : 's';
	case cJSON_Array: {
		uint64_t h = 'a';
		for (const cJSON *c = v->child; c; c = c->next)
			h = lg_hash_rotl(h ^ (hash_value(c, 0) * P2), 31) * P1;
		return lg_hash_fmix(h);
	}
	case cJSON_Object: {
		/* Key order must not matter: combine the pairs with a sum. */
		uint64_t sum = 0, n = 0;
		for (const cJSON *c = v->child; c; c = c->next) {
			const char *k = c->string ? c->string : "";
			if (top_record && skipped_key(k))
				continue;
			sum += lg_hash_pair(hash_str(k, strlen(k), 'k'), hash_value(c, 0));
			n++;
		}
		return lg_hash_object_end(sum, n);
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

/* ---- hashing JSON text without a tree -------------------------------- *
 * Every rule below mirrors common/json.c's parser (what it accepts, how it
 * decodes) and hash_value (how a parsed item hashes); the unit test
 * common_texthash_test compares both on generated and mutated records. */

typedef struct {
	const unsigned char *p, *end;
	int depth;
	char *scratch;           /* decoded strings with escapes */
	size_t cap;
} text_scan;

static void text_ws(text_scan *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r'))
		t->p++;
}

/* The string at t->p (its opening quote): its body [*body, *body + *len),
 * *esc when it holds a backslash; t->p moves past the closing quote.
 * -1 where json.c's scan_string fails. */
static int text_string_end(text_scan *t, const unsigned char **body, size_t *len, int *esc)
{
	const unsigned char *bad;
	const char *why;
	const unsigned char *q = lg_json_string_end(t->p, t->end, esc, &bad, &why);
	if (!q)
		return -1;
	*body = t->p + 1;
	*len = (size_t)(q - *body);
	t->p = q + 1;
	return 0;
}

/* Decodes a string body into *scratch (grown as needed), as the parser
 * does: the decoded length, or -1 on a bad escape; *has_nul when it held
 * \u0000. */
static long text_decode(char **scratch, size_t *cap, const unsigned char *run, size_t n, int *has_nul)
{
	if (n + 1 > *cap) {
		char *b = realloc(*scratch, n + 1);
		if (!b)
			return -1;
		*scratch = b;
		*cap = n + 1;
	}
	const unsigned char *bad;
	const char *why;
	return lg_json_unescape(run, run + n, *scratch, has_nul, &bad, &why);
}

uint64_t lg_hash_text_plain(const char *body, size_t n, int key)
{
	return hash_str(body, n, key ? 'k' : 's');
}

/* A string value: its decoded text hashed, or (holding \u0000, which the
 * parser keeps as cJSON_Raw) its literal with the quotes. A key: decoded,
 * \u0000 refused as the parser refuses it. */
int lg_hash_text_escaped(const char *body, size_t len, int key, char **scratch, size_t *cap, uint64_t *out)
{
	int has_nul;
	long n = text_decode(scratch, cap, (const unsigned char *)body, len, &has_nul);
	if (n < 0 || (has_nul && key))
		return -1;
	if (has_nul)
		*out = hash_str(body - 1, len + 2, 's');
	else
		*out = hash_str(*scratch, (size_t)n, key ? 'k' : 's');
	return 0;
}

static int text_string(text_scan *t, int key, uint64_t *h)
{
	const unsigned char *body;
	size_t len;
	int esc;
	if (text_string_end(t, &body, &len, &esc))
		return -1;
	if (!esc) {
		*h = hash_str((const char *)body, len, key ? 'k' : 's');
		return 0;
	}
	return lg_hash_text_escaped((const char *)body, len, key, &t->scratch, &t->cap, h);
}

/* strtod's value of a number's text without strtod where it is one exact
 * operation (Clinger's fast path): up to 15 significant digits make an
 * integer m exact in a double, as is 10^k for k <= 22, so m * 10^k and
 * m / 10^k are rounded once, correctly, as strtod rounds. 0 when that does
 * not apply (more digits, a larger exponent): strtod then. */
static int fast_decimal(const unsigned char *p, const unsigned char *end, double *out)
{
	static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
					1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	int neg = p < end && *p == '-', digits = 0;
	uint64_t m = 0;
	long e = 0;
	p += neg;
	for (int frac = 0; p < end; p++) {
		if (*p == '.') {
			frac = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		e -= frac;
		if (m || *p != '0') {
			if (++digits > 15)
				return 0;
			m = m * 10 + (uint64_t)(*p - '0');
		}
	}
	if (p < end) { /* e or E, as the parser checked */
		int eneg = 0;
		long x = 0;
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; p < end; p++) {
			if (x > 100000)
				return 0;
			x = x * 10 + (*p - '0');
		}
		e += eneg ? -x : x;
	}
	double d = (double)m;
	if (m && e >= 0 && e <= 22)
		d *= pow10[e];
	else if (m && e < 0 && e >= -22)
		d /= pow10[-e];
	else if (m)
		return 0;
	*out = neg ? -d : d;
	return 1;
}

/* A number's text as hash_value hashes the parsed item. */
static int hash_number_text(const unsigned char *st, size_t n, int frac_or_exp, uint64_t *h)
{
	if (!frac_or_exp && n > 15) { /* exact_integer_text */
		*h = hash_str((const char *)st, n, 'i');
		return 0;
	}
	double d;
	if (!frac_or_exp) {
		int64_t iv = 0;
		for (const unsigned char *c = st + (*st == '-'); c < st + n; c++)
			iv = iv * 10 + (*c - '0');
		d = *st == '-' ? -(double)iv : (double)iv;
	} else if (!fast_decimal(st, st + n, &d)) {
		char small[64], *text = n < sizeof small ? small : malloc(n + 1);
		if (!text)
			return -1;
		memcpy(text, st, n);
		text[n] = '\0';
		d = strtod(text, NULL);
		if (text != small)
			free(text);
	}
	*h = hash_double(d);
	return 0;
}

int lg_hash_text_number(const char *s, size_t n, uint64_t *out)
{
	int frac_or_exp = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			frac_or_exp = 1;
	return hash_number_text((const unsigned char *)s, n, frac_or_exp, out);
}

/* json.c's parse_number, hashed as hash_value hashes the item. */
static int text_number(text_scan *t, uint64_t *h)
{
	const unsigned char *st = t->p, *bad;
	int frac_or_exp;
	const unsigned char *p = lg_json_number_end(st, t->end, &frac_or_exp, &bad);
	if (!p)
		return -1;
	t->p = p;
	return hash_number_text(st, (size_t)(p - st), frac_or_exp, h);
}

static int text_value(text_scan *t, int top_record, uint64_t *h);

static int text_container(text_scan *t, int is_obj, int top_record, uint64_t *h)
{
	uint64_t acc = is_obj ? 0 : 'a', n = 0;
	if (++t->depth > LG_JSON_MAX_DEPTH)
		return -1;
	t->p++;
	text_ws(t);
	if (t->p < t->end && *t->p == (is_obj ? '}' : ']')) {
		t->p++;
		t->depth--;
		*h = is_obj ? lg_hash_object_end(0, 0) : lg_hash_fmix(acc);
		return 0;
	}
	for (;;) {
		uint64_t kh = 0, vh;
		int skip = 0;
		text_ws(t);
		if (is_obj) {
			const unsigned char *k = t->p + 1;
			if (t->p >= t->end || *t->p != '"' || text_string(t, 1, &kh))
				return -1;
			if (top_record) {
				/* Skipped keys have no escapes worth decoding twice:
				 * compare the decoded key when there were any. */
				size_t klen = (size_t)(t->p - 1 - k);
				if (memchr(k, '\\', klen)) {
					int nul;
					long dn = text_decode(&t->scratch, &t->cap, k, klen, &nul);
					if (dn < 0)
						return -1;
					t->scratch[dn] = '\0';
					skip = skipped_key(t->scratch);
				} else {
					skip = (klen == 10 && (!memcmp(k, "violations", 10) || !memcmp(k, "evaluation", 10))) ||
					       (klen == 5 && !memcmp(k, "stale", 5));
				}
			}
			text_ws(t);
			if (t->p >= t->end || *t->p != ':')
				return -1;
			t->p++;
		}
		if (text_value(t, 0, &vh))
			return -1;
		if (!is_obj) {
			acc = lg_hash_rotl(acc ^ (vh * P2), 31) * P1;
		} else if (!skip) {
			acc += lg_hash_pair(kh, vh);
			n++;
		}
		text_ws(t);
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			continue;
		}
		if (t->p < t->end && *t->p == (is_obj ? '}' : ']')) {
			t->p++;
			t->depth--;
			*h = is_obj ? lg_hash_object_end(acc, n) : lg_hash_fmix(acc);
			return 0;
		}
		return -1;
	}
}

static int text_literal(text_scan *t, const char *word, uint64_t value, uint64_t *h)
{
	size_t n = strlen(word);
	if ((size_t)(t->end - t->p) < n || memcmp(t->p, word, n) != 0)
		return -1;
	t->p += n;
	*h = value;
	return 0;
}

static int text_value(text_scan *t, int top_record, uint64_t *h)
{
	text_ws(t);
	if (t->p >= t->end)
		return -1;
	switch (*t->p) {
	case '{': return text_container(t, 1, top_record, h);
	case '[': return text_container(t, 0, 0, h);
	case '"': return text_string(t, 0, h);
	case 't': return text_literal(t, "true", 0x74727565ULL, h);
	case 'f': return text_literal(t, "false", 0x66616c73ULL, h);
	case 'n': return text_literal(t, "null", 0x6e756c6cULL, h);
	default:
		if (*t->p == '-' || (*t->p >= '0' && *t->p <= '9'))
			return text_number(t, h);
		return -1;
	}
}

int lg_record_text_hash(const char *s, size_t n, uint64_t *out)
{
	text_scan t = { (const unsigned char *)s, (const unsigned char *)s + n, 0, NULL, 0 };
	uint64_t h;
	int rc = text_value(&t, 1, &h);
	if (rc == 0) {
		text_ws(&t);
		rc = t.p == t.end ? 0 : -1;
	}
	free(t.scratch);
	if (rc == 0)
		*out = h;
	return rc;
}

char *lg_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}
