/* The one-pass keyword prefilter (one Vectorscan database for all keywords,
 * digits counted 8 bytes at a time) agrees with a plain reference: a
 * pattern fires exactly when its keyword occurs case-insensitively and the
 * string has its digits, at every offset and near the end of the string;
 * span type filters and object keys skip strings, never findings; the
 * 8-bytes-at-a-time character count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../../policy/policy.h"
#include "t.h"

static const char *const POLICY =
	"{\"policies\":[{\"id\":\"kwt\",\"category\":\"security\",\"severity\":\"high\",\"kind\":\"pattern\","
	"\"targets\":[\"output\",\"spans[type=tool].input\"],\"scanKeys\":true,\"patterns\":["
	"{\"name\":\"long\",\"regex\":\"zz\",\"keywords\":[\"alpha beta gamma\"]},"
	"{\"name\":\"one\",\"regex\":\"qq\",\"keywords\":[\"@\"]},"
	"{\"name\":\"digits\",\"regex\":\"ww\",\"keywords\":[\"kw\",\"secretkey\"],\"minDigits\":3}]}]}";

static pol_engine eng;
static unsigned long long rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(s), m = strlen(w);
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && (s[i + j] >= 'A' && s[i + j] <= 'Z' ? s[i + j] + 32 : s[i + j]) == w[j])
			j++;
		if (j == m)
			return 1;
	}
	return 0;
}

static int ndigits(const char *s)
{
	int d = 0;
	for (; *s; s++)
		d += *s >= '0' && *s <= '9';
	return d;
}

/* Random filler: lowercase, uppercase, digits, punctuation, UTF-8. */
static void pad(lg_buf *b, unsigned n)
{
	static const char *const bits[] = { "a", "Q", "7", " ", "é", "日", "@", "K", "W", "z", "-", "\xf0\x9f\x98\x80" };
	for (unsigned i = 0; i < n; i++)
		lg_buf_adds(b, bits[rnd(12)]);
}

/* The keyword, maybe in mixed case, maybe cut short. */
static void word(lg_buf *b, const char *w, int cut)
{
	size_t m = strlen(w) - (cut && strlen(w) > 1 ? 1 + rnd((unsigned)strlen(w) - 1) : 0);
	for (size_t i = 0; i < m; i++)
		lg_buf_addc(b, (char)(rnd(2) && w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]));
}

static const char *found(const char *json)
{
	static char out[256];
	lg_json_error err;
	cJSON *r = lg_json_parse(json, strlen(json), &err);
	const cJSON *v;
	out[0] = '\0';
	if (!r || pol_eval_record(&eng, r, NULL, NULL)) {
		cJSON_Delete(r);
		return "(error)";
	}
	cJSON_ArrayForEach(v, lg_json_get(r, "violations")) {
		const cJSON *ev = lg_json_get(v, "evidence");
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s@%s", out[0] ? "," : "",
			 lg_json_str(ev, "detector"), lg_json_str(ev, "location"));
	}
	cJSON_Delete(r);
	return out;
}

static void random_strings(void)
{
	static const char *const names[] = { "long", "one", "digits" };
	static const char *const trig[] = { "zz", "qq", "ww" };
	int bad = 0, fired = 0, runs = 3000;
	for (int i = 0; i < runs; i++) {
		lg_buf s = { 0 }, rec = { 0 };
		int k = (int)rnd(3);
		pad(&s, rnd(20));
		lg_buf_adds(&s, trig[k]);
		pad(&s, rnd(20));
		if (rnd(4)) {
			const char *w = k == 0 ? "alpha beta gamma" : k == 1 ? "@" : rnd(2) ? "kw" : "secretkey";
			word(&s, w, rnd(3) == 0);
			if (rnd(2))
				pad(&s, rnd(12));
		}
		/* pad() puts '@' and 'k','w' too: the reference sees them all */
		const char *str = lg_buf_cstr(&s);
		int want = k == 0 ? has_word(str, "alpha beta gamma")
			 : k == 1 ? has_word(str, "@")
			 : (has_word(str, "kw") || has_word(str, "secretkey")) && ndigits(str) >= 3;
		lg_buf_adds(&rec, "{\"externalId\":\"t\",\"output\":");
		lg_json_print_string(&rec, s.data, s.len);
		lg_buf_adds(&rec, "}");
		char exp[64];
		snprintf(exp, sizeof exp, "%s%s", want ? names[k] : "", want ? "@output" : "");
		const char *got = found(lg_buf_cstr(&rec));
		if (strcmp(got, exp) != 0 && bad++ < 5)
			printf("# %s: got '%s' want '%s'\n", lg_buf_cstr(&rec), got, exp);
		fired += want;
		lg_buf_free(&s);
		lg_buf_free(&rec);
	}
	T_INT(bad, 0, "prefilter agrees with a plain case-insensitive search on 3,000 strings");
	T_OK(fired > runs / 3 && fired < runs, "both outcomes were tested");
}

static void fixed_cases(void)
{
	T_STR(found("{\"externalId\":\"t\",\"output\":\"zz ALPHA beta GaMmA\"}"), "long@output", "long keyword at the very end, mixed case");
	T_STR(found("{\"externalId\":\"t\",\"output\":\"zz alpha beta gamm\"}"), "", "long keyword cut by the end of the string");
	T_STR(found("{\"externalId\":\"t\",\"output\":\"12 ww 3 SecretKey\"}"), "digits@output", "digits counted across 8-byte blocks");
	T_STR(found("{\"externalId\":\"t\",\"output\":\"12 ww SecretKey\"}"), "", "too few digits");
	T_STR(found("{\"externalId\":\"t\",\"output\":\"\xc3\x89\xc3\x89\xc3\x89\xc3\x89 ww KW 123\"}"), "digits@output",
	      "bytes >= 0x80 are not lowercased into ASCII");
	T_STR(found("{\"externalId\":\"t\",\"output\":{\"user@x qq\":\"plain\"}}"), "one@output[\"user@x qq\"]", "object keys are scanned with scanKeys");
	T_STR(found("{\"externalId\":\"t\",\"spans\":[{\"type\":\"llm\",\"input\":\"qq @\"},{\"type\":\"tool\",\"input\":[\"qq @\"]}]}"),
	      "one@spans[1].input[0]", "span type filter: only the tool span");
}

/* pol_utf8_count (8 bytes at a time) against a byte loop, every length
 * and offset over random bytes. */
static void utf8_count(void)
{
	unsigned char buf[64];
	int bad = 0;
	for (int r = 0; r < 200; r++) {
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (unsigned char)rnd(256);
		for (size_t off = 0; off < 9; off++)
			for (size_t n = 0; off + n <= sizeof buf; n++) {
				size_t want = 0;
				for (size_t i = 0; i < n; i++)
					want += (buf[off + i] & 0xC0) != 0x80;
				bad += pol_utf8_count((const char *)buf + off, n) != want;
			}
	}
	T_INT(bad, 0, "pol_utf8_count agrees with a byte loop at every length and offset");
}

/* More than 8 one-byte keywords: found by the per-byte table, not memchr. */
static void many_one_byte(void)
{
	static const char *const doc =
		"{\"id\":\"many\",\"category\":\"security\",\"severity\":\"low\",\"kind\":\"pattern\","
		"\"targets\":[\"output\"],\"patterns\":[{\"name\":\"v\",\"regex\":\"vv\","
		"\"keywords\":[\"!\",\"#\",\"$\",\"%\",\"&\",\"*\",\"+\",\"=\",\"~\"]}]}";
	char why[600];
	pol_engine e2 = { 0 };
	int rc = pol_load_text(&e2, doc, strlen(doc), 0, why, sizeof why) || pol_engine_ready(&e2);
	T_OK(!rc, "load 9 one-byte keywords");
	if (!rc) {
		pol_engine saved = eng;
		eng = e2;
		T_STR(found("{\"externalId\":\"t\",\"output\":\"vv and ~\"}"), "v@output", "9th one-byte keyword found");
		T_STR(found("{\"externalId\":\"t\",\"output\":\"! vv\"}"), "v@output", "1st one-byte keyword found");
		T_STR(found("{\"externalId\":\"t\",\"output\":\"vv only\"}"), "", "no keyword, no regex");
		e2 = eng;
		eng = saved;
	}
	pol_engine_free(&e2);
}

int main(void)
{
	char why[600];
	if (pol_load_text(&eng, POLICY, strlen(POLICY), 0, why, sizeof why) || pol_engine_ready(&eng)) {
		printf("# load: %s\n", why);
		T_OK(0, "load the test policy");
		return t_done();
	}
	fixed_cases();
	random_strings();
	utf8_count();
	many_one_byte();
	pol_engine_free(&eng);
	return t_done();
}
