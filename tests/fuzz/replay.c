/* A main for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput once per file named on the command line, so
 * make check replays every regression input through the target that found
 * it (tests/e2e/fuzz_regress.sh), built with the ordinary compiler. */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		size_t cap = 1 << 16, n = 0, got;
		unsigned char *buf = malloc(cap);
		while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
			n += got;
			if (n == cap) {
				unsigned char *nb = realloc(buf, cap *= 2);
				if (!nb)
					free(buf);
				buf = nb;
			}
		}
		fclose(f);
		if (!buf)
			return 2;
		LLVMFuzzerTestOneInput(buf, n);
		free(buf);
		printf("PASS replay %s\n", argv[i]);
		fflush(stdout);
	}
	return 0;
}
