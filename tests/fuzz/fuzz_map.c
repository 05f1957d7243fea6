/* libFuzzer target: lg-map's record builder (map/map.c) and the record
 * metrics (common/metrics.c) on any parsed object. The record must print to
 * valid JSON, recomputing its metrics must not change it, and its content
 * hash must be stable across a print/parse round trip.
 * fuzz-links: map/map.c */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "map.h"
#include "metrics.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int has_non_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v) && !v->valuestring && !isfinite(v->valuedouble))
		return 1;
	for (const cJSON *c = v->child; c; c = c->next)
		if (has_non_finite(c))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	lg_json_error err;
	cJSON *trace = lg_json_parse((const char *)data, size, &err);
	if (!trace)
		return 0;
	if (!cJSON_IsObject(trace)) {
		cJSON_Delete(trace);
		return 0;
	}
	map_opts o = { "fuzz", size & 1 ? "https://lf.example" : NULL };
	char why[128];
	cJSON *rec = map_trace(trace, &o, why, sizeof why);
	cJSON_Delete(trace);
	if (!rec)
		return 0;
	lg_buf b1 = { 0 }, b2 = { 0 };
	if (lg_json_print(&b1, rec) != 0)
		abort();
	cJSON *again = lg_json_parse(b1.data, b1.len, &err);
	if (!again) {
		fprintf(stderr, "record does not parse: %s at byte %zu\n", err.msg, err.offset);
		abort();
	}
	/* A computed non-finite number (a cost of 1e999) prints as null, so
	 * only then may the hash change. */
	if (lg_record_content_hash(rec) != lg_record_content_hash(again) && !has_non_finite(rec)) {
		fprintf(stderr, "content hash changed across print/parse\n");
		abort();
	}
	/* Metrics are a function of spans[]: applying them again is a no-op.
	 * (Without spans, map keeps the trace's own totalCost, which spans
	 * cannot reproduce.) */
	if (lg_metrics_apply(again, 0) != 0)
		abort();
	if (lg_json_print(&b2, again) != 0)
		abort();
	const cJSON *spans = lg_json_get(rec, "spans");
	if (spans && spans->child && (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)) {
		fprintf(stderr, "metrics not idempotent:\n%.*s\n%.*s\n", (int)b1.len, b1.data, (int)b2.len, b2.data);
		abort();
	}
	lg_buf_free(&b1);
	lg_buf_free(&b2);
	cJSON_Delete(rec);
	cJSON_Delete(again);
	return 0;
}
