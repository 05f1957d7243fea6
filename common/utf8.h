/* UTF-8 and JSON string helpers shared by the JSON parser (common/json.c)
 * and the text hash (common/hash.c), which must agree byte for byte. Inline:
 * both call them per character on hot paths. */
#ifndef LG_UTF8_H
#define LG_UTF8_H
#include <stddef.h>
#include <string.h>

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

#endif
