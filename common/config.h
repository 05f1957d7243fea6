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

struct cJSON;

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
	char *overlap;       /* duration as written, or NULL: not set */
	char *max_run_time;  /* "maxRunTime", a duration as written, or NULL */
	long refetch_limit;  /* "refetchLimit": incomplete traces re-fetched per run; -1 = not set */
	char *refetch_horizon; /* "refetchHorizon", a duration as written, or NULL */
	char *ship_to;       /* "shipTo": lg-ship's --to after each completed run, or NULL */
	const struct cJSON *raw; /* the entry in lg_config.json; NULL from the environment */
} lg_integration;

/* An entry of the file that failed validation: skipped, its message kept. */
typedef struct {
	char *id;            /* its "id" when it has a string one, else NULL */
	char *msg;           /* "FILE: integrations[2].host: ..." */
} lg_config_bad;

typedef struct {
	char *path;          /* the file read, or NULL: from the environment */
	lg_integration *items;
	size_t n;
	lg_config_bad *bad;  /* with LG_CONFIG_SKIP_BAD: the entries skipped */
	size_t nbad;
	struct cJSON *json;  /* the file as parsed (entries' raw point here) */
} lg_config;

/* How a file is read: LG_CONFIG_STRICT fails on the first bad entry;
 * LG_CONFIG_SKIP_BAD skips it and keeps its message in cfg->bad, so one
 * bad integration never blocks the others. Errors of the whole file (not
 * JSON, no "integrations" array, a secret in a file others can read)
 * fail either way. */
enum { LG_CONFIG_STRICT = 0, LG_CONFIG_SKIP_BAD = 1 };

/* Loads the configuration as described above. */
int lg_config_load(lg_config *cfg, char *err, size_t errlen);
/* The same, with secret standing in for LANGFUSE_SECRET_KEY when the
 * environment defines the integration without it (lg-fetch
 * --secret-key-file); a file's integrations are not touched. */
int lg_config_load_secret(lg_config *cfg, const char *secret, char *err, size_t errlen);
/* Either, read as flags says (secret may be NULL). */
int lg_config_load_flags(lg_config *cfg, int flags, const char *secret, char *err, size_t errlen);
/* Loads a given file (path) or, when path is NULL, the environment. */
int lg_config_load_file(lg_config *cfg, const char *path, char *err, size_t errlen);
int lg_config_read(lg_config *cfg, const char *path, int flags, char *err, size_t errlen);
/* The file lg_config_load reads: $LG_CONFIG, else the XDG or HOME default
 * (which may not exist). Returns 0, or -1 when none can be named. */
int lg_config_path(char *out, size_t outlen);
/* The integration with that id, or NULL. */
lg_integration *lg_config_find(const lg_config *cfg, const char *id);
/* The skipped entry with that id, or NULL. */
const lg_config_bad *lg_config_find_bad(const lg_config *cfg, const char *id);
void lg_config_free(lg_config *cfg);

/* Checks one integration object exactly as the loader does (its secret
 * resolved, then wiped), as entry index of the file path. */
int lg_config_check_entry(const struct cJSON *entry, const char *path, size_t index,
			  char *err, size_t errlen);

/* Changes the file under an exclusive lock (flock on "PATH.lock"), so
 * parallel writers never lose each other's change: reads it (a missing
 * file reads as {"integrations":[]}), calls edit, and when edit returns 0
 * writes the result to a temporary file (mode 0600, fsync) renamed over
 * PATH, the directory created 0700 when missing. A non-zero status from
 * edit (err set) leaves the file as it was and is returned; other errors
 * are LG_EXIT_USAGE (the file unreadable) or LG_EXIT_IO (cannot write). */
typedef int (*lg_config_edit_fn)(struct cJSON *root, const char *path, void *arg,
				 char *err, size_t errlen);
int lg_config_edit(const char *path, lg_config_edit_fn edit, void *arg, char *err, size_t errlen);

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
