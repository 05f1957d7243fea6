#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "scan.h"
#include "utf8.h"

typedef struct {
	const unsigned char *p, *end;
	int depth;
	char *scratch; /* strings with escapes, decoded to be hashed */
	size_t cap;
} scanner;

static void ws(scanner *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* A string at s->p (the opening quote). *escaped is set when it holds a
 * backslash. \u escapes of surrogates or NUL are left to the full parser. */
static int string(scanner *s, int *escaped)
{
	s->p++;
	*escaped = 0;
	while (s->p < s->end) {
		s->p = lg_skip_plain(s->p, s->end);
		if (s->p >= s->end)
			break;
		unsigned c = *s->p;
		if (c == '"') {
			s->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c >= 0x80) {
			int n = lg_utf8_len(s->p, s->end);
			if (!n)
				return 0;
			s->p += n;
			continue;
		}
		if (c == '\\') {
			*escaped = 1;
			if (s->end - s->p < 2)
				return 0;
			c = s->p[1];
			if (c == 'u') {
				unsigned cp;
				if (s->end - s->p < 6 || lg_hex4(s->p + 2, &cp) != 0)
					return 0;
				if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
					return 0;
				s->p += 6;
				continue;
			}
			if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't')
				return 0;
			s->p += 2;
			continue;
		}
		s->p++;
	}
	return 0;
}

static int number(scanner *s)
{
	const unsigned char *bad;
	int frac_or_exp;
	const unsigned char *p = lg_json_number_end(s->p, s->end, &frac_or_exp, &bad);
	if (!p)
		return 0;
	s->p = p;
	return 1;
}

static int word(scanner *s, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

static int value(scanner *s, uint64_t *h);

/* A string at s->p, hashed into *h as a key or a value (common/hash.h). */
static int hashed_string(scanner *s, int key, uint64_t *h)
{
	const char *body = (const char *)s->p + 1;
	int esc;
	if (!string(s, &esc))
		return 0;
	size_t len = (size_t)((const char *)s->p - 1 - body);
	if (!esc) {
		*h = lg_hash_text_plain(body, len, key);
		return 1;
	}
	return lg_hash_text_escaped(body, len, key, &s->scratch, &s->cap, h) == 0;
}

/* An object or array at s->p; with h, its content hash (as
 * lg_json_hash of the parsed item) computed in the same pass. */
static int container(scanner *s, int obj, uint64_t *h)
{
	uint64_t acc = obj ? 0 : LG_HASH_ARRAY_START, n = 0, kh = 0, vh;
	int esc;
	if (++s->depth > LG_JSON_MAX_DEPTH)
		return 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
		s->p++;
		s->depth--;
		if (h)
			*h = obj ? lg_hash_object_end(0, 0) : lg_hash_array_end(acc);
		return 1;
	}
	for (;;) {
		ws(s);
		if (obj) {
			if (s->p >= s->end || *s->p != '"' || !(h ? hashed_string(s, 1, &kh) : string(s, &esc)))
				return 0;
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return 0;
			s->p++;
		}
		if (!value(s, h ? &vh : NULL))
			return 0;
		if (h) {
			if (obj)
				acc += lg_hash_pair(kh, vh), n++;
			else
				acc = lg_hash_array_add(acc, vh);
		}
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
			s->p++;
			s->depth--;
			if (h)
				*h = obj ? lg_hash_object_end(acc, n) : lg_hash_array_end(acc);
			return 1;
		}
		return 0;
	}
}

static int literal(scanner *s, const char *w, uint64_t hash, uint64_t *h)
{
	if (h)
		*h = hash;
	return word(s, w);
}

/* Any value at s->p; with h, hashed as it is checked. */
static int value(scanner *s, uint64_t *h)
{
	int esc;
	ws(s);
	if (s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{': return container(s, 1, h);
	case '[': return container(s, 0, h);
	case '"': return h ? hashed_string(s, 0, h) : string(s, &esc);
	case 't': return literal(s, "true", LG_HASH_TRUE, h);
	case 'f': return literal(s, "false", LG_HASH_FALSE, h);
	case 'n': return literal(s, "null", LG_HASH_NULL, h);
	default: {
		const unsigned char *st = s->p;
		if (!number(s))
			return 0;
		return !h || lg_hash_text_number((const char *)st, (size_t)(s->p - st), h) == 0;
	}
	}
}

static int key_is(const unsigned char *k, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(k, name, n) == 0;
}

/* One member of an object being walked (s->p on its key): the key's bytes
 * (0 when escaped: callers then give up) and the value's extent. */
static int member(scanner *s, const unsigned char **k, size_t *klen, const unsigned char **v)
{
	int esc;
	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return 0;
	*k = s->p + 1;
	if (!string(s, &esc) || esc)
		return 0;
	*klen = (size_t)(s->p - 1 - *k);
	ws(s);
	if (s->p >= s->end || *s->p != ':')
		return 0;
	s->p++;
	ws(s);
	*v = s->p;
	return value(s, NULL);
}

/* After a member: 1 on ',' (another follows), 2 on the closing c, 0 else. */
static int next_member(scanner *s, int c)
{
	ws(s);
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		return 1;
	}
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 2;
	}
	return 0;
}

/* A string value without escapes at v (ending before e): its body. */
static int plain_string(const unsigned char *v, const unsigned char *e, size_t *off, size_t *len,
			const unsigned char *base)
{
	if (*v != '"' || memchr(v + 1, '\\', (size_t)(e - v - 2)))
		return 0;
	*off = (size_t)(v + 1 - base);
	*len = (size_t)(e - v - 2);
	return 1;
}

/* The violations array at s->p: every element an object with "status" and
 * a plain "id" of 1..max_vid bytes (the first "id", as lg_json_str reads);
 * fn (if any) gets each id. */
static int violations(scanner *s, size_t max_vid, const unsigned char *base,
		      void (*fn)(void *, const char *, size_t), void *ctx)
{
	s->depth = 2;
	if (s->p >= s->end || *s->p != '[')
		return 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (;;) {
		size_t id_off = 0, id_len = 0, klen;
		int have_id = 0, have_status = 0, more;
		const unsigned char *k, *v;
		ws(s);
		if (s->p >= s->end || *s->p != '{')
			return 0;
		s->p++;
		s->depth = 3;
		do {
			if (!member(s, &k, &klen, &v))
				return 0;
			if (!have_id && key_is(k, klen, "id")) {
				if (!plain_string(v, s->p, &id_off, &id_len, base) || id_len == 0 || id_len > max_vid)
					return 0;
				have_id = 1;
			} else if (key_is(k, klen, "status")) {
				have_status = 1;
			}
		} while ((more = next_member(s, '}')) == 1);
		if (!more || !have_id || !have_status)
			return 0;
		if (fn)
			fn(ctx, (const char *)base + id_off, id_len);
		s->depth = 2;
		if ((more = next_member(s, ']')) != 1)
			return more == 2;
	}
}

/* The evaluation object at s->p: its first "contentHash", when a string,
 * must be plain; its offsets go to out. */
static int evaluation(scanner *s, const unsigned char *base, scan_record *out)
{
	const unsigned char *k, *v;
	size_t klen;
	int seen = 0, more;
	s->depth = 2;
	if (s->p >= s->end || *s->p != '{')
		return 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 1;
	}
	do {
		if (!member(s, &k, &klen, &v))
			return 0;
		if (!seen && key_is(k, klen, "contentHash")) {
			seen = 1;
			if (*v == '"' && !plain_string(v, s->p, &out->hash_off, &out->hash_len, base))
				return 0;
		}
	} while ((more = next_member(s, '}')) == 1);
	return more == 2;
}

void scan_violation_ids(const char *text, const scan_record *sr, void (*fn)(void *ctx, const char *id, size_t n),
			void *ctx)
{
	const unsigned char *base = (const unsigned char *)text;
	scanner s = { base + sr->viol_off, base + sr->viol_off + sr->viol_len, 2, NULL, 0 };
	if (sr->viol_len)
		violations(&s, (size_t)-1, base, fn, ctx);
}

static int plain_record(scanner *sc, size_t max_id, size_t max_vid, int want_hash, scan_record *out)
{
	scanner s = *sc;
	const unsigned char *base = s.p;
	int esc, have_id = 0, have_ts = 0, have_viol = 0;
	uint64_t sum = 0, members = 0, vh;
	ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return 0;
	s.p++;
	ws(&s);
	if (s.p < s.end && *s.p == '}')
		return 0; /* no externalId */
	for (;;) {
		ws(&s);
		if (s.p >= s.end || *s.p != '"')
			return 0;
		const unsigned char *k = s.p + 1;
		if (!string(&s, &esc))
			return 0;
		size_t klen = (size_t)(s.p - 1 - k);
		if (!esc && (key_is(k, klen, "$lg") || key_is(k, klen, "stale")))
			return 0;
		ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return 0;
		s.p++;
		ws(&s);
		const unsigned char *v = s.p;
		/* The content hash leaves out violations and evaluation
		 * (a "stale" key is refused above; an escaped key below). */
		int hashed = want_hash && !esc && !key_is(k, klen, "violations") && !key_is(k, klen, "evaluation");
		int ok = value(&s, hashed ? &vh : NULL);
		sc->scratch = s.scratch, sc->cap = s.cap;
		if (!ok)
			return 0;
		if (hashed)
			sum += lg_hash_pair(lg_hash_text_plain((const char *)k, klen, 1), vh), members++;
		/* An incomplete record goes into the index of incomplete traces,
		 * which takes the full path. */
		if (!esc && key_is(k, klen, "incomplete") && !(s.p - v == 4 && memcmp(v, "null", 4) == 0))
			return 0;
		int want_id = !esc && !have_id && key_is(k, klen, "externalId");
		int want_ts = !esc && !have_ts && key_is(k, klen, "timestamp");
		if (want_id || want_ts) {
			/* Only plain strings: quotes around bytes without a backslash. */
			size_t off, len;
			if (!plain_string(v, s.p, &off, &len, base))
				return 0;
			if (want_id) {
				if (len == 0 || len > max_id)
					return 0;
				out->id_off = off, out->id_len = len, have_id = 1;
			} else {
				if (len >= 64) /* no time is that long: let the full path judge */
					return 0;
				out->ts_off = off, out->ts_len = len, have_ts = 1;
			}
		} else if (!esc && key_is(k, klen, "evaluation")) {
			scanner e = { v, s.p, 2, NULL, 0 };
			if (out->evaluated || !evaluation(&e, base, out))
				return 0;
			out->evaluated = 1;
		} else if (!esc && key_is(k, klen, "violations")) {
			scanner e = { v, s.p, 2, NULL, 0 };
			if (have_viol || !violations(&e, max_vid, base, NULL, NULL))
				return 0;
			out->viol_off = (size_t)(v - base), out->viol_len = (size_t)(s.p - v), have_viol = 1;
		} else if (esc && (klen >= 2)) {
			/* An escaped key might spell one of ours: full parser. */
			return 0;
		}
		ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		return 0;
	}
	ws(&s);
	if (!have_id || s.p != s.end)
		return 0;
	if (want_hash)
		out->hash = lg_hash_object_end(sum, members), out->hashed = 1;
	return 1;
}

int scan_plain_record(const char *text, size_t n, size_t max_id, size_t max_vid, int want_hash, scan_record *out)
{
	scanner s = { (const unsigned char *)text, (const unsigned char *)text + n, 1, NULL, 0 };
	memset(out, 0, sizeof *out);
	int ok = plain_record(&s, max_id, max_vid, want_hash, out);
	free(s.scratch);
	if (!ok)
		memset(out, 0, sizeof *out);
	return ok;
}
