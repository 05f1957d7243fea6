/* The self-test: each policy's own examples ("match" must find
 * something, "nomatch" nothing), run through the real evaluation. */
#include <string.h>

#include "json.h"
#include "eval.h"

/* Violations of p on an example: a string is put at every target of a
 * pattern policy (in a record with one span of each targeted type), an
 * object is a record, an array is a stream whose last record counts. */
static int example_hits(pol_engine *e, pol_policy *p, const cJSON *ex, lg_buf *first)
{
	cJSON *recs = cJSON_CreateArray();
	int hits = 0;
	if (cJSON_IsString(ex) && p->kind == PK_PATTERN) {
		cJSON *r = cJSON_CreateObject(), *spans = cJSON_CreateArray();
		cJSON_AddItemToObject(r, "externalId", cJSON_CreateString("self-test"));
		cJSON_AddItemToObject(r, "spans", spans);
		for (size_t i = 0; i < p->ntargets; i++) {
			const pol_target *t = &p->targets[i];
			cJSON *holder = r;
			if (t->span) {
				holder = cJSON_CreateObject();
				cJSON_AddItemToObject(holder, "type", cJSON_CreateString(t->types ? t->types[0] : "llm"));
				cJSON_AddItemToArray(spans, holder);
			}
			if (!*t->path || strpbrk(t->path, ".[")) /* can't build nested paths: use top level */
				continue;
			lg_json_set(holder, t->path, cJSON_Duplicate(ex, 0));
		}
		cJSON_AddItemToArray(recs, r);
	} else if (cJSON_IsObject(ex)) {
		cJSON_AddItemToArray(recs, cJSON_Duplicate(ex, 1));
	} else if (cJSON_IsArray(ex)) {
		cJSON_Delete(recs);
		recs = cJSON_Duplicate(ex, 1);
	} else {
		cJSON_Delete(recs);
		return -1;
	}
	pol_rate_state *saved = e->rate;
	e->rate = NULL;
	cJSON *r;
	cJSON_ArrayForEach(r, recs) {
		if (!cJSON_IsObject(r)) {
			hits = -1;
			break;
		}
		cJSON_Delete(lg_json_take(r, "violations"));
		if (pol_eval_with(e, &p, 1, r, NULL, NULL)) {
			hits = -1;
			break;
		}
		if (!r->next) {
			const cJSON *vs = lg_json_get(r, "violations");
			hits = cJSON_GetArraySize(vs);
			const char *m = hits ? lg_json_str(lg_json_get(vs->child, "evidence"), "match") : NULL;
			if (first && hits)
				lg_buf_printf(first, "%s at %s", m ? m : lg_json_str(vs->child, "message"),
					      lg_json_str(lg_json_get(vs->child, "evidence"), "location"));
		}
	}
	pol_rate_reset(e);
	e->rate = saved;
	cJSON_Delete(recs);
	return hits;
}

int pol_self_test(pol_engine *e, pol_policy *p, lg_buf *out, int *ranp)
{
	static const char *const sets[] = { "match", "nomatch" };
	int failed = 0;
	*ranp = 0;
	for (int s = 0; s < 2; s++) {
		const cJSON *ex;
		int i = 0;
		cJSON_ArrayForEach(ex, lg_json_get(p->examples, sets[s])) {
			lg_buf first = { 0 };
			int h = example_hits(e, p, ex, &first);
			(*ranp)++;
			if (h < 0)
				lg_buf_printf(out, "policy '%s': examples.%s[%d]: not a usable example\n", p->id, sets[s], i);
			else if (s == 0 && h == 0)
				lg_buf_printf(out, "policy '%s': examples.match[%d] found nothing\n", p->id, i);
			else if (s == 1 && h > 0)
				lg_buf_printf(out, "policy '%s': examples.nomatch[%d] matched (%s)\n", p->id, i,
					      first.len ? lg_buf_cstr(&first) : "");
			failed += h < 0 || (s == 0 && h == 0) || (s == 1 && h > 0);
			lg_buf_free(&first);
			i++;
		}
	}
	return failed;
}

