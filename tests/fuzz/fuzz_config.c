/* libFuzzer target: the integrations config loader (common/config.c). Any
 * file content: rejected with a message naming the file, or loaded into
 * integrations whose ids are unique and whose hosts are normalised (scheme,
 * no trailing slash); the secret never appears in the error message.
 * fuzz-links: */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static char path[64];

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/lg-fuzz-config.%ld.json", (long)getpid());
		atexit(remove_file);
	}
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	chmod(path, 0600);
	setenv("LG_FUZZ_SECRET", "sk-lf-from-env-0000", 1);
	lg_config cfg;
	char err[512];
	memset(&cfg, 0, sizeof cfg);
	err[0] = '\0';
	int rc = lg_config_load_file(&cfg, path, err, sizeof err);
	if (rc != 0) {
		if (!err[0]) {
			fprintf(stderr, "config rejected without a message\n");
			abort();
		}
		/* (unless the file itself spelled it out, e.g. as a name) */
		if (strstr(err, "sk-lf-from-env-0000") && !memmem(data, size, "sk-lf-from-env", 14)) {
			fprintf(stderr, "secret in the error: %s\n", err);
			abort();
		}
	} else {
		for (size_t i = 0; i < cfg.n; i++) {
			lg_integration *it = &cfg.items[i];
			if (!it->id || !*it->id || lg_config_find(&cfg, it->id) != it) {
				fprintf(stderr, "integration %zu: bad or duplicate id\n", i);
				abort();
			}
			size_t hl = it->host ? strlen(it->host) : 0;
			if (!hl || (strncmp(it->host, "http://", 7) && strncmp(it->host, "https://", 8)) ||
			    it->host[hl - 1] == '/') {
				fprintf(stderr, "integration %s: host not normalised: %s\n", it->id, it->host ? it->host : "(null)");
				abort();
			}
		}
	}
	lg_config_free(&cfg);
	return 0;
}
