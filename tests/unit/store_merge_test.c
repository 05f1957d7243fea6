/* lg-store merge rules, one by one (docs/store.md "Merge rules"). */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "../../store/merge.h"
#include "records.h"
#include "t.h"

#define NOW 1795000000000LL /* 2026-11-18T... fixed "now" for resolvedAt */

/* merge(stored, incoming) and return the path's compact text (malloc'd). */
static char *merged_at(const char *stored, const char *incoming, const char *path)
{
	cJSON *base = t_json(stored), *in = t_json(incoming);
	merge_record(base, in, NOW);
	const cJSON *at = path ? lg_json_path(base, path) : base;
	char *s = at ? lg_json_to_string(at) : NULL;
	cJSON_Delete(base);
	cJSON_Delete(in);
	return s ? s : strdup("(absent)");
}

static void check_at(const char *stored, const char *incoming, const char *path, const char *want,
		     const char *name)
{
	char *got = merged_at(stored, incoming, path);
	T_STR(got, want, name);
	free(got);
}

static void test_scalars(void)
{
	check_at("{\"name\":\"a\",\"release\":\"1\"}", "{\"name\":\"b\"}", "name", "\"b\"", "scalar: later non-null wins");
	check_at("{\"name\":\"a\"}", "{\"name\":null}", "name", "\"a\"", "scalar: null never erases");
	check_at("{\"name\":\"a\",\"release\":\"1\"}", "{\"name\":\"b\"}", "release", "\"1\"", "scalar: absent keeps stored");
	check_at("{\"input\":{\"q\":1,\"x\":2}}", "{\"input\":{\"q\":3}}", "input", "{\"q\":3}",
		 "scalar: input object replaced, not deep-merged");
	check_at("{\"a\":1}", "{\"zz\":{\"k\":[1,2]}}", "zz", "{\"k\":[1,2]}", "unknown keys survive");
	check_at("{\"big\":1}", "{\"big\":1234567890123456789}", "big", "1234567890123456789",
		 "19-digit integer survives exactly");
	check_at("{\"externalId\":\"t1\"}", "{\"externalId\":\"t1\",\"stale\":true}", "stale", "(absent)",
		 "incoming stale flag ignored");
}

static void test_metadata(void)
{
	const char *s = "{\"metadata\":{\"a\":1,\"deep\":{\"x\":1,\"y\":2},\"keep\":\"k\"}}";
	const char *i = "{\"metadata\":{\"a\":2,\"deep\":{\"y\":3,\"z\":4},\"keep\":null,\"new\":true}}";
	check_at(s, i, "metadata", "{\"a\":2,\"deep\":{\"x\":1,\"y\":3,\"z\":4},\"keep\":\"k\",\"new\":true}",
		 "metadata: deep-merged, incoming non-null wins");
	check_at("{\"source\":{\"system\":\"langfuse\",\"integration\":\"prod\"}}",
		 "{\"source\":{\"htmlPath\":\"/p\"}}", "source",
		 "{\"system\":\"langfuse\",\"integration\":\"prod\",\"htmlPath\":\"/p\"}", "source: deep-merged");
}

static void test_tags(void)
{
	check_at("{\"tags\":[\"a\",\"b\"]}", "{\"tags\":[\"c\",\"a\"]}", "tags", "[\"a\",\"b\",\"c\"]",
		 "tags: united, stored order first");
	check_at("{}", "{\"tags\":[\"x\"]}", "tags", "[\"x\"]", "tags: none stored");
	check_at("{\"tags\":[\"x\"]}", "{\"tags\":[]}", "tags", "[\"x\"]", "tags: empty incoming removes nothing");
}

static void test_timestamp(void)
{
	check_at("{\"timestamp\":\"2026-01-01T00:00:05.000Z\"}", "{\"timestamp\":\"2026-01-01T00:00:01.000Z\"}",
		 "timestamp", "\"2026-01-01T00:00:01.000Z\"", "timestamp: earlier incoming wins");
	check_at("{\"timestamp\":\"2026-01-01T00:00:01.000Z\"}", "{\"timestamp\":\"2026-01-01T00:00:05.000Z\"}",
		 "timestamp", "\"2026-01-01T00:00:01.000Z\"", "timestamp: later incoming loses");
}

static const char *span(char *buf, size_t n, const char *id, int start_s, int end_s, const char *type,
			int tin, int tout, const char *cost, const char *level)
{
	snprintf(buf, n,
		 "{\"id\":\"%s\",\"parentId\":null,\"type\":\"%s\",\"name\":\"%s\","
		 "\"startTime\":\"2026-03-01T10:00:%02d.000Z\",\"endTime\":\"2026-03-01T10:00:%02d.000Z\","
		 "\"duration\":%d,\"model\":%s,\"tokens\":{\"input\":%d,\"output\":%d,\"total\":%d},"
		 "\"cost\":%s,\"level\":\"%s\"}",
		 id, type, id, start_s, end_s, (end_s - start_s) * 1000,
		 strcmp(type, "llm") == 0 ? "\"gpt-4o\"" : "null", tin, tout, tin + tout, cost, level);
	return buf;
}

/* A record with the given spans and metrics as lg-map computes them. */
static cJSON *record_of(const char *spans_json)
{
	char buf[4096];
	snprintf(buf, sizeof buf,
		 "{\"externalId\":\"tr-1\",\"name\":\"chat\",\"timestamp\":null,\"duration\":null,"
		 "\"metadata\":{\"env\":\"x\"},\"tags\":[],\"status\":\"success\",\"incomplete\":null,\"spans\":[%s],"
		 "\"source\":{\"system\":\"langfuse\",\"integration\":\"prod\"}}",
		 spans_json);
	return t_mapped(t_json(buf));
}

static void test_spans(void)
{
	char a[512], b[512], b2[512], c[512];
	span(a, sizeof a, "s1", 0, 2, "llm", 10, 5, "0.1", "DEFAULT");
	span(b, sizeof b, "s2", 3, 4, "tool", 0, 0, "0", "DEFAULT");
	span(b2, sizeof b2, "s2", 3, 9, "tool", 0, 0, "0", "ERROR");
	span(c, sizeof c, "s0", 0, 1, "retrieval", 0, 0, "0", "DEFAULT");
	char s1[2048], s2[2048];
	snprintf(s1, sizeof s1, "%s,%s", a, b);
	snprintf(s2, sizeof s2, "%s,%s", b2, c);
	cJSON *base = record_of(s1), *in = record_of(s2);
	merge_record(base, in, NOW);
	cJSON *spans = lg_json_get(base, "spans");
	T_INT(cJSON_GetArraySize(spans), 3, "spans: united by id");
	T_STR(lg_json_str(cJSON_GetArrayItem(spans, 0), "id"), "s0", "spans: ordered by start, then id (s0)");
	T_STR(lg_json_str(cJSON_GetArrayItem(spans, 1), "id"), "s1", "spans: ordered by start, then id (s1)");
	T_STR(lg_json_str(cJSON_GetArrayItem(spans, 2), "level"), "ERROR", "spans: incoming span wins");
	T_STR(lg_json_str(base, "status"), "error", "spans: status recomputed from merged spans");
	double d;
	lg_json_get_num(base, "duration", &d);
	T_DBL(d, 9000, 0, "spans: duration recomputed from merged spans");
	cJSON_Delete(base);
	cJSON_Delete(in);
}

/* The acceptance test: a trace split into two fragments (two fetch
 * windows) merges to exactly the record of the whole trace. */
static void test_fragments(void)
{
	char sp[4][512], whole[4096], f1[2048], f2[2048];
	span(sp[0], 512, "root", 0, 30, "agent", 0, 0, "0", "DEFAULT");
	span(sp[1], 512, "gen-1", 1, 5, "llm", 1200, 340, "0.0123", "DEFAULT");
	span(sp[2], 512, "ret-1", 6, 8, "retrieval", 0, 0, "0", "DEFAULT");
	span(sp[3], 512, "gen-2", 20, 29, "llm", 800, 99, "0.0877", "WARNING");
	snprintf(whole, sizeof whole, "%s,%s,%s,%s", sp[0], sp[1], sp[2], sp[3]);
	snprintf(f1, sizeof f1, "%s,%s", sp[0], sp[1]);  /* window 1 */
	snprintf(f2, sizeof f2, "%s,%s", sp[2], sp[3]);  /* window 2 */
	cJSON *w = record_of(whole), *a = record_of(f1), *b = record_of(f2), *b2 = record_of(f2), *a2 = record_of(f1);
	merge_record(a, b, NOW);
	char *got = lg_json_to_string(lg_json_path(a, "metadata.tokens"));
	char *want = lg_json_to_string(lg_json_path(w, "metadata.tokens"));
	T_STR(got, want, "fragments: tokens equal the whole trace");
	T_STR(got, "{\"input\":2000,\"output\":439,\"total\":2439}", "fragments: tokens exact");
	free(got), free(want);
	got = lg_json_to_string(lg_json_path(a, "metadata.cost"));
	T_STR(got, "0.1", "fragments: cost sums exactly (0.0123+0.0877)");
	free(got);
	got = lg_json_to_string(lg_json_path(a, "metadata.latency"));
	want = lg_json_to_string(lg_json_path(w, "metadata.latency"));
	T_STR(got, want, "fragments: latency breakdown equals the whole trace");
	free(got), free(want);
	T_OK(lg_json_equal(a, w), "fragments: merged record equals the whole trace's record");
	/* Arrival order does not matter. */
	merge_record(b2, a2, NOW);
	T_OK(lg_json_equal(b2, w), "fragments: merged in the other order, same record");
	/* Merging a fragment again changes nothing. */
	cJSON *again = record_of(f2), *copy = cJSON_Duplicate(a, 1);
	merge_record(copy, again, NOW);
	T_OK(lg_json_equal(copy, a), "fragments: re-merging a fragment is a no-op");
	cJSON_Delete(w), cJSON_Delete(a), cJSON_Delete(b), cJSON_Delete(a2), cJSON_Delete(b2);
	cJSON_Delete(again), cJSON_Delete(copy);
}

static void merge_text(cJSON *base, const char *incoming)
{
	cJSON *in = t_json(incoming);
	merge_record(base, in, NOW);
	cJSON_Delete(in);
}

/* A fragment holding only a score, as lg-map builds it. */
static void score_fragment(char *out, size_t n, const char *score)
{
	snprintf(out, n, "{\"externalId\":\"T\",\"name\":null,\"timestamp\":null,\"duration\":0,\"input\":null,"
		 "\"metadata\":{\"tokens\":{\"input\":0,\"output\":0,\"total\":0},\"cost\":0,\"model\":null,"
		 "\"models\":[]},\"tags\":[],\"status\":\"success\",\"incomplete\":null,\"spans\":[],\"scores\":[%s]}",
		 score);
}

/* A window's scores are those whose own time falls in it: a trace stored
 * from one window gets its later scores in a fragment holding nothing else
 * (no spans, timestamp null), as lg-map builds it from lg-fetch's. */
static void test_scores(void)
{
	char sp[2][512], spans[1100], whole[4096], stored[2048];
	span(sp[0], 512, "root", 0, 30, "agent", 0, 0, "0", "DEFAULT");
	span(sp[1], 512, "gen-1", 1, 5, "llm", 1200, 340, "0.0123", "DEFAULT");
	snprintf(spans, sizeof spans, "%s,%s", sp[0], sp[1]);
	const char *s1 = "{\"id\":\"s1\",\"name\":\"fb\",\"value\":1,\"timestamp\":\"2026-11-01T10:00:00.000Z\"}";
	const char *s2 = "{\"id\":\"s2\",\"name\":\"ok\",\"value\":0,\"timestamp\":\"2026-11-01T09:00:00.000Z\"}";
	const char *s2b = "{\"id\":\"s2\",\"name\":\"ok\",\"value\":1,\"timestamp\":\"2026-11-01T09:00:00.000Z\"}";
	snprintf(whole, sizeof whole, "{\"externalId\":\"T\",\"name\":\"t\",\"tags\":[],\"spans\":[%s],\"scores\":[%s,%s]}", spans, s2, s1);
	snprintf(stored, sizeof stored, "{\"externalId\":\"T\",\"name\":\"t\",\"tags\":[],\"spans\":[%s]}", spans);
	char f1[1024], f2[1024], f2b[1024];
	score_fragment(f1, sizeof f1, s1);
	score_fragment(f2, sizeof f2, s2);
	score_fragment(f2b, sizeof f2b, s2b);
	cJSON *w = t_mapped(t_json(whole)), *a = t_mapped(t_json(stored)), *b = t_mapped(t_json(stored));
	merge_text(a, f1);
	merge_text(a, f2);
	merge_text(b, f2);
	merge_text(b, f1);
	T_OK(lg_json_equal(a, w), "scores: a trace's scores from later fragments make the whole record");
	T_OK(lg_json_equal(b, w), "scores: in the other order, the same record");
	cJSON *c = t_mapped(t_json(whole));
	merge_text(c, f2);
	T_OK(lg_json_equal(c, w), "scores: a score merged again changes nothing");
	merge_text(c, f2b);
	char *got = lg_json_to_string(lg_json_get(c, "scores"));
	T_STR(got, "[{\"id\":\"s2\",\"name\":\"ok\",\"value\":1,\"timestamp\":\"2026-11-01T09:00:00.000Z\"},"
	      "{\"id\":\"s1\",\"name\":\"fb\",\"value\":1,\"timestamp\":\"2026-11-01T10:00:00.000Z\"}]",
	      "scores: the incoming copy of an id wins, time order kept");
	free(got);
	cJSON_Delete(w), cJSON_Delete(a), cJSON_Delete(b), cJSON_Delete(c);
}

static void test_agent(void)
{
	const char *strong = "{\"agent\":{\"name\":\"Support\",\"confidence\":0.9},\"metadata\":{\"agent_name\":\"Support\"}}";
	const char *weak = "{\"agent\":{\"name\":\"chat\",\"confidence\":0.4},\"agents\":[\"chat\"],\"metadata\":{\"agent_name\":\"chat\"}}";
	check_at(strong, weak, "agent.name", "\"Support\"", "agent: stronger stored signal stays");
	check_at(strong, weak, "metadata.agent_name", "\"Support\"", "agent: metadata.agent_name follows the winner");
	check_at(strong, weak, "agents", "(absent)", "agent: agents[] follows the winner");
	check_at(weak, strong, "agent.name", "\"Support\"", "agent: stronger incoming signal wins");
	check_at("{\"agent\":{\"name\":\"A\",\"confidence\":0.5}}", "{\"agent\":{\"name\":\"B\",\"confidence\":0.5}}",
		 "agent.name", "\"B\"", "agent: tie goes to incoming");
	check_at(strong, "{\"agent\":null}", "agent.name", "\"Support\"", "agent: null incoming keeps stored");
	check_at("{}", weak, "agent.name", "\"chat\"", "agent: none stored");
}

static const char *STORED_V =
	"{\"violations\":["
	"{\"id\":\"v1\",\"policy\":\"pii\",\"severity\":\"high\",\"status\":\"acknowledged\",\"notes\":\"looking\","
	"\"acknowledgedAt\":\"2026-01-02T00:00:00.000Z\",\"detectedAt\":\"2026-01-01T00:00:00.000Z\"},"
	"{\"id\":\"v2\",\"policy\":\"pii\",\"severity\":\"high\",\"status\":\"new\"},"
	"{\"id\":\"v3\",\"policy\":\"cost\",\"severity\":\"low\",\"status\":\"new\"}]}";

/* An evaluation of pii with contentHash %s. */
#define IN_FMT "{\"violations\":[" \
		"{\"id\":\"v1\",\"policy\":\"pii\",\"severity\":\"high\",\"status\":\"new\",\"detectedAt\":\"2026-02-01T00:00:00.000Z\",\"message\":\"m2\"}," \
		"{\"id\":\"v4\",\"policy\":\"pii\",\"severity\":\"critical\"}]," \
		"\"evaluation\":{\"contentHash\":\"%s\",\"policies\":[\"pii\"],\"evaluatedAt\":\"2026-02-01T00:00:00.000Z\"}}"

static void test_violations(void)
{
	/* pii ran again over the whole record: v1 still found, v2 gone, v4
	 * new; cost did not run. */
	char whole[17], in[1024];
	cJSON *stored = t_json(STORED_V);
	merge_content_hash(stored, whole);
	cJSON_Delete(stored);
	snprintf(in, sizeof in, IN_FMT, whole);
	char *got = merged_at(STORED_V, in, "violations");
	cJSON *vs = t_json(got);
	cJSON *v1 = cJSON_GetArrayItem(vs, 0), *v4 = cJSON_GetArrayItem(vs, 1);
	T_STR(lg_json_str(v1, "status"), "acknowledged", "violations: surviving id keeps its status");
	T_STR(lg_json_str(v1, "notes"), "looking", "violations: surviving id keeps its notes");
	T_STR(lg_json_str(v1, "detectedAt"), "2026-01-01T00:00:00.000Z", "violations: surviving id keeps first detection");
	T_STR(lg_json_str(v1, "message"), "m2", "violations: surviving id takes the new evidence");
	T_STR(lg_json_str(v4, "status"), "new", "violations: a new one is new");
	cJSON *v2 = NULL, *v3 = NULL;
	for (cJSON *v = vs->child; v; v = v->next) {
		if (!strcmp(lg_json_str(v, "id"), "v2")) v2 = v;
		if (!strcmp(lg_json_str(v, "id"), "v3")) v3 = v;
	}
	T_STR(lg_json_str(v2, "status"), "resolved", "violations: no longer found -> resolved");
	T_STR(lg_json_str(v2, "resolution"), "no longer detected", "violations: resolution says why");
	T_OK(lg_json_str(v2, "resolvedAt") != NULL, "violations: resolvedAt set");
	T_STR(lg_json_str(v3, "status"), "new", "violations: a policy that did not run keeps its violations");
	T_INT(cJSON_GetArraySize(vs), 4, "violations: nothing lost");
	cJSON_Delete(vs);
	free(got);

	/* The same evaluation of a fragment (it saw other content than the
	 * merged record's): what it did not find may be in the rest, so
	 * nothing stored is resolved, and an acknowledgment stays. */
	snprintf(in, sizeof in, IN_FMT, "0123456789abcdef");
	got = merged_at(STORED_V, in, "violations");
	vs = t_json(got);
	v1 = cJSON_GetArrayItem(vs, 0);
	v2 = NULL;
	for (cJSON *v = vs->child; v; v = v->next)
		if (!strcmp(lg_json_str(v, "id"), "v2"))
			v2 = v;
	T_STR(lg_json_str(v1, "status"), "acknowledged", "violations: a fragment's evaluation keeps an ack");
	T_STR(lg_json_str(v2, "status"), "new", "violations: a fragment's evaluation resolves nothing");
	T_INT(cJSON_GetArraySize(vs), 4, "violations: a fragment's evaluation loses nothing");
	cJSON_Delete(vs);
	free(got);

	/* Found again after an automatic resolution: open again. */
	const char *auto_res = "{\"violations\":[{\"id\":\"v9\",\"policy\":\"pii\",\"status\":\"resolved\","
		"\"resolution\":\"no longer detected\",\"resolvedAt\":\"2026-01-05T00:00:00.000Z\"}]}";
	const char *back = "{\"violations\":[{\"id\":\"v9\",\"policy\":\"pii\",\"status\":\"new\"}],"
		"\"evaluation\":{\"policies\":[\"pii\"]}}";
	check_at(auto_res, back, "violations[0].status", "\"new\"", "violations: auto-resolved and found again reopens");
	check_at(auto_res, back, "violations[0].resolvedAt", "(absent)", "violations: reopened drops resolvedAt");
	/* A person's resolution sticks. */
	const char *manual = "{\"violations\":[{\"id\":\"v9\",\"policy\":\"pii\",\"status\":\"resolved\","
		"\"resolution\":\"resolved by user\"}]}";
	check_at(manual, back, "violations[0].status", "\"resolved\"", "violations: manual resolution survives");
	/* No evaluation and no violations: stored violations untouched. */
	check_at(STORED_V, "{\"name\":\"x\"}", "violations[1].status", "\"new\"", "violations: untouched without evaluation");
	/* Policies as objects with ids. */
	check_at(STORED_V, "{\"violations\":[],\"evaluation\":{\"policies\":[{\"id\":\"cost\"}]}}",
		 "violations[2].status", "\"resolved\"", "violations: evaluation.policies as objects");
	check_at(STORED_V, "{\"evaluation\":{\"contentHash\":\"h\",\"policies\":[]}}", "evaluation.contentHash",
		 "\"h\"", "evaluation: incoming replaces");
}

static void test_conflict_and_stale(void)
{
	cJSON *a = t_json("{\"source\":{\"integration\":\"prod\"}}");
	cJSON *b = t_json("{\"source\":{\"integration\":\"dev\"}}");
	cJSON *c = t_json("{\"source\":{\"integration\":null}}");
	T_OK(merge_conflict(a, b), "conflict: different integrations");
	T_OK(!merge_conflict(a, a), "conflict: same integration");
	T_OK(!merge_conflict(a, c), "conflict: null integration is no conflict");
	cJSON_Delete(a), cJSON_Delete(b), cJSON_Delete(c);

	cJSON *r = t_json("{\"externalId\":\"t\",\"output\":\"hello\"}");
	T_OK(merge_mark_stale(r), "stale: never evaluated");
	T_OK(cJSON_IsTrue(lg_json_get(r, "stale")), "stale: flag set");
	char hex[17];
	lg_hash_hex(lg_record_content_hash(r), hex);
	cJSON *ev = cJSON_CreateObject();
	lg_json_set(ev, "contentHash", cJSON_CreateString(hex));
	lg_json_set(r, "evaluation", ev);
	T_OK(!merge_mark_stale(r), "stale: evaluated content matches");
	T_OK(lg_json_get(r, "stale") == NULL, "stale: flag removed");
	cJSON *in = t_json("{\"output\":\"hello, changed\"}");
	merge_record(r, in, NOW);
	T_OK(merge_mark_stale(r), "stale: merged content differs from what policies saw");
	cJSON_Delete(in);
	cJSON_Delete(r);
}

static void test_idempotent(void)
{
	const char *rec = "{\"externalId\":\"t\",\"name\":\"n\",\"tags\":[\"a\"],\"metadata\":{\"k\":{\"j\":1}},"
		"\"agent\":{\"name\":\"A\",\"confidence\":0.7},\"violations\":[{\"id\":\"v\",\"policy\":\"p\",\"status\":\"new\"}],"
		"\"evaluation\":{\"policies\":[\"p\"]},\"spans\":[{\"id\":\"s\",\"startTime\":\"2026-01-01T00:00:00Z\"}],"
		"\"incomplete\":[\"open-spans\"]}";
	cJSON *a = t_json(rec), *b = t_json(rec), *orig = t_json(rec);
	merge_record(a, b, NOW);
	T_OK(lg_json_equal(a, orig), "unchanged: a record merged with itself is equal");
	cJSON_Delete(a), cJSON_Delete(b), cJSON_Delete(orig);
}

int main(void)
{
	test_scalars();
	test_metadata();
	test_tags();
	test_timestamp();
	test_spans();
	test_fragments();
	test_scores();
	test_agent();
	test_violations();
	test_conflict_and_stale();
	test_idempotent();
	return t_done();
}
