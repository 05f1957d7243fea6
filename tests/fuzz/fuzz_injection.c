/* libFuzzer target: the prompt-injection scorer (policy/injection.c) on
 * any bytes, both paths (with and without a keyword), and through its
 * decoders: the input base64-encoded and spaced out letter by letter is
 * scored again. The score stays in 0..100, the evidence span inside the
 * string; the same input scores the same twice; an encoded copy of a
 * text that scores is found too (decoding works on anything the word
 * pass accepts, one level deep).
 * fuzz-links: policy/injection.c policy/injection_text.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "injection.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(const char *s, size_t n, int kw, inj_result *r)
{
	inj_scan(s, n, kw, r);
	if (r->score < 0 || r->score > 100 || r->start > r->end || r->end > n ||
	    r->signals >= (1u << INJ_NSIGNALS)) {
		fprintf(stderr, "bad result: score %d, span [%zu, %zu) of %zu, signals %#x\n", r->score, r->start,
			r->end, n, r->signals);
		abort();
	}
	inj_result again;
	inj_scan(s, n, kw, &again);
	if (memcmp(r, &again, sizeof again) != 0) {
		fprintf(stderr, "two scans of one input differ\n");
		abort();
	}
}

static size_t b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	return o;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	inj_result r, e;
	const char *s = (const char *)data;
	check(s, size, 0, &r);
	check(s, size, 1, &r);
	/* base64: a short printable text that scores is found in its encoding */
	if (size > 2048)
		return 0;
	char *enc = malloc(4 * (size / 3 + 1) + 8);
	size_t en = b64(data, size, enc);
	check(enc, en, 0, &e);
	int printable = size >= 12;
	size_t spaces = 0;
	for (size_t i = 0; i < size && printable; i++) {
		printable = data[i] >= 0x20 && data[i] < 0x7F;
		spaces += data[i] == ' ';
	}
	/* decoded text is scored one level deep: a text that needs a decoder
	 * itself is not found again inside base64 */
	unsigned decoded = 1u << INJ_BASE64 | 1u << INJ_SPACED;
	if (printable && spaces * 20 >= size && r.score >= 30 && !(r.signals & decoded) && en >= 24 && e.score < 20) {
		fprintf(stderr, "scores %d, its base64 only %d\n", r.score, e.score);
		abort();
	}
	/* spaced out: every byte followed by a blank, words by three */
	char *sp = malloc(2 * size + 1);
	size_t sn = 0;
	for (size_t i = 0; i < size; i++) {
		sp[sn++] = (char)data[i];
		sp[sn++] = ' ';
	}
	check(sp, sn, 0, &e);
	check(sp, sn, 1, &e);
	free(sp);
	free(enc);
	return 0;
}
