/* The policies a sync run evaluates: lg-policy's own, each turned on or
 * off by the config's "policies" object ({"ID":{"enabled":false}}), which
 * the API's toggle writes. The config file is the one place, so
 * `lg-sync run`, the daemon and the server all see the same state. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "json.h"
#include "sync.h"

/* A policy id as lg-policy writes them; anything else in the file is
 * left out rather than handed to lg-policy as an option. */
static int id_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 128 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

const char **policy_argv(const sync_ctx *c, const char *const *base)
{
	lg_config cfg;
	char err[1200];
	struct stat st;
	size_t nbase = 0, n = 0;
	memset(&cfg, 0, sizeof cfg);
	while (base[nbase])
		nbase++;
	/* The run reports a config it cannot read; here it only means no toggles. */
	int loaded = stat(c->config, &st) == 0 &&
		     lg_config_read(&cfg, c->config, LG_CONFIG_SKIP_BAD, err, sizeof err) == 0;
	const cJSON *pol = loaded ? lg_json_get(cfg.json, "policies") : NULL;
	size_t max = nbase + 1 + 2 * (size_t)(cJSON_IsObject(pol) ? cJSON_GetArraySize(pol) : 0);
	const char **argv = calloc(max, sizeof *argv);
	if (!argv) {
		if (loaded)
			lg_config_free(&cfg);
		return NULL;
	}
	for (; n < nbase; n++)
		argv[n] = base[n];
	for (const cJSON *p = cJSON_IsObject(pol) ? pol->child : NULL; p; p = p->next) {
		const cJSON *on = lg_json_get(p, "enabled");
		char *id;
		if (!cJSON_IsBool(on) || !id_ok(p->string) || !(id = strdup(p->string)))
			continue;
		argv[n++] = cJSON_IsTrue(on) ? "--enable" : "--disable";
		argv[n++] = id;
	}
	if (loaded)
		lg_config_free(&cfg);
	return argv;
}

void policy_argv_free(const char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "--enable") || !strcmp(argv[i], "--disable")) {
			free((char *)(uintptr_t)argv[i + 1]);
			i++;
		}
	free(argv);
}

typedef struct {
	const char *id;
	int enabled;
} toggle;

static int toggle_edit(cJSON *root, const char *path, void *arg, char *err, size_t errlen)
{
	const toggle *t = arg;
	cJSON *pol = lg_json_get(root, "policies");
	(void)path;
	if (!cJSON_IsObject(pol)) {
		pol = cJSON_CreateObject();
		if (!pol || lg_json_set(root, "policies", pol) != 0) {
			snprintf(err, errlen, "out of memory");
			return LG_EXIT_BAD;
		}
	}
	cJSON *entry = cJSON_CreateObject();
	if (!entry || !cJSON_AddBoolToObject(entry, "enabled", t->enabled) || lg_json_set(pol, t->id, entry) != 0) {
		snprintf(err, errlen, "out of memory");
		return LG_EXIT_BAD;
	}
	return 0;
}

int policy_toggle(const sync_ctx *c, const char *id, int enabled, char *err, size_t errlen)
{
	toggle t = { id, enabled };
	if (!id_ok(id)) {
		snprintf(err, errlen, "not a policy id");
		return LG_EXIT_USAGE;
	}
	return lg_config_edit(c->config, toggle_edit, &t, err, errlen);
}
