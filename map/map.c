#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incomplete.h"
#include "json.h"
#include "map.h"
#include "metrics.h"
#include "timeutil.h"
#include "unset.h"

const char *span_type_from_observation(const char *type, char *buf, size_t buflen)
{
	static const struct { const char *lf, *lg; } table[] = {
		{ "GENERATION", "llm" }, { "RETRIEVER", "retrieval" }, { "TOOL", "tool" },
		{ "AGENT", "agent" }, { "SPAN", "span" }, { "EVENT", "event" },
	};
	if (!type || !*type)
		return "span";
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcasecmp(type, table[i].lf) == 0)
			return table[i].lg;
	size_t n = 0;
	for (; type[n] && n + 1 < buflen; n++)
		buf[n] = (char)tolower((unsigned char)type[n]);
	buf[n] = '\0';
	return buf;
}

/* Moves src[key] into dst[dkey] (null when absent). */
static void move(cJSON *dst, const char *dkey, cJSON *src, const char *key)
{
	cJSON *v = lg_json_take(src, key);
	lg_json_set(dst, dkey, v ? v : cJSON_CreateNull());
}

static int sum_keys(const cJSON *details, const char *needle, double *out)
{
	int found = 0;
	double sum = 0, v;
	for (const cJSON *c = details ? details->child : NULL; c; c = c->next)
		if (c->string && strstr(c->string, needle) && lg_json_num(c, &v)) {
			sum += v;
			found = 1;
		}
	*out = sum;
	return found;
}

/* Token counts: usageDetails, else usage, else the legacy/v2 flat fields. */
static cJSON *span_tokens(const cJSON *obs)
{
	double in = 0, out = 0, tot = -1, v;
	int any = 0;
	const cJSON *ud = lg_json_get(obs, "usageDetails");
	const cJSON *u = lg_json_get(obs, "usage");
	if (cJSON_IsObject(ud) && ud->child) {
		any |= sum_keys(ud, "input", &in);
		any |= sum_keys(ud, "output", &out);
		if (lg_json_get_num(ud, "total", &v)) {
			tot = v;
			any = 1;
		}
	} else if (cJSON_IsObject(u) && (lg_json_get(u, "input") || lg_json_get(u, "output") || lg_json_get(u, "total"))) {
		any |= lg_json_get_num(u, "input", &in);
		any |= lg_json_get_num(u, "output", &out);
		if (lg_json_get_num(u, "total", &v))
			tot = v;
	} else {
		any |= lg_json_get_num(obs, "promptTokens", &in) || lg_json_get_num(obs, "inputUsage", &in);
		any |= lg_json_get_num(obs, "completionTokens", &out) || lg_json_get_num(obs, "outputUsage", &out);
		if (lg_json_get_num(obs, "totalTokens", &v) || lg_json_get_num(obs, "totalUsage", &v))
			tot = v;
	}
	if (!any && tot < 0)
		return cJSON_CreateNull();
	if (tot <= 0 && in + out > 0)
		tot = in + out;
	cJSON *t = cJSON_CreateObject();
	if (!t)
		return NULL;
	cJSON_AddItemToObject(t, "input", lg_json_int_d(in));
	cJSON_AddItemToObject(t, "output", lg_json_int_d(out));
	cJSON_AddItemToObject(t, "total", lg_json_int_d(tot < 0 ? 0 : tot));
	return t;
}

/* Cost in USD: costDetails.total, else calculatedTotalCost, else totalCost. */
static cJSON *span_cost(const cJSON *obs)
{
	double v;
	if (lg_json_get_num(lg_json_get(obs, "costDetails"), "total", &v) ||
	    lg_json_get_num(obs, "calculatedTotalCost", &v) || lg_json_get_num(obs, "totalCost", &v))
		return lg_json_double(v);
	return cJSON_CreateNull();
}

static int64_t time_of(const cJSON *obj, const char *key, int64_t dflt)
{
	int64_t ms;
	const char *s = lg_json_str(obj, key);
	return s && lg_time_parse(s, &ms) == 0 ? ms : dflt;
}

/* span is a new object and each of its keys is set once, in order: keys
 * are added as constants (cJSON_AddItemToObjectCS: no copy, no lookup);
 * a span has a dozen and a trace up to ten spans. */
static void add(cJSON *span, const char *key, cJSON *val)
{
	if (!val)
		val = cJSON_CreateNull();
	if (val && !cJSON_AddItemToObjectCS(span, key, val))
		cJSON_Delete(val);
}

/* Moves src[key] into span[skey] (null when absent). */
static void take_to(cJSON *span, const char *skey, cJSON *src, const char *key)
{
	add(span, skey, lg_json_take(src, key));
}

static cJSON *map_observation(cJSON *obs)
{
	cJSON *span = cJSON_CreateObject();
	char tbuf[64];
	double v;
	if (!span)
		return NULL;
	const char *type = lg_json_str(obs, "type");
	take_to(span, "id", obs, "id");
	take_to(span, "parentId", obs, "parentObservationId");
	add(span, "type", cJSON_CreateString(span_type_from_observation(type, tbuf, sizeof tbuf)));
	add(span, "observationType", type ? cJSON_CreateString(type) : cJSON_CreateNull());
	take_to(span, "name", obs, "name");
	int64_t st = time_of(obs, "startTime", INT64_MIN), en = time_of(obs, "endTime", INT64_MIN);
	int64_t cs = time_of(obs, "completionStartTime", INT64_MIN);
	take_to(span, "startTime", obs, "startTime");
	take_to(span, "endTime", obs, "endTime");
	int64_t ms;
	if (lg_json_get_num(obs, "latency", &v) && lg_seconds_to_ms(v, &ms) == 0)
		add(span, "duration", lg_json_int(ms));
	else if (st != INT64_MIN && en != INT64_MIN && en >= st)
		add(span, "duration", lg_json_int(en - st));
	else
		add(span, "duration", cJSON_CreateNull());
	if (lg_json_get_num(obs, "timeToFirstToken", &v) && lg_seconds_to_ms(v, &ms) == 0)
		add(span, "ttftMs", lg_json_int(ms));
	else if (cs != INT64_MIN && st != INT64_MIN && cs >= st)
		add(span, "ttftMs", lg_json_int(cs - st));
	cJSON *model = lg_json_take(obs, "model");
	if (lg_json_is_null(model)) {
		cJSON_Delete(model);
		model = lg_json_take(obs, "providedModelName");
	}
	add(span, "model", model ? model : cJSON_CreateNull());
	add(span, "tokens", span_tokens(obs));
	add(span, "cost", span_cost(obs));
	take_to(span, "level", obs, "level");
	take_to(span, "statusMessage", obs, "statusMessage");
	take_to(span, "input", obs, "input");
	take_to(span, "output", obs, "output");
	take_to(span, "metadata", obs, "metadata");
	return span;
}

static int64_t span_start(const cJSON *s)
{
	return time_of(s, "startTime", INT64_MAX);
}

static int span_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int64_t sx = span_start(x), sy = span_start(y);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	const char *ix = lg_json_str(x, "id"), *iy = lg_json_str(y, "id");
	return strcmp(ix ? ix : "", iy ? iy : "");
}

/* spans[] from the observations, ordered by start time then id. Observation
 * ids alone (the TraceWithDetails shape) are kept in observationIds. */
static cJSON *map_spans(cJSON *trace, cJSON *rec)
{
	cJSON *obs = lg_json_get(trace, "observations");
	cJSON *spans = cJSON_CreateArray(), *ids = NULL;
	size_t n = 0, i = 0;
	if (!spans)
		return NULL;
	for (cJSON *o = cJSON_IsArray(obs) ? obs->child : NULL; o; o = o->next)
		n++;
	cJSON **v = n ? calloc(n, sizeof *v) : NULL;
	if (n && !v) {
		cJSON_Delete(spans);
		return NULL;
	}
	for (cJSON *o = cJSON_IsArray(obs) ? obs->child : NULL; o; o = o->next) {
		if (cJSON_IsObject(o)) {
			v[i] = map_observation(o);
			if (v[i])
				i++;
		} else if (cJSON_IsString(o)) {
			if (!ids)
				ids = cJSON_CreateArray();
			cJSON_AddItemToArray(ids, cJSON_CreateString(o->valuestring));
		}
	}
	if (i > 1)
		qsort(v, i, sizeof *v, span_cmp);
	for (size_t k = 0; k < i; k++)
		cJSON_AddItemToArray(spans, v[k]);
	free(v);
	if (ids)
		lg_json_set(rec, "observationIds", ids);
	return spans;
}

static cJSON *html_path(cJSON *trace, const map_opts *o, const char *id)
{
	const char *p = lg_json_str(trace, "htmlPath");
	const char *proj = lg_json_str(trace, "projectId");
	char tmp[512];
	if (!p && proj) {
		snprintf(tmp, sizeof tmp, "/project/%s/traces/%s", proj, id);
		p = tmp;
	}
	if (!p)
		return cJSON_CreateNull();
	if (p[0] == '/' && o->host) {
		size_t n = strlen(o->host) + strlen(p) + 1;
		char *full = malloc(n);
		if (!full)
			return NULL;
		snprintf(full, n, "%s%s", o->host, p);
		cJSON *s = cJSON_CreateString(full);
		free(full);
		return s;
	}
	return cJSON_CreateString(p);
}

cJSON *map_trace(cJSON *trace, const map_opts *o, char *err, size_t errlen)
{
	const cJSON *idv = lg_json_get(trace, "id");
	const char *id = lg_json_string(idv);
	if (!id && cJSON_IsNumber(idv) && idv->valuestring)
		id = idv->valuestring; /* numeric id: keep its exact digits */
	if (!id || !*id) {
		snprintf(err, errlen, "trace has no \"id\"");
		return NULL;
	}
	cJSON *rec = cJSON_CreateObject();
	if (!rec) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lg_json_set(rec, "externalId", cJSON_CreateString(id));
	move(rec, "name", trace, "name");
	move(rec, "timestamp", trace, "timestamp");
	lg_json_set(rec, "duration", cJSON_CreateNull());
	move(rec, "input", trace, "input");
	move(rec, "output", trace, "output");
	cJSON *md = lg_json_take(trace, "metadata");
	if (md && !cJSON_IsObject(md) && !cJSON_IsNull(md)) {
		cJSON *wrap = cJSON_CreateObject();
		cJSON_AddItemToObject(wrap, "value", md);
		md = wrap;
	}
	if (!md || cJSON_IsNull(md)) {
		cJSON_Delete(md);
		md = cJSON_CreateObject();
	}
	lg_json_set(rec, "metadata", md);
	move(rec, "userId", trace, "userId");
	move(rec, "sessionId", trace, "sessionId");
	cJSON *tags = lg_json_take(trace, "tags");
	lg_json_set(rec, "tags", cJSON_IsArray(tags) ? tags : (cJSON_Delete(tags), cJSON_CreateArray()));
	lg_json_set(rec, "status", cJSON_CreateString("success"));
	lg_json_set(rec, "incomplete", cJSON_CreateNull());
	cJSON *spans = map_spans(trace, rec);
	if (!spans) {
		cJSON_Delete(rec);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lg_json_set(rec, "spans", spans);
	lg_record_unset_to_null(rec); /* before the metrics read span models */

	double lat;
	int64_t lat_ms;
	int from_spans = !(lg_json_get_num(trace, "latency", &lat) && lg_seconds_to_ms(lat, &lat_ms) == 0);
	if (!from_spans)
		lg_json_set(rec, "duration", lg_json_int(lat_ms));
	if (lg_metrics_apply(rec, from_spans ? LG_METRICS_DURATION_FROM_SPANS : 0)) {
		cJSON_Delete(rec);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Only observation ids: the trace's own totalCost is all we know. */
	double tc;
	if (!spans->child && lg_json_get_num(trace, "totalCost", &tc) && tc >= 0)
		lg_json_set(md, "cost", lg_json_double(tc));
	if (lg_json_is_null(lg_json_get(rec, "timestamp")) && spans->child)
		lg_json_set(rec, "timestamp", cJSON_Duplicate(lg_json_get(spans->child, "startTime"), 1));
	if (lg_incomplete_apply(rec) < 0) {
		cJSON_Delete(rec);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}

	move(rec, "release", trace, "release");
	move(rec, "version", trace, "version");
	move(rec, "environment", trace, "environment");
	lg_record_unset_to_null(rec); /* release and version came in after */
	/* Scores in time order (then id), as lg-store keeps them when it
	 * unites the scores of several fragments (out of memory: as sent). */
	cJSON *scores = lg_json_take(trace, "scores");
	if (cJSON_IsArray(scores) && scores->child) {
		lg_json_sort_by_time(scores, "timestamp");
		lg_json_set(rec, "scores", scores);
	} else {
		cJSON_Delete(scores);
	}
	cJSON *src = cJSON_CreateObject();
	cJSON_AddItemToObject(src, "system", cJSON_CreateString("langfuse"));
	cJSON_AddItemToObject(src, "integration", o->integration ? cJSON_CreateString(o->integration) : cJSON_CreateNull());
	cJSON_AddItemToObject(src, "htmlPath", html_path(trace, o, id));
	const char *proj = lg_json_str(trace, "projectId");
	if (proj)
		cJSON_AddItemToObject(src, "projectId", cJSON_CreateString(proj));
	/* lg-fetch's mark of a trace ingested through Langfuse's legacy path,
	 * whose trace metadata the server copied into every observation: the
	 * store removes the copies from spans merged in later. */
	if (cJSON_IsTrue(lg_json_get(trace, "legacyIngested")))
		cJSON_AddItemToObject(src, "legacyIngested", cJSON_CreateTrue());
	lg_json_set(rec, "source", src);
	return rec;
}
