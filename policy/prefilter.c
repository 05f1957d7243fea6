/* The one-pass prefilter of pattern policies. Every keyword of every
 * loaded pattern goes into one Vectorscan database (literals, caseless,
 * each reported once); a scan of a string walks it once and, per keyword
 * found, ORs in the set of patterns that keyword gates. Patterns without
 * keywords are candidates for every string. Only the candidates' regexes
 * (PCRE2) and validators run afterwards, so the cost of a string no
 * longer grows with the number of patterns loaded, only with the number
 * that can match it. */
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval.h"

#define SMALL_SET 8

struct pol_prefilter {
	hs_database_t *db;          /* NULL when no pattern has keywords */
	hs_scratch_t *scratch;
	size_t npat;                /* patterns of all policies, in load order */
	pol_policy **pol;           /* [g]: the policy of pattern g */
	int *pat;                   /* [g]: its index in the policy */
	size_t nwords;              /* 64-bit words in a pattern set */
	uint64_t *kwset;            /* [keyword * nwords]: the patterns it gates */
	uint64_t *always;           /* patterns without keywords */
	uint64_t *probe;            /* scorers: candidates with or without a keyword */
	uint64_t *hit;              /* the current string's patterns whose keyword occurs */
	uint64_t *cand;             /* the current string's candidates */
	/* Few keywords (custom policies): searched one by one instead.
	 * Vectorscan 5.4.9 missed a caseless 2-byte literal in a database of
	 * two (make fuzz, tests/fuzz/regress/prefilter); with sets this small
	 * a plain search costs nothing anyway. */
	unsigned nsmall;
	const char *small[SMALL_SET];
	size_t small_len[SMALL_SET];
	int small_exact[SMALL_SET];
};

void pol_prefilter_free(pol_engine *e)
{
	pol_prefilter *f = e->pf;
	if (!f)
		return;
	hs_free_scratch(f->scratch);
	hs_free_database(f->db);
	free(f->pol);
	free(f->pat);
	free(f->kwset);
	free(f->always);
	free(f->probe);
	free(f->hit);
	free(f->cand);
	free(f);
	e->pf = NULL;
}

/* Compiles the keywords (deduplicated: one id per distinct keyword). */
static int compile_keywords(pol_prefilter *f, const char **kw, size_t *len, const int *exact,
			    unsigned nkw, char *why, size_t whylen)
{
	unsigned *flags = malloc((nkw + 1) * sizeof *flags), *ids = malloc((nkw + 1) * sizeof *ids);
	hs_compile_error_t *err = NULL;
	int rc = -1;
	if (!flags || !ids) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < nkw; i++) {
		flags[i] = (exact[i] ? 0 : HS_FLAG_CASELESS) | HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	if (hs_compile_lit_multi(kw, flags, ids, len, nkw, HS_MODE_BLOCK, NULL, &f->db, &err) != HS_SUCCESS) {
		snprintf(why, whylen, "keyword prefilter: %s", err && err->message ? err->message : "compile failed");
		hs_free_compile_error(err);
		goto out;
	}
	if (hs_alloc_scratch(f->db, &f->scratch) != HS_SUCCESS) {
		snprintf(why, whylen, "keyword prefilter: out of memory");
		goto out;
	}
	rc = 0;
out:
	free(flags);
	free(ids);
	return rc;
}

static unsigned keyword_id(const char **kw, size_t *len, int *exact, unsigned *nkw, const char *w,
			   int case_exact)
{
	size_t n = strlen(w);
	for (unsigned i = 0; i < *nkw; i++)
		if (len[i] == n && exact[i] == case_exact && memcmp(kw[i], w, n) == 0)
			return i;
	kw[*nkw] = w;
	len[*nkw] = n;
	exact[*nkw] = case_exact;
	return (*nkw)++;
}

int pol_prefilter_build(pol_engine *e, char *why, size_t whylen)
{
	size_t npat = 0, nkwmax = 0;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++) {
			npat++;
			nkwmax += e->v[i].patterns[j].nkeywords + e->v[i].patterns[j].ncase_keywords;
		}
	pol_prefilter *f = calloc(1, sizeof *f);
	const char **kw = calloc(nkwmax + 1, sizeof *kw);
	size_t *len = calloc(nkwmax + 1, sizeof *len);
	int *exact = calloc(nkwmax + 1, sizeof *exact);
	unsigned *kwof = calloc(nkwmax + 1, sizeof *kwof);  /* keyword id of each (pattern, keyword) */
	unsigned nkw = 0;
	int rc = -1;
	snprintf(why, whylen, "out of memory");
	e->pf = f;
	if (!f || !kw || !len || !exact || !kwof)
		goto out;
	f->npat = npat;
	f->nwords = npat / 64 + 1;
	f->pol = calloc(npat + 1, sizeof *f->pol);
	f->pat = calloc(npat + 1, sizeof *f->pat);
	f->always = calloc(f->nwords, sizeof *f->always);
	f->cand = calloc(f->nwords, sizeof *f->cand);
	f->probe = calloc(f->nwords, sizeof *f->probe);
	f->hit = calloc(f->nwords, sizeof *f->hit);
	if (!f->pol || !f->pat || !f->always || !f->cand || !f->probe || !f->hit)
		goto out;
	size_t g = 0, k = 0;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++, g++) {
			pol_pattern *pt = &e->v[i].patterns[j];
			f->pol[g] = &e->v[i];
			f->pat[g] = (int)j;
			if (!pt->nkeywords && !pt->ncase_keywords)
				f->always[g / 64] |= 1ull << (g % 64);
			if (pt->scorer)
				f->probe[g / 64] |= 1ull << (g % 64);
			for (size_t w = 0; w < pt->nkeywords; w++)
				kwof[k++] = keyword_id(kw, len, exact, &nkw, pt->keywords[w], 0);
			for (size_t w = 0; w < pt->ncase_keywords; w++)
				kwof[k++] = keyword_id(kw, len, exact, &nkw, pt->case_keywords[w], 1);
		}
	if (!(f->kwset = calloc((size_t)nkw * f->nwords + 1, sizeof *f->kwset)))
		goto out;
	g = k = 0;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++, g++)
			for (size_t w = 0; w < e->v[i].patterns[j].nkeywords + e->v[i].patterns[j].ncase_keywords; w++)
				f->kwset[kwof[k++] * f->nwords + g / 64] |= 1ull << (g % 64);
	if (nkw <= SMALL_SET) {
		for (unsigned i = 0; i < nkw; i++) {
			f->small[i] = kw[i];
			f->small_len[i] = len[i];
			f->small_exact[i] = exact[i];
		}
		f->nsmall = nkw;
	} else if (compile_keywords(f, kw, len, exact, nkw, why, whylen)) {
		goto out;
	}
	rc = 0;
out:
	free(kw);
	free(len);
	free(exact);
	free(kwof);
	if (rc)
		pol_prefilter_free(e);
	return rc;
}

static int on_keyword(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		      void *ctx)
{
	pol_prefilter *f = ctx;
	const uint64_t *set = f->kwset + (size_t)id * f->nwords;
	for (size_t w = 0; w < f->nwords; w++)
		f->hit[w] |= set[w];
	return 0;
}

/* Digits of s, 8 bytes at a time ('0'-'9' set a byte's high bit after a
 * bias, without a carry into the next byte; bytes >= 0x80 are left out). */
static int count_digits(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	size_t i = 0;
	int d = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, low7;
		memcpy(&x, s + i, 8);
		low7 = x & ~high;
		uint64_t ge_0 = low7 + (0x80 - '0') * ones, gt_9 = low7 + (0x80 - '9' - 1) * ones;
		uint64_t dig = ge_0 & ~gt_9 & ~x & high;
		d += (int)(((dig >> 7) * ones) >> 56);
	}
	for (; i < n; i++)
		d += (unsigned)((unsigned char)s[i] - '0') < 10u;
	return d;
}

static int has_keyword(const char *s, size_t n, const char *w, size_t m, int exact)
{
	for (size_t i = 0; i + m <= n; i++)
		if (exact ? memcmp(s + i, w, m) == 0 : strncasecmp(s + i, w, m) == 0)
			return 1;
	return 0;
}

int pol_prefilter_scan(pol_engine *e, const char *s, size_t n, int *digits)
{
	pol_prefilter *f = e->pf;
	memset(f->hit, 0, f->nwords * sizeof *f->hit);
	for (unsigned i = 0; i < f->nsmall; i++)
		if (has_keyword(s, n, f->small[i], f->small_len[i], f->small_exact[i]))
			on_keyword(i, 0, 0, 0, f);
	if (f->db && n && hs_scan(f->db, s, n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)n, 0, f->scratch,
				  on_keyword, f) != HS_SUCCESS)
		return -1;
	for (size_t w = 0; w < f->nwords; w++)
		f->cand[w] = f->hit[w] | f->always[w] | f->probe[w];
	*digits = count_digits(s, n);
	return 0;
}

int pol_prefilter_next(const pol_engine *e, pol_cursor *it, pol_policy **p, int *pat)
{
	const pol_prefilter *f = e->pf;
	while (!it->bits) {
		if (it->word >= f->nwords)
			return 0;
		it->bits = f->cand[it->word++];
	}
	size_t g = (it->word - 1) * 64 + (size_t)__builtin_ctzll(it->bits);
	it->bits &= it->bits - 1;
	it->keyword = (f->hit[g / 64] >> (g % 64)) & 1;
	*p = f->pol[g];
	*pat = f->pat[g];
	return 1;
}

const char *pol_lower(pol_engine *e, const char *s, size_t n)
{
	lg_buf *b = &e->lower;
	if (lg_buf_reserve(b, n + 1))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		b->data[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	b->data[n] = '\0';
	b->len = n;
	return b->data;
}

void pol_eval_free(pol_engine *e)
{
	pol_prefilter_free(e);
	pol_rate_reset(e);
}
