/* Pattern policies: the targets of all of them grouped by path, each
 * string walked once, the keyword prefilter, then each pattern's regex,
 * validator, entropy, allow-list and context; the findings of a string
 * become violations with masked evidence and context. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "eval.h"
#include "injection.h"

#define MAX_HITS_PER_PATTERN 64  /* per string: bounds work on hostile input */
#define MAX_LIMITS_PER_PATTERN 16 /* match-limit failures tolerated per string */
#define MAX_SCORED_MATCH 160     /* bytes of a scorer's finding shown as its match */

/* PCRE2 gave up (a backtracking regex on hostile text): the policy's
 * count in evaluation.matchLimit goes up, and the first time a pattern
 * does this the caller gets a warning naming it. */
static void match_limit(pol_ectx *c, pol_policy *p, pol_pattern *pt, size_t off)
{
	if (!c->limits && !(c->limits = cJSON_CreateObject())) {
		c->oom = 1;
		return;
	}
	cJSON *n = cJSON_GetObjectItemCaseSensitive(c->limits, p->id);
	if (n)
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else
		cJSON_AddItemToObject(c->limits, p->id, cJSON_CreateNumber(1));
	if (pt->limit_warned)
		return;
	pt->limit_warned = 1;
	lg_buf_printf(&c->e->warnings,
		      "lg-policy: warning: policy '%s' pattern '%s': regex match limit reached in record '%s' at %s (byte %zu); "
		      "scanning goes on after that position, counted in evaluation.matchLimit\n",
		      p->id, pt->name, c->ext, lg_buf_cstr(&c->path), off);
}

static int is_limit(int rc)
{
	return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	       rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

static int any_word(const char *lower, size_t from, size_t to, char **words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memmem(lower + from, to - from, words[i], strlen(words[i])))
			return 1;
	return 0;
}

static int push_hit(pol_ectx *c, pol_policy *p, int pat, size_t s, size_t e, int key)
{
	if (c->nhits == c->caphits) {
		pol_hit *h = lg_grow(c->hits, &c->caphits, 32, sizeof *h);
		if (!h) {
			c->oom = 1;
			return -1;
		}
		c->hits = h;
	}
	c->hits[c->nhits++] = (pol_hit){ p, pat, s, e, key, 0, 0 };
	return 0;
}

/* The same object keys ("content", "role", "text") come back in every
 * record: a keyRegex's verdict on a short key is remembered (direct-mapped
 * by a hash of the key, the key itself kept to confirm). */
#define KEY_MEMO_SLOTS 512
#define KEY_MEMO_LEN 31
typedef struct {
	char key[KEY_MEMO_LEN + 1];
	signed char ok;         /* -1 unknown, 0 no, 1 yes */
} key_slot;

struct pol_key_memo {
	key_slot slot[KEY_MEMO_SLOTS];
};

static int key_matches(pol_ectx *c, pol_pattern *pt, const char *okey)
{
	size_t n = strlen(okey);
	unsigned h = 2166136261u;
	if (n <= KEY_MEMO_LEN && !pt->key_memo && (pt->key_memo = malloc(sizeof *pt->key_memo)))
		for (size_t i = 0; i < KEY_MEMO_SLOTS; i++)
			pt->key_memo->slot[i].ok = -1;
	if (n > KEY_MEMO_LEN || !pt->key_memo)
		return pcre2_match(pt->key_re, (PCRE2_SPTR)okey, n, 0, PCRE2_NO_UTF_CHECK, c->e->md, NULL) >= 0;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)okey[i]) * 16777619u;
	key_slot *m = &pt->key_memo->slot[h % KEY_MEMO_SLOTS];
	if (m->ok >= 0 && strcmp(m->key, okey) == 0)
		return m->ok;
	memcpy(m->key, okey, n + 1);
	m->ok = (signed char)(pcre2_match(pt->key_re, (PCRE2_SPTR)okey, n, 0, PCRE2_NO_UTF_CHECK, c->e->md, NULL) >= 0);
	return m->ok;
}

/* A scorer pattern: one finding per string whose score reaches the
 * threshold, at the text of its strongest signal (cut to a length that
 * reads as evidence: a decoded base64 run can be long). Keyword: whether
 * one of its signal words occurs (without one the scorer only probes for
 * obfuscation). */
static void run_scorer(pol_ectx *c, pol_policy *p, int pi, const char *s, size_t n, int key, int keyword)
{
	pol_pattern *pt = &p->patterns[pi];
	inj_result r;
	inj_scan(s, n, keyword, &r);
	if (r.score < pt->threshold)
		return;
	if (r.end <= r.start || r.end > n) {
		r.start = 0;
		r.end = n;
	}
	if (r.end - r.start > MAX_SCORED_MATCH) {
		r.end = r.start + MAX_SCORED_MATCH;
		while (r.end > r.start && ((unsigned char)s[r.end] & 0xC0) == 0x80)
			r.end--;
	}
	if (push_hit(c, p, pi, r.start, r.end, key))
		return;
	c->hits[c->nhits - 1].score = r.score;
	c->hits[c->nhits - 1].signals = r.signals;
}

/* Runs one pattern over s, pushing accepted hits. */
static void run_pattern(pol_ectx *c, pol_policy *p, int pi, const char *s, size_t n,
			const char **lower, int digits, int key, const char *okey)
{
	pol_pattern *pt = &p->patterns[pi];
	if (digits < pt->min_digits)
		return;
	if (pt->key_re && (key || !okey || !key_matches(c, pt, okey)))
		return;
	pcre2_match_data *md = c->e->md;
	size_t off = 0;
	int found = 0, limits = 0;
	while (off <= n && found < MAX_HITS_PER_PATTERN) {
		int rc = pcre2_match(pt->re, (PCRE2_SPTR)s, n, off, PCRE2_NO_UTF_CHECK, md, NULL);
		if (rc < 0 && is_limit(rc)) {
			match_limit(c, p, pt, off);
			if (++limits > MAX_LIMITS_PER_PATTERN)
				break;
			/* the attempt from off failed: go on from the next character */
			off++;
			while (off < n && ((unsigned char)s[off] & 0xC0) == 0x80)
				off++;
			continue;
		}
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
			if (!*lower && !(*lower = pol_lower(c->e, s, n))) {
				c->oom = 1;
				return;
			}
			if (!any_word(*lower, from, to, pt->context, pt->ncontext))
				continue;
		}
		if (push_hit(c, p, pi, gs, ge, key))
			return;
		found++;
	}
}

static int overlaps(const pol_hit *a, const pol_hit *b)
{
	return a->s < b->e && b->s < a->e;
}

static void append_context(pol_ectx *c, lg_buf *b, const char *s, size_t n, size_t ms, size_t me,
			   size_t base)
{
	size_t w = 40, from = ms > w ? ms - w : 0, to = me + w < n ? me + w : n;
	/* A masked finding cut by the window edge is shown whole, masked. */
	for (size_t i = base; i < c->nhits; i++) {
		pol_hit *h = &c->hits[i];
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
		pol_hit *mh = NULL;
		for (size_t i = base; i < c->nhits; i++) {
			pol_hit *h = &c->hits[i];
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
			pol_hit *h = &c->hits[i];
			if (h->p && h->s > pos && h->s < next && h->p->patterns[h->pat].mask != MASK_NONE)
				next = h->s;
		}
		/* inside a masked finding that started earlier: skip to its end */
		for (size_t i = base; i < c->nhits; i++) {
			pol_hit *h = &c->hits[i];
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
	const pol_hit *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

/* A scorer's evidence: "score", "threshold", "signals": ["override", ...]. */
static void add_score(cJSON *ev, const pol_hit *h, const pol_pattern *pt)
{
	cJSON *sig = cJSON_CreateArray();
	for (int k = 0; k < INJ_NSIGNALS && sig; k++)
		if (h->signals & (1u << k))
			cJSON_AddItemToArray(sig, cJSON_CreateString(inj_signal_name(k)));
	cJSON_AddItemToObject(ev, "score", lg_json_int(h->score));
	cJSON_AddItemToObject(ev, "threshold", lg_json_int(pt->threshold));
	cJSON_AddItemToObject(ev, "signals", sig);
}

/* Turns the hits of one string (from index base on) into violations. */
static void emit_hits(pol_ectx *c, const char *s, size_t n, size_t base)
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
		pol_hit *h = &c->hits[i];
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
		if (pt->scorer)
			add_score(ev, h, pt);
		pol_var extra[] = { { "match", lg_buf_cstr(&m) } };
		pol_add_violation(c, h->p, pt->message, lg_buf_cstr(&c->path), pt->name,
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
	int *slot;      /* per loaded policy: its index in m, or -1 */
} group;

/* okey: the object key holding s (NULL in arrays and at the top). */
static void scan_string(pol_ectx *c, const group *g, const char *s, size_t n, int key, const char *okey)
{
	int digits;
	size_t i;
	/* most object keys are read by no policy: no prescan for them */
	for (i = 0; i < g->nm; i++)
		if (!(key && !g->m[i].p->scan_keys) && c->mok[i])
			break;
	if (i == g->nm)
		return;
	const char *lower = NULL;          /* made when a context word is looked for */
	size_t base = c->nhits;
	if (pol_prefilter_scan(c->e, s, n, &digits)) {
		c->oom = 1;
		return;
	}
	pol_policy *p;
	int pat;
	pol_cursor it = { 0, 0, 0 };
	while (pol_prefilter_next(c->e, &it, &p, &pat)) {
		int m = g->slot[p - c->e->v];
		if (m < 0 || !c->mok[m] || (key && !p->scan_keys))
			continue;
		if (p->patterns[pat].scorer)
			run_scorer(c, p, pat, s, n, key, it.keyword);
		else
			run_pattern(c, p, pat, s, n, &lower, digits, key, okey);
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

static void walk(pol_ectx *c, const group *g, const cJSON *v, const char *okey)
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

/* Groups the targets of pattern policies by path, so each string is
 * walked once for all policies that read it. */
static int build_groups(pol_engine *e, pol_policy **run, size_t nrun, group **out, size_t *nout)
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
				g[ng].m = calloc(nrun, sizeof *g[ng].m);
				g[ng].slot = malloc((e->n + 1) * sizeof *g[ng].slot);
				if (!g[ng].m || !g[ng].slot) {
					*out = g;
					*nout = ng + 1;
					return -1;
				}
				memset(g[ng].slot, 0xFF, (e->n + 1) * sizeof *g[ng].slot);
				ng++;
			}
			g[k].slot[run[i] - e->v] = (int)g[k].nm;
			g[k].m[g[k].nm++] = (member){ run[i], tg };
		}
	}
	*out = g;
	*nout = ng;
	return 0;
}

static void free_groups(group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].m);
		free(g[i].slot);
	}
	free(g);
}

void pol_eval_patterns(pol_ectx *c, const cJSON *rec)
{
	group *g = NULL;
	size_t ng = 0;
	if (build_groups(c->e, c->run, c->nrun, &g, &ng)) {
		c->oom = 1;
		free_groups(g, ng);
		return;
	}
	const cJSON *spans = pol_array_or_null(lg_json_get(rec, "spans"));
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
			const cJSON *v = pol_resolve(rec, g[i].path);
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
				ok[m] = (unsigned char)pol_has_type(g[i].m[m].t->types, g[i].m[m].t->ntypes,
								c->span_type);
			const cJSON *v = pol_resolve(sp, g[i].path);
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
