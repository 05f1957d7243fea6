/* How lg-policy's prompt-injection scorer (injection.c) reads text that
 * hides words: Cyrillic and fullwidth look-alikes and invisible characters
 * (per byte of its word pass, so inline here), digits written for letters,
 * base64 runs and spaced-out letters decoded for a second look, and the
 * cheap test of whether a string without a keyword can hide an attack
 * (injection_text.c). Internal to lg-policy. */
#ifndef LG_INJECTION_TEXT_H
#define LG_INJECTION_TEXT_H
#include <stddef.h>

typedef struct {
	size_t s, e;
} span;

/* A Latin letter that a non-ASCII character imitates, or 0. Lowercase
 * Cyrillic look-alikes and fullwidth A-Z / a-z. *len gets its bytes. */
static inline char inj_lookalike(const unsigned char *p, size_t left, int *len)
{
	if (left >= 2 && (p[0] == 0xD0 || p[0] == 0xD1)) {
		static const struct {
			unsigned char a, b;
			char l;
		} cy[] = { { 0xD0, 0xB0, 'a' }, { 0xD0, 0xB5, 'e' }, { 0xD0, 0xBE, 'o' }, { 0xD1, 0x80, 'p' },
			   { 0xD1, 0x81, 'c' }, { 0xD1, 0x85, 'x' }, { 0xD1, 0x83, 'y' }, { 0xD1, 0x96, 'i' },
			   { 0xD1, 0x95, 's' }, { 0xD1, 0x98, 'j' }, { 0xD0, 0x90, 'a' }, { 0xD0, 0x95, 'e' },
			   { 0xD0, 0x9E, 'o' }, { 0xD0, 0xA0, 'p' }, { 0xD0, 0xA1, 'c' }, { 0xD0, 0xA2, 't' },
			   { 0xD0, 0x9D, 'h' }, { 0xD0, 0x9A, 'k' }, { 0xD0, 0x9C, 'm' }, { 0xD0, 0x92, 'b' },
			   { 0xD0, 0xA5, 'x' }, { 0xD0, 0x86, 'i' } };
		for (size_t k = 0; k < sizeof cy / sizeof *cy; k++)
			if (p[0] == cy[k].a && p[1] == cy[k].b) {
				*len = 2;
				return cy[k].l;
			}
		return 0;
	}
	if (left >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0xA1 && p[2] <= 0xBA) {
		*len = 3;
		return (char)('a' + (p[2] - 0xA1));
	}
	if (left >= 3 && p[0] == 0xEF && p[1] == 0xBD && p[2] >= 0x81 && p[2] <= 0x9A) {
		*len = 3;
		return (char)('a' + (p[2] - 0x81));
	}
	return 0;
}

/* Bytes of an invisible character at p (zero-width space/joiners, word
 * joiner, BOM, soft hyphen), or 0. */
static inline int inj_invisible(const unsigned char *p, size_t left)
{
	if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x8B && p[2] <= 0x8D)
		return 3;
	if (left >= 3 && p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0xA0)
		return 3;
	if (left >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return 3;
	if (left >= 2 && p[0] == 0xC2 && p[1] == 0xAD)
		return 2;
	return 0;
}

/* Fills the tables the functions below use; once, before any call. */
void inj_text_init(void);
/* Digits written for letters, in a word that has letters too. */
void inj_unleet(char *w, size_t n);
/* Runs of 24 or more base64 characters (padding '=' included) of
 * s[0..n), at most max of them into runs; how many. */
size_t inj_b64_runs(const char *s, size_t n, span *runs, size_t max);
/* Decodes base64 text into out (at most cap bytes); the length, or 0 when
 * the result is not mostly readable text (binary, hashes, ids). */
size_t inj_b64_text(const char *s, size_t n, char *out, size_t cap);
/* The letters of a spaced-out run, words apart ("i g n o r e  a l l",
 * "i-g-n-o-r-e a-l-l" give "ignore all"); the length written to out. */
size_t inj_collapse(const char *s, size_t n, char *out, size_t cap);
/* Whether a string with no keyword needs a look: 2 when the word pass is
 * needed (letters spaced out, invisible or look-alike characters), 1 when
 * decoding its base64 runs is enough, 0 when nothing can hide in it. */
int inj_worth_scanning(const char *s, size_t n);
#endif
