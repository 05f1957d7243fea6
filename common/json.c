#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
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
		size_t cap = tops_cap ? tops_cap * 2 : 64;
		top_span *n = realloc(tops, cap * sizeof *n);
		if (!n)
			return -1;
		tops = n;
		tops_cap = cap;
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

/* ---- printer --------------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

int lg_json_print_string(lg_buf *b, const char *s, size_t n)
{
	if (lg_buf_reserve(b, n + 2))
		return -1;
	b->data[b->len++] = '"';
	size_t run = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		while (n - i >= 8) {
			uint64_t m = lg_has_special(lg_load8(u + i));
			if (m) {
				i += lg_first_flagged(m);
				break;
			}
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (lg_buf_add(b, s + run, i - run))
			return -1;
		char e[6] = { '\\', 0 };
		size_t el = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			e[1] = 'u'; e[2] = '0'; e[3] = '0';
			e[4] = hexd[c >> 4]; e[5] = hexd[c & 15];
			el = 6;
		}
		if (lg_buf_add(b, e, el))
			return -1;
		run = i + 1;
	}
	if (lg_buf_add(b, s + run, n - run))
		return -1;
	return lg_buf_addc(b, '"');
}

static int print_number(lg_buf *b, const cJSON *item)
{
	if (item->valuestring)
		return lg_buf_adds(b, item->valuestring);
	double d = item->valuedouble;
	char tmp[32];
	if (isnan(d) || isinf(d))
		return lg_buf_add(b, "null", 4);
	if (d == (double)(long long)d && fabs(d) < 1e15) {
		snprintf(tmp, sizeof tmp, "%lld", (long long)d);
	} else {
		snprintf(tmp, sizeof tmp, "%1.15g", d);
		if (strtod(tmp, NULL) != d)
			snprintf(tmp, sizeof tmp, "%1.17g", d);
	}
	return lg_buf_adds(b, tmp);
}

static int print_value(lg_buf *b, const cJSON *item, int depth)
{
	if (depth > LG_JSON_MAX_DEPTH * 2)
		return -1;
	switch (item->type & 0xFF) {
	case cJSON_NULL: return lg_buf_add(b, "null", 4);
	case cJSON_False: return lg_buf_add(b, "false", 5);
	case cJSON_True: return lg_buf_add(b, "true", 4);
	case cJSON_Number: return print_number(b, item);
	case cJSON_String:
		return item->valuestring ? lg_json_print_string(b, item->valuestring, strlen(item->valuestring))
					 : lg_buf_add(b, "null", 4);
	case cJSON_Raw: return item->valuestring ? lg_buf_adds(b, item->valuestring) : lg_buf_add(b, "null", 4);
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (item->type & 0xFF) == cJSON_Object;
		if (lg_buf_addc(b, obj ? '{' : '['))
			return -1;
		for (const cJSON *c = item->child; c; c = c->next) {
			if (c != item->child && lg_buf_addc(b, ','))
				return -1;
			if (obj) {
				const char *k = c->string ? c->string : "";
				if (lg_json_print_string(b, k, strlen(k)) || lg_buf_addc(b, ':'))
					return -1;
			}
			if (print_value(b, c, depth + 1))
				return -1;
		}
		return lg_buf_addc(b, obj ? '}' : ']');
	}
	default:
		return lg_buf_add(b, "null", 4);
	}
}

int lg_json_print(lg_buf *b, const cJSON *item)
{
	return item ? print_value(b, item, 0) : lg_buf_add(b, "null", 4);
}

char *lg_json_to_string(const cJSON *item)
{
	lg_buf b = { 0 };
	if (lg_json_print(&b, item) || !lg_buf_cstr(&b)) {
		lg_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* ---- helpers --------------------------------------------------------- */

cJSON *lg_json_get(const cJSON *obj, const char *key)
{
	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	for (cJSON *c = obj->child; c; c = c->next)
		if (c->string && c->string[0] == key[0] && strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

const char *lg_json_string(const cJSON *item)
{
	return item && cJSON_IsString(item) ? item->valuestring : NULL;
}

const char *lg_json_str(const cJSON *obj, const char *key)
{
	return lg_json_string(lg_json_get(obj, key));
}

int lg_json_num(const cJSON *item, double *out)
{
	if (!item || !cJSON_IsNumber(item))
		return 0;
	*out = item->valuedouble;
	return 1;
}

int lg_json_get_num(const cJSON *obj, const char *key, double *out)
{
	return lg_json_num(lg_json_get(obj, key), out);
}

int lg_json_is_null(const cJSON *item)
{
	return !item || cJSON_IsNull(item);
}

cJSON *lg_json_path(const cJSON *root, const char *path)
{
	cJSON *cur = (cJSON *)(uintptr_t)root; /* lookups never write */
	const char *p = path;
	char key[256];
	while (cur && *p) {
		if (*p == '[') {
			char *e;
			long idx = strtol(p + 1, &e, 10);
			if (*e != ']' || !cJSON_IsArray(cur) || idx < 0)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
			p = e + 1;
		} else {
			if (*p == '.')
				p++;
			size_t n = strcspn(p, ".[");
			if (n == 0 || n >= sizeof key)
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = lg_json_get(cur, key);
			p += n;
		}
	}
	return cur;
}

int lg_json_set(cJSON *obj, const char *key, cJSON *val)
{
	if (!val)
		return -1;
	if (!obj || !cJSON_IsObject(obj)) {
		cJSON_Delete(val);
		return -1;
	}
	cJSON *old = lg_json_get(obj, key);
	if (!old)
		return cJSON_AddItemToObject(obj, key, val) ? 0 : (cJSON_Delete(val), -1);
	char *k = strdup(key);
	if (!k) {
		cJSON_Delete(val);
		return -1;
	}
	if (!(val->type & cJSON_StringIsConst))
		cJSON_free(val->string);
	val->type &= ~cJSON_StringIsConst;
	val->string = k;
	cJSON_ReplaceItemViaPointer(obj, old, val);
	return 0;
}

cJSON *lg_json_obj(cJSON *obj, const char *key)
{
	cJSON *o = lg_json_get(obj, key);
	if (o && cJSON_IsObject(o))
		return o;
	o = cJSON_CreateObject();
	if (lg_json_set(obj, key, o))
		return NULL;
	return o;
}

cJSON *lg_json_int(int64_t v)
{
	cJSON *n = cJSON_CreateNumber((double)v);
	char tmp[24], *d = tmp + sizeof tmp - 1;
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (!n)
		return NULL;
	*d = '\0';
	do
		*--d = (char)('0' + m % 10);
	while ((m /= 10) != 0);
	if (v < 0)
		*--d = '-';
	n->valuestring = strdup(d);
	if (!n->valuestring) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

cJSON *lg_json_int_d(double v)
{
	if (v != v)
		return lg_json_int(0);
	if (v >= 9223372036854775807.0)
		return lg_json_int(INT64_MAX);
	if (v <= -9223372036854775808.0)
		return lg_json_int(INT64_MIN);
	return lg_json_int((int64_t)v);
}

cJSON *lg_json_double(double v)
{
	return cJSON_CreateNumber(v);
}

cJSON *lg_json_take(cJSON *obj, const char *key)
{
	cJSON *it = lg_json_get(obj, key);
	return it ? cJSON_DetachItemViaPointer(obj, it) : NULL;
}

int lg_json_equal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	int ta = a->type & 0xFF, tb = b->type & 0xFF;
	if (ta != tb)
		return 0;
	switch (ta) {
	case cJSON_Number:
		if (a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0)
			return 1;
		/* Two long integers that a double can't tell apart still differ. */
		if (a->valuestring && b->valuestring && strlen(a->valuestring) > 15 &&
		    !strpbrk(a->valuestring, ".eE") && !strpbrk(b->valuestring, ".eE"))
			return 0;
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
	case cJSON_Raw:
		return a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Array: {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!lg_json_equal(x, y))
				return 0;
		return !x && !y;
	}
	case cJSON_Object: {
		int na = 0, nb = 0;
		for (const cJSON *x = a->child; x; x = x->next)
			na++;
		for (const cJSON *y = b->child; y; y = y->next)
			nb++;
		if (na != nb)
			return 0;
		for (const cJSON *x = a->child; x; x = x->next)
			if (!lg_json_equal(x, lg_json_get(b, x->string ? x->string : "")))
				return 0;
		return 1;
	}
	default:
		return 1;
	}
}
