/* common/hash.c: lg_record_text_hash (one pass over the text, no tree) must
 * give exactly lg_record_content_hash of what lg_json_parse makes of the same
 * text, and fail exactly where the parser fails. Checked on hand-picked
 * edge cases, then on thousands of generated records and their mutations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "json.h"
#include "randjson.h"
#include "t.h"

static char why[512];

/* 1 when text hash and tree hash agree on s (both fail, or both succeed
 * with the same value); *valid tells whether the parser accepted s. */
static int agrees(const char *s, size_t n, int *valid)
{
	lg_json_error e;
	uint64_t th = 0;
	int rc = lg_record_text_hash(s, n, &th);
	cJSON *v = lg_json_parse(s, n, &e);
	*valid = v != NULL;
	int ok;
	if (!v) {
		ok = rc == -1;
		if (!ok)
			snprintf(why, sizeof why, "text hash accepted what the parser rejects (%s): %.300s", e.msg, s);
	} else {
		uint64_t want = lg_record_content_hash(v);
		ok = rc == 0 && th == want;
		if (!ok)
			snprintf(why, sizeof why, "rc %d, %016llx vs tree %016llx: %.300s", rc,
				 (unsigned long long)th, (unsigned long long)want, s);
	}
	cJSON_Delete(v);
	return ok;
}

static int same(const char *s)
{
	int valid;
	return agrees(s, strlen(s), &valid) && valid;
}

static int rejected(const char *s)
{
	uint64_t h;
	return lg_record_text_hash(s, strlen(s), &h) == -1;
}

static uint64_t text_hash(const char *s)
{
	uint64_t h = 0;
	lg_record_text_hash(s, strlen(s), &h);
	return h;
}

/* hash_str as first written (a byte copy for the tail): every later
 * version must give the same values, or every stored contentHash changes. */
static uint64_t reference_str(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * 0x9E3779B185EBCA87ULL);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = lg_hash_rotl(h ^ (w * 0xC2B2AE3D27D4EB4FULL), 31) * 0x9E3779B185EBCA87ULL;
		s += 8;
		n -= 8;
	}
	uint64_t t = 0;
	memcpy(&t, s, n);
	h = lg_hash_rotl(h ^ (t * 0xC2B2AE3D27D4EB4FULL), 27) * 0x9E3779B185EBCA87ULL;
	return lg_hash_fmix(h);
}

/* ---- the strings and objects of the random generator (randjson.h) ----- */

static void gen_string(lg_buf *b)
{
	static const char *const pieces[] = {
		"a", "hello world", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\/",
		"\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\uD83D\\uDE00",
		"\\ud83d", "\\ude00", "\\ud83dx", "\\ud83d\\u0041", "\\u0000", "\\u0041", "12345678",
		"violations", "evaluation", "stale", "0123456789abcdef0123456789", " ",
	};
	rj_string(b, pieces, sizeof pieces / sizeof *pieces, 6);
}

static void gen_object(lg_buf *b, int depth, int top)
{
	static const char *const keys[] = {
		"\"externalId\"", "\"name\"", "\"violations\"", "\"evaluation\"", "\"stale\"", "\"metadata\"",
		"\"spans\"", "\"viol\\u0061tions\"", "\"st\\u0061le\"", "\"k\\n\"", "\"\"", "\"caf\xc3\xa9\"",
		"\"\\ud83d\\ude00\"", "\"a\"", "\"b\"", "\"name\"",
	};
	rj_object(b, keys, sizeof keys / sizeof *keys, top ? 3 + rnd(6) : rnd(4), depth);
}

int main(void)
{
	const char *rec = "{\"externalId\":\"t-1\",\"name\":\"caf\xc3\xa9 \\\"q\\\" \\u00e9\","
		"\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"n\":[1,-2.5e3,0,true,false,null],"
		"\"o\":{\"a\":{\"b\":[]}},\"big\":1234567890123456789,"
		"\"violations\":[{\"id\":\"v1\"}],\"evaluation\":{\"contentHash\":\"x\"},\"stale\":true}";
	int valid;
	T_OK(agrees(rec, strlen(rec), &valid) && valid, "a record: text hash == tree hash");
	T_OK(text_hash(rec) == text_hash("{\"big\":1234567890123456789,\"o\":{\"a\":{\"b\":[]}},"
		"\"n\":[1,-2.5e3,0,true,false,null],\"timestamp\":\"2026-01-01T00:00:00.000Z\","
		"\"name\":\"caf\xc3\xa9 \\\"q\\\" \xc3\xa9\",\"externalId\":\"t-1\"}"),
	     "key order, escapes and skipped keys do not change the hash");
	T_OK(text_hash("{\"a\":1.50}") == text_hash("{\"a\":1.5}") && text_hash("{\"a\":-0}") == text_hash("{\"a\":0.0}"),
	     "number spelling and -0 do not matter");
	T_OK(text_hash("{\"a\":12345678901234567}") != text_hash("{\"a\":12345678901234568}"),
	     "long integers hash by their digits");
	T_OK(text_hash("{\"a\":[1,2]}") != text_hash("{\"a\":[2,1]}"), "array order matters");
	T_OK(text_hash("{\"a\":{\"stale\":1}}") != text_hash("{\"a\":{}}"), "nested stale is content");
	static const char *const cases[] = {
		"{}", "[]", "{\"a\":\"\\u0000\"}", "{\"a\":\"x\\u0000y\"}", "{\"a\":[\"\\u0000\",\"\\u0000\"]}",
		"{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\\ud83d\"}",
		"{\"a\":\"\\ud83d\\ud83d\\ude00\"}", "{\"a\":\"\\uDBFF\\uDFFF\"}", "{\"a\":-0.0e0}",
		"{\"a\":1e400}", "{\"a\":-123456789012345}", "{\"a\":1234567890123456}", "{\"a\":1.0e15}",
		"{\"a\":1,\"a\":2}", "{\"stale\":1,\"stale\":2,\"x\":3}", "{\"st\\u0061le\":true}",
		"{\"evaluation\\u0000\":1}", " \r\n\t{\"a\" : [ 1 , { } ] }\n", "\"top string\"", "12",
		"{\"x\":{\"violations\":[1],\"evaluation\":2}}", "[{\"stale\":true}]", "null",
		"{\"\\u00e9\":\"\xc3\xa9\"}", "{\"\xc3\xa9\":1,\"\\u00e9\":1}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int v;
		int ok = agrees(cases[i], strlen(cases[i]), &v);
		char name[160];
		snprintf(name, sizeof name, "edge case %zu agrees with the parser: %.60s", i, cases[i]);
		for (char *c = name; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		T_OK(ok, name);
		if (!ok)
			printf("  %s\n", why);
	}
	T_OK(same("{\"a\":\"\\u0000\"}") && text_hash("{\"a\":\"\\u0000\"}") != text_hash("{\"a\":\"\\u0000 \"}"),
	     "\\u0000 strings hash as their literal");
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}",
		"{\"a\":\"a\tb\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xe2\x82\"}", "{\"a\":tru}", "{\"a\":nul}", "{} {}", "{\"a\\u0000\":1}", "{\"a\":\"x",
		"{\"a\":\"\\", "{'a':1}", "{\"a\":NaN}", "{\"a\":-}", "{\"a\":\"\xff\"}", "{1:2}",
	};
	size_t nbad = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int v;
		if (agrees(bad[i], strlen(bad[i]), &v) && !v && rejected(bad[i]))
			nbad++;
		else
			printf("  bad case %zu: %s\n", i, why);
	}
	T_INT(nbad, sizeof bad / sizeof *bad, "invalid texts: the text hash fails where the parser fails");

	/* Nesting: at the parser's limit accepted, one beyond rejected, by both. */
	for (int extra = 0; extra <= 1; extra++) {
		size_t depth = LG_JSON_MAX_DEPTH + (size_t)extra, k = 0;
		char *deep = malloc(depth * 2 + 8);
		for (size_t i = 0; i < depth; i++)
			deep[k++] = '[';
		for (size_t i = 0; i < depth; i++)
			deep[k++] = ']';
		deep[k] = '\0';
		int v;
		T_OK(agrees(deep, k, &v) && v == !extra, extra ? "nesting beyond the limit: both fail" :
							      "nesting at the limit: both hash alike");
		free(deep);
	}

	/* String hashes: the same as the first version at every length and
	 * alignment, keys and values; one pinned value. */
	{
		char text[80];
		size_t diff = 0;
		for (size_t i = 0; i < sizeof text; i++)
			text[i] = (char)(0x20 + (i * 37) % 95);
		for (size_t off = 0; off < 8; off++)
			for (size_t n = 0; off + n <= sizeof text; n++)
				diff += lg_hash_text_plain(text + off, n, 0) != reference_str(text + off, n, 's') ||
					lg_hash_text_plain(text + off, n, 1) != reference_str(text + off, n, 'k');
		T_INT(diff, 0, "string hashes unchanged at every length 0..80 and offset 0..7");
		char hex[17];
		T_STR(lg_hash_hex(text_hash("{\"externalId\":\"t-1\",\"n\":[1.5,\"caf\xc3\xa9\"]}"), hex), "b72c62335364f4f5",
		      "a record's content hash pinned");
	}

	/* The pieces a walker of its own (store/scan.c) hashes with. */
	static const char *const nums[] = { "0", "-0", "1.50", "-0.0", "1e3", "1E+3", "2.5e-3", "123456789012345",
		"1234567890123456", "-12345678901234567", "1234567890123456.0", "1e400", "0.1",
		"3.141592653589793238462643383279502884197169399375105820974944592307816406286" };
	size_t nok = 0;
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		lg_json_error e;
		cJSON *v = lg_json_parse(nums[i], strlen(nums[i]), &e);
		uint64_t h = 0;
		nok += v && lg_hash_text_number(nums[i], strlen(nums[i]), &h) == 0 && h == lg_json_hash(v);
		cJSON_Delete(v);
	}
	T_INT(nok, sizeof nums / sizeof *nums, "lg_hash_text_number == lg_json_hash of the parsed number");
	/* Random decimals of every shape: the hash's fast path (no strtod for
	 * up to 15 digits and exponents up to 22) must round as strtod does. */
	{
		size_t ndiff = 0, tried = 0;
		for (int i = 0; i < 200000; i++) {
			char t[64];
			size_t k = 0;
			if (rnd(3) == 0)
				t[k++] = '-';
			unsigned ilen = 1 + rnd(12), flen = rnd(14);
			t[k++] = (char)(rnd(4) ? '1' + rnd(9) : '0');
			if (t[k - 1] != '0')
				for (unsigned j = 1; j < ilen; j++)
					t[k++] = (char)('0' + rnd(10));
			if (flen || rnd(2) == 0) {
				t[k++] = '.';
				for (unsigned j = 0; j < 1 + flen; j++)
					t[k++] = (char)('0' + (rnd(3) ? rnd(10) : 0));
			}
			if (rnd(3) == 0)
				k += (size_t)snprintf(t + k, sizeof t - k, "%s%s%u", rnd(2) ? "e" : "E",
						      rnd(3) == 0 ? "-" : rnd(2) ? "+" : "", rnd(4) ? rnd(30) : rnd(400));
			t[k] = '\0';
			lg_json_error e;
			cJSON *v = lg_json_parse(t, k, &e);
			uint64_t h = 0;
			tried++;
			if (!v || lg_hash_text_number(t, k, &h) != 0 || h != lg_json_hash(v)) {
				if (ndiff++ < 3)
					printf("  number %s\n", t);
			}
			cJSON_Delete(v);
		}
		T_INT(ndiff, 0, "200000 random decimals: lg_hash_text_number == lg_json_hash (strtod's rounding)");
	}
	{
		char *scratch = NULL;
		size_t cap = 0;
		uint64_t h1 = 0, h2 = 0, h3 = 0;
		lg_json_error e;
		const char *obj = "{\"caf\\u00e9\":[\"a\\nb\",\"x\\u0000\",\"plain\"]}";
		cJSON *v = lg_json_parse(obj, strlen(obj), &e);
		const cJSON *arr = v ? v->child : NULL;
		uint64_t acc = LG_HASH_ARRAY_START;
		int ok = arr && lg_hash_text_escaped("a\\nb", 4, 0, &scratch, &cap, &h1) == 0 &&
			 lg_hash_text_escaped("caf\\u00e9", 9, 1, &scratch, &cap, &h3) == 0;
		/* "x\u0000" hashes as its literal: the body must sit between quotes. */
		const char *quoted = "\"x\\u0000\"";
		ok = ok && lg_hash_text_escaped(quoted + 1, 7, 0, &scratch, &cap, &h2) == 0;
		acc = lg_hash_array_add(lg_hash_array_add(lg_hash_array_add(acc, h1), h2),
					lg_hash_text_plain("plain", 5, 0));
		ok = ok && lg_hash_object_end(lg_hash_pair(h3, lg_hash_array_end(acc)), 1) == lg_json_hash(v);
		T_OK(ok, "escaped strings, arrays and objects from the pieces == lg_json_hash");
		T_OK(lg_hash_text_escaped("a\\u0000", 7, 1, &scratch, &cap, &h1) == -1 &&
		     lg_hash_text_escaped("a\\x", 3, 0, &scratch, &cap, &h1) == -1,
		     "\\u0000 in a key and a bad escape fail");
		free(scratch);
		cJSON_Delete(v);
	}

	/* Generated records, then mutations of them. */
	lg_buf b = { 0 };
	size_t gen_bad = 0, mut_bad = 0, mut_valid = 0, mutations = 0;
	char *m = NULL;
	for (int round = 0; round < 5000; round++) {
		b.len = 0;
		gen_object(&b, 0, 1);
		lg_buf_addc(&b, '\0');
		size_t n = b.len - 1;
		if (!agrees(b.data, n, &valid) || !valid) {
			if (gen_bad++ < 3)
				printf("  generated: %s\n", why);
		}
		m = realloc(m, n + 8);
		for (int j = 0; j < 6; j++) {
			memcpy(m, b.data, n + 1);
			size_t mn = n;
			rj_mutate(m, &mn, 1);
			mutations++;
			int v;
			if (!agrees(m, mn, &v)) {
				if (mut_bad++ < 5)
					printf("  mutation: %s\n", why);
			}
			mut_valid += (size_t)v;
		}
	}
	free(m);
	lg_buf_free(&b);
	T_INT(gen_bad, 0, "5000 generated records: text hash == tree hash");
	T_INT(mut_bad, 0, "30000 mutations: same verdict, and the same hash when valid");
	T_OK(mut_valid > mutations / 10 && mut_valid < mutations, "mutations: both valid and invalid texts occur");
	printf("# %zu of %zu mutations valid\n", mut_valid, mutations);
	return t_done();
}
