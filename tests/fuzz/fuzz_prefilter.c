/* libFuzzer target: the one-pass prefilter (policy/prefilter.c) against a
 * plain reference. The input's first line names up to 8 keywords (separated
 * by '|'; one starting with '=' keeps its case), the rest is the string.
 * Each keyword gates a pattern that matches any first character; the
 * pattern must report exactly when its keyword occurs in the string
 * (case-insensitively, or exactly for '='), whatever the keywords share.
 * fuzz-links: policy/eval.c policy/patterns.c policy/prefilter.c policy/checks.c policy/rate.c policy/selftest.c policy/load.c policy/validators.c policy/builtin.c policy/injection.c policy/injection_text.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Bytes folded into a small printable alphabet (valid UTF-8, JSON-safe,
 * and dense enough that keywords do occur). */
static char fold(unsigned char c)
{
	static const char a[] = "abcABC019_-:@. xyzXYZ";
	return a[c % (sizeof a - 1)];
}

static int occurs(const char *s, const char *w, int exact)
{
	size_t n = strlen(s), m = strlen(w);
	for (size_t i = 0; i + m <= n; i++)
		if (exact ? strncmp(s + i, w, m) == 0 : strncasecmp(s + i, w, m) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char kw[8][16], str[512];
	int exact[8] = { 0 }, nkw = 0;
	size_t i = 0, k = 0;
	while (i < size && data[i] != '\n' && nkw < 8) {
		if (data[i] == '|') {
			if (k)
				kw[nkw++][k] = '\0';
			k = 0;
		} else if (k == 0 && data[i] == '=' && !exact[nkw]) {
			exact[nkw] = 1;
		} else if (k < 12) {
			kw[nkw][k++] = fold(data[i]);
		}
		i++;
	}
	if (k && nkw < 8)
		kw[nkw++][k] = '\0';
	if (!nkw)
		return 0;
	size_t n = 0;
	for (i++; i < size && n < sizeof str - 1; i++)
		str[n++] = fold(data[i]);
	str[n] = '\0';
	lg_buf doc = { 0 };
	lg_buf_adds(&doc, "{\"policies\":[{\"id\":\"p\",\"category\":\"security\",\"severity\":\"low\",\"kind\":\"pattern\","
			  "\"targets\":[\"output\"],\"patterns\":[");
	for (int j = 0; j < nkw; j++) {
		for (char *c = kw[j]; !exact[j] && *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		lg_buf_printf(&doc, "%s{\"name\":\"k%d\",\"regex\":\"^(?s).\",\"%s\":[", j ? "," : "", j,
			      exact[j] ? "caseKeywords" : "keywords");
		lg_json_print_string(&doc, kw[j], strlen(kw[j]));
		lg_buf_adds(&doc, "]}");
	}
	lg_buf_adds(&doc, "]}]}");
	pol_engine e;
	char why[256];
	memset(&e, 0, sizeof e);
	if (pol_load_text(&e, doc.data, doc.len, 0, why, sizeof why) || pol_engine_ready(&e)) {
		fprintf(stderr, "policy: %s\n%s\n", why, lg_buf_cstr(&doc));
		abort();
	}
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "externalId", "f");
	cJSON_AddStringToObject(rec, "output", str);
	int worst;
	if (pol_eval_record(&e, rec, &worst, NULL))
		abort();
	/* the first pattern listed wins an overlap: every finding is at [0,1),
	 * so the first firing pattern is the one reported */
	int want = -1;
	for (int j = 0; j < nkw && want < 0 && n; j++)
		if (occurs(str, kw[j], exact[j]))
			want = j;
	const cJSON *vs = lg_json_get(rec, "violations");
	const char *got = cJSON_GetArraySize(vs) ? lg_json_str(lg_json_get(vs->child, "evidence"), "detector") : NULL;
	char wname[8];
	snprintf(wname, sizeof wname, "k%d", want);
	if ((want < 0) != (got == NULL) || (got && strcmp(got, wname) != 0)) {
		fprintf(stderr, "prefilter: want %s, got %s\nstring: %s\n", want < 0 ? "none" : wname, got ? got : "none", str);
		for (int j = 0; j < nkw; j++)
			fprintf(stderr, "keyword %d: %s%s\n", j, exact[j] ? "=" : "", kw[j]);
		abort();
	}
	cJSON_Delete(rec);
	pol_engine_free(&e);
	lg_buf_free(&doc);
	return 0;
}
