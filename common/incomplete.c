#include <string.h>

#include "incomplete.h"
#include "json.h"

static int has_span_id(const cJSON *spans, const char *id)
{
	for (const cJSON *s = spans->child; s; s = s->next) {
		const char *sid = lg_json_str(s, "id");
		if (sid && strcmp(sid, id) == 0)
			return 1;
	}
	return 0;
}

/* Events are points in time: Langfuse may leave their end empty. */
static int is_event(const cJSON *span)
{
	const char *t = lg_json_str(span, "type");
	return t && strcmp(t, "event") == 0;
}

enum { NO_ROOT = 1, ORPHANS = 2, OPEN = 4 };

/* A record without spans waits for nothing: Langfuse allows a trace with
 * no observations, and a legacy trace's spans may lie in other windows. */
static unsigned reasons_of(const cJSON *record)
{
	const cJSON *spans = lg_json_get(record, "spans");
	if (!cJSON_IsArray(spans) || !spans->child)
		return 0;
	unsigned r = NO_ROOT;
	for (const cJSON *s = spans->child; s; s = s->next) {
		const cJSON *parent = lg_json_get(s, "parentId");
		const char *pid = lg_json_string(parent);
		if (lg_json_is_null(parent) || (pid && !*pid))
			r &= ~(unsigned)NO_ROOT;
		else if (pid && !has_span_id(spans, pid))
			r |= ORPHANS;
		if (lg_json_is_null(lg_json_get(s, "endTime")) && !is_event(s))
			r |= OPEN;
	}
	return r;
}

cJSON *lg_incomplete_reasons(const cJSON *record)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ NO_ROOT, "no-root" }, { ORPHANS, "orphan-spans" }, { OPEN, "open-spans" },
	};
	unsigned r = reasons_of(record);
	if (!r)
		return NULL;
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < sizeof names / sizeof *names; i++)
		if ((r & names[i].bit) && !cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

int lg_incomplete_apply(cJSON *record)
{
	unsigned r = reasons_of(record);
	if (!r && !lg_json_get(record, "incomplete"))
		return 0;
	cJSON *v = r ? lg_incomplete_reasons(record) : cJSON_CreateNull();
	if (!v)
		return -1;
	lg_json_set(record, "incomplete", v);
	return r ? 1 : 0;
}
