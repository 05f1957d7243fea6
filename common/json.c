/* The parser of lg_json and its parse arena (common/json.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "timeutil.h"
#include "utf8.h"

/* ---- the parse arena -------------------------------------------------- */

/* lg_json_parse_arena allocates a tree's items, keys and texts by bumping a
 * pointer through large blocks instead of one malloc each (malloc and free
 * were a fifth of lg-detect's time). cJSON frees through its hooks; ours,
 * installed on first use, ignores pointers inside the arena and frees the
 * rest, so such a tree may be edited, grafted and cJSON_Delete'd as usual
 * (items added to it come from malloc). lg_json_arena_reset() ends the
 * lives of all of them at once. Under AddressSanitizer a reset poisons the
 * blocks: a tree used after it is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define LG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LG_ASAN 1
#endif
#endif
#ifdef LG_ASAN
void __asan_poison_memory_region(void volatile *addr, size_t size);
void __asan_unpoison_memory_region(void volatile *addr, size_t size);
#define POISON(p, n) __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_FIRST ((size_t)256 << 10)
#define ARENA_KEEP ((size_t)4 << 20) /* a larger block is given back at reset */

typedef struct block {
	struct block *next;
	size_t cap, used;
	_Alignas(16) unsigned char data[];
} block;

static block *arena; /* newest first */

/* Where each member of the last lg_json_parse_arena root object was in the
 * text: from its key's opening quote to its value's end. */
typedef struct {
	const cJSON *item;
	size_t from, to;
} top_span;
static top_span *tops;
static size_t ntops, tops_cap;

static int arena_owns(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	for (const block *b = arena; b; b = b->next)
		if (a >= (uintptr_t)b->data && a < (uintptr_t)b->data + b->cap)
			return 1;
	return 0;
}

static void hook_free(void *p)
{
	if (p && !arena_owns(p))
		free(p);
}

static void *arena_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	block *b = arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = b ? b->cap * 2 : ARENA_FIRST;
		while (cap < n)
			cap *= 2;
		if (!(b = malloc(sizeof *b + cap)))
			return NULL;
		b->next = arena;
		b->cap = cap;
		b->used = 0;
		POISON(b->data, cap);
		arena = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	UNPOISON(p, n);
	return p;
}

void lg_json_arena_reset(void)
{
	block *b = arena;
	if (!b)
		return;
	ntops = 0;
	/* Keep the newest (largest) block unless it is large; free the rest. */
	block *rest = b->next;
	if (b->cap > ARENA_KEEP) {
		rest = b;
		arena = NULL;
	} else {
		b->next = NULL;
		b->used = 0;
		POISON(b->data, b->cap);
	}
	while (rest) {
		block *n = rest->next;
		free(rest);
		rest = n;
	}
}

/* ---- parser ---------------------------------------------------------- */

typedef struct {
	const unsigned char *start, *p, *end;
	lg_json_error *err;
	int depth;
	int arena;             /* allocate from the arena */
	int spans;             /* record the root object's member spans */
} parser;


static int note_top(const cJSON *item, size_t from, size_t to)
{
	if (ntops == tops_cap) {
		top_span *n = lg_grow(tops, &tops_cap, 64, sizeof *n);
		if (!n)
			return -1;
		tops = n;
	}
	tops[ntops++] = (top_span){ item, from, to };
	return 0;
}

int lg_json_top_span(const cJSON *member, size_t *from, size_t *to)
{
	for (size_t i = 0; i < ntops; i++)
		if (tops[i].item == member) {
			*from = tops[i].from;
			*to = tops[i].to;
			return 1;
		}
	return 0;
}

static void *ps_alloc(parser *ps, size_t n)
{
	return ps->arena ? arena_alloc(n) : cJSON_malloc(n);
}

static cJSON *fail(parser *ps, const unsigned char *at, const char *msg)
{
	if (ps->err && !ps->err->msg) {
		ps->err->offset = (size_t)(at - ps->start) + 1;
		ps->err->msg = msg;
	}
	return NULL;
}

static cJSON *new_item(parser *ps, int type)
{
	cJSON *c = ps_alloc(ps, sizeof *c);
	if (c) {
		memset(c, 0, sizeof *c);
		c->type = type;
	}
	return c;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Finds the closing quote of the string at ps->p (on the opening quote),
 * validating UTF-8 and control characters on the way. Returns it, or NULL
 * with the error set; *escapes tells whether a backslash occurred. */
static const unsigned char *scan_string(parser *ps, int *escapes)
{
	const unsigned char *bad = ps->p;
	const char *why = "unterminated string";
	const unsigned char *q = lg_json_string_end(ps->p, ps->end, escapes, &bad, &why);
	if (!q)
		fail(ps, bad, why);
	return q;
}

/* Decodes the string body [run, q) into out (room for q - run + 1 bytes;
 * escapes only shrink it), NUL-terminated. Returns 0, or -1 on a bad
 * escape; *has_nul tells that it held "\u0000". */
static int decode_string(parser *ps, const unsigned char *run, const unsigned char *q, char *out, int *has_nul)
{
	const unsigned char *bad = run;
	const char *why = "invalid escape in string";
	long n = lg_json_unescape(run, q, out, has_nul, &bad, &why);
	if (n < 0) {
		fail(ps, bad, why);
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* Parses the string at ps->p (on the opening quote). Returns a malloc'd
 * decoded string (an object key); *has_nul tells that it held "\u0000". */
static char *parse_string_raw(parser *ps, int *has_nul)
{
	int escapes;
	const unsigned char *run = ps->p + 1, *q = scan_string(ps, &escapes);
	if (!q)
		return NULL;
	size_t rawlen = (size_t)(q - run);
	char *out = ps_alloc(ps, rawlen + 1);
	if (!out) {
		fail(ps, ps->p, "out of memory");
		return NULL;
	}
	*has_nul = 0;
	if (!escapes) {
		memcpy(out, run, rawlen);
		out[rawlen] = '\0';
	} else if (decode_string(ps, run, q, out, has_nul)) {
		cJSON_free(out);
		return NULL;
	}
	ps->p = q + 1;
	return out;
}

static cJSON *parse_value(parser *ps);

/* A leaf whose text (n bytes) lives in the item's own allocation, right
 * after it: one malloc instead of two. cJSON_IsReference keeps
 * cJSON_Delete from freeing that text separately (cJSON_Duplicate copies
 * it and drops the flag). */
static cJSON *new_leaf(parser *ps, int type, size_t n)
{
	cJSON *c = ps_alloc(ps, sizeof *c + n + 1);
	if (!c)
		return NULL;
	memset(c, 0, sizeof *c);
	c->type = type | cJSON_IsReference;
	c->valuestring = (char *)(c + 1);
	return c;
}

static cJSON *parse_string(parser *ps)
{
	const unsigned char *open = ps->p, *run = open + 1;
	int escapes, has_nul = 0;
	const unsigned char *q = scan_string(ps, &escapes);
	if (!q)
		return NULL;
	size_t rawlen = (size_t)(q - run);
	cJSON *item = new_leaf(ps, cJSON_String, rawlen);
	if (!item)
		return fail(ps, open, "out of memory");
	if (!escapes) {
		memcpy(item->valuestring, run, rawlen);
		item->valuestring[rawlen] = '\0';
	} else if (decode_string(ps, run, q, item->valuestring, &has_nul)) {
		cJSON_free(item);
		return NULL;
	}
	ps->p = q + 1;
	if (has_nul) {
		/* Keep the literal so the NUL survives the round trip. */
		size_t n = (size_t)(ps->p - open);
		cJSON_free(item);
		item = new_leaf(ps, cJSON_Raw, n);
		if (!item)
			return fail(ps, open, "out of memory");
		memcpy(item->valuestring, open, n);
		item->valuestring[n] = '\0';
	}
	return item;
}

static cJSON *parse_number(parser *ps)
{
	const unsigned char *st = ps->p, *bad;
	int frac_or_exp;
	const unsigned char *p = lg_json_number_end(st, ps->end, &frac_or_exp, &bad);
	if (!p)
		return fail(ps, bad, "invalid number");
	size_t n = (size_t)(p - st);
	cJSON *item = new_leaf(ps, cJSON_Number, n);
	if (!item)
		return fail(ps, st, "out of memory");
	char *text = item->valuestring;
	memcpy(text, st, n);
	text[n] = '\0';
	double d;
	if (!frac_or_exp && n - (*st == '-') <= 15) {
		/* At most 15 digits: exact in a double, no strtod needed. */
		int64_t iv = 0;
		for (const unsigned char *c = st + (*st == '-'); c < p; c++)
			iv = iv * 10 + (*c - '0');
		d = *st == '-' ? -(double)iv : (double)iv;
	} else {
		d = strtod(text, NULL);
	}
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	ps->p = p;
	return item;
}

/* Links child after tail in parent (cJSON keeps child->prev = last). */
static void link_child(cJSON *parent, cJSON **tail, cJSON *child)
{
	if (!*tail) {
		parent->child = child;
	} else {
		(*tail)->next = child;
		child->prev = *tail;
	}
	parent->child->prev = child;
	*tail = child;
}

static cJSON *parse_container(parser *ps, int is_obj)
{
	const unsigned char *open = ps->p;
	if (++ps->depth > LG_JSON_MAX_DEPTH)
		return fail(ps, open, "nesting too deep");
	cJSON *c = new_item(ps, is_obj ? cJSON_Object : cJSON_Array), *tail = NULL;
	if (!c)
		return fail(ps, open, "out of memory");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return c;
	}
	for (;;) {
		char *key = NULL;
		const unsigned char *kat = NULL;
		skip_ws(ps);
		if (is_obj) {
			int has_nul;
			if (ps->p >= ps->end || *ps->p != '"') {
				cJSON_Delete(c);
				return fail(ps, ps->p, ps->p >= ps->end ? "unexpected end of input" : "expected a string key");
			}
			kat = ps->p;
			key = parse_string_raw(ps, &has_nul);
			if (!key || has_nul) {
				cJSON_free(key);
				cJSON_Delete(c);
				return key ? fail(ps, kat, "\\u0000 in an object key") : NULL;
			}
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				cJSON_free(key);
				cJSON_Delete(c);
				return fail(ps, ps->p, "expected ':'");
			}
			ps->p++;
			skip_ws(ps);
		}
		cJSON *v = parse_value(ps);
		if (!v) {
			cJSON_free(key);
			cJSON_Delete(c);
			return NULL;
		}
		v->string = key;
		link_child(c, &tail, v);
		if (ps->spans && ps->depth == 1 && is_obj &&
		    note_top(v, (size_t)(kat - ps->start), (size_t)(ps->p - ps->start))) {
			cJSON_Delete(c);
			return fail(ps, ps->p, "out of memory");
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
			ps->p++;
			ps->depth--;
			return c;
		}
		cJSON_Delete(c);
		return fail(ps, ps->p, ps->p >= ps->end ? "unexpected end of input" :
			    is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static cJSON *parse_literal(parser *ps, const char *word, int type)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, ps->p, "unexpected character");
	cJSON *item = new_item(ps, type);
	if (!item)
		return fail(ps, ps->p, "out of memory");
	if (type == cJSON_True)
		item->valueint = 1;
	ps->p += n;
	return item;
}

static cJSON *parse_value(parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, ps->p, "unexpected end of input");
	switch (*ps->p) {
	case '{': return parse_container(ps, 1);
	case '[': return parse_container(ps, 0);
	case '"': return parse_string(ps);
	case 't': return parse_literal(ps, "true", cJSON_True);
	case 'f': return parse_literal(ps, "false", cJSON_False);
	case 'n': return parse_literal(ps, "null", cJSON_NULL);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return fail(ps, ps->p, "unexpected character");
	}
}

static cJSON *parse(const char *s, size_t len, lg_json_error *err, int in_arena)
{
	lg_json_error dummy;
	parser ps = { (const unsigned char *)s, (const unsigned char *)s,
		      (const unsigned char *)s + len, err ? err : &dummy, 0, in_arena, in_arena };
	if (in_arena)
		ntops = 0;
	static int hooked;
	if (in_arena && !hooked) {
		cJSON_Hooks h = { malloc, hook_free };
		cJSON_InitHooks(&h);
		hooked = 1;
	}
	ps.err->msg = NULL;
	ps.err->offset = 0;
	cJSON *v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		cJSON_Delete(v);
		return fail(&ps, ps.p, "trailing characters after JSON value");
	}
	return v;
}

cJSON *lg_json_parse(const char *s, size_t len, lg_json_error *err)
{
	return parse(s, len, err, 0);
}

cJSON *lg_json_parse_arena(const char *s, size_t len, lg_json_error *err)
{
	return parse(s, len, err, 1);
}

typedef struct {
	cJSON *item;
	int64_t t;
	const char *id;
} timed_item;

static int timed_cmp(const void *a, const void *b)
{
	const timed_item *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->id, y->id);
}

int lg_json_sort_by_time(cJSON *arr, const char *key)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	if (n < 2)
		return 0;
	timed_item *v = malloc(n * sizeof *v);
	if (!v)
		return -1;
	for (cJSON *c = arr->child; c; c = c->next, i++) {
		const char *s = lg_json_str(c, key), *id = lg_json_str(c, "id");
		v[i].item = c;
		v[i].id = id ? id : "";
		if (!s || lg_time_parse(s, &v[i].t) != 0)
			v[i].t = INT64_MAX;
	}
	qsort(v, n, sizeof *v, timed_cmp);
	arr->child = NULL; /* relinked in order below: no item is freed */
	for (i = 0; i < n; i++) {
		v[i].item->next = i + 1 < n ? v[i + 1].item : NULL;
		v[i].item->prev = i ? v[i - 1].item : v[n - 1].item;
	}
	arr->child = v[0].item;
	free(v);
	return 0;
}
