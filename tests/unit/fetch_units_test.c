/* lg-fetch's pieces without a server: URL encoding, windows, the retry
 * policy and the v2 row -> trace assembly. */
#include <stdlib.h>
#include <string.h>

#include "../../fetch/assemble.h"
#include "json.h"
#include "../../fetch/retry.h"
#include "../../fetch/text.h"
#include "t.h"
#include "../../fetch/url.h"
#include "../../fetch/window.h"

static void test_url(void)
{
	lg_buf b = { 0 };
	lg_buf_adds(&b, "/api/public/v2/observations");
	url_param(&b, "fields", "core,io");
	url_param(&b, "cursor", "eyJh+b/c=");
	url_param_long(&b, "limit", 1000);
	url_param_time(&b, "fromStartTime", 0);
	T_STR(lg_buf_cstr(&b), "/api/public/v2/observations?fields=core%2Cio&cursor=eyJh%2Bb%2Fc%3D&limit=1000"
	      "&fromStartTime=1970-01-01T00%3A00%3A00.000Z", "url: cursor and times percent-encoded");
	lg_buf_free(&b);
}

static void test_windows(void)
{
	window_queue q = { 0 };
	window w;
	window_plan(&q, 0, 100000);
	T_INT(window_take(&q, &w), 1, "window: take");
	T_INT(w.to, 100000, "window: whole range first");
	T_INT(window_timed_out(&q, w), 0, "window: timed out splits");
	T_INT(window_take(&q, &w), 1, "window: take after split");
	T_OK(w.from == 0 && w.to == 50000, "window: oldest half first");
	T_INT(window_take(&q, &w), 1, "window: second half");
	T_OK(w.from == 50000 && w.to == 100000, "window: then the newer half");
	T_INT(window_take(&q, &w), 0, "window: empty");
	/* overflow: rows seen covered the last 10 s -> windows of 5 s */
	window_plan(&q, 0, 40000);
	window_take(&q, &w);
	T_INT(window_overflowed(&q, w, 10000), 0, "window: overflow re-queues");
	window_take(&q, &w);
	T_OK(w.from == 0 && w.to == 5000, "window: overflow narrows to half the rows' span");
	window_completed(&q, w, 1, 100);
	T_INT(q.row_span, 10000, "window: sparse windows widen again");
	T_INT(window_timed_out(&q, (window){ 0, 1000 }), -1, "window: one second cannot split");
	window_free(&q);
}

static void test_retry(void)
{
	int64_t ms = -1;
	T_INT(retry_after_parse("7", 0, &ms), 0, "retry-after: seconds");
	T_INT(ms, 7000, "retry-after: 7 s");
	T_INT(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470000LL, &ms), 0, "retry-after: date");
	T_INT(ms, 10000, "retry-after: date 10 s ahead");
	T_INT(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490000LL, &ms), 0, "retry-after: past date");
	T_INT(ms, 0, "retry-after: past date is 0");
	T_INT(retry_after_parse("soon", 0, &ms), -1, "retry-after: junk");
	T_INT(retry_after_parse("-3", 0, &ms), -1, "retry-after: negative");
	T_INT(retry_classify(429, NULL), RESP_RETRY, "classify 429");
	T_INT(retry_classify(503, NULL), RESP_RETRY, "classify 503");
	T_INT(retry_classify(408, NULL), RESP_RETRY, "classify 408");
	T_INT(retry_classify(524, NULL), RESP_NARROW, "classify 524");
	T_INT(retry_classify(422, "{\"error\":\"Request timed out\"}"), RESP_NARROW, "classify 422 timeout");
	T_INT(retry_classify(422, "{\"error\":\"PayloadTooLargeError\"}"), RESP_TOO_LARGE, "classify 422 too large");
	T_INT(retry_classify(401, NULL), RESP_AUTH, "classify 401");
	T_INT(retry_classify(410, NULL), RESP_GONE, "classify 410");
	T_INT(retry_classify(400, NULL), RESP_FATAL, "classify 400");
	T_INT(retry_backoff_ms(0, 500, 30000, 0.99999999), 500, "backoff: first ceiling is the base");
	T_INT(retry_backoff_ms(3, 500, 30000, 0.99999999), 4000, "backoff: doubles");
	T_INT(retry_backoff_ms(20, 500, 30000, 0.99999999), 30000, "backoff: capped");
	T_INT(retry_backoff_ms(5, 500, 30000, 0.0), 0, "backoff: full jitter reaches 0");
}

static cJSON *parse(const char *s)
{
	lg_json_error e;
	return lg_json_parse(s, strlen(s), &e);
}

static int collect(cJSON *t, void *ctx)
{
	cJSON *arr = ctx;
	cJSON_AddItemToArray(arr, cJSON_Duplicate(t, 1));
	return 0;
}

static void test_assembly(void)
{
	assembly a;
	assembly_init(&a);
	/* newest first, as v2 pages come; one duplicate; two traces */
	const char *rows[] = {
		"{\"id\":\"g1\",\"traceId\":\"t1\",\"startTime\":\"2026-01-01T00:00:01.000Z\",\"endTime\":\"2026-01-01T00:00:03.000Z\","
		"\"parentObservationId\":\"s1\",\"type\":\"GENERATION\",\"providedModelName\":\"gpt-4o\",\"input\":\"[1,2]\",\"output\":\"plain text\","
		"\"inputPrice\":\"0.0000025\",\"inputUsage\":13,\"outputUsage\":81,\"totalUsage\":94,\"totalCost\":0.5,"
		"\"usageDetails\":{\"input\":13,\"output\":81,\"total\":94},\"statusMessage\":\"\",\"traceName\":\"n\",\"tags\":[\"x\"]}",
		"{\"id\":\"g1\",\"traceId\":\"t1\",\"startTime\":\"2026-01-01T00:00:01.000Z\"}",
		"{\"id\":\"s1\",\"traceId\":\"t1\",\"startTime\":\"2026-01-01T00:00:00.500Z\",\"endTime\":\"2026-01-01T00:00:02.000Z\","
		"\"parentObservationId\":null,\"type\":\"SPAN\",\"input\":\"{\\\"q\\\":\\\"hi\\\"}\",\"output\":\"42\",\"metadata\":{\"k\":1},"
		"\"totalCost\":0.25,\"traceName\":\"root-name\",\"tags\":[\"a\"],\"userId\":\"u1\",\"sessionId\":\"se\",\"release\":\"r1\"}",
		"{\"id\":\"o2\",\"traceId\":\"t0\",\"startTime\":\"2025-12-31T23:59:00.000Z\",\"type\":\"EVENT\",\"parentObservationId\":\"elsewhere\"}",
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
		assembly_add_v2(&a, parse(rows[i]));
	T_INT(a.rows, 3, "assembly: duplicates dropped");
	T_INT(a.dups, 1, "assembly: duplicate counted");
	cJSON *out = cJSON_CreateArray();
	T_INT(assembly_emit(&a, "proj", collect, out), 0, "assembly: emit");
	T_INT(cJSON_GetArraySize(out), 2, "assembly: two traces");
	cJSON *t0 = cJSON_GetArrayItem(out, 0), *t1 = cJSON_GetArrayItem(out, 1);
	T_STR(lg_json_str(t0, "id"), "t0", "assembly: earliest trace first");
	T_OK(lg_json_get(t0, "input") && lg_json_is_null(lg_json_get(t0, "input")), "assembly: fragment without root has null io");
	T_STR(lg_json_str(t1, "name"), "root-name", "assembly: name from the root row's traceName");
	T_STR(lg_json_str(t1, "timestamp"), "2026-01-01T00:00:00.500Z", "assembly: timestamp = earliest start");
	T_STR(lg_json_str(lg_json_get(t1, "input"), "q"), "hi", "assembly: root input parsed");
	T_OK(cJSON_IsString(lg_json_get(t1, "output")), "assembly: \"42\" stays a string");
	T_STR(lg_json_str(t1, "htmlPath"), "/project/proj/traces/t1", "assembly: htmlPath");
	T_STR(lg_json_str(t1, "userId"), "u1", "assembly: userId");
	double d;
	T_OK(lg_json_get_num(t1, "latency", &d) && d == 2.5, "assembly: latency from span times");
	T_OK(lg_json_get_num(t1, "totalCost", &d) && d == 0.75, "assembly: totalCost summed");
	cJSON *obs = lg_json_get(t1, "observations");
	T_STR(lg_json_str(cJSON_GetArrayItem(obs, 0), "id"), "s1", "assembly: observations by start time");
	cJSON *g = cJSON_GetArrayItem(obs, 1);
	T_STR(lg_json_str(g, "model"), "gpt-4o", "assembly: providedModelName -> model");
	T_OK(cJSON_IsArray(lg_json_get(g, "input")), "assembly: JSON io parsed");
	T_STR(lg_json_str(g, "output"), "plain text", "assembly: text io kept");
	cJSON *price = lg_json_get(g, "inputPrice");
	T_OK(cJSON_IsNumber(price) && strcmp(price->valuestring, "0.0000025") == 0, "assembly: decimal price -> exact number");
	T_OK(lg_json_get_num(lg_json_get(g, "usage"), "total", &d) && d == 94, "assembly: usage.total");
	T_OK(lg_json_get_num(g, "calculatedTotalCost", &d) && d == 0.5, "assembly: totalCost -> calculatedTotalCost");
	T_OK(lg_json_is_null(lg_json_get(g, "statusMessage")), "assembly: empty statusMessage -> null");
	T_OK(!lg_json_get(g, "traceName") && !lg_json_get(g, "tags"), "assembly: trace fields moved off the row");
	cJSON_Delete(out);
}

static void test_legacy_join(void)
{
	assembly a;
	assembly_init(&a);
	assembly_add_v1_trace(&a, parse("{\"id\":\"t1\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"name\":\"x\","
					 "\"latency\":-1,\"totalCost\":-1,\"scores\":[\"sc1\"],\"projectId\":\"p\"}"));
	assembly_add_v1_observation(&a, parse("{\"id\":\"o1\",\"traceId\":\"t1\",\"startTime\":\"2026-01-01T00:00:00.000Z\","
					      "\"endTime\":\"2026-01-01T00:00:01.000Z\",\"calculatedTotalCost\":0.1}"));
	assembly_add_v1_observation(&a, parse("{\"id\":\"o1\",\"traceId\":\"t1\",\"startTime\":\"2026-01-01T00:00:00.000Z\"}"));
	cJSON *out = cJSON_CreateArray();
	assembly_emit(&a, "p", collect, out);
	cJSON *t = cJSON_GetArrayItem(out, 0);
	double d;
	T_INT(cJSON_GetArraySize(lg_json_get(t, "observations")), 1, "legacy: joined once");
	T_OK(lg_json_get_num(t, "latency", &d) && d == 1, "legacy: latency -1 recomputed");
	T_INT(cJSON_GetArraySize(lg_json_get(t, "scores")), 0, "legacy: score ids dropped");
	T_STR(lg_json_str(t, "htmlPath"), "/project/p/traces/t1", "legacy: htmlPath");
	cJSON_Delete(out);
}

/* Server text: control characters, credentials, length. */
static void test_text(void)
{
	const char *masks[] = { "sk-lf-secret", "cGstbGY6c2stbGY=", NULL };
	char out[64];
	const char *in = "\x1b[31mred\x1b[0m\r\nnext \xc2\x9b" "2J";
	text_clean(in, strlen(in), out, sizeof out, masks);
	T_STR(out, " [31mred [0m  next  2J", "text: C0, C1 controls become spaces");
	in = "key sk-lf-secret, cred cGstbGY6c2stbGY=, Basic QWxhZGRpbjpvcGVu, sk-lf-other-1234 end";
	text_clean(in, strlen(in), out, sizeof out, masks);
	T_STR(out, "key ***, cred ***, Basic ***, *** end", "text: secrets, Basic credentials, sk-lf- tokens masked");
	char small[10];
	text_clean("h\xc3\xa9llo world", 12, small, sizeof small, NULL);
	T_STR(small, "h\xc3\xa9llo\xe2\x80\xa6", "text: cut with an ellipsis");
	text_clean("h\xc3\xa9llo world", 12, small, 6, NULL);
	T_STR(small, "h\xe2\x80\xa6", "text: never cut inside a character");
	text_clean("abcdefghijklmnopqrstuvwxyz sk-lf-secret", 39, small, sizeof small, masks);
	T_OK(!strstr(small, "sk-lf"), "text: masked before the cut");
	char *b = text_base64("pk-lf:sk-lf");
	T_STR(b, "cGstbGY6c2stbGY=", "text: base64");
	free(b);
}

int main(void)
{
	test_text();
	test_url();
	test_windows();
	test_retry();
	test_assembly();
	test_legacy_join();
	return t_done();
}
