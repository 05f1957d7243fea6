#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "t.h"

int main(void)
{
	/* lg_grow: first elements, then doubling; the elements kept */
	size_t cap = 0, n = 0;
	int64_t *v = NULL;
	for (int64_t i = 0; i < 100; i++) {
		if (n == cap) {
			int64_t *g = lg_grow(v, &cap, 16, sizeof *g);
			T_OK(g != NULL, "grow");
			if (!g)
				break;
			v = g;
		}
		v[n++] = i;
	}
	T_OK(cap == 128, "16, 32, 64, 128");
	int same = 1;
	for (size_t i = 0; i < n; i++)
		same &= v[i] == (int64_t)i;
	T_OK(same && n == 100, "elements kept");
	/* a size that would overflow: NULL, the array and cap unchanged */
	size_t big = SIZE_MAX / 2 + 1;
	T_OK(lg_grow(v, &big, 16, 1) == NULL && big == SIZE_MAX / 2 + 1, "count overflow refused");
	size_t c2 = cap;
	T_OK(lg_grow(v, &c2, 16, SIZE_MAX / 4) == NULL && c2 == cap, "byte overflow refused");
	T_OK(v[99] == 99, "array unchanged after a refusal");
	free(v);
	return t_done();
}
