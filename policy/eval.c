/* Evaluating policies on one record: every enabled policy runs (no
 * short-circuit), each finding becomes a violation with evidence, old
 * violations of the policies that ran are replaced (statuses kept by id). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "metrics.h"
#include "policy.h"
#include "timeutil.h"

#define MAX_HITS_PER_PATTERN 64  /* per string: bounds work on hostile input */
#define RATE_MAX_PER_KEY 100000
#define RATE_BUCKETS 4096

/* A regex finding inside the string being scanned (byte offsets). */
typedef struct {
	pol_policy *p;
	int pat;
	size_t s, e;
	int key;        /* found in an object key */
} hit;

typedef struct {
	pol_engine *e;
	pol_policy **run;       /* the policies evaluated */
	size_t nrun;
	const char *ext;        /* externalId */
	char now[32];
	cJSON *found;           /* array of new violations */
	lg_buf path;            /* location being walked */
	lg_buf tmp;
	hit *hits;
	size_t nhits, caphits;
	const char *span_type;  /* type of the span being walked, or NULL */
	const unsigned char *mok; /* per member of the group walked: its target takes this span */
	int oom;
} ectx;

/* For cJSON_ArrayForEach over something that may not be an array. */
static const cJSON *array_or_null(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

static const cJSON *container_or_null(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v) ? v : NULL;
}

/* ---- violations ---------------------------------------------------- */

typedef struct {
	const char *k, *v;
} var;

/* Expands "{name}" placeholders; unknown ones stay as written. */
static void expand(lg_buf *b, const char *tmpl, const var *vars, size_t n)
{
	for (const char *p = tmpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		size_t i = n;
		if (close)
			for (i = 0; i < n; i++)
				if (strlen(vars[i].k) == (size_t)(close - p - 1) &&
				    strncmp(p + 1, vars[i].k, (size_t)(close - p - 1)) == 0)
					break;
		if (close && i < n) {
			lg_buf_adds(b, vars[i].v ? vars[i].v : "");
			p = close;
		} else {
			lg_buf_addc(b, *p);
		}
	}
}

static void fmt_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.10g", v);
}

static char *violation_id(const pol_policy *p, const char *ext, const char *loc,
			  const char *match, size_t mlen, char out[17])
{
	uint64_t h = LG_HASH_SEED;
	h = lg_hash_bytes(p->id, strlen(p->id) + 1, h);
	h = lg_hash_bytes(ext, strlen(ext) + 1, h);
	h = lg_hash_bytes(loc, strlen(loc) + 1, h);
	h = lg_hash_bytes(match, mlen, h);
	return lg_hash_hex(h, out);
}

/* Adds a violation; evidence is taken over. The message comes from tmpl
 * (a pattern's or check's own, else the policy's). */
static void add_violation(ectx *c, pol_policy *p, const char *tmpl, const char *loc,
			  const char *detector, const char *idtext, size_t idlen,
			  cJSON *evidence, const var *extra, size_t nextra)
{
	char id[17];
	var vars[12];
	size_t n = 0;
	vars[n++] = (var){ "name", p->name };
	vars[n++] = (var){ "policy", p->id };
	vars[n++] = (var){ "severity", pol_severity_name(p->severity) };
	vars[n++] = (var){ "location", loc };
	vars[n++] = (var){ "detector", detector };
	for (size_t i = 0; i < nextra && n < 12; i++)
		vars[n++] = extra[i];
	c->tmp.len = 0;
	expand(&c->tmp, tmpl ? tmpl : p->message, vars, n);
	cJSON *v = cJSON_CreateObject();
	if (!v || !evidence) {
		cJSON_Delete(v);
		cJSON_Delete(evidence);
		c->oom = 1;
		return;
	}
	violation_id(p, c->ext, loc, idtext, idlen, id);
	/* The same finding reached twice (overlapping targets) counts once. */
	cJSON *it;
	cJSON_ArrayForEach(it, c->found) {
		const char *oid = lg_json_str(it, "id");
		if (oid && strcmp(oid, id) == 0) {
			cJSON_Delete(v);
			cJSON_Delete(evidence);
			return;
		}
	}
	cJSON_AddItemToObject(v, "id", cJSON_CreateString(id));
	cJSON_AddItemToObject(v, "policy", cJSON_CreateString(p->id));
	cJSON_AddItemToObject(v, "name", cJSON_CreateString(p->name));
	cJSON_AddItemToObject(v, "category", cJSON_CreateString(p->category));
	cJSON_AddItemToObject(v, "severity", cJSON_CreateString(pol_severity_name(p->severity)));
	cJSON_AddItemToObject(v, "message", cJSON_CreateString(lg_buf_cstr(&c->tmp)));
	/* location and detector first: evidence reads best that way */
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "location", cJSON_CreateString(loc));
	cJSON_AddItemToObject(ev, "detector", cJSON_CreateString(detector));
	while (evidence->child) {
		cJSON *ch = cJSON_DetachItemViaPointer(evidence, evidence->child);
		char *k = ch->string;
		ch->string = NULL;
		cJSON_AddItemToObject(ev, k, ch);
		cJSON_free(k);
	}
	cJSON_Delete(evidence);
	cJSON_AddItemToObject(v, "evidence", ev);
	cJSON_AddItemToArray(c->found, v);
}

/* ---- pattern policies ---------------------------------------------- */

static int has_type(char **types, size_t n, const char *t)
{
	if (!types)
		return 1;
	for (size_t i = 0; t && i < n; i++)
		if (strcmp(types[i], t) == 0)
			return 1;
	return 0;
}

/* ---- keyword prefilter --------------------------------------------
 * gitleaks' idea (a cheap substring test before a regex) done in one pass
 * per string for all keywords at once: the string is lowercased, and each
 * position's first three bytes (two for 2-byte keywords) are looked up in
 * a bitmap of keyword prefixes; only on a hit are the keywords of that
 * prefix compared, their first 8 bytes in one load. */

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
static int kw_build(pol_engine *e)
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

/* Lowercases s into the engine's buffer, marks the keywords present and
 * counts digits, in one pass. */
static const char *prescan(ectx *c, const char *s, size_t n, int *digits)
{
	pol_engine *e = c->e;
	pol_kw_index *k = e->kw;
	lg_buf *b = &e->lower;
	int d = 0;
	if (lg_buf_reserve(b, n + 9)) {
		c->oom = 1;
		return NULL;
	}
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

static int any_word(const char *lower, size_t from, size_t to, char **words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memmem(lower + from, to - from, words[i], strlen(words[i])))
			return 1;
	return 0;
}

static int push_hit(ectx *c, pol_policy *p, int pat, size_t s, size_t e, int key)
{
	if (c->nhits == c->caphits) {
		size_t cap = c->caphits ? c->caphits * 2 : 32;
		hit *h = realloc(c->hits, cap * sizeof *h);
		if (!h) {
			c->oom = 1;
			return -1;
		}
		c->hits = h;
		c->caphits = cap;
	}
	c->hits[c->nhits++] = (hit){ p, pat, s, e, key };
	return 0;
}

/* Runs one pattern over s, pushing accepted hits. */
static void run_pattern(ectx *c, pol_policy *p, int pi, const char *s, size_t n,
			const char *lower, int digits, int key, const char *okey)
{
	pol_pattern *pt = &p->patterns[pi];
	if (digits < pt->min_digits)
		return;
	if (pt->key_re && (key || !okey ||
			   pcre2_match(pt->key_re, (PCRE2_SPTR)okey, strlen(okey), 0, PCRE2_NO_UTF_CHECK,
				       c->e->md, NULL) < 0))
		return;
	if (pt->nkeywords) {
		uint64_t any = 0;
		for (size_t w = 0; w < c->e->kw->nwords; w++)
			any |= c->e->present[w] & pt->kwmask[w];
		if (!any)
			return;
	}
	pcre2_match_data *md = c->e->md;
	size_t off = 0;
	int found = 0;
	while (off <= n && found < MAX_HITS_PER_PATTERN) {
		int rc = pcre2_match(pt->re, (PCRE2_SPTR)s, n, off, PCRE2_NO_UTF_CHECK, md, NULL);
		if (rc < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t ms = ov[0], me = ov[1];
		off = me > ms ? me : me + 1;
		while (off < n && ((unsigned char)s[off] & 0xC0) == 0x80)
			off++;
		if (rc <= pt->group || ov[2 * pt->group] == PCRE2_UNSET)
			continue;
		size_t gs = ov[2 * pt->group], ge = ov[2 * pt->group + 1];
		if (ge == gs)
			continue;
		if (!pol_validate(pt->validator, s + gs, ge - gs))
			continue;
		if (pt->min_entropy > 0 && pol_entropy(s + gs, ge - gs) < pt->min_entropy)
			continue;
		if (pt->allow && pcre2_match(pt->allow, (PCRE2_SPTR)s + gs, ge - gs, 0,
					     PCRE2_NO_UTF_CHECK, md, NULL) >= 0)
			continue;
		if (pt->context_required) {
			size_t w = (size_t)pt->context_window;
			size_t from = gs > w ? gs - w : 0, to = ge + w < n ? ge + w : n;
			if (!any_word(lower, from, to, pt->context, pt->ncontext))
				continue;
		}
		if (push_hit(c, p, pi, gs, ge, key))
			return;
		found++;
	}
}

static int overlaps(const hit *a, const hit *b)
{
	return a->s < b->e && b->s < a->e;
}

static void append_context(ectx *c, lg_buf *b, const char *s, size_t n, size_t ms, size_t me,
			   size_t base)
{
	size_t w = 40, from = ms > w ? ms - w : 0, to = me + w < n ? me + w : n;
	/* A masked finding cut by the window edge is shown whole, masked. */
	for (size_t i = base; i < c->nhits; i++) {
		hit *h = &c->hits[i];
		if (!h->p || h->p->patterns[h->pat].mask == MASK_NONE)
			continue;
		if (h->s < from && h->e > from)
			from = h->s;
		if (h->e > to && h->s < to)
			to = h->e;
	}
	while (from > 0 && ((unsigned char)s[from] & 0xC0) == 0x80)
		from--;
	while (to < n && ((unsigned char)s[to] & 0xC0) == 0x80)
		to++;
	if (from > 0)
		lg_buf_adds(b, "…");
	size_t pos = from;
	while (pos < to) {
		hit *mh = NULL;
		for (size_t i = base; i < c->nhits; i++) {
			hit *h = &c->hits[i];
			if (h->p && h->s == pos && h->p->patterns[h->pat].mask != MASK_NONE &&
			    (!mh || h->e > mh->e))
				mh = h;
		}
		if (mh) {
			pol_mask(b, mh->p->patterns[mh->pat].mask, s + mh->s, mh->e - mh->s);
			pos = mh->e;
			continue;
		}
		size_t next = to;
		for (size_t i = base; i < c->nhits; i++) {
			hit *h = &c->hits[i];
			if (h->p && h->s > pos && h->s < next && h->p->patterns[h->pat].mask != MASK_NONE)
				next = h->s;
		}
		/* inside a masked finding that started earlier: skip to its end */
		for (size_t i = base; i < c->nhits; i++) {
			hit *h = &c->hits[i];
			if (h->p && h->s < pos && h->e > pos && h->p->patterns[h->pat].mask != MASK_NONE) {
				next = pos;
				pos = h->e;
				break;
			}
		}
		if (next > pos)
			lg_buf_add(b, s + pos, next - pos);
		if (next >= pos)
			pos = next;
	}
	if (to < n)
		lg_buf_adds(b, "…");
}

static int hit_cmp(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

/* Turns the hits of one string (from index base on) into violations. */
static void emit_hits(ectx *c, const char *s, size_t n, size_t base)
{
	/* Within a policy the first-listed pattern wins an overlap: the
	 * generic api_key rule does not repeat the OpenAI key it contains. */
	for (size_t i = base; i < c->nhits; i++)
		for (size_t j = base; j < c->nhits && c->hits[i].p; j++)
			if (i != j && c->hits[j].p == c->hits[i].p && overlaps(&c->hits[i], &c->hits[j]) &&
			    (c->hits[j].pat < c->hits[i].pat || (c->hits[j].pat == c->hits[i].pat && j < i)))
				c->hits[i].p = NULL;
	qsort(c->hits + base, c->nhits - base, sizeof *c->hits, hit_cmp);
	size_t cpos = 0, cchars = 0;
	lg_buf m = { 0 }, ctxb = { 0 };
	for (size_t i = base; i < c->nhits; i++) {
		hit *h = &c->hits[i];
		if (!h->p)
			continue;
		pol_pattern *pt = &h->p->patterns[h->pat];
		cchars += pol_utf8_count(s + cpos, h->s - cpos);
		cpos = h->s;
		size_t cs = cchars, ce = cchars + pol_utf8_count(s + h->s, h->e - h->s);
		m.len = ctxb.len = 0;
		pol_mask(&m, pt->mask, s + h->s, h->e - h->s);
		append_context(c, &ctxb, s, n, h->s, h->e, base);
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddItemToObject(ev, "start", lg_json_int((int64_t)cs));
		cJSON_AddItemToObject(ev, "end", lg_json_int((int64_t)ce));
		cJSON_AddItemToObject(ev, "match", cJSON_CreateString(lg_buf_cstr(&m)));
		cJSON_AddItemToObject(ev, "context", cJSON_CreateString(lg_buf_cstr(&ctxb)));
		if (h->key)
			cJSON_AddItemToObject(ev, "key", cJSON_CreateTrue());
		var extra[] = { { "match", lg_buf_cstr(&m) } };
		add_violation(c, h->p, pt->message, lg_buf_cstr(&c->path), pt->name,
			      s + h->s, h->e - h->s, ev, extra, 1);
	}
	lg_buf_free(&m);
	lg_buf_free(&ctxb);
	c->nhits = base;
}

typedef struct {
	pol_policy *p;
	const pol_target *t;
} member;

typedef struct {
	int span;
	const char *path;
	member *m;
	size_t nm;
} group;

/* okey: the object key holding s (NULL in arrays and at the top). */
static void scan_string(ectx *c, const group *g, const char *s, size_t n, int key, const char *okey)
{
	int digits;
	size_t i;
	/* most object keys are read by no policy: no prescan for them */
	for (i = 0; i < g->nm; i++)
		if (!(key && !g->m[i].p->scan_keys) && c->mok[i])
			break;
	if (i == g->nm)
		return;
	const char *lower = prescan(c, s, n, &digits);
	size_t base = c->nhits;
	if (!lower)
		return;
	for (i = 0; i < g->nm; i++) {
		pol_policy *p = g->m[i].p;
		if (!c->mok[i])
			continue;
		if (key && !p->scan_keys)
			continue;
		for (size_t k = 0; k < p->npatterns; k++)
			run_pattern(c, p, (int)k, s, n, lower, digits, key, okey);
	}
	if (c->nhits > base)
		emit_hits(c, s, n, base);
}

static void path_key(lg_buf *b, const char *k)
{
	if (*k && !strpbrk(k, ".[]\" ") ) {
		if (b->len)
			lg_buf_addc(b, '.');
		lg_buf_adds(b, k);
	} else {
		lg_buf_addc(b, '[');
		lg_json_print_string(b, k, strlen(k));
		lg_buf_addc(b, ']');
	}
}

/* "[i]" without printf: walking every array element of every record
 * made vfprintf a visible cost. */
static void path_index(lg_buf *b, size_t i)
{
	char d[24];
	size_t n = sizeof d;
	d[--n] = ']';
	do
		d[--n] = (char)('0' + i % 10);
	while ((i /= 10) && n > 1);
	d[--n] = '[';
	lg_buf_add(b, d + n, sizeof d - n);
}

static void walk(ectx *c, const group *g, const cJSON *v, const char *okey)
{
	const cJSON *ch;
	size_t mark = c->path.len;
	if (cJSON_IsString(v) && v->valuestring) {
		scan_string(c, g, v->valuestring, strlen(v->valuestring), 0, okey);
	} else if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(ch, v) {
			path_key(&c->path, ch->string);
			scan_string(c, g, ch->string, strlen(ch->string), 1, NULL);
			walk(c, g, ch, ch->string);
			c->path.len = mark;
		}
	} else if (cJSON_IsArray(v)) {
		size_t i = 0;
		cJSON_ArrayForEach(ch, v) {
			path_index(&c->path, i++);
			walk(c, g, ch, NULL);
			c->path.len = mark;
		}
	}
}

static const cJSON *resolve(const cJSON *root, const char *path)
{
	return *path ? lg_json_path(root, path) : root;
}

/* Groups the targets of pattern policies by path, so each string is
 * walked once for all policies that read it. */
static int build_groups(pol_policy **run, size_t nrun, group **out, size_t *nout)
{
	size_t cap = 0;
	for (size_t i = 0; i < nrun; i++)
		cap += run[i]->kind == PK_PATTERN ? run[i]->ntargets : 0;
	group *g = calloc(cap + 1, sizeof *g);
	size_t ng = 0;
	if (!g)
		return -1;
	for (size_t i = 0; i < nrun; i++) {
		if (run[i]->kind != PK_PATTERN)
			continue;
		for (size_t t = 0; t < run[i]->ntargets; t++) {
			const pol_target *tg = &run[i]->targets[t];
			size_t k;
			for (k = 0; k < ng; k++)
				if (g[k].span == tg->span && strcmp(g[k].path, tg->path) == 0)
					break;
			if (k == ng) {
				g[ng].span = tg->span;
				g[ng].path = tg->path;
				if (!(g[ng].m = calloc(nrun, sizeof *g[ng].m))) {
					*out = g;
					*nout = ng;
					return -1;
				}
				ng++;
			}
			g[k].m[g[k].nm++] = (member){ run[i], tg };
		}
	}
	*out = g;
	*nout = ng;
	return 0;
}

static void free_groups(group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].m);
	free(g);
}

static void eval_patterns(ectx *c, const cJSON *rec)
{
	group *g = NULL;
	size_t ng = 0;
	if (build_groups(c->run, c->nrun, &g, &ng)) {
		c->oom = 1;
		free_groups(g, ng);
		return;
	}
	const cJSON *spans = array_or_null(lg_json_get(rec, "spans"));
	unsigned char *ok = malloc(c->nrun + 1);
	if (!ok) {
		c->oom = 1;
		free_groups(g, ng);
		return;
	}
	c->mok = ok;
	for (size_t i = 0; i < ng; i++) {
		c->path.len = 0;
		memset(ok, 1, g[i].nm);
		if (!g[i].span) {
			const cJSON *v = resolve(rec, g[i].path);
			lg_buf_adds(&c->path, g[i].path);
			c->span_type = NULL;
			if (v)
				walk(c, &g[i], v, NULL);
			continue;
		}
		const cJSON *sp;
		size_t k = 0;
		cJSON_ArrayForEach(sp, spans) {
			c->span_type = lg_json_str(sp, "type");
			for (size_t m = 0; m < g[i].nm; m++)
				ok[m] = (unsigned char)has_type(g[i].m[m].t->types, g[i].m[m].t->ntypes,
								c->span_type);
			const cJSON *v = resolve(sp, g[i].path);
			c->path.len = 0;
			lg_buf_adds(&c->path, "spans");
			path_index(&c->path, k++);
			if (*g[i].path) {
				lg_buf_addc(&c->path, '.');
				lg_buf_adds(&c->path, g[i].path);
			}
			if (v)
				walk(c, &g[i], v, NULL);
		}
	}
	c->mok = NULL;
	free(ok);
	free_groups(g, ng);
}

/* ---- threshold policies -------------------------------------------- */

/* Characters (want 1) or words (want 2) in every string under v: only
 * the one asked for is counted. */
static void measure_text(const cJSON *v, int want, double *count)
{
	static unsigned char space[256];
	static int space_ready;
	const cJSON *ch;
	if (!space_ready) {
		for (int i = 0; i < 256; i++)
			space[i] = isspace(i) != 0;
		space_ready = 1;
	}
	if (cJSON_IsString(v) && v->valuestring) {
		const unsigned char *s = (const unsigned char *)v->valuestring;
		if (want == 1) {
			*count += (double)pol_utf8_count(v->valuestring, strlen(v->valuestring));
		} else {
			int in = 0;
			size_t w = 0;
			for (; *s; s++) {
				int sp = space[*s];
				w += !sp && !in;
				in = !sp;
			}
			*count += (double)w;
		}
	}
	cJSON_ArrayForEach(ch, container_or_null(v))
		measure_text(ch, want, count);
}

static int compare(int op, double a, double limit)
{
	switch (op) {
	case '>': return a > limit;
	case 'G': return a >= limit;
	case '<': return a < limit;
	default: return a <= limit;
	}
}

/* loc: the location, or NULL for "spans[at].<path>" (formatted only when
 * a violation needs it: most checks pass on most spans). */
static void check_value(ectx *c, pol_policy *p, const pol_check *k, const cJSON *v,
			const cJSON *span, const char *loc, size_t at)
{
	char sloc[512];
	double actual = 0, count = 0;
	int dup;                /* evidence.actual: the value as written, else the number */
	if (k->measure == 0) {
		if (span && strcmp(k->path, "duration") == 0) {
			actual = lg_span_duration_ms(span);
			if (actual < 0)
				return;
			dup = v && cJSON_IsNumber(v);
		} else {
			if (!lg_json_num(v, &actual))
				return;
			dup = 1;
		}
	} else {
		if (!v || cJSON_IsNull(v))
			return;
		measure_text(v, k->measure == 1 ? 1 : 2, &count);
		actual = count;
		dup = 0;
	}
	/* nothing allocated for the checks that pass (nearly all of them) */
	if (!compare(k->op, actual, k->limit))
		return;
	cJSON *act = dup ? cJSON_Duplicate(v, 0)
		   : k->measure == 0 ? lg_json_double(actual) : lg_json_int((int64_t)actual);
	char a[40], l[40];
	if (!loc) {
		snprintf(sloc, sizeof sloc, "spans[%zu]%s%s", at, *k->path ? "." : "", k->path);
		loc = sloc;
	}
	fmt_num(a, sizeof a, actual);
	fmt_num(l, sizeof l, k->limit);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "actual", act);
	cJSON_AddItemToObject(ev, "limit", lg_json_double(k->limit));
	const char *sname = span ? lg_json_str(span, "name") : NULL;
	var extra[] = { { "actual", a }, { "limit", l }, { "check", k->name }, { "span", sname ? sname : "" } };
	add_violation(c, p, k->message, loc, k->name, k->name, strlen(k->name), ev, extra, 4);
}

static void eval_threshold(ectx *c, pol_policy *p, const cJSON *rec)
{
	const cJSON *spans = array_or_null(lg_json_get(rec, "spans")), *sp;
	for (size_t i = 0; i < p->nchecks; i++) {
		const pol_check *k = &p->checks[i];
		if (!k->span) {
			check_value(c, p, k, resolve(rec, k->path), NULL, *k->path ? k->path : ".", 0);
			continue;
		}
		size_t idx = 0;
		cJSON_ArrayForEach(sp, spans) {
			size_t at = idx++;
			if (!has_type(k->types, k->ntypes, lg_json_str(sp, "type")))
				continue;
			check_value(c, p, k, resolve(sp, k->path), sp, NULL, at);
		}
	}
}

/* ---- list policies ------------------------------------------------- */

static int in_list(char **list, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (pol_model_matches(list[i], v))
			return 1;
	return 0;
}

static void list_value(ectx *c, pol_policy *p, const char *v, const char *loc)
{
	const char *reason;
	if (!v || !*v)
		return;
	/* deprecated wins over approved: a model on both lists is flagged */
	if (in_list(p->deprecated, p->ndeprecated, v))
		reason = "deprecated";
	else if (in_list(p->denied, p->ndenied, v))
		reason = "denied";
	else if (p->napproved && !in_list(p->approved, p->napproved, v))
		reason = "not approved";
	else
		return;
	/* one violation per distinct value and reason in a record */
	cJSON *it;
	cJSON_ArrayForEach(it, c->found) {
		const cJSON *ev = lg_json_get(it, "evidence");
		const char *m = lg_json_str(ev, "match"), *pol = lg_json_str(it, "policy");
		const char *det = lg_json_str(ev, "detector");
		if (m && pol && det && strcmp(pol, p->id) == 0 && strcmp(m, v) == 0 && strcmp(det, reason) == 0)
			return;
	}
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "match", cJSON_CreateString(v));
	var extra[] = { { "value", v }, { "reason", reason } };
	add_violation(c, p, NULL, loc, reason, v, strlen(v), ev, extra, 2);
}

static void list_item(ectx *c, pol_policy *p, const cJSON *v, const char *loc)
{
	char sub[560];
	const cJSON *ch;
	size_t i = 0;
	if (cJSON_IsString(v)) {
		list_value(c, p, v->valuestring, loc);
		return;
	}
	cJSON_ArrayForEach(ch, array_or_null(v)) {
		snprintf(sub, sizeof sub, "%s[%zu]", loc, i++);
		if (cJSON_IsString(ch))
			list_value(c, p, ch->valuestring, sub);
	}
}

static void eval_list(ectx *c, pol_policy *p, const cJSON *rec)
{
	const cJSON *spans = array_or_null(lg_json_get(rec, "spans")), *sp;
	char loc[512];
	for (size_t i = 0; i < p->nvalues; i++) {
		const pol_target *t = &p->values[i];
		if (!t->span) {
			list_item(c, p, resolve(rec, t->path), t->path);
			continue;
		}
		size_t idx = 0;
		cJSON_ArrayForEach(sp, spans) {
			size_t at = idx++;
			if (!has_type(t->types, t->ntypes, lg_json_str(sp, "type")))
				continue;
			snprintf(loc, sizeof loc, "spans[%zu]%s%s", at, *t->path ? "." : "", t->path);
			list_item(c, p, resolve(sp, t->path), loc);
		}
	}
}

/* ---- rate policies ------------------------------------------------- */

/* Per (policy, key): the trace timestamps inside the longest window,
 * sorted, so memory stays bounded however long the stream. */
typedef struct rate_key {
	struct rate_key *next;
	const pol_policy *p;
	char *key;
	int64_t *ts;
	size_t n, cap;
} rate_key;

struct pol_rate_state {
	rate_key *b[RATE_BUCKETS];
	size_t nkeys;
	int64_t newest;         /* latest timestamp seen, any key */
};

#define RATE_MAX_KEYS 100000

static void free_key(rate_key *k)
{
	free(k->key);
	free(k->ts);
	free(k);
}

/* Many distinct keys (users): forget those whose newest event no window
 * can reach any more. */
static int64_t longest_window(const pol_policy *p)
{
	int64_t w = 0;
	for (size_t i = 0; i < p->nlimits; i++)
		if (p->limits[i].window_ms > w)
			w = p->limits[i].window_ms;
	return w;
}

static void rate_sweep(pol_rate_state *r)
{
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		for (rate_key **pk = &r->b[i]; *pk;) {
			rate_key *k = *pk;
			if (k->n == 0 || k->ts[k->n - 1] <= r->newest - longest_window(k->p)) {
				*pk = k->next;
				free_key(k);
				r->nkeys--;
			} else {
				pk = &k->next;
			}
		}
}

void pol_rate_reset(pol_engine *e)
{
	if (!e->rate)
		return;
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		for (rate_key *k = e->rate->b[i], *nx; k; k = nx) {
			nx = k->next;
			free_key(k);
		}
	free(e->rate);
	e->rate = NULL;
}

static rate_key *rate_lookup(pol_engine *e, const pol_policy *p, const char *key, int64_t ts)
{
	if (!e->rate && !(e->rate = calloc(1, sizeof *e->rate)))
		return NULL;
	if (ts > e->rate->newest)
		e->rate->newest = ts;
	uint64_t h = lg_hash_bytes(key, strlen(key), lg_hash_bytes(&p, sizeof p, LG_HASH_SEED));
	rate_key **slot = &e->rate->b[h % RATE_BUCKETS];
	for (rate_key *k = *slot; k; k = k->next)
		if (k->p == p && strcmp(k->key, key) == 0)
			return k;
	if (e->rate->nkeys >= RATE_MAX_KEYS)
		rate_sweep(e->rate);
	rate_key *k = calloc(1, sizeof *k);
	if (!k || !(k->key = strdup(key))) {
		free(k);
		return NULL;
	}
	e->rate->nkeys++;
	k->p = p;
	k->next = *slot;
	*slot = k;
	return k;
}

/* Index of the first timestamp > t. */
static size_t upper(const int64_t *v, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int rate_insert(rate_key *k, int64_t ts, int64_t longest)
{
	/* forget what no window can reach any more */
	int64_t newest = k->n ? k->ts[k->n - 1] : ts;
	if (ts > newest)
		newest = ts;
	size_t drop = upper(k->ts, k->n, newest - longest);
	if (k->n >= RATE_MAX_PER_KEY && drop == 0)
		drop = 1;
	if (drop) {
		memmove(k->ts, k->ts + drop, (k->n - drop) * sizeof *k->ts);
		k->n -= drop;
	}
	if (ts <= newest - longest)
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		int64_t *v = realloc(k->ts, cap * sizeof *v);
		if (!v)
			return -1;
		k->ts = v;
		k->cap = cap;
	}
	size_t at = upper(k->ts, k->n, ts);
	memmove(k->ts + at + 1, k->ts + at, (k->n - at) * sizeof *k->ts);
	k->ts[at] = ts;
	k->n++;
	return 0;
}

static void eval_rate(ectx *c, pol_policy *p, const cJSON *rec)
{
	const char *key = NULL, *keypath = NULL;
	int64_t ts, longest = 0;
	for (size_t i = 0; i < p->nkeys && !key; i++) {
		const char *v = lg_json_string(lg_json_path(rec, p->keys[i]));
		if (v && *v) {
			key = v;
			keypath = p->keys[i];
		}
	}
	const char *tss = lg_json_str(rec, "timestamp");
	if (!key || !tss || lg_time_parse(tss, &ts))
		return;
	longest = longest_window(p);
	rate_key *k = rate_lookup(c->e, p, key, ts);
	if (!k || rate_insert(k, ts, longest)) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < p->nlimits; i++) {
		const pol_rate_limit *l = &p->limits[i];
		/* events in (ts - window, ts] seen so far, this one included */
		size_t count = upper(k->ts, k->n, ts) - upper(k->ts, k->n, ts - l->window_ms);
		if (count <= (size_t)l->max)
			continue;
		char a[32], lim[32], det[64], idt[600];
		snprintf(a, sizeof a, "%zu", count);
		snprintf(lim, sizeof lim, "%d", l->max);
		snprintf(det, sizeof det, "per %s", l->label);
		snprintf(idt, sizeof idt, "%s/%s", key, l->label);
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddItemToObject(ev, "match", cJSON_CreateString(key));
		cJSON_AddItemToObject(ev, "actual", lg_json_int((int64_t)count));
		cJSON_AddItemToObject(ev, "limit", lg_json_int(l->max));
		cJSON_AddItemToObject(ev, "window", cJSON_CreateString(l->label));
		var extra[] = { { "actual", a }, { "limit", lim }, { "key", key }, { "window", l->label } };
		add_violation(c, p, NULL, keypath, det, idt, strlen(idt), ev, extra, 4);
	}
}

/* ---- required fields ----------------------------------------------- */

static void eval_required(ectx *c, pol_policy *p, const cJSON *rec)
{
	for (size_t i = 0; i < p->nfields; i++) {
		const cJSON *v = lg_json_path(rec, p->fields[i]);
		const char *s = lg_json_string(v);
		if (!lg_json_is_null(v) && !(s && !*s) && !(cJSON_IsArray(v) && !v->child))
			continue;
		var extra[] = { { "field", p->fields[i] } };
		add_violation(c, p, NULL, p->fields[i], "missing", p->fields[i], strlen(p->fields[i]),
			      cJSON_CreateObject(), extra, 1);
	}
}

/* ---- the record ---------------------------------------------------- */

static void run_policies(ectx *c, const cJSON *rec)
{
	eval_patterns(c, rec);
	for (size_t i = 0; i < c->nrun; i++) {
		pol_policy *p = c->run[i];
		switch (p->kind) {
		case PK_THRESHOLD: eval_threshold(c, p, rec); break;
		case PK_LIST: eval_list(c, p, rec); break;
		case PK_RATE: eval_rate(c, p, rec); break;
		case PK_REQUIRED: eval_required(c, p, rec); break;
		default: break;
		}
	}
}

static int sev_rank(const cJSON *v)
{
	int s = pol_severity_parse(lg_json_str(v, "severity"));
	return s < 0 ? SEV_COUNT : s;
}

static int str_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int violation_cmp(const void *pa, const void *pb)
{
	const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
	int d = sev_rank(a) - sev_rank(b);
	if (d)
		return d;
	if ((d = str_cmp(lg_json_str(a, "policy"), lg_json_str(b, "policy"))))
		return d;
	const cJSON *ea = lg_json_get(a, "evidence"), *eb = lg_json_get(b, "evidence");
	if ((d = str_cmp(lg_json_str(ea, "location"), lg_json_str(eb, "location"))))
		return d;
	double sa = 0, sb = 0;
	lg_json_get_num(ea, "start", &sa);
	lg_json_get_num(eb, "start", &sb);
	return (sa > sb) - (sa < sb);
}

static int sort_violations(cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	cJSON **v = malloc((n + 1) * sizeof *v);
	if (!v)
		return -1;
	while (arr->child)
		v[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
	qsort(v, n, sizeof *v, violation_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, v[i]);
	free(v);
	return 0;
}

static int ran(const ectx *c, const char *id)
{
	for (size_t i = 0; id && i < c->nrun; i++)
		if (strcmp(c->run[i]->id, id) == 0)
			return 1;
	return 0;
}

/* A violation found again keeps what people did with it: status, notes,
 * detectedAt and any other key lg-policy does not own. */
static void carry_over(cJSON *nv, const cJSON *old)
{
	static const char *const own[] = { "id", "policy", "name", "category", "severity", "message", "evidence", NULL };
	const cJSON *k;
	cJSON_ArrayForEach(k, old) {
		int mine = 0;
		for (int i = 0; own[i]; i++)
			mine |= strcmp(k->string, own[i]) == 0;
		if (!mine)
			lg_json_set(nv, k->string, cJSON_Duplicate(k, 1));
	}
}

static cJSON *merge(ectx *c, cJSON *old)
{
	cJSON *out = cJSON_CreateArray(), *nv, *ov;
	const cJSON *olds = array_or_null(old);
	if (!out)
		return NULL;
	while ((nv = c->found->child)) {
		cJSON_DetachItemViaPointer(c->found, nv);
		const char *id = lg_json_str(nv, "id");
		const cJSON *prev = NULL;
		cJSON_ArrayForEach(ov, olds)
			if (ran(c, lg_json_str(ov, "policy")) && str_cmp(lg_json_str(ov, "id"), id) == 0)
				prev = ov;
		cJSON_AddItemToObject(nv, "status", cJSON_CreateString("new"));
		cJSON_AddItemToObject(nv, "detectedAt", cJSON_CreateString(c->now));
		if (prev)
			carry_over(nv, prev);
		cJSON_AddItemToArray(out, nv);
	}
	/* violations of policies that did not run now stay as they were */
	while (cJSON_IsArray(old) && (ov = old->child)) {
		cJSON_DetachItemViaPointer(old, ov);
		if (cJSON_IsObject(ov) && !ran(c, lg_json_str(ov, "policy")))
			cJSON_AddItemToArray(out, ov);
		else
			cJSON_Delete(ov);
	}
	if (sort_violations(out)) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

static void explain(ectx *c, lg_buf *b, size_t npol)
{
	const cJSON *v;
	size_t n = (size_t)cJSON_GetArraySize(c->found);
	lg_buf_printf(b, "%s: %zu violation%s from %zu polic%s\n", *c->ext ? c->ext : "(no externalId)",
		      n, n == 1 ? "" : "s", npol, npol == 1 ? "y" : "ies");
	cJSON_ArrayForEach(v, c->found) {
		const cJSON *ev = lg_json_get(v, "evidence");
		double s, e;
		lg_buf_printf(b, "  %s %s %s", lg_json_str(v, "severity"), lg_json_str(v, "policy"),
			      lg_json_str(ev, "location"));
		if (lg_json_get_num(ev, "start", &s) && lg_json_get_num(ev, "end", &e))
			lg_buf_printf(b, "[%.0f,%.0f)", s, e);
		lg_buf_printf(b, " %s: %s\n", lg_json_str(ev, "detector"), lg_json_str(v, "message"));
	}
}

static void ectx_free(ectx *c)
{
	lg_buf_free(&c->path);
	lg_buf_free(&c->tmp);
	free(c->hits);
	cJSON_Delete(c->found);
}

static int eval_with(pol_engine *e, pol_policy **run, size_t nrun, cJSON *rec, int *worst,
		     lg_buf *expl)
{
	ectx c;
	char hex[17];
	memset(&c, 0, sizeof c);
	c.e = e;
	c.run = run;
	c.nrun = nrun;
	if (!e->kw && kw_build(e))
		return -1;
	c.ext = lg_json_str(rec, "externalId");
	if (!c.ext)
		c.ext = "";
	int64_t now = lg_time_now();
	if (!e->now_text[0] || now != e->now_ms) {     /* one format per millisecond */
		lg_time_format(now, e->now_text);
		e->now_ms = now;
	}
	memcpy(c.now, e->now_text, sizeof c.now);
	if (!(c.found = cJSON_CreateArray()))
		return -1;
	lg_hash_hex(lg_record_content_hash(rec), hex);
	run_policies(&c, rec);
	if (worst) {
		const cJSON *v;
		*worst = SEV_COUNT;
		cJSON_ArrayForEach(v, c.found)
			if (sev_rank(v) < *worst)
				*worst = sev_rank(v);
	}
	if (expl)
		explain(&c, expl, nrun);
	cJSON *old = lg_json_take(rec, "violations");
	cJSON *vs = merge(&c, old);
	cJSON_Delete(old);
	cJSON *ev = cJSON_CreateObject(), *ids = cJSON_CreateArray();
	for (size_t i = 0; i < nrun && ids; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(run[i]->id));
	if (ev) {
		cJSON_AddItemToObject(ev, "contentHash", cJSON_CreateString(hex));
		cJSON_AddItemToObject(ev, "policies", ids);
		cJSON_AddItemToObject(ev, "evaluatedAt", cJSON_CreateString(c.now));
	} else {
		cJSON_Delete(ids);
	}
	int rc = (!vs || !ev || c.oom) ? -1 : 0;
	lg_json_set(rec, "violations", vs);
	lg_json_set(rec, "evaluation", ev);
	ectx_free(&c);
	return rc;
}

int pol_eval_record(pol_engine *e, cJSON *rec, int *worst, lg_buf *expl)
{
	pol_policy **run = malloc((e->n + 1) * sizeof *run);
	size_t n = 0;
	if (!run)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].enabled)
			run[n++] = &e->v[i];
	int rc = eval_with(e, run, n, rec, worst, expl);
	free(run);
	return rc;
}

/* ---- self-test ----------------------------------------------------- */

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
		if (eval_with(e, &p, 1, r, NULL, NULL)) {
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
