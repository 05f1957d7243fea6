/* The keyword prefilter of pattern policies: gitleaks' idea (a cheap
 * substring test before a regex) done in one pass per string for all
 * keywords at once: the string is lowercased, and each position's first
 * three bytes (two for 2-byte keywords) are looked up in a bitmap of
 * keyword prefixes; only on a hit are the keywords of that prefix
 * compared, their first 8 bytes in one load. */
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define KW_BUCKETS 4096

typedef struct kw_ent {
	struct kw_ent *next;
	const char *s;
	size_t len;
	int id;
	uint64_t head, mask;    /* the first 8 bytes (fewer: masked), compared in one load */
} kw_ent;

struct pol_kw_index {
	int one[256];                   /* 1-byte keyword id, or -1 */
	unsigned char ones[8];          /* the 1-byte keywords, when few: found by memchr */
	int nones;                      /* how many; -1 when too many for memchr */
	int has2;                       /* any 2-byte keyword */
	unsigned char bits2[65536 / 8]; /* 2-byte keywords present */
	unsigned char bits3[65536 / 8]; /* hashed 3-byte prefixes of longer ones */
	kw_ent *b2[KW_BUCKETS], *b3[KW_BUCKETS];
	kw_ent *all;
	size_t n;
	size_t nwords;                  /* 64-bit words in a keyword bitset */
};

static unsigned prefix2(const char *s)
{
	return (unsigned)(unsigned char)s[0] << 8 | (unsigned char)s[1];
}

/* Keywords of 3 bytes or more are found by their first three: English
 * text is full of 2-byte prefixes ("re", "se", "in", "to") that start a
 * keyword, far fewer 3-byte ones. The 24 bits hash to 16. */
static unsigned prefix3(const char *s)
{
	uint32_t p = (uint32_t)(unsigned char)s[0] << 16 | (uint32_t)(unsigned char)s[1] << 8 |
		     (unsigned char)s[2];
	return (unsigned)((p * 2654435761u) >> 16);
}

/* A prefix's bucket: multiplicative hashing, since p % KW_BUCKETS put
 * "a?", "e?", "i?", "m?", "q?", "u?", "y?" in one chain. */
static unsigned kw_bucket(unsigned p)
{
	return (unsigned)(((uint32_t)p * 2654435761u) >> 20) % KW_BUCKETS;
}

static int kw_add(pol_kw_index *k, const char *w, size_t cap)
{
	size_t len = strlen(w);
	if (len == 1) {
		if (k->one[(unsigned char)w[0]] < 0) {
			k->one[(unsigned char)w[0]] = (int)k->n++;
			if (k->nones >= 0 && k->nones < (int)sizeof k->ones)
				k->ones[k->nones++] = (unsigned char)w[0];
			else
				k->nones = -1;
		}
		return k->one[(unsigned char)w[0]];
	}
	unsigned p = len >= 3 ? prefix3(w) : prefix2(w);
	kw_ent **chain = len >= 3 ? &k->b3[p % KW_BUCKETS] : &k->b2[kw_bucket(p)];
	for (kw_ent *e = *chain; e; e = e->next)
		if (e->len == len && memcmp(e->s, w, len) == 0)
			return e->id;
	if (k->n >= cap)
		return -1;
	kw_ent *e = &k->all[k->n];
	unsigned char head[8] = { 0 }, mask[8] = { 0 };
	memcpy(head, w, len < 8 ? len : 8);
	memset(mask, 0xFF, len < 8 ? len : 8);
	*e = (kw_ent){ *chain, w, len, (int)k->n, 0, 0 };
	memcpy(&e->head, head, 8);
	memcpy(&e->mask, mask, 8);
	*chain = e;
	if (len >= 3) {
		k->bits3[p >> 3] |= (unsigned char)(1u << (p & 7));
	} else {
		k->bits2[p >> 3] |= (unsigned char)(1u << (p & 7));
		k->has2 = 1;
	}
	return (int)k->n++;
}

/* Indexes the keywords of every loaded policy (enabled or not: the
 * self-test runs disabled ones too). */
int pol_prefilter_build(pol_engine *e)
{
	size_t cap = 0;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++)
			cap += e->v[i].patterns[j].nkeywords;
	pol_kw_index *k = calloc(1, sizeof *k);
	if (!k || !(k->all = calloc(cap + 1, sizeof *k->all)) || !(e->present = calloc(cap / 64 + 1, sizeof *e->present))) {
		if (k)
			free(k->all);
		free(k);
		return -1;
	}
	memset(k->one, -1, sizeof k->one);
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++) {
			pol_pattern *pt = &e->v[i].patterns[j];
			free(pt->kwid);
			if (!(pt->kwid = calloc(pt->nkeywords + 1, sizeof *pt->kwid)))
				return -1;
			for (size_t w = 0; w < pt->nkeywords; w++)
				pt->kwid[w] = kw_add(k, pt->keywords[w], cap);
		}
	k->nwords = (k->n + 63) / 64;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; j < e->v[i].npatterns; j++) {
			pol_pattern *pt = &e->v[i].patterns[j];
			free(pt->kwmask);
			if (!(pt->kwmask = calloc(k->nwords + 1, sizeof *pt->kwmask)))
				return -1;
			for (size_t w = 0; w < pt->nkeywords; w++)
				if (pt->kwid[w] >= 0)
					pt->kwmask[pt->kwid[w] / 64] |= 1ull << (pt->kwid[w] % 64);
		}
	e->kw = k;
	return 0;
}

/* Lowercase copy, keywords and digits in one pass. */
const char *pol_prescan(pol_engine *e, const char *s, size_t n, int *digits)
{
	pol_kw_index *k = e->kw;
	lg_buf *b = &e->lower;
	int d = 0;
	if (lg_buf_reserve(b, n + 9))
		return NULL;
	char *lo = b->data;
	size_t i0 = 0;
	/* 8 bytes at a time: A-Z to a-z and '0'-'9' counted, with the
	 * bytes >= 0x80 left alone (each byte's low 7 bits + a bias sets
	 * its high bit without a carry into the next byte). */
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	for (; i0 + 8 <= n; i0 += 8) {
		uint64_t x, low7;
		memcpy(&x, s + i0, 8);
		low7 = x & ~high;
		uint64_t ge_a = low7 + (0x80 - 'A') * ones, gt_z = low7 + (0x80 - 'Z' - 1) * ones;
		uint64_t ge_0 = low7 + (0x80 - '0') * ones, gt_9 = low7 + (0x80 - '9' - 1) * ones;
		uint64_t up = ge_a & ~gt_z & ~x & high, dig = ge_0 & ~gt_9 & ~x & high;
		x |= up >> 2;
		memcpy(lo + i0, &x, 8);
		d += (int)(((dig >> 7) * ones) >> 56); /* digits: one bit per byte, summed */
	}
	for (size_t i = i0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		lo[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		d += (unsigned)(ch - '0') < 10u;
	}
	memset(lo + n, 0, 9);   /* a keyword's 8-byte head can be read at any i < n */
	b->len = n;
	memset(e->present, 0, k->nwords * sizeof *e->present);
	for (int j = 0; j < k->nones; j++)
		if (memchr(lo, k->ones[j], n)) {
			int one = k->one[k->ones[j]];
			e->present[one / 64] |= 1ull << (one % 64);
		}
	for (size_t i = 0; i < n; i++) {
		if (k->nones < 0) {
			int one = k->one[(unsigned char)lo[i]];
			if (one >= 0)
				e->present[one / 64] |= 1ull << (one % 64);
		}
		uint64_t at;
		/* the NULs past the end never match a keyword byte, so a head
		 * match means the first min(len, 8) bytes are inside s */
		if (k->has2) {
			unsigned p = prefix2(lo + i);
			if (k->bits2[p >> 3] & (1u << (p & 7))) {
				memcpy(&at, lo + i, 8);
				for (kw_ent *w = k->b2[kw_bucket(p)]; w; w = w->next)
					if ((at & w->mask) == w->head)
						e->present[w->id / 64] |= 1ull << (w->id % 64);
			}
		}
		unsigned p = prefix3(lo + i);
		if (!(k->bits3[p >> 3] & (1u << (p & 7))))
			continue;
		memcpy(&at, lo + i, 8);
		for (kw_ent *w = k->b3[p % KW_BUCKETS]; w; w = w->next)
			if ((at & w->mask) == w->head &&
			    (w->len <= 8 || (w->len <= n - i && memcmp(lo + i + 8, w->s + 8, w->len - 8) == 0)))
				e->present[w->id / 64] |= 1ull << (w->id % 64);
	}
	*digits = d;
	return lo;
}

int pol_prefilter_any(const pol_engine *e, const pol_pattern *pt)
{
	uint64_t any = 0;
	for (size_t w = 0; w < e->kw->nwords; w++)
		any |= e->present[w] & pt->kwmask[w];
	return any != 0;
}

void pol_eval_free(pol_engine *e)
{
	if (e->kw)
		free(e->kw->all);
	free(e->kw);
	e->kw = NULL;
	free(e->present);
	e->present = NULL;
	pol_rate_reset(e);
}
