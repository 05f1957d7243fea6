/* lg-fetch --trace-id: lg-sync re-reads the traces lg-store still holds
 * incomplete, v2 by the filter parameter in batches (every row of them
 * whatever its start; one by one by traceId where the server ignores the
 * filter), legacy as GET /traces/{id}, through the same assembly as a
 * window. No checkpoint: a re-fetch says nothing about the cursor. */
#include <stdlib.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "stop.h"
#include "url.h"

/* Trace ids one v2 request re-fetches through the filter parameter. */
#define REFETCH_BATCH 50

/* One trace by GET /traces/{id}: TraceWithFullDetails, split into the
 * trace and its observations for the assembly. A trace the server does not
 * know (404) is skipped. */
static win_result refetch_legacy(run_state *s, const char *id)
{
	lg_buf u = { 0 }, q = { 0 };
	url_param(&q, "i", id); /* "?i=<id percent-encoded>" */
	lg_buf_adds(&u, "/api/public/traces/");
	lg_buf_adds(&u, lg_buf_cstr(&q) + 3);
	cJSON *body;
	get_result g = client_get(s->c, lg_buf_cstr(&u), &body);
	lg_buf_free(&u);
	lg_buf_free(&q);
	if (g == GET_NOT_FOUND) {
		if (s->c->verbose)
			lg_err("trace %s: not found", id);
		return WIN_DONE;
	}
	if (g != GET_OK)
		return run_client_fail(s);
	s->api = API_LEGACY;
	cJSON *obs = lg_json_take(body, "observations");
	while (cJSON_IsArray(obs) && obs->child) {
		cJSON *o = cJSON_DetachItemViaPointer(obs, obs->child);
		if (cJSON_IsObject(o) && assembly_add_v1_observation(&s->a, o) < 0) {
			cJSON_Delete(obs);
			cJSON_Delete(body);
			return run_fail(s, LG_EXIT_BAD, "out of memory");
		} else if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
		}
	}
	cJSON_Delete(obs);
	if (assembly_add_v1_trace(&s->a, body) < 0)
		return run_fail(s, LG_EXIT_BAD, "out of memory");
	return WIN_DONE;
}

/* The v2 filter that asks for the n trace ids (the events table's trace id
 * column, "any of"), and the set of them to check the rows against. */
static int batch_filter(run_state *s, char *const *ids, size_t n)
{
	static int mark;
	strmap_clear(&s->want);
	free(s->filter);
	s->filter = NULL;
	cJSON *f = cJSON_CreateArray(), *c = cJSON_CreateObject(), *v = cJSON_CreateArray();
	cJSON_AddItemToArray(f, c);
	cJSON_AddStringToObject(c, "type", "stringOptions");
	cJSON_AddStringToObject(c, "column", "traceId");
	cJSON_AddStringToObject(c, "operator", "any of");
	cJSON_AddItemToObject(c, "value", v);
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++)
		bad = !cJSON_AddItemToArray(v, cJSON_CreateString(ids[i])) || strmap_put(&s->want, ids[i], &mark) != 0;
	s->filter = bad ? NULL : lg_json_to_string(f);
	cJSON_Delete(f);
	return s->filter ? 0 : -1;
}

/* Reads the n traces named into the assembly: v2 by the filter (several) or
 * traceId (one); legacy one by one. */
static win_result refetch_some(run_state *s, char *const *ids, size_t n)
{
	window all = { s->o->from, s->o->to };
	win_result r = WIN_FALLBACK;
	if (s->api != API_LEGACY && n > 1) {
		if (batch_filter(s, ids, n) != 0)
			return run_fail(s, LG_EXIT_BAD, "out of memory");
		r = run_cursor_pages(s, PAGES_TRACE, all, NULL);
		if (r == WIN_SINGLE) {
			assembly_clear(&s->a);
			if (s->c->verbose)
				lg_err("the server ignored the v2 filter on trace ids; re-fetching them one by one");
			for (size_t i = 0; i < n && r != WIN_FAIL && r != WIN_FALLBACK; i++)
				r = run_cursor_pages(s, PAGES_TRACE, all, ids[i]);
		}
	} else if (s->api != API_LEGACY) {
		r = run_cursor_pages(s, PAGES_TRACE, all, ids[0]);
	}
	if (r != WIN_FALLBACK)
		return r;
	assembly_clear(&s->a);
	for (size_t i = 0; i < n && r != WIN_FAIL; i++)
		r = refetch_legacy(s, ids[i]);
	return r;
}

int run_refetch(const run_opts *o, char *const *ids, size_t n, FILE *out)
{
	run_state s;
	if (run_begin(&s, o, out) != 0)
		return LG_EXIT_IO;
	if (run_project(&s) != 0) {
		run_fail(&s, s.c->exit_code, s.c->error);
	} else if (run_emit_start(&s) == 0) {
		for (size_t i = 0, k; i < n && !s.st.stop; i += k) {
			if (stop_requested()) {
				char e[64];
				snprintf(e, sizeof e, "interrupted by %s", stop_signal_name());
				run_fail(&s, LG_EXIT_BAD, e);
				break;
			}
			k = s.no_filter ? 1 : n - i < REFETCH_BATCH ? n - i : REFETCH_BATCH;
			if (refetch_some(&s, ids + i, k) == WIN_FAIL)
				break;
			if (assembly_emit(&s.a, s.project_id, run_emit_trace, &s) < 0) {
				run_fail(&s, LG_EXIT_BAD, "out of memory");
				break;
			}
		}
	}
	return run_finish(&s, out, 0);
}
