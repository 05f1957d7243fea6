/* store/scan.c: the tree-less scan may only say yes where common/json's
 * parser agrees, with the same externalId and timestamp. */
#include <stdlib.h>
#include <string.h>

#include "../../store/scan.h"
#include "json.h"
#include "t.h"

/* scan says yes => the parser accepts it and finds the same fields. */
static int agrees(const char *s, size_t n)
{
	scan_record sr;
	lg_json_error e;
	if (!scan_plain_record(s, n, 503, &sr))
		return 1;
	cJSON *v = lg_json_parse(s, n, &e);
	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return 0;
	}
	const char *id = lg_json_str(v, "externalId"), *ts = lg_json_str(v, "timestamp");
	int ok = id && strlen(id) == sr.id_len && memcmp(id, s + sr.id_off, sr.id_len) == 0 &&
		 (sr.ts_len ? ts && strlen(ts) == sr.ts_len && !memcmp(ts, s + sr.ts_off, sr.ts_len) : !ts || !*ts) &&
		 !lg_json_get(v, "stale") && !lg_json_get(v, "violations") && !lg_json_get(v, "evaluation") &&
		 !lg_json_get(v, "$lg");
	cJSON_Delete(v);
	return ok;
}

static int plain(const char *s)
{
	scan_record sr;
	return scan_plain_record(s, strlen(s), 503, &sr);
}

int main(void)
{
	const char *rec = "{\"externalId\":\"t-1\",\"name\":\"caf\xc3\xa9 \\\"q\\\" \\u00e9\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
		"\"n\":[1,-2.5e3,0,true,false,null],\"o\":{\"a\":{\"b\":[]}},\"big\":1234567890123456789}";
	scan_record sr;
	T_OK(scan_plain_record(rec, strlen(rec), 503, &sr), "plain record accepted");
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
	T_OK(!plain("{\"externalId\":\"x\",\"violations\":[]}"), "violations: full path");
	T_OK(!plain("{\"externalId\":\"x\",\"evaluation\":{}}"), "evaluation: full path");
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

	/* Mutations of a valid record: whenever the scan says yes, the parser
	 * must agree (never store a line the parser would call bad). */
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
		if (scan_plain_record(m, n, 503, &sr))
			accepted++;
	}
	free(m);
	T_INT(disagreements, 0, "20000 mutations: the scan never accepts what the parser rejects");
	T_OK(accepted > 1000, "mutations: many still plain (the test exercises the yes path)");
	return t_done();
}
