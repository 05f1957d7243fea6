/* store/summary.c: a summary holds exactly the readings stats and the
 * filters make of a record, reads back as written, refuses a malformed
 * value, and is the same built from the record's text (put's fast path)
 * as from its tree. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/summary.h"
#include "buf.h"
#include "json.h"
#include "randjson.h"
#include "t.h"

static int enc(const char *text, lg_buf *b)
{
	lg_json_error e;
	cJSON *rec = lg_json_parse(text, strlen(text), &e);
	b->len = 0;
	int rc = rec ? summary_encode(rec, b) : -1;
	cJSON_Delete(rec);
	return rc;
}

static void fields(void)
{
	static const char rec[] =
		"{\"externalId\":\"t1\",\"timestamp\":\"2026-12-04T11:22:33.000Z\",\"status\":\"success\","
		"\"duration\":1234.5,\"userId\":\"u1\",\"sessionId\":\"s1\",\"source\":{\"integration\":\"prod\"},"
		"\"agent\":{\"name\":\"Support\",\"confidence\":0.9},"
		"\"metadata\":{\"model\":\"gpt-4o\",\"agent_name\":\"Other\",\"tokens\":{\"total\":300},\"cost\":0.25},"
		"\"violations\":[{\"id\":\"v1\",\"policy\":\"pii\",\"severity\":\"HIGH\",\"status\":\"new\"},"
		"{\"id\":\"v2\",\"policy\":\"inj\",\"severity\":\"whatever\",\"status\":\"acknowledged\"},7]}";
	lg_buf b = { 0 };
	summary s;
	sum_violation v;
	T_INT(enc(rec, &b), 0, "fields: encoded");
	T_INT(summary_decode(b.data, b.len, &s), 0, "fields: decoded");
	T_OK(sum_is(s.timestamp, "2026-12-04T11:22:33.000Z"), "fields: timestamp");
	T_OK(sum_is(s.agent, "Support"), "fields: agent.name before metadata.agent_name");
	T_OK(sum_is(s.model, "gpt-4o") && sum_is(s.status, "success") && sum_is(s.integration, "prod") &&
		     sum_is(s.user, "u1") && sum_is(s.session, "s1"),
	     "fields: model, status, integration, user, session");
	T_INT(s.has, SUM_DURATION | SUM_TOKENS | SUM_COST, "fields: the three numbers present");
	T_OK(s.duration == 1234.5 && s.tokens == 300 && s.cost == 0.25, "fields: their values");
	T_INT(s.nviol, 3, "fields: three violations");
	const unsigned char *pos = s.viol;
	T_OK(summary_next_violation(&s, &pos, &v) && v.object && v.severity == 3 && sum_is(v.policy, "pii") &&
		     sum_is(v.status, "new"),
	     "fields: a violation's severity (any case), policy, status");
	T_OK(summary_next_violation(&s, &pos, &v) && v.severity == 0 && sum_is(v.status, "acknowledged"),
	     "fields: an unknown severity is 0");
	T_OK(summary_next_violation(&s, &pos, &v) && !v.object && !v.policy.s && !v.status.s,
	     "fields: a violation that is no object is counted, with nothing in it");
	T_OK(!summary_next_violation(&s, &pos, &v), "fields: then the end");

	T_INT(enc("{\"externalId\":\"t2\",\"metadata\":{\"agent_name\":\"Other\",\"model\":null},\"duration\":\"5\","
		  "\"status\":\"\"}", &b), 0, "fallbacks: encoded");
	T_INT(summary_decode(b.data, b.len, &s), 0, "fallbacks: decoded");
	T_OK(sum_is(s.agent, "Other"), "fallbacks: metadata.agent_name without agent.name");
	T_OK(!s.model.s && !s.timestamp.s && !s.user.s && sum_is(s.status, ""),
	     "fallbacks: null and absent are absent, an empty string is kept");
	T_INT(s.has, 0, "fallbacks: a duration as a string is no number");
	lg_buf_free(&b);
}

static void malformed(void)
{
	lg_buf b = { 0 };
	summary s;
	size_t bad = 0;
	enc("{\"externalId\":\"t1\",\"timestamp\":\"2026-12-04T11:22:33Z\",\"agent\":{\"name\":\"A\"},"
	    "\"violations\":[{\"id\":\"v\",\"policy\":\"p\",\"status\":\"new\",\"severity\":\"low\"}]}", &b);
	T_INT(summary_decode(b.data, b.len, &s), 0, "malformed: the whole value reads");
	for (size_t n = 0; n < b.len; n++)
		bad += summary_decode(b.data, n, &s) != 0;
	T_INT(bad, b.len, "malformed: every shorter value is refused");
	lg_buf_addc(&b, 0);
	T_OK(summary_decode(b.data, b.len, &s) != 0, "malformed: a byte too many is refused");
	b.len--;
	b.data[0] = 2;
	T_OK(summary_decode(b.data, b.len, &s) != 0, "malformed: another version is refused");
	b.data[0] = SUMMARY_VERSION;
	b.data[b.len - 7 - 5 - 1] = 9; /* the severity, before "p" and "new" */
	T_OK(summary_decode(b.data, b.len, &s) != 0, "malformed: a severity past critical is refused");
	lg_buf_free(&b);
}

/* ---- generated records: the text's summary is the tree's ---- */

static void gen_string(lg_buf *b)
{
	static const char *const pieces[] = {
		"a", "Support", "caf\xc3\xa9", "\xe2\x82\xac", "\\\"", "\\\\", "\\n", "\\u00e9", "}", "]", "{",
		"[", ",", ":", "\\\"}", "success", "high", "pii", "2026-12-04T11:22:33Z", "\\u0000",
	};
	rj_string(b, pieces, sizeof pieces / sizeof *pieces, 5);
}

static void gen_object(lg_buf *b, int depth, int top)
{
	static const char *const keys[] = {
		"\"agent\"", "\"metadata\"", "\"violations\"", "\"timestamp\"", "\"duration\"", "\"status\"",
		"\"source\"", "\"userId\"", "\"sessionId\"", "\"name\"", "\"agent_name\"", "\"model\"",
		"\"tokens\"", "\"total\"", "\"cost\"", "\"integration\"", "\"policy\"", "\"severity\"",
		"\"spans\"", "\"input\"", "\"agen\"", "\"agent \"",
	};
	rj_object(b, keys, sizeof keys / sizeof *keys, top ? 1 + rnd(10) : rnd(5), depth);
}

static void generated(void)
{
	lg_buf text = { 0 }, a = { 0 }, t = { 0 };
	size_t differ = 0, tried = 0, escaped = 0;
	for (int i = 0; i < 20000; i++) {
		lg_json_error e;
		text.len = 0;
		gen_ws(&text);
		gen_object(&text, 0, 1);
		gen_ws(&text);
		cJSON *rec = lg_json_parse(text.data, text.len, &e);
		if (!rec)
			continue;
		tried++;
		a.len = t.len = 0;
		int rc = summary_encode_text(text.data, text.len, &t);
		if (summary_encode(rec, &a) != 0 || rc < 0) {
			differ++;
		} else if (rc == 1) {
			escaped++;
		} else if (a.len != t.len || memcmp(a.data, t.data, a.len) != 0) {
			if (!differ)
				printf("# differs: %.*s\n", (int)text.len, text.data);
			differ++;
		}
		cJSON_Delete(rec);
	}
	/* Mutations that stay valid JSON: odd spacing, keys and values cut
	 * or joined where the skipping of members must still find its way. */
	for (int i = 0; i < 20000; i++) {
		lg_json_error e;
		char m[4096];
		size_t mn;
		text.len = 0;
		gen_object(&text, 0, 1);
		if (text.len + 5 > sizeof m)
			continue;
		memcpy(m, text.data, text.len + 1);
		mn = text.len;
		rj_mutate(m, &mn, 0);
		cJSON *rec = lg_json_parse(m, mn, &e);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			continue;
		}
		tried++;
		a.len = t.len = 0;
		int rc = summary_encode_text(m, mn, &t);
		if (summary_encode(rec, &a) != 0 || rc < 0)
			differ++;
		else if (rc == 1)
			escaped++;
		else if (a.len != t.len || memcmp(a.data, t.data, a.len) != 0)
			differ++;
		cJSON_Delete(rec);
	}
	T_OK(tried > 15000, "generated: most records are valid JSON");
	T_INT(differ, 0, "generated: the summary of the text is the summary of the tree");
	T_OK(escaped < tried / 100, "generated: keys with escapes (from mutations only) are rare");
	static const char esc[] = "{\"ag\\u0065nt\":{\"name\":\"A\"}}";
	T_INT(summary_encode_text(esc, strlen(esc), &t), 1, "generated: a key with escapes asks for the parser");
	lg_buf_free(&text);
	lg_buf_free(&a);
	lg_buf_free(&t);
}

int main(void)
{
	fields();
	malformed();
	generated();
	return t_done();
}
