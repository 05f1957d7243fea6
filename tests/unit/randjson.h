/* A random JSON generator biased toward the hard cases, for the unit tests
 * that check a one-pass reader against the parser (common_texthash_test,
 * store_scan_test, store_summary_test). The includer defines gen_string
 * and gen_object, where its own bias lives (the pieces of its strings, the
 * keys of its objects: rj_string, rj_member and rj_object build them);
 * numbers, white space, values and arrays are here, and the mutations of
 * a generated text. */
#ifndef LG_T_RANDJSON_H
#define LG_T_RANDJSON_H
#include <string.h>

#include "buf.h"

static void gen_string(lg_buf *b);
static void gen_object(lg_buf *b, int depth, int top);

static unsigned long rnd_state = 1;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rnd_state >> 33) % n);
}

static void gen_number(lg_buf *b)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-1", "42", "1.5", "1.50", "-0.0", "0e0", "1e3", "1E+3", "1000", "2.5e-3",
		"123456789012345", "-123456789012345", "1234567890123456", "-12345678901234567",
		"12345678901234567890", "1234567890123456.0", "1e400", "-1e400", "4.9e-324", "0.1",
		"9007199254740993", "100000000000000000000000", "3.141592653589793238462643383279",
	};
	lg_buf_adds(b, nums[rnd(sizeof nums / sizeof *nums)]);
}

static void gen_ws(lg_buf *b)
{
	static const char *const ws[] = { "", "", "", " ", "\n", "\t", "\r\n ", "  " };
	lg_buf_adds(b, ws[rnd(sizeof ws / sizeof *ws)]);
}

static void gen_value(lg_buf *b, int depth)
{
	unsigned k = rnd(depth > 4 ? 6 : 9);
	switch (k) {
	case 0: case 1: gen_string(b); break;
	case 2: case 3: gen_number(b); break;
	case 4: lg_buf_adds(b, "true"); break;
	case 5: lg_buf_adds(b, rnd(2) ? "false" : "null"); break;
	case 6: case 7: gen_object(b, depth, 0); break;
	default: {
		lg_buf_addc(b, '[');
		unsigned n = rnd(4);
		for (unsigned i = 0; i < n; i++) {
			if (i)
				lg_buf_addc(b, ',');
			gen_ws(b);
			gen_value(b, depth + 1);
		}
		lg_buf_addc(b, ']');
	}
	}
}

/* A string of fewer than max pieces, each drawn from pieces[0..n). */
static inline void rj_string(lg_buf *b, const char *const *pieces, size_t n, unsigned max)
{
	lg_buf_addc(b, '"');
	unsigned k = rnd(max);
	for (unsigned i = 0; i < k; i++)
		lg_buf_adds(b, pieces[rnd((unsigned)n)]);
	lg_buf_addc(b, '"');
}

/* A member after its leading white space: key (a JSON string), a value,
 * white space. */
static inline void rj_member(lg_buf *b, const char *key, int depth)
{
	lg_buf_adds(b, key);
	gen_ws(b);
	lg_buf_addc(b, ':');
	gen_ws(b);
	gen_value(b, depth + 1);
	gen_ws(b);
}

/* An object of members members, their keys drawn from keys[0..n). */
static inline void rj_object(lg_buf *b, const char *const *keys, size_t n, unsigned members, int depth)
{
	lg_buf_addc(b, '{');
	for (unsigned i = 0; i < members; i++) {
		if (i)
			lg_buf_addc(b, ',');
		gen_ws(b);
		rj_member(b, keys[rnd((unsigned)n)], depth);
	}
	lg_buf_addc(b, '}');
}

/* Mutates m[0..*mn) (NUL-terminated, room for 4 more bytes) by 1 to 3
 * edits: a byte deleted, inserted or replaced by one of JSON's hard cases,
 * and with truncate, now and then the text cut short there. */
static void rj_mutate(char *m, size_t *mn, int truncate)
{
	static const char alphabet[] = "{}[]\",:\\u0e9 -.+Etfnx\x80\xc3\xa9\xff\t\xed\xa0\xf0";
	int edits = 1 + (int)rnd(3);
	for (int e = 0; e < edits && *mn > 0; e++) {
		size_t at = rnd((unsigned)*mn);
		switch (rnd(4)) {
		case 0: /* delete a byte */
			memmove(m + at, m + at + 1, *mn - at);
			--*mn;
			break;
		case 1: /* insert a byte */
			memmove(m + at + 1, m + at, *mn - at + 1);
			m[at] = alphabet[rnd(sizeof alphabet - 1)];
			++*mn;
			break;
		case 2: /* truncate */
			if (truncate && rnd(4) == 0) {
				*mn = at;
				m[at] = '\0';
				break;
			}
			/* fall through */
		default:
			m[at] = alphabet[rnd(sizeof alphabet - 1)];
		}
	}
}
#endif
