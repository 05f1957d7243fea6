/* libFuzzer target: lg-policy's validators and masks (policy/validators.c)
 * on any bytes. Every validator must return 0 or 1 without reading outside
 * the input; entropy stays within 0..8 bits; the secret mask of 16 bytes or
 * more never shows the value whole and stays short (four bytes each end and
 * a count); the digit mask keeps at most four digits visible.
 * fuzz-links: policy/validators.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* a copy of exactly size bytes: ASan sees any read past the end */
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	for (int v = V_NONE; v <= V_ACCOUNT; v++) {
		int r = pol_validate(v, s, size);
		if (r != 0 && r != 1) {
			fprintf(stderr, "validator %d returned %d\n", v, r);
			abort();
		}
	}
	double h = pol_entropy(s, size);
	if (h < 0 || h > 8.0001) {
		fprintf(stderr, "entropy %f out of range\n", h);
		abort();
	}
	lg_buf b = { 0 };
	if (pol_mask(&b, MASK_SECRET, s, size) == 0 && size >= 16 && size < 4096 && memcmp(s, "-----", 5) != 0) {
		if (memmem(b.data, b.len, s, size)) {
			fprintf(stderr, "secret mask shows the whole value\n");
			abort();
		}
		/* four bytes each end and the count, whatever the length */
		if (b.len > 8 + 40) {
			fprintf(stderr, "secret mask of %zu bytes is %zu bytes long\n", size, b.len);
			abort();
		}
	}
	b.len = 0;
	if (pol_mask(&b, MASK_DIGITS, s, size) == 0) {
		size_t shown = 0;
		for (size_t i = 0; i < b.len; i++)
			shown += b.data[i] >= '0' && b.data[i] <= '9';
		if (shown > 4) {
			fprintf(stderr, "digit mask shows %zu digits\n", shown);
			abort();
		}
	}
	lg_buf_free(&b);
	free(s);
	return 0;
}
