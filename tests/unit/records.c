#include "records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incomplete.h"
#include "json.h"
#include "metrics.h"

cJSON *t_json(const char *s)
{
	lg_json_error e;
	cJSON *v = lg_json_parse(s, strlen(s), &e);
	if (!v) {
		fprintf(stderr, "bad test JSON at %zu: %s\n", e.offset, s);
		exit(2);
	}
	return v;
}

static int by_start_then_id(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(lg_json_str(x, "startTime"), lg_json_str(y, "startTime"));
	return c ? c : strcmp(lg_json_str(x, "id"), lg_json_str(y, "id"));
}

cJSON *t_mapped(cJSON *rec)
{
	cJSON *spans = lg_json_get(rec, "spans");
	size_t n = (size_t)cJSON_GetArraySize(spans), i = 0;
	cJSON **v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		abort();
	while (spans->child)
		v[i++] = cJSON_DetachItemViaPointer(spans, spans->child);
	qsort(v, n, sizeof *v, by_start_then_id);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(spans, v[i]);
	free(v);
	if (n)
		lg_json_set(rec, "timestamp", cJSON_Duplicate(lg_json_get(spans->child, "startTime"), 1));
	lg_metrics_apply(rec, LG_METRICS_DURATION_FROM_SPANS);
	lg_incomplete_apply(rec);
	return rec;
}
