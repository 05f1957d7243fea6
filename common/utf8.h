/* UTF-8, JSON string and number helpers shared by the JSON parser
 * (common/json.c) and printer (common/json_print.c), the text hash
 * (common/hash.c) and lg-store's scan (store/scan.c), which must agree
 * byte for byte. Inline: all call them per
 * character on hot paths. */
#ifndef LG_UTF8_H
#define LG_UTF8_H
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Strings are most of every trace, so string scans skip runs of plain bytes
 * eight at a time (SWAR): a word is plain when none of its bytes is '"',
 * '\\', a control character or (when parsing) >= 0x80. */
#define LG_ONES ((uint64_t)0x0101010101010101ULL)
#define LG_HIGHS ((uint64_t)0x8080808080808080ULL)

static inline uint64_t lg_load8(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* Nonzero when some byte of w is zero (exact in the high bit of that byte
 * only for the lowest such byte, which is all we need: any hit stops us). */
static inline uint64_t lg_has_zero(uint64_t w)
{
	return (w - LG_ONES) & ~w & LG_HIGHS;
}

/* Nonzero when w holds a '"', a '\\' or a byte < 0x20. */
static inline uint64_t lg_has_special(uint64_t w)
{
	return lg_has_zero(w ^ (LG_ONES * '"')) | lg_has_zero(w ^ (LG_ONES * '\\')) |
	       ((w - LG_ONES * 0x20) & ~w & LG_HIGHS);
}

/* Bytes before the first flagged one: m is a lg_has_zero/lg_has_special
 * mask, whose lowest set bit is exact (on a little-endian load). */
static inline size_t lg_first_flagged(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) >> 3;
#else
	(void)m;
	return 0;
#endif
}

/* The first byte from p that a string scan must look at one by one ('"',
 * '\\', below 0x20 or 0x80 and up), or a byte a little before it, or end.
 * With SSE2, 16 bytes at a time ('"' and '\\' by equality, the rest by one
 * signed compare: bytes from 0x80 are negative); then 8 at a time. */
static inline const unsigned char *lg_skip_plain(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
					 _mm_cmplt_epi8(v, sp));
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		uint64_t m = (lg_load8(p) & LG_HIGHS) | lg_has_special(lg_load8(p));
		if (m)
			return p + lg_first_flagged(m);
		p += 8;
	}
	return p;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid: no
 * overlongs, no surrogates, nothing past U+10FFFF. */
static inline int lg_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (end - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* The four hex digits at p as a number; -1 if one is not a hex digit. */
static inline int lg_hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Writes code point cp as UTF-8 at o; returns the bytes written (1..4). */
static inline size_t lg_utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Finds the closing quote of the JSON string whose opening quote is at
 * open, validating UTF-8 and control characters on the way. Returns it, or
 * NULL with *bad and *why saying where and what; *escapes tells whether a
 * backslash occurred. The parser and the text hash both use it, so their
 * verdicts agree by construction. */
static inline const unsigned char *lg_json_string_end(const unsigned char *open, const unsigned char *end,
						       int *escapes, const unsigned char **bad, const char **why)
{
	const unsigned char *q = open + 1;
	*escapes = 0;
	for (;;) {
		q = lg_skip_plain(q, end);
		if (q >= end || *q == '"')
			break;
		if (*q == '\\') {
			*escapes = 1;
			q += 2;
			continue;
		}
		if (*q < 0x20) {
			*bad = q;
			*why = "control character in string";
			return NULL;
		}
		if (*q >= 0x80) {
			int n = lg_utf8_len(q, end);
			if (!n) {
				*bad = q;
				*why = "invalid UTF-8";
				return NULL;
			}
			q += n;
			continue;
		}
		q++;
	}
	if (q >= end) {
		*bad = open;
		*why = "unterminated string";
		return NULL;
	}
	return q;
}

/* Decodes the body [r, q) of a JSON string whose bytes were already checked
 * (UTF-8, no raw control characters) into out, which has room for q - r
 * bytes (escapes only shrink). Returns the decoded length, or -1 with *bad
 * at the offending backslash and *why saying what is wrong. A lone
 * surrogate becomes U+FFFD (as JSON.stringify may emit one); *has_nul tells
 * that "\u0000" occurred. */
static inline long lg_json_unescape(const unsigned char *r, const unsigned char *q, char *out,
				    int *has_nul, const unsigned char **bad, const char **why)
{
	char *o = out;
	*has_nul = 0;
	while (r < q) {
		if (*r != '\\') { /* the run up to the next escape, whole */
			const unsigned char *bs = memchr(r, '\\', (size_t)(q - r));
			size_t plain = (size_t)((bs ? bs : q) - r);
			memcpy(o, r, plain);
			o += plain;
			r += plain;
			continue;
		}
		*bad = r++;
		switch (*r) {
		case '"': *o++ = '"'; r++; break;
		case '\\': *o++ = '\\'; r++; break;
		case '/': *o++ = '/'; r++; break;
		case 'b': *o++ = '\b'; r++; break;
		case 'f': *o++ = '\f'; r++; break;
		case 'n': *o++ = '\n'; r++; break;
		case 'r': *o++ = '\r'; r++; break;
		case 't': *o++ = '\t'; r++; break;
		case 'u': {
			unsigned cp, lo;
			if (q - r < 5 || lg_hex4(r + 1, &cp)) {
				*why = "invalid \\u escape";
				return -1;
			}
			r += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF && q - r >= 6 && r[0] == '\\' && r[1] == 'u' &&
			    !lg_hex4(r + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				r += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				cp = 0xFFFD;
			}
			if (cp == 0)
				*has_nul = 1;
			o += lg_utf8_put(o, cp);
			break;
		}
		default:
			*why = "invalid escape in string";
			return -1;
		}
	}
	return (long)(o - out);
}

/* The end of the JSON number at p (RFC 8259 grammar: -?(0|[1-9]d*)(.d+)?
 * ([eE][+-]?d+)?), or NULL with *bad at the byte that breaks it.
 * *frac_or_exp tells whether it has a fraction or an exponent. */
static inline const unsigned char *lg_json_number_end(const unsigned char *p, const unsigned char *end,
						      int *frac_or_exp, const unsigned char **bad)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return *bad = p, NULL;
	*frac_or_exp = p < end && (*p == '.' || *p == 'e' || *p == 'E');
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return *bad = p, NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return *bad = p, NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

#endif
