/* The trace assembly against v2 rows as the real Langfuse server builds them:
 * "" for unset strings, a synthetic t-<traceId> root with the trace's data,
 * trace metadata copied into observations, unmerged older copies of a row,
 * zero or several roots. */
#include <stdlib.h>
#include <string.h>

#include "../../fetch/assemble.h"
#include "json.h"
#include "records.h"
#include "t.h"

static int collect(cJSON *t, void *ctx)
{
	cJSON_AddItemToArray(ctx, cJSON_Duplicate(t, 1));
	return 0;
}

/* Feeds rows[order[i]] for i < n, emits, returns the traces (caller frees). */
static cJSON *assemble(const char *const *rows, const int *order, size_t n)
{
	assembly a;
	assembly_init(&a);
	for (size_t i = 0; i < n; i++)
		assembly_add_v2(&a, t_json(rows[order ? (size_t)order[i] : i]));
	cJSON *out = cJSON_CreateArray();
	if (assembly_emit(&a, "p", collect, out) != 0) {
		fprintf(stderr, "emit failed\n");
		exit(2);
	}
	return out;
}

static char *print(const cJSON *j)
{
	return cJSON_PrintUnformatted(j);
}

static const cJSON *obs_by_id(const cJSON *t, const char *id)
{
	const cJSON *obs = lg_json_get(t, "observations");
	for (const cJSON *o = obs ? obs->child : NULL; o; o = o->next)
		if (!strcmp(lg_json_str(o, "id"), id))
			return o;
	return NULL;
}

static void test_empty_strings(void)
{
	const char *rows[] = {
		"{\"id\":\"r\",\"traceId\":\"t\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"parentObservationId\":null,"
		"\"type\":\"SPAN\",\"name\":\"\",\"userId\":\"\",\"sessionId\":\"\",\"release\":\"\",\"traceName\":null,"
		"\"model\":\"\",\"internalModelId\":\"\",\"modelId\":null,\"promptId\":\"\",\"promptName\":\"\",\"version\":\"\"}",
		"{\"id\":\"g\",\"traceId\":\"t\",\"startTime\":\"2026-01-01T00:00:01.000Z\",\"parentObservationId\":\"r\","
		"\"type\":\"GENERATION\",\"name\":\"llm\",\"model\":\"gpt-4o\",\"internalModelId\":\"m1\",\"modelId\":null,"
		"\"userId\":\"\",\"sessionId\":\"\",\"release\":\"\",\"traceName\":null}",
	};
	cJSON *out = assemble(rows, NULL, 2);
	const cJSON *t = cJSON_GetArrayItem(out, 0), *r = obs_by_id(t, "r"), *g = obs_by_id(t, "g");
	T_OK(lg_json_is_null(lg_json_get(t, "userId")) && lg_json_get(t, "userId"), "empty: userId \"\" -> null");
	T_OK(lg_json_is_null(lg_json_get(t, "sessionId")) && lg_json_get(t, "sessionId"), "empty: sessionId -> null");
	T_OK(lg_json_is_null(lg_json_get(t, "release")) && lg_json_get(t, "release"), "empty: release -> null");
	T_OK(lg_json_is_null(lg_json_get(r, "name")) && lg_json_get(r, "name"), "empty: unnamed observation -> null");
	T_OK(lg_json_is_null(lg_json_get(r, "model")), "empty: model -> null");
	T_OK(lg_json_is_null(lg_json_get(r, "promptId")) && lg_json_is_null(lg_json_get(r, "promptName")),
	     "empty: promptId/promptName -> null");
	T_OK(lg_json_is_null(lg_json_get(r, "modelId")) && lg_json_get(r, "modelId") && !lg_json_get(r, "internalModelId"),
	     "empty: modelId stays null, \"\" internalModelId dropped");
	T_OK(lg_json_is_null(lg_json_get(g, "modelId")) && lg_json_get(g, "modelId"),
	     "modelId: the server's null is not overwritten by internalModelId");
	T_STR(lg_json_str(g, "internalModelId"), "m1", "modelId: a different internalModelId is kept beside it");
	T_STR(lg_json_str(g, "model"), "gpt-4o", "empty: a set model stays");
	cJSON_Delete(out);
}

/* A legacy-ingested trace as v2 serves it: the synthetic root (trace data),
 * the true root re-parented to it, a child; trace metadata appended to
 * every observation's, one key overridden by the observation. */
static const char *const legacy_rows[] = {
	"{\"id\":\"t-T\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"endTime\":null,"
	"\"parentObservationId\":null,\"isRootObservation\":true,\"type\":\"SPAN\",\"name\":\"chat\",\"traceName\":\"chat\","
	"\"input\":\"{\\\"q\\\":\\\"hi\\\"}\",\"output\":\"\\\"bye\\\"\",\"metadata\":{\"team\":\"a\",\"env\":\"p\"},"
	"\"version\":\"v7\",\"modelParameters\":{},\"userId\":\"u\"}",
	"{\"id\":\"r\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.100Z\",\"endTime\":\"2026-01-01T00:00:02.000Z\","
	"\"parentObservationId\":\"t-T\",\"isRootObservation\":false,\"type\":\"SPAN\",\"name\":\"run\",\"traceName\":\"chat\","
	"\"input\":\"x\",\"output\":\"y\",\"metadata\":{\"own\":1,\"team\":\"a\",\"env\":\"mine\"},\"version\":\"v7\"}",
	"{\"id\":\"g\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.500Z\",\"endTime\":\"2026-01-01T00:00:01.000Z\","
	"\"parentObservationId\":\"r\",\"isRootObservation\":false,\"type\":\"GENERATION\",\"name\":\"llm\",\"traceName\":\"chat\","
	"\"metadata\":{\"team\":\"a\",\"env\":\"p\"},\"version\":\"v7\"}",
};

static void test_synthetic_root(void)
{
	cJSON *out = assemble(legacy_rows, NULL, 3);
	const cJSON *t = cJSON_GetArrayItem(out, 0);
	T_INT(cJSON_GetArraySize(out), 1, "synthetic: one trace");
	T_INT(cJSON_GetArraySize(lg_json_get(t, "observations")), 2, "synthetic: spans are the real observations only");
	T_OK(!obs_by_id(t, "t-T"), "synthetic: t-<traceId> is not a span");
	T_STR(lg_json_str(lg_json_get(t, "input"), "q"), "hi", "synthetic: its input is the trace's");
	T_STR(lg_json_str(t, "output"), "bye", "synthetic: its output is the trace's");
	T_STR(lg_json_str(lg_json_get(t, "metadata"), "team"), "a", "synthetic: its metadata is the trace's");
	T_STR(lg_json_str(t, "version"), "v7", "synthetic: its version is the trace's");
	T_STR(lg_json_str(t, "timestamp"), "2026-01-01T00:00:00.000Z", "synthetic: its start is the trace timestamp");
	const cJSON *r = obs_by_id(t, "r"), *g = obs_by_id(t, "g");
	T_OK(lg_json_is_null(lg_json_get(r, "parentObservationId")) && lg_json_get(r, "parentObservationId"),
	     "synthetic: the true root gets its null parent back");
	T_OK(cJSON_IsTrue(lg_json_get(r, "isRootObservation")), "synthetic: and is a root again");
	T_STR(lg_json_str(g, "parentObservationId"), "r", "synthetic: other parents untouched");
	char *rm = print(lg_json_get(r, "metadata")), *gm = print(lg_json_get(g, "metadata"));
	T_STR(rm, "{\"own\":1,\"env\":\"mine\"}", "synthetic: copied trace metadata removed, own keys kept");
	T_STR(gm, "{}", "synthetic: a span with only copied metadata has none left");
	cJSON_free(rm);
	cJSON_free(gm);
	double d;
	T_OK(lg_json_get_num(t, "latency", &d) && d == 1.9, "synthetic: latency over the real spans");
	cJSON_Delete(out);

	/* the root in another window: the re-parented rows still get null parents */
	cJSON *frag = assemble(legacy_rows + 1, NULL, 2);
	const cJSON *ft = cJSON_GetArrayItem(frag, 0);
	T_OK(lg_json_is_null(lg_json_get(obs_by_id(ft, "r"), "parentObservationId")),
	     "synthetic: without the synthetic row, t-<traceId> parents become null");
	cJSON_Delete(frag);
}

/* Two copies of a row: the older one has no end, no output, less usage. */
static void test_duplicates(void)
{
	const char *rows[] = {
		"{\"id\":\"g\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:01.000Z\",\"endTime\":null,"
		"\"parentObservationId\":\"r\",\"type\":\"GENERATION\",\"input\":\"q\",\"output\":null,"
		"\"inputUsage\":10,\"outputUsage\":0,\"totalUsage\":10,\"updatedAt\":\"2026-01-01T00:00:01.100Z\"}",
		"{\"id\":\"g\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:01.000Z\",\"endTime\":\"2026-01-01T00:00:03.000Z\","
		"\"parentObservationId\":\"r\",\"type\":\"GENERATION\",\"input\":null,\"output\":\"answer\","
		"\"inputUsage\":10,\"outputUsage\":20,\"totalUsage\":30,\"updatedAt\":\"2026-01-01T00:00:03.100Z\"}",
		"{\"id\":\"r\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"endTime\":\"2026-01-01T00:00:04.000Z\","
		"\"parentObservationId\":null,\"type\":\"SPAN\",\"input\":\"in\",\"output\":\"out\"}",
		"{\"id\":\"r\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"endTime\":\"2026-01-01T00:00:04.000Z\","
		"\"parentObservationId\":null,\"type\":\"SPAN\",\"input\":\"in\",\"output\":\"out\"}",
	};
	static const int orders[][4] = { { 0, 1, 2, 3 }, { 1, 0, 3, 2 }, { 2, 1, 3, 0 } };
	char *first = NULL;
	for (size_t k = 0; k < sizeof orders / sizeof *orders; k++) {
		cJSON *out = assemble(rows, orders[k], 4);
		const cJSON *t = cJSON_GetArrayItem(out, 0), *g = obs_by_id(t, "g");
		char *p = print(t);
		if (k == 0) {
			double d;
			T_INT(cJSON_GetArraySize(lg_json_get(t, "observations")), 2, "duplicates: one span per id");
			T_STR(lg_json_str(g, "endTime"), "2026-01-01T00:00:03.000Z", "duplicates: the copy with an end time kept");
			T_STR(lg_json_str(g, "output"), "answer", "duplicates: its output");
			T_OK(lg_json_get_num(lg_json_get(g, "usage"), "total", &d) && d == 30, "duplicates: its usage");
			T_STR(lg_json_str(g, "input"), "q", "duplicates: input the kept copy lacked comes from the other");
			first = p;
		} else {
			T_STR(p, first, k == 1 ? "duplicates: the same trace in reverse order"
					       : "duplicates: the same trace in a third order");
			cJSON_free(p);
		}
		cJSON_Delete(out);
	}
	cJSON_free(first);
}

static void test_roots(void)
{
	const char *rows[] = {
		"{\"id\":\"b\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"parentObservationId\":null,"
		"\"type\":\"SPAN\",\"input\":\"from-b\"}",
		"{\"id\":\"a\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\",\"parentObservationId\":null,"
		"\"type\":\"SPAN\",\"input\":\"from-a\"}",
		"{\"id\":\"c\",\"traceId\":\"T\",\"startTime\":\"2025-12-31T23:59:59.000Z\",\"parentObservationId\":\"a\","
		"\"type\":\"EVENT\"}",
	};
	static const int ab[] = { 0, 1, 2 }, ba[] = { 1, 2, 0 };
	cJSON *x = assemble(rows, ab, 3), *y = assemble(rows, ba, 3);
	T_STR(lg_json_str(cJSON_GetArrayItem(x, 0), "input"), "from-a", "several roots: the earliest, then smallest id");
	T_STR(lg_json_str(cJSON_GetArrayItem(y, 0), "input"), "from-a", "several roots: whatever the arrival order");
	cJSON_Delete(x);
	cJSON_Delete(y);

	cJSON *z = assemble(rows + 2, NULL, 1);
	const cJSON *t = cJSON_GetArrayItem(z, 0);
	T_OK(lg_json_get(t, "input") && lg_json_is_null(lg_json_get(t, "input")) &&
	     lg_json_get(t, "output") && lg_json_is_null(lg_json_get(t, "output")) &&
	     lg_json_get(t, "metadata") && lg_json_is_null(lg_json_get(t, "metadata")),
	     "no root: the trace comes with null input, output and metadata");
	cJSON_Delete(z);
}

static void test_scores(void)
{
	assembly a;
	assembly_init(&a);
	assembly_add_v2(&a, t_json("{\"id\":\"r\",\"traceId\":\"T\",\"startTime\":\"2026-01-01T00:00:00.000Z\","
				  "\"parentObservationId\":null,\"type\":\"SPAN\"}"));
	const char *sc[] = {
		"{\"id\":\"s1\",\"name\":\"fb\",\"dataType\":\"NUMERIC\",\"value\":1,\"subject\":{\"kind\":\"trace\",\"id\":\"T\"}}",
		"{\"id\":\"s2\",\"name\":\"ok\",\"dataType\":\"CATEGORICAL\",\"value\":\"correct\","
		"\"subject\":{\"kind\":\"observation\",\"id\":\"r\",\"traceId\":\"T\"}}",
		"{\"id\":\"s1\",\"name\":\"fb\",\"dataType\":\"NUMERIC\",\"value\":1,\"subject\":{\"kind\":\"trace\",\"id\":\"T\"}}",
		"{\"id\":\"s3\",\"name\":\"fb\",\"value\":1,\"subject\":{\"kind\":\"trace\",\"id\":\"other\"}}",
		"{\"id\":\"s4\",\"name\":\"fb\",\"value\":1,\"subject\":{\"kind\":\"session\",\"id\":\"T\"}}",
	};
	int got[5];
	for (int i = 0; i < 5; i++)
		got[i] = assembly_add_score(&a, t_json(sc[i]));
	T_OK(got[0] == 1 && got[1] == 1, "scores: trace and observation scores attached");
	T_OK(got[2] == 0 && got[4] == 0, "scores: repeated and session's not");
	T_INT(got[3], 1, "scores: another trace's kept");
	cJSON *out = cJSON_CreateArray();
	assembly_emit(&a, "p", collect, out);
	T_INT(cJSON_GetArraySize(out), 2, "scores: the other trace's make a trace of their own");
	const cJSON *s = lg_json_get(cJSON_GetArrayItem(out, 0), "scores");
	T_INT(cJSON_GetArraySize(s), 2, "scores: on the trace");
	const cJSON *f = cJSON_GetArrayItem(out, 1);
	T_STR(lg_json_str(f, "id"), "other", "scores: fragment of the other trace");
	T_OK(lg_json_is_null(lg_json_get(f, "timestamp")) && cJSON_GetArraySize(lg_json_get(f, "observations")) == 0 &&
	     lg_json_is_null(lg_json_get(f, "input")) && cJSON_GetArraySize(lg_json_get(f, "scores")) == 1,
	     "scores: the fragment holds its scores only");
	const cJSON *s2 = cJSON_GetArrayItem(s, 1);
	T_STR(lg_json_str(s2, "traceId"), "T", "scores: traceId from the subject");
	T_STR(lg_json_str(s2, "observationId"), "r", "scores: observationId from the subject");
	T_STR(lg_json_str(s2, "stringValue"), "correct", "scores: a string value also as stringValue");
	T_OK(!lg_json_get(s2, "subject"), "scores: subject folded in");
	cJSON_Delete(out);
}

int main(void)
{
	test_scores();
	test_empty_strings();
	test_synthetic_root();
	test_duplicates();
	test_roots();
	return t_done();
}
