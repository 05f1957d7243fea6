/* libFuzzer target: lg-fetch's row -> trace assembly (fetch/assemble.c).
 * Input: NDJSON; each line is a v2 observation row, or with a leading
 * 'o' / 't' byte a legacy observation / legacy trace. Every assembled trace
 * must print to valid JSON and map (lg-map's builder) to a record without
 * error; no row id may appear in two emitted traces.
 * fuzz-links: fetch/assemble.c fetch/strmap.c map/map.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "json.h"
#include "map.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct {
	strmap ids;      /* observation ids already emitted */
	int traces;
} sink;

static int check_trace(cJSON *trace, void *ctx)
{
	sink *s = ctx;
	lg_buf b = { 0 };
	lg_json_error err;
	if (lg_json_print(&b, trace) != 0)
		abort();
	cJSON *again = lg_json_parse(b.data, b.len, &err);
	if (!again) {
		fprintf(stderr, "assembled trace does not parse: %s at %zu\n", err.msg, err.offset);
		abort();
	}
	const cJSON *obs = lg_json_get(trace, "observations");
	for (const cJSON *o = cJSON_IsArray(obs) ? obs->child : NULL; o; o = o->next) {
		const char *id = lg_json_str(o, "id");
		if (!id)
			continue;
		if (strmap_get(&s->ids, id)) {
			fprintf(stderr, "observation %s emitted twice\n", id);
			abort();
		}
		strmap_put(&s->ids, id, (void *)1);
	}
	map_opts mo = { "fuzz", NULL };
	char why[128];
	cJSON *rec = map_trace(again, &mo, why, sizeof why);
	if (!rec && lg_json_str(trace, "id")) {
		fprintf(stderr, "assembled trace does not map: %s\n", why);
		abort();
	}
	cJSON_Delete(rec);
	cJSON_Delete(again);
	lg_buf_free(&b);
	s->traces++;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	assembly a;
	sink s;
	memset(&s, 0, sizeof s);
	assembly_init(&a);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int kind = 0;
		if (le > p && (*p == 'o' || *p == 't'))
			kind = *p++;
		cJSON *row = lg_json_parse(p, (size_t)(le - p), NULL);
		if (row) {
			int rc = kind == 'o' ? assembly_add_v1_observation(&a, row)
			       : kind == 't' ? assembly_add_v1_trace(&a, row)
			       : assembly_add_v2(&a, row);
			if (rc < 0)
				abort();
		}
		p = nl ? nl + 1 : end;
	}
	if (assembly_emit(&a, size & 1 ? "proj" : NULL, check_trace, &s) < 0)
		abort();
	assembly_clear(&a);
	strmap_clear(&s.ids);
	free(s.ids.keys);
	free(s.ids.vals);
	return 0;
}
