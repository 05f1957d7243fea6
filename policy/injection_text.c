/* Text that hides words, for the prompt-injection scorer
 * (injection_text.h): leetspeak, base64 and spaced-out letters decoded,
 * and the cheap test of strings without a keyword. Nothing is allocated. */
#include <stdint.h>
#include <string.h>

#include "injection_text.h"

static unsigned char b64tab[256];     /* 1: a character of the base64 alphabet */

void inj_text_init(void)
{
	for (int ch = 0; ch < 256; ch++)
		b64tab[ch] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
			     ch == '/';
}

void inj_unleet(char *w, size_t n)
{
	int letters = 0, digits = 0;
	for (size_t i = 0; i < n; i++) {
		letters += w[i] >= 'a' && w[i] <= 'z';
		digits += w[i] >= '0' && w[i] <= '9';
	}
	if (!digits || letters < 2 || n < 3)
		return;
	static const char map[] = "oizeasgtbg";
	for (size_t i = 0; i < n; i++)
		if (w[i] >= '0' && w[i] <= '9')
			w[i] = map[w[i] - '0'];
}

/* ---- base64 and spaced-out runs ---- */

size_t inj_b64_runs(const char *str, size_t n, span *runs, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, nruns = 0;
	while (i < n && nruns < max) {
		while (i < n && !b64tab[s[i]])
			i++;
		size_t from = i, end;
		while (i < n && b64tab[s[i]])
			i++;
		end = i;
		while (i < n && s[i] == '=')
			i++;
		if (i - from >= 24)
			runs[nruns++] = (span){ from, end };
	}
	return nruns;
}

static int b64_val(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26 :
	       ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '+' || ch == '-' ? 62 : ch == '/' || ch == '_' ? 63 : -1;
}

size_t inj_b64_text(const char *s, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0, printable = 0, spaces = 0;
	for (size_t i = 0; i < n && o < cap; i++) {
		int v = b64_val((unsigned char)s[i]);
		if (v < 0)
			break;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			unsigned char b = (unsigned char)(acc >> bits);
			out[o++] = (char)b;
			printable += (b >= 0x20 && b < 0x7F) || b == '\n' || b == '\t' || b >= 0x80;
			spaces += b == ' ';
		}
	}
	if (o < 12 || printable * 100 < o * 95 || spaces * 20 < o)
		return 0;
	return o;
}

/* The separator seen most between letters joins them, any other gap is a
 * space between words. */
size_t inj_collapse(const char *s, size_t n, char *out, size_t cap)
{
	size_t count[256] = { 0 }, o = 0, gap = 0;
	unsigned char sep = ' ', last = 0;
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] != ' ' || s[i + 1] != ' ')
			count[(unsigned char)s[i + 1]] += !((s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
							    (s[i + 1] >= 'A' && s[i + 1] <= 'Z'));
	for (int ch = 0; ch < 256; ch++)
		if (count[ch] > count[sep])
			sep = (unsigned char)ch;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
			if (o && (gap > 1 || (gap == 1 && last != sep)))
				out[o++] = ' ';
			out[o++] = (char)ch;
			gap = 0;
		} else {
			gap++;
			last = ch;
		}
	}
	return o;
}

/* ---- the cheap path ---- */

/* A non-ASCII character that hides a word: invisible, a Cyrillic letter
 * next to a Latin one, a fullwidth Latin letter. */
static int hiding(const unsigned char *p, size_t at, size_t n)
{
	unsigned char ch = p[at];
	if (inj_invisible(p + at, n - at))
		return 1;
	if ((ch == 0xD0 || ch == 0xD1) && at + 2 < n) {
		unsigned char before = at ? p[at - 1] | 0x20 : 0, after = p[at + 2] | 0x20;
		return (before >= 'a' && before <= 'z') || (after >= 'a' && after <= 'z');
	}
	return ch == 0xEF && at + 2 < n && ((p[at + 1] == 0xBC && p[at + 2] >= 0xA1 && p[at + 2] <= 0xBA) ||
					    (p[at + 1] == 0xBD && p[at + 2] >= 0x81 && p[at + 2] <= 0x9A));
}

/* Without a keyword, only obfuscation can hide an attack: letters spaced
 * out, invisible or look-alike characters, a run of base64 (two aligned
 * 8-byte chunks of its alphabet: 23 characters or more). Eight bytes at a
 * time; a byte-wise look only where a chunk could be one of these. */
int inj_worth_scanning(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	int run = 0, found = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		if (x & high) {
			for (size_t k = 0; k < 8; k++)
				if (p[i + k] >= 0xC2 && hiding(p, i + k, n))
					return 2;
			run = 0;
			continue;
		}
		/* letters spaced out by blanks or dashes: every other byte */
		int below = ((x - 0x2B * ones) & ~x & high) != 0;  /* a blank, quote, comma, ... */
		uint64_t y = x ^ ((uint64_t)(below ? ' ' : '-') * ones);
		uint64_t eq = ~(((y & ~high) + ~high) | y) & high;
		if (eq == 0x8000800080008000u || eq == 0x0080008000800080u)
			return 2;
		/* such a byte ends a base64 run */
		int b64 = !below;
		for (size_t k = 0; k < 8 && b64; k++)
			b64 = b64tab[p[i + k]] || p[i + k] == '=';
		run = b64 ? run + 1 : 0;
		if (run >= 2)
			found = 1;
	}
	return found;
}
