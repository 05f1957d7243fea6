/* Fragments of one trace merged in every order give the record one
 * complete fetch gives (lg-store's merge_record, lg-map's metrics and
 * incompleteness), whatever copies of a span they carry. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../../store/merge.h"
#include "records.h"
#include "t.h"

#define NOW 1795000000000LL

/* The trace: root r, a under r, b under a, event v under r. */
static const char *const span_text[] = {
	"{\"id\":\"r\",\"parentId\":null,\"type\":\"agent\",\"name\":\"run\",\"startTime\":\"2026-11-27T10:00:00.000Z\","
	"\"endTime\":\"2026-11-27T14:00:00.000Z\",\"duration\":14400000,\"model\":null,\"tokens\":null,\"cost\":null,"
	"\"level\":\"DEFAULT\",\"input\":\"question\",\"output\":\"answer\",\"metadata\":{}}",
	"{\"id\":\"a\",\"parentId\":\"r\",\"type\":\"llm\",\"name\":\"plan\",\"startTime\":\"2026-11-27T10:00:01.000Z\","
	"\"endTime\":\"2026-11-27T10:00:03.000Z\",\"duration\":2000,\"model\":\"gpt-4o\","
	"\"tokens\":{\"input\":10,\"output\":5,\"total\":15},\"cost\":0.001,\"level\":\"DEFAULT\",\"input\":\"p\","
	"\"output\":\"plan\",\"metadata\":{}}",
	"{\"id\":\"b\",\"parentId\":\"a\",\"type\":\"tool\",\"name\":\"search\",\"startTime\":\"2026-11-27T10:00:02.000Z\","
	"\"endTime\":\"2026-11-27T10:00:02.500Z\",\"duration\":500,\"model\":null,\"tokens\":null,\"cost\":null,"
	"\"level\":\"WARNING\",\"input\":\"q\",\"output\":\"hits\",\"metadata\":{}}",
	"{\"id\":\"v\",\"parentId\":\"r\",\"type\":\"event\",\"name\":\"mark\",\"startTime\":\"2026-11-27T10:00:04.000Z\","
	"\"endTime\":null,\"duration\":null,\"model\":null,\"tokens\":null,\"cost\":null,\"level\":\"DEFAULT\","
	"\"input\":null,\"output\":null,\"metadata\":{}}",
};
/* Older copies of r and a, as an unmerged row can be served: no end, no output. */
static const char *const stale_text[] = {
	"{\"id\":\"r\",\"parentId\":null,\"type\":\"agent\",\"name\":\"run\",\"startTime\":\"2026-11-27T10:00:00.000Z\","
	"\"endTime\":null,\"duration\":null,\"model\":null,\"tokens\":null,\"cost\":null,\"level\":\"DEFAULT\","
	"\"input\":\"question\",\"output\":null,\"metadata\":{}}",
	"{\"id\":\"a\",\"parentId\":\"r\",\"type\":\"llm\",\"name\":\"plan\",\"startTime\":\"2026-11-27T10:00:01.000Z\","
	"\"endTime\":null,\"duration\":null,\"model\":\"gpt-4o\",\"tokens\":null,\"cost\":null,\"level\":\"DEFAULT\","
	"\"input\":\"p\",\"output\":null,\"metadata\":{}}",
};

/* A record as lg-map builds it from the given spans ("r", "a", "b", "v";
 * "R", "A" the stale copies): trace io and metadata come with the root. */
static cJSON *record_of(const char *which)
{
	cJSON *rec = t_json("{\"externalId\":\"t1\",\"name\":\"agent-run\",\"timestamp\":null,\"duration\":null,"
			    "\"input\":null,\"output\":null,\"metadata\":{},\"userId\":\"u1\",\"sessionId\":null,"
			    "\"tags\":[\"prod\"],\"status\":\"success\",\"incomplete\":null,\"spans\":[],"
			    "\"source\":{\"system\":\"langfuse\",\"integration\":\"prod\",\"htmlPath\":null}}");
	cJSON *spans = lg_json_get(rec, "spans");
	for (const char *w = which; *w; w++) {
		const char *text = NULL;
		switch (*w) {
		case 'r': text = span_text[0]; break;
		case 'a': text = span_text[1]; break;
		case 'b': text = span_text[2]; break;
		case 'v': text = span_text[3]; break;
		case 'R': text = stale_text[0]; break;
		case 'A': text = stale_text[1]; break;
		}
		cJSON *s = t_json(text);
		if (*w == 'r' || *w == 'R') {
			lg_json_set(rec, "input", cJSON_Duplicate(lg_json_get(s, "input"), 1));
			lg_json_set(rec, "output", cJSON_Duplicate(lg_json_get(s, "output"), 1));
			lg_json_set(rec, "metadata", t_json("{\"customer\":\"c-7\"}"));
		}
		cJSON_AddItemToArray(spans, s);
	}
	return t_mapped(rec);
}

/* Stores frags[order[0]] as put stores a new record, merges the others. */
static cJSON *merged(const char *const *frags, const int *order, int n)
{
	cJSON *base = record_of(frags[order[0]]);
	for (int i = 1; i < n; i++) {
		cJSON *in = record_of(frags[order[i]]);
		merge_record(base, in, NOW);
		cJSON_Delete(in);
	}
	return base;
}

static int next_permutation(int *p, int n)
{
	int i = n - 2;
	while (i >= 0 && p[i] >= p[i + 1])
		i--;
	if (i < 0)
		return 0;
	int j = n - 1;
	while (p[j] <= p[i])
		j--;
	int t = p[i];
	p[i] = p[j];
	p[j] = t;
	for (int a = i + 1, b = n - 1; a < b; a++, b--)
		t = p[a], p[a] = p[b], p[b] = t;
	return 1;
}

static void all_orders(const char *const *frags, int n, const char *name)
{
	cJSON *whole = record_of("rabv");
	int order[8], perms = 0, same = 0;
	for (int i = 0; i < n; i++)
		order[i] = i;
	char *want = lg_json_to_string(whole), *bad = NULL;
	do {
		cJSON *m = merged(frags, order, n);
		perms++;
		if (lg_json_equal(m, whole))
			same++;
		else if (!bad)
			bad = lg_json_to_string(m);
		cJSON_Delete(m);
	} while (next_permutation(order, n));
	if (same == perms)
		printf("PASS %s (%d orders)\n", name, perms);
	else {
		printf("FAIL %s: %d of %d orders differ; first: %s\nwant %s\n", name, perms - same, perms, bad, want);
		t_failed++;
	}
	free(bad);
	free(want);
	cJSON_Delete(whole);
}

int main(void)
{
	/* Each alone is incomplete the way it should be. */
	cJSON *f = record_of("Ab");
	char *s = lg_json_to_string(lg_json_get(f, "incomplete"));
	T_STR(s, "[\"no-root\",\"orphan-spans\",\"open-spans\"]", "fragment without the root: marked");
	free(s);
	cJSON_Delete(f);
	f = record_of("rabv");
	T_OK(cJSON_IsNull(lg_json_get(f, "incomplete")), "the complete fetch: whole");
	cJSON_Delete(f);

	static const char *const split[] = { "b", "v", "r", "a" };
	all_orders(split, 4, "one span per fragment, every order");
	static const char *const stale[] = { "Ab", "ra", "vb", "R" };
	all_orders(stale, 4, "older copies of the root and a span, every order");
	static const char *const repeat[] = { "rA", "abv", "R", "A", "b" };
	all_orders(repeat, 5, "overlapping re-reads and re-fetches, every order");

	/* The root arriving last makes a stored fragment whole. */
	const char *const late_root[] = { "abv", "r" };
	int ord[] = { 0, 1 };
	cJSON *m = merged(late_root, ord, 2);
	T_OK(cJSON_IsNull(lg_json_get(m, "incomplete")), "late root: merged record whole");
	T_STR(lg_json_str(m, "output"), "answer", "late root: trace output arrives");
	double d;
	T_OK(lg_json_get_num(m, "duration", &d) && d == 14400000, "late root: duration spans the root");
	cJSON_Delete(m);
	/* A fragment that adds nothing never marks a whole record incomplete. */
	const char *const after[] = { "rabv", "A" };
	m = merged(after, ord, 2);
	T_OK(cJSON_IsNull(lg_json_get(m, "incomplete")), "stale copy after the whole: still whole");
	cJSON_Delete(m);
	return t_done();
}
