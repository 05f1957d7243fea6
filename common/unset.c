#include "json.h"
#include "unset.h"

void lg_empty_to_null(cJSON *obj, const char *key)
{
	const char *s = lg_json_str(obj, key);
	if (s && !*s)
		lg_json_set(obj, key, cJSON_CreateNull());
}

void lg_record_unset_to_null(cJSON *record)
{
	static const char *const rec_keys[] = { "name", "userId", "sessionId", "release", "version" };
	static const char *const span_keys[] = { "name", "model", "statusMessage" };
	for (size_t i = 0; i < sizeof rec_keys / sizeof *rec_keys; i++)
		lg_empty_to_null(record, rec_keys[i]);
	const cJSON *spans = lg_json_get(record, "spans");
	for (cJSON *s = cJSON_IsArray(spans) ? spans->child : NULL; s; s = s->next)
		for (size_t i = 0; i < sizeof span_keys / sizeof *span_keys; i++)
			lg_empty_to_null(s, span_keys[i]);
}
