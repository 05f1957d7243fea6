/* store/scan.c: the tree-less scan may only say yes where common/json's
 * parser agrees, with the same externalId, timestamp, contentHash and
 * violation ids, and only for records put may store as sent. */
#include <stdlib.h>
#include <string.h>

#include "../../store/scan.h"
#include "buf.h"
#include "json.h"
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

/* scan says yes => the parser accepts it and finds the same fields. */
static int agrees(const char *s, size_t n)
{
	scan_record sr;
	lg_json_error e;
	if (!scan_plain_record(s, n, 503, 511, &sr))
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
	return scan_plain_record(s, strlen(s), 503, 511, &sr);
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
		if (scan_plain_record(m, n, 503, 511, &sr))
			accepted++;
	}
	free(m);
	snprintf(name, sizeof name, "%s: the scan never accepts what the parser rejects", what);
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

int main(void)
{
	const char *rec = "{\"externalId\":\"t-1\",\"name\":\"caf\xc3\xa9 \\\"q\\\" \\u00e9\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
		"\"n\":[1,-2.5e3,0,true,false,null],\"o\":{\"a\":{\"b\":[]}},\"big\":1234567890123456789}";
	scan_record sr;
	T_OK(scan_plain_record(rec, strlen(rec), 503, 511, &sr), "plain record accepted");
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
	T_OK(scan_plain_record(ev, strlen(ev), 503, 511, &sr) && sr.evaluated && sr.hash_len == 16 &&
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
	return t_done();
}
