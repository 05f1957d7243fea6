/* store/scan.c: the tree-less scan may only say yes where common/json's
 * parser agrees, with the same externalId, timestamp, contentHash and
 * violation ids, and only for records put may store as sent; the content
 * hash it computes in the same pass is exactly lg_record_content_hash of
 * the parsed record, and asking for it never changes the verdict. */
#include <stdlib.h>
#include <string.h>

#include "../../store/scan.h"
#include "buf.h"
#include "hash.h"
#include "json.h"
#include "randjson.h"
#include "t.h"

static void collect(void *ctx, const char *id, size_t n)
{
	lg_buf *b = ctx;
	lg_buf_add(b, id, n);
	lg_buf_addc(b, '|');
}

/* The violation ids the tree holds, as collect writes them; -1 when a
 * violation lacks "status" or a string "id" (the scan must say no). */
static int tree_ids(const cJSON *v, lg_buf *b)
{
	const cJSON *vs = lg_json_get(v, "violations");
	if (!vs)
		return 0;
	if (!cJSON_IsArray(vs))
		return -1;
	for (const cJSON *x = vs->child; x; x = x->next) {
		const char *id = lg_json_str(x, "id");
		if (!cJSON_IsObject(x) || !lg_json_get(x, "status") || !id || !*id)
			return -1;
		lg_buf_adds(b, id);
		lg_buf_addc(b, '|');
	}
	return 0;
}

static char why[512];

/* scan says yes => the parser accepts it and finds the same fields, and
 * the one-pass hash is the tree's; the verdict is the same with or
 * without the hash. */
static int agrees(const char *s, size_t n)
{
	scan_record sr, hs;
	lg_json_error e;
	int yes = scan_plain_record(s, n, 503, 511, 0, &sr), hyes = scan_plain_record(s, n, 503, 511, 1, &hs);
	if (yes != hyes || (yes && (sr.hashed || !hs.hashed))) {
		snprintf(why, sizeof why, "verdict %d without the hash, %d with it: %.300s", yes, hyes, s);
		return 0;
	}
	if (!yes)
		return 1;
	cJSON *v = lg_json_parse(s, n, &e);
	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return 0;
	}
	const char *id = lg_json_str(v, "externalId"), *ts = lg_json_str(v, "timestamp");
	const cJSON *ev = lg_json_get(v, "evaluation");
	const char *hash = lg_json_str(ev, "contentHash");
	lg_buf want = { 0 }, got = { 0 };
	int ok = id && strlen(id) == sr.id_len && memcmp(id, s + sr.id_off, sr.id_len) == 0 &&
		 (sr.ts_len ? ts && strlen(ts) == sr.ts_len && !memcmp(ts, s + sr.ts_off, sr.ts_len) : !ts || !*ts) &&
		 !lg_json_get(v, "stale") && !lg_json_get(v, "$lg") &&
		 sr.evaluated == (ev != NULL) && (!ev || cJSON_IsObject(ev)) &&
		 (hash && *hash ? sr.hash_len == strlen(hash) && !memcmp(hash, s + sr.hash_off, sr.hash_len)
				: sr.hash_len == 0) &&
		 tree_ids(v, &want) == 0;
	if (!ok)
		snprintf(why, sizeof why, "fields differ: %.300s", s);
	if (ok && hs.hash != lg_record_content_hash(v)) {
		snprintf(why, sizeof why, "hash %016llx, tree %016llx: %.300s", (unsigned long long)hs.hash,
			 (unsigned long long)lg_record_content_hash(v), s);
		ok = 0;
	}
	scan_violation_ids(s, &sr, collect, &got);
	ok = ok && want.len == got.len && (!want.len || !memcmp(want.data, got.data, want.len));
	lg_buf_free(&want);
	lg_buf_free(&got);
	cJSON_Delete(v);
	return ok;
}

static int plain(const char *s)
{
	scan_record sr;
	return scan_plain_record(s, strlen(s), 503, 511, 1, &sr);
}

static void mutate(const char *rec, const char *what)
{
	scan_record sr;
	char name[160];
	size_t n = strlen(rec), disagreements = 0, accepted = 0;
	char *m = malloc(n + 1);
	static const char alphabet[] = "{}[]\",:\\u0e9 -.tfnx\x80\xc3\xa9\xff\t";
	srand(42);
	for (int round = 0; round < 20000; round++) {
		memcpy(m, rec, n + 1);
		int edits = 1 + rand() % 3;
		for (int e = 0; e < edits; e++)
			m[rand() % n] = alphabet[rand() % (sizeof alphabet - 1)];
		if (!agrees(m, n))
			disagreements++;
		if (scan_plain_record(m, n, 503, 511, 1, &sr))
			accepted++;
	}
	free(m);
	snprintf(name, sizeof name, "%s: the scan never accepts what the parser rejects; its hash is the tree's", what);
	T_INT(disagreements, 0, name);
	snprintf(name, sizeof name, "%s: many still accepted (the test exercises the yes path)", what);
	T_OK(accepted > 1000, name);
}

/* Every byte the string scan must stop at, at every offset of a long
 * string: the 16- and 8-byte skips and the bytes after them. */
static void long_strings(void)
{
	static const char *const inserts[] = { "\"", "\\", "\x01", "\x1f", "\x80", "\xff", "\xc3",
					       "\xc3\xa9", "\\\"", "\\u00e9", "\x7f", " " };
	static const int valid[] = { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
	size_t bad = 0, wrong = 0;
	char body[49];
	memset(body, 'a', 48);
	body[48] = '\0';
	for (size_t i = 0; i < sizeof inserts / sizeof *inserts; i++) {
		for (int at = 0; at <= 48; at++) {
			char s[160];
			snprintf(s, sizeof s, "{\"externalId\":\"x\",\"s\":\"%.*s%s%s\"}", at, body, inserts[i], body + at);
			bad += !agrees(s, strlen(s));
			wrong += plain(s) != valid[i];
		}
	}
	T_INT(bad, 0, "long strings: the scan never accepts what the parser rejects");
	T_INT(wrong, 0, "long strings: each special byte at each offset judged as the parser judges it");
}

/* ---- generated records (tests/unit/randjson.h, biased toward
 * what the scan accepts: an externalId first, top-level keys of ours) ---- */

static void gen_string(lg_buf *b)
{
	static const char *const pieces[] = {
		"a", "hello world", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\/",
		"\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u20AC", "\\u0041", "12345678",
		"violations", "evaluation", "stale", "0123456789abcdef0123456789", " ", "\\ud83d\\ude00", "\\u0000",
	};
	lg_buf_addc(b, '"');
	unsigned n = rnd(6);
	for (unsigned i = 0; i < n; i++)
		lg_buf_adds(b, pieces[rnd(sizeof pieces / sizeof *pieces - (rnd(8) ? 2 : 0))]);
	lg_buf_addc(b, '"');
}

static void gen_object(lg_buf *b, int depth, int top)
{
	static const char *const keys[] = {
		"\"name\"", "\"metadata\"", "\"spans\"", "\"k\\n\"", "\"\"", "\"caf\xc3\xa9\"", "\"a\"", "\"b\"",
		"\"name\"", "\"violations\"", "\"evaluation\"", "\"stale\"", "\"viol\\u0061tions\"",
	};
	lg_buf_addc(b, '{');
	unsigned n = top ? 2 + rnd(6) : rnd(4);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			lg_buf_addc(b, ',');
		if (top && i == 0) {
			lg_buf_printf(b, "\"externalId\":\"t-%u\"", rnd(1000));
			continue;
		}
		if (top && rnd(6) == 0) { /* ours, as lg-policy writes them */
			int viol = (int)rnd(2);
			if (viol)
				lg_buf_printf(b, "\"violations\":[{\"id\":\"v%u\",\"status\":\"new\",\"x\":", rnd(9));
			else
				lg_buf_printf(b, "\"evaluation\":{\"contentHash\":\"%016x\",\"p\":", rnd(99));
			gen_value(b, 2);
			lg_buf_adds(b, viol ? "}]" : "}");
			continue;
		}
		/* top level: mostly keys the scan takes; nested: all of them */
		const char *key = keys[rnd(sizeof keys / sizeof *keys - (top && rnd(8) ? 5 : 0))];
		gen_ws(b);
		rj_member(b, key, depth);
	}
	lg_buf_addc(b, '}');
}

/* 5,000 generated records and 6 mutations of each: the scan's verdict
 * and one-pass hash against the parser and the tree's hash. */
static void generated(void)
{
	lg_buf b = { 0 };
	size_t gen_bad = 0, gen_yes = 0, mut_bad = 0, mut_yes = 0, mutations = 0;
	char *m = NULL;
	scan_record sr;
	for (int round = 0; round < 5000; round++) {
		b.len = 0;
		gen_object(&b, 0, 1);
		lg_buf_addc(&b, '\0');
		size_t n = b.len - 1;
		if (!agrees(b.data, n) && gen_bad++ < 3)
			printf("  generated: %s\n", why);
		gen_yes += (size_t)scan_plain_record(b.data, n, 503, 511, 1, &sr);
		m = realloc(m, n + 8);
		for (int j = 0; j < 6; j++) {
			memcpy(m, b.data, n + 1);
			size_t mn = n;
			rj_mutate(m, &mn, 0);
			mutations++;
			if (!agrees(m, mn) && mut_bad++ < 5)
				printf("  mutation: %s\n", why);
			mut_yes += (size_t)scan_plain_record(m, mn, 503, 511, 1, &sr);
		}
	}
	free(m);
	lg_buf_free(&b);
	T_INT(gen_bad, 0, "5000 generated records: the one-pass hash == tree hash wherever the scan says yes");
	T_OK(gen_yes > 2500 && gen_yes < 5000, "generated records: the scan takes most, not all");
	T_INT(mut_bad, 0, "30000 mutations: same verdict with and without the hash, the tree's hash when yes");
	T_OK(mut_yes > mutations / 20, "mutations: many still taken by the scan");
	printf("# %zu of 5000 generated and %zu of %zu mutations taken by the scan\n", gen_yes, mut_yes, mutations);
}

int main(void)
{
	const char *rec = "{\"externalId\":\"t-1\",\"name\":\"caf\xc3\xa9 \\\"q\\\" \\u00e9\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
		"\"n\":[1,-2.5e3,0,true,false,null],\"o\":{\"a\":{\"b\":[]}},\"big\":1234567890123456789}";
	scan_record sr;
	T_OK(scan_plain_record(rec, strlen(rec), 503, 511, 1, &sr), "plain record accepted");
	T_INT(sr.id_len, 3, "externalId length");
	T_OK(!memcmp(rec + sr.id_off, "t-1", 3), "externalId bytes");
	T_INT(sr.ts_len, 24, "timestamp length");
	T_OK(agrees(rec, strlen(rec)), "parser agrees on the plain record");
	T_OK(plain("  {\"externalId\":\"x\"}  "), "white space around");
	T_OK(!plain("{\"name\":\"x\"}"), "no externalId: full path");
	T_OK(!plain("{\"externalId\":\"\"}"), "empty externalId: full path");
	T_OK(!plain("{\"externalId\":7}"), "numeric externalId: full path");
	T_OK(!plain("{\"externalId\":\"a\\\"b\"}"), "escaped externalId: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"stale\":true}"), "stale key: full path");
	/* Evaluated records: stored as sent when their violations need nothing. */
	const char *ev = "{\"externalId\":\"x\",\"violations\":[{\"id\":\"v1\",\"status\":\"new\"},"
		"{\"status\":\"acknowledged\",\"id\":\"v2\",\"id\":\"v3\"}],"
		"\"evaluation\":{\"policies\":[\"pii\"],\"contentHash\":\"0123456789abcdef\"}}";
	T_OK(scan_plain_record(ev, strlen(ev), 503, 511, 1, &sr) && sr.evaluated && sr.hash_len == 16 &&
	     !memcmp(ev + sr.hash_off, "0123456789abcdef", 16), "evaluated record: contentHash found");
	T_OK(agrees(ev, strlen(ev)), "evaluated record: ids v1, v2 (the first id) as the parser sees them");
	T_OK(plain("{\"externalId\":\"x\",\"violations\":[]}"), "empty violations: plain");
	T_OK(plain("{\"externalId\":\"x\",\"evaluation\":{}}"), "evaluation without a hash: plain");
	T_OK(plain("{\"externalId\":\"x\",\"evaluation\":{\"contentHash\":7}}"), "numeric hash: plain (stale)");
	T_OK(!plain("{\"externalId\":\"x\",\"evaluation\":{\"contentHash\":\"\\u0030\"}}"), "escaped hash: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"evaluation\":[]}"), "evaluation not an object: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"evaluation\":{},\"evaluation\":{}}"), "evaluation twice: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[{\"id\":\"v\"}]}"), "violation without status: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[{\"id\":\"\",\"status\":\"new\"}]}"), "empty violation id: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[{\"id\":1,\"status\":\"new\"}]}"), "numeric violation id: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[{\"i\\u0064\":\"v\",\"status\":\"new\"}]}"), "escaped key in a violation: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[1]}"), "violation not an object: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":null}"), "null violations: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[],\"violations\":[]}"), "violations twice: full path");
	T_OK(!plain("{\"$lg\":\"checkpoint\",\"externalId\":\"x\"}"), "control line: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"timestamp\":null}"), "null timestamp: full path");
	T_OK(!plain("{\"external\\u0049d\":\"x\"}"), "escaped key: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"s\":\"\\u0000\"}"), "\\u0000: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"s\":\"\\ud83d\\ude00\"}"), "surrogate escapes: full path");
	T_OK(!plain("{\"externalId\":\"x\",}"), "trailing comma rejected");
	T_OK(!plain("{\"externalId\":\"x\"} x"), "trailing characters rejected");
	T_OK(!plain("{\"externalId\":\"x\",\"n\":01}"), "leading zero rejected");
	T_OK(!plain("{\"externalId\":\"x\",\"n\":1.}"), "bare dot rejected");
	T_OK(!plain("{\"externalId\":\"x\",\"s\":\"\xc0\xaf\"}"), "overlong UTF-8 rejected");
	T_OK(!plain("{\"externalId\":\"x\",\"s\":\"\xed\xa0\x80\"}"), "encoded surrogate rejected");
	T_OK(!plain("{\"externalId\":\"x\",\"s\":\"a\tb\"}"), "raw tab in string rejected");
	T_OK(!plain("[{\"externalId\":\"x\"}]"), "array rejected");
	char id[600];
	memset(id, 'a', sizeof id);
	char longrec[700];
	snprintf(longrec, sizeof longrec, "{\"externalId\":\"%.504s\"}", id);
	T_OK(!plain(longrec), "externalId over the key limit: full path");
	/* Deep nesting: beyond the parser's limit the scan says no too. */
	size_t depth = LG_JSON_MAX_DEPTH + 5, k = 0;
	char *deep = malloc(depth * 2 + 64);
	k += (size_t)sprintf(deep, "{\"externalId\":\"x\",\"d\":");
	for (size_t i = 0; i < depth; i++) deep[k++] = '[';
	for (size_t i = 0; i < depth; i++) deep[k++] = ']';
	deep[k++] = '}';
	deep[k] = '\0';
	T_OK(!plain(deep), "nesting deeper than the parser allows rejected");
	free(deep);

	/* Mutations of valid records: whenever the scan says yes, the parser
	 * must agree (never store a line the parser would call bad). */
	long_strings();
	mutate(rec, "20000 mutations of a plain record");
	mutate(ev, "20000 mutations of an evaluated record");
	generated();
	return t_done();
}
