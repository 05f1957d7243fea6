/* lg-ship's rows: a record as a traces row and its violations as rows of
 * the flattened violations table (JSONEachRow), nested values as text;
 * gzip bodies ClickHouse can read. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "json.h"
#include "../../ship/ch.h"
#include "../../ship/rows.h"
#include "t.h"

static const char rec[] =
	"{\"externalId\":\"t1\",\"name\":\"chat\",\"timestamp\":\"2026-11-20T10:00:01.250Z\",\"duration\":1500,"
	"\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}]},\"output\":\"ok\","
	"\"metadata\":{\"model\":\"gpt-4o\",\"tokens\":{\"input\":10,\"output\":5,\"total\":15},\"cost\":0.0025},"
	"\"userId\":\"u1\",\"sessionId\":null,\"tags\":[\"a\",7,\"b\"],\"status\":\"success\",\"stale\":true,"
	"\"source\":{\"integration\":\"prod\"},\"agent\":{\"name\":\"Support\",\"confidence\":0.9},"
	"\"violations\":[{\"id\":\"v1\",\"policy\":\"pii\",\"severity\":\"high\",\"status\":\"acknowledged\","
	"\"message\":\"email\",\"evidence\":{\"match\":\"a@b\"},\"notes\":\"n\"},{\"policy\":\"x\"},"
	"{\"id\":\"v2\",\"policy\":\"cost\",\"severity\":\"low\",\"status\":\"new\"}]}";

static cJSON *line(const lg_buf *b, int n)
{
	const char *p = b->data, *end = b->data + b->len;
	for (int i = 0; i < n && p; i++)
		p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : NULL;
	if (!p || p >= end)
		return NULL;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	lg_json_error e;
	return lg_json_parse(p, (size_t)(nl - p), &e);
}

int main(void)
{
	ship_rows r;
	char why[200];
	double d;
	memset(&r, 0, sizeof r);
	T_INT(ship_rows_add(&r, 42, rec, strlen(rec), why, sizeof why), 0, "a record adds");
	T_INT(r.ntraces, 1, "one trace row");
	T_INT(r.nviolations, 3, "violations counted");
	cJSON *t = line(&r.traces, 0);
	T_OK(t != NULL, "trace row is JSON");
	T_STR(lg_json_str(t, "externalId"), "t1", "externalId");
	T_OK(lg_json_get_num(t, "seq", &d) && d == 42, "seq is the change sequence");
	T_OK(lg_json_get_num(t, "timestamp", &d) && d == 1795168801, "timestamp in whole seconds");
	T_OK(lg_json_get_num(t, "timestampMs", &d) && d == 1795168801250.0, "timestampMs");
	T_STR(lg_json_str(t, "agent"), "Support", "agent");
	T_STR(lg_json_str(t, "model"), "gpt-4o", "model");
	T_STR(lg_json_str(t, "sessionId"), "", "null string: empty");
	T_OK(lg_json_get_num(t, "tokensTotal", &d) && d == 15, "tokensTotal");
	T_OK(lg_json_get_num(t, "cost", &d) && d == 0.0025, "cost");
	T_OK(lg_json_get_num(t, "violations", &d) && d == 3, "violations count");
	T_OK(lg_json_get_num(t, "stale", &d) && d == 1, "stale");
	T_STR(lg_json_str(t, "input"), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}]}",
	      "nested input as its JSON text");
	T_STR(lg_json_str(t, "output"), "ok", "string output as it is");
	T_INT(cJSON_GetArraySize(lg_json_get(t, "tags")), 2, "tags: the strings");
	cJSON_Delete(t);
	cJSON *v = line(&r.violations, 0);
	T_STR(lg_json_str(v, "violationId"), "v1", "violation id");
	T_STR(lg_json_str(v, "externalId"), "t1", "violation's trace");
	T_STR(lg_json_str(v, "status"), "acknowledged", "violation status");
	T_STR(lg_json_str(v, "notes"), "n", "violation notes");
	T_STR(lg_json_str(v, "evidence"), "{\"match\":\"a@b\"}", "evidence as text");
	T_OK(lg_json_get_num(v, "traceTimestamp", &d) && d == 1795168801, "violation's trace time");
	cJSON_Delete(v);
	v = line(&r.violations, 1);
	T_STR(lg_json_str(v, "violationId"), "v2", "a violation without id has no row");
	cJSON_Delete(v);
	T_OK(line(&r.violations, 2) == NULL, "two violation rows");

	const char *none = "{\"externalId\":\"t2\",\"timestamp\":null}";
	T_INT(ship_rows_add(&r, 43, none, strlen(none), why, sizeof why), 0, "a bare record adds");
	t = line(&r.traces, 1);
	T_OK(cJSON_IsNull(lg_json_get(t, "cost")) && cJSON_IsNull(lg_json_get(t, "tokensTotal")), "missing numbers: null");
	T_OK(lg_json_get_num(t, "timestamp", &d) && d == 0, "no timestamp: 0");
	cJSON_Delete(t);
	size_t len = r.traces.len;
	T_INT(ship_rows_add(&r, 44, "{\"name\":1}", 10, why, sizeof why), -1, "no externalId: refused");
	T_INT(ship_rows_add(&r, 44, "{oops", 5, why, sizeof why), -1, "invalid JSON: refused");
	T_INT(r.traces.len, len, "refused: nothing written");
	T_INT(r.ntraces, 2, "refused: not counted");

	lg_buf gz = { 0 };
	T_INT(ship_gzip(&gz, r.traces.data, r.traces.len), 0, "gzip");
	char *back = malloc(r.traces.len + 1);
	z_stream z;
	memset(&z, 0, sizeof z);
	inflateInit2(&z, 15 + 16);
	z.next_in = (Bytef *)gz.data;
	z.avail_in = (uInt)gz.len;
	z.next_out = (Bytef *)back;
	z.avail_out = (uInt)r.traces.len + 1;
	T_INT(inflate(&z, Z_FINISH), Z_STREAM_END, "gunzip");
	T_OK(z.total_out == r.traces.len && memcmp(back, r.traces.data, r.traces.len) == 0, "gzip round trip");
	inflateEnd(&z);
	free(back);
	lg_buf_free(&gz);
	ship_rows_free(&r);
	return t_done();
}
