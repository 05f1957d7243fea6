/* Integrations configuration (docs/configuration.md).
 *
 * Where: $LG_CONFIG, else $XDG_CONFIG_HOME/langguard/config.json, else
 * ~/.config/langguard/config.json. The file wins over the environment
 * (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, LANGFUSE_HOST); with no file the
 * environment defines one integration with id "default" (none when neither
 * key variable is set). $LG_CONFIG naming a missing file is an error.
 *
 * The file:
 *   {"integrations":[{"id":"prod","name":"Production","publicKey":"pk-lf-…",
 *     "secretKey":"sk-lf-…" | "secretKeyFile":"/path" | "secretKeyEnv":"VAR",
 *     "host":"https://cloud.langfuse.com","autoSync":true,"interval":"5m",
 *     "lookback":"7d","batchSize":100}]}
 * A file holding "secretKey" (and any secretKeyFile) must not be readable by
 * group or others, like ssh refuses such keys. Errors name the file and the
 * field: "/etc/lg.json: integrations[1].host: scheme required (http:// or
 * https://)". Every function returns 0 or LG_EXIT_USAGE (configuration
 * error, message in err); nothing here prints or exits. */
#ifndef LG_CONFIG_H
#define LG_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define LG_DEFAULT_HOST "https://cloud.langfuse.com"

typedef struct {
	char *id;            /* unique, non-empty */
	char *name;          /* defaults to id */
	char *public_key;
	char *secret_key;    /* resolved; never print it (lg_mask_secret) */
	char *host;          /* normalised: scheme, no trailing slash */
	int auto_sync;       /* 0/1; default 1 */
	int64_t interval_ms; /* 0 = not set */
	int64_t lookback_ms; /* 0 = not set */
	long batch_size;     /* 0 = not set */
} lg_integration;

typedef struct {
	char *path;          /* the file read, or NULL: from the environment */
	lg_integration *items;
	size_t n;
} lg_config;

/* Loads the configuration as described above. */
int lg_config_load(lg_config *cfg, char *err, size_t errlen);
/* The same, with secret standing in for LANGFUSE_SECRET_KEY when the
 * environment defines the integration without it (lg-fetch
 * --secret-key-file); a file's integrations are not touched. */
int lg_config_load_secret(lg_config *cfg, const char *secret, char *err, size_t errlen);
/* Loads a given file (path) or, when path is NULL, the environment. */
int lg_config_load_file(lg_config *cfg, const char *path, char *err, size_t errlen);
/* The integration with that id, or NULL. */
lg_integration *lg_config_find(const lg_config *cfg, const char *id);
void lg_config_free(lg_config *cfg);

/* "https://x/lf/" -> malloc'd "https://x/lf". Scheme http or https
 * required, a host part required, path prefix kept, no query/fragment, no
 * "user:password@" (refused without repeating it). */
int lg_host_normalize(const char *in, char **out, char *err, size_t errlen);
/* Reads a secret from a file (first line, surrounding white space cut),
 * refusing one readable by group or others. */
int lg_secret_from_file(const char *path, char **out, char *err, size_t errlen);
/* url with any "user:password@" replaced by "***@", for printing. */
void lg_url_mask(const char *url, char *out, size_t n);

#endif
