#include <math.h>
#include <string.h>

#include "json.h"
#include "metrics.h"
#include "timeutil.h"

double lg_round_cost(double usd)
{
	return round(usd * 1e12) / 1e12;
}

static int span_time(const cJSON *span, const char *key, int64_t *ms)
{
	const char *s = lg_json_str(span, key);
	return s && lg_time_parse(s, ms) == 0;
}

double lg_span_duration_ms(const cJSON *span)
{
	double d;
	int64_t a, b;
	if (lg_json_get_num(span, "duration", &d) && d >= 0 && d <= LG_MAX_DURATION_MS)
		return d;
	if (span_time(span, "startTime", &a) && span_time(span, "endTime", &b) && b >= a)
		return (double)(b - a);
	return -1;
}

static int has_models(const cJSON *models, const char *m)
{
	for (const cJSON *c = models ? models->child : NULL; c; c = c->next)
		if (cJSON_IsString(c) && strcmp(c->valuestring, m) == 0)
			return 1;
	return 0;
}

int lg_metrics_apply(cJSON *record, int flags)
{
	const cJSON *spans = lg_json_get(record, "spans");
	double tin = 0, tout = 0, ttot = 0, cost = 0;
	double llm = 0, retr = 0, tool = 0, best_tokens = -1;
	double ttft = -1;
	int64_t ttft_start = INT64_MAX, first = INT64_MAX, last = INT64_MIN;
	const char *model = NULL, *fallback = NULL;
	int errors = 0, warnings = 0;
	cJSON *models = cJSON_CreateArray();
	if (!models)
		return -1;

	for (const cJSON *s = cJSON_IsArray(spans) ? spans->child : NULL; s; s = s->next) {
		const char *type = lg_json_str(s, "type");
		const char *lvl = lg_json_str(s, "level");
		const char *m = lg_json_str(s, "model");
		const cJSON *tok = lg_json_get(s, "tokens");
		double i = 0, o = 0, t = 0, c, d = lg_span_duration_ms(s), v;
		int is_llm = type && strcmp(type, "llm") == 0;
		int64_t st, en;

		if (lg_json_get_num(tok, "input", &v)) i = v;
		if (lg_json_get_num(tok, "output", &v)) o = v;
		t = lg_json_get_num(tok, "total", &v) ? v : i + o;
		tin += i;
		tout += o;
		ttot += t;
		if (lg_json_get_num(s, "cost", &c))
			cost += c;
		if (m && *m) {
			if (!has_models(models, m))
				cJSON_AddItemToArray(models, cJSON_CreateString(m));
			if (is_llm && t > best_tokens) {
				model = m;
				best_tokens = t;
			} else if (!fallback) {
				fallback = m;
			}
		}
		if (d >= 0 && type) {
			if (is_llm) llm += d;
			else if (strcmp(type, "retrieval") == 0) retr += d;
			else if (strcmp(type, "tool") == 0) tool += d;
		}
		if (is_llm && lg_json_get_num(s, "ttftMs", &v) && span_time(s, "startTime", &st) && st < ttft_start) {
			ttft = v;
			ttft_start = st;
		}
		if (span_time(s, "startTime", &st) && st < first) first = st;
		if (span_time(s, "endTime", &en) && en > last) last = en;
		if (lvl && strcmp(lvl, "ERROR") == 0) errors++;
		if (lvl && strcmp(lvl, "WARNING") == 0) warnings++;
	}

	if (!model)
		model = fallback;
	if ((flags & LG_METRICS_DURATION_FROM_SPANS) && first != INT64_MAX && last >= first)
		lg_json_set(record, "duration", lg_json_int(last - first));

	double total_ms = 0;
	if (!lg_json_get_num(record, "duration", &total_ms) || !(total_ms >= 0 && total_ms <= LG_MAX_DURATION_MS))
		total_ms = 0; /* 1e999 or -1 from a stored record: not a duration */
	cJSON *md = lg_json_obj(record, "metadata");
	cJSON *tokens = cJSON_CreateObject(), *lat = cJSON_CreateObject();
	if (!md || !tokens || !lat) {
		cJSON_Delete(models);
		cJSON_Delete(tokens);
		cJSON_Delete(lat);
		return -1;
	}
	cJSON_AddItemToObject(tokens, "input", lg_json_int_d(tin));
	cJSON_AddItemToObject(tokens, "output", lg_json_int_d(tout));
	cJSON_AddItemToObject(tokens, "total", lg_json_int_d(ttot));
	lg_json_set(md, "tokens", tokens);
	lg_json_set(md, "cost", lg_json_double(lg_round_cost(cost)));
	lg_json_set(md, "model", model ? cJSON_CreateString(model) : cJSON_CreateNull());
	lg_json_set(md, "models", models);
	double other = total_ms - llm - retr - tool;
	cJSON_AddItemToObject(lat, "totalMs", lg_json_int((int64_t)llround(total_ms)));
	cJSON_AddItemToObject(lat, "llmMs", lg_json_int((int64_t)llround(llm)));
	cJSON_AddItemToObject(lat, "retrievalMs", lg_json_int((int64_t)llround(retr)));
	cJSON_AddItemToObject(lat, "toolMs", lg_json_int((int64_t)llround(tool)));
	cJSON_AddItemToObject(lat, "otherMs", lg_json_int(other > 0 ? (int64_t)llround(other) : 0));
	cJSON_AddItemToObject(lat, "ttftMs", ttft >= 0 ? lg_json_int((int64_t)llround(ttft)) : cJSON_CreateNull());
	lg_json_set(md, "latency", lat);
	lg_json_set(record, "status", cJSON_CreateString(errors ? "error" : warnings ? "warning" : "success"));
	return 0;
}
