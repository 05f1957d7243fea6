/* lg-sync add, list, remove and test: the integrations of the config file,
 * read and written through common/config.c only (locked, atomic, each entry
 * validated as every tool loads it). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "sync.h"
#include "timeutil.h"

#define NOTHING_CONFIGURED "no integration configured (lg-sync add, or set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)"

static int config_present(const sync_ctx *c)
{
	struct stat st;
	return stat(c->config, &st) == 0;
}

int sync_load(sync_ctx *c, lg_config *cfg)
{
	char err[1200];
	if (lg_config_read(cfg, config_present(c) ? c->config : NULL, LG_CONFIG_SKIP_BAD, err, sizeof err) != 0) {
		lg_err("config: %s", err);
		return LG_EXIT_USAGE;
	}
	for (size_t i = 0; i < cfg->nbad; i++)
		lg_err("config: %s (integration skipped)", cfg->bad[i].msg);
	return 0;
}

/* Checks that each id names an integration; with none given, every valid
 * one. A skipped (invalid, reported) entry is left out and counted in
 * *skipped. Returns 0 or LG_EXIT_USAGE (message printed); *ids_out is
 * malloc'd. */
static int sync_pick(const lg_config *cfg, char **ids, int nids, const char ***ids_out, int *n_out, int *skipped)
{
	*skipped = nids ? 0 : (int)cfg->nbad;
	const char **out = calloc((size_t)(nids ? nids : (int)cfg->n) + 1, sizeof *out);
	int n = 0;
	if (!out)
		return lg_err("out of memory"), LG_EXIT_BAD;
	for (int i = 0; i < nids; i++) {
		if (!lg_config_find(cfg, ids[i]) && !lg_config_find_bad(cfg, ids[i])) {
			free(out);
			lg_err("unknown integration '%s'", ids[i]);
			return LG_EXIT_USAGE;
		}
		if (lg_config_find(cfg, ids[i]))
			out[n++] = ids[i];
		else
			++*skipped;
	}
	if (nids == 0)
		for (size_t i = 0; i < cfg->n; i++)
			out[n++] = cfg->items[i].id;
	if (n == 0 && nids == 0 && cfg->nbad == 0) {
		free(out);
		lg_err(NOTHING_CONFIGURED);
		return LG_EXIT_USAGE;
	}
	*ids_out = out;
	*n_out = n;
	return 0;
}

int sync_select(sync_ctx *c, lg_config *cfg, char **ids, int nids, const char ***ids_out, int *n_out, int *skipped)
{
	int rc = sync_load(c, cfg);
	if (rc)
		return rc;
	rc = sync_pick(cfg, ids, nids, ids_out, n_out, skipped);
	if (rc)
		lg_config_free(cfg);
	return rc;
}

/* ---- add ---- */

typedef struct {
	const char *id, *name, *pk, *interval, *lookback, *batch, *keyfile;
	char *host;
	char *secret;
	int auto_sync;
} add_opts;

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", s[0]))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static cJSON *raw_entry(const cJSON *root, const char *id)
{
	const cJSON *list = lg_json_get(root, "integrations");
	for (cJSON *o = list ? list->child : NULL; o; o = o->next) {
		const char *s = lg_json_str(o, "id");
		if (s && strcmp(s, id) == 0)
			return o;
	}
	return NULL;
}

static int add_edit(cJSON *root, const char *path, void *arg, char *err, size_t errlen)
{
	const add_opts *a = arg;
	cJSON *list = lg_json_get(root, "integrations");
	if (raw_entry(root, a->id)) {
		snprintf(err, errlen, "add: integration '%s' exists (lg-sync remove %s first)", a->id, a->id);
		return LG_EXIT_USAGE;
	}
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "id", cJSON_CreateString(a->id));
	lg_json_set(o, "name", cJSON_CreateString(a->name));
	lg_json_set(o, "publicKey", cJSON_CreateString(a->pk));
	if (a->keyfile)
		lg_json_set(o, "secretKeyFile", cJSON_CreateString(a->keyfile));
	else
		lg_json_set(o, "secretKey", cJSON_CreateString(a->secret));
	lg_json_set(o, "host", cJSON_CreateString(a->host));
	lg_json_set(o, "autoSync", cJSON_CreateBool(a->auto_sync));
	lg_json_set(o, "interval", cJSON_CreateString(a->interval));
	lg_json_set(o, "lookback", cJSON_CreateString(a->lookback));
	if (a->batch)
		lg_json_set(o, "batchSize", lg_json_int(atol(a->batch)));
	/* The loader's own check: what add writes, every tool can load. */
	char why[1100];
	int rc = lg_config_check_entry(o, path, (size_t)cJSON_GetArraySize(list), why, sizeof why);
	if (rc) {
		snprintf(err, errlen, "add: %s", why);
		cJSON_Delete(o);
		return rc;
	}
	cJSON_AddItemToArray(list, o);
	return 0;
}

/* The secret from stdin: not echoed on a terminal. */
static char *read_secret(const char *id)
{
	struct termios old, quiet;
	int tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		fprintf(stderr, "Secret key for %s: ", id);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void wipe_free(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

static int add_check(add_opts *a, const char *host)
{
	char why[600];
	int64_t ms;
	if (!a->id)
		return lg_usage_error("add: missing ID");
	if (!valid_id(a->id))
		return lg_usage_error("add: invalid ID '%s' (letters, digits, '_', '.', '-')", a->id);
	if (!a->pk)
		return lg_usage_error("add: missing --public-key");
	if (!a->name)
		a->name = a->id;
	char masked_host[600];
	lg_url_mask(host, masked_host, sizeof masked_host);
	if (strcmp(masked_host, host) != 0) /* never repeated: it may hold a key */
		return lg_usage_error("add: --host must not hold credentials (user:password@); "
				      "give the keys with --public-key and the secret on stdin");
	if (lg_host_normalize(host, &a->host, why, sizeof why) != 0) {
		size_t n = strlen(host);
		const char *reason = strncmp(why, host, n) == 0 && why[n] == ':' ? why + n + 2 : why;
		return lg_usage_error("add: --host '%s': %s", host, reason);
	}
	if (lg_duration_parse(a->interval, &ms) != 0 || ms <= 0)
		return lg_usage_error("add: invalid --interval '%s' (e.g. 5m)", a->interval);
	if (lg_duration_parse(a->lookback, &ms) != 0 || ms <= 0)
		return lg_usage_error("add: invalid --lookback '%s' (e.g. 7d)", a->lookback);
	if (a->batch) {
		char *end;
		long b = strtol(a->batch, &end, 10);
		if (*end || b < 1 || b > 1000 || a->batch[0] < '1' || a->batch[0] > '9')
			return lg_usage_error("add: invalid --batch-size '%s' (1 to 1000)", a->batch);
	}
	return 0;
}

static int add_secret(add_opts *a, char *keyfile_real, size_t len)
{
	if (a->keyfile) {
		struct stat st;
		if (access(a->keyfile, R_OK) != 0 || stat(a->keyfile, &st) != 0) {
			lg_err("add: cannot read %s", a->keyfile);
			return LG_EXIT_USAGE;
		}
		if (st.st_mode & 077) {
			lg_err("add: %s is readable by others (chmod 600 %s)", a->keyfile, a->keyfile);
			return LG_EXIT_USAGE;
		}
		if (!realpath(a->keyfile, keyfile_real) || strlen(keyfile_real) >= len) {
			lg_err("add: %s: %s", a->keyfile, strerror(errno));
			return LG_EXIT_USAGE;
		}
		a->keyfile = keyfile_real;
		return 0;
	}
	a->secret = read_secret(a->id);
	if (!a->secret || !*a->secret) {
		lg_err("add: no secret key on stdin (or use --secret-key-file)");
		return LG_EXIT_USAGE;
	}
	if (strncmp(a->secret, "sk-lf-", 6) != 0)
		lg_err("warning: secret key does not start with sk-lf-");
	return 0;
}

enum { OPT_NAME = 256, OPT_PK, OPT_HOST, OPT_INTERVAL, OPT_LOOKBACK, OPT_BATCH, OPT_KEYFILE, OPT_NOAUTO, OPT_JSON };

static int bad_opt(int opt, char **argv)
{
	return lg_bad_option(opt, optopt, argv[optind - 1]);
}

/* getopt_long's required argument, refused when empty as a missing one. */
static int need(const char *opt)
{
	if (*optarg)
		return 0;
	return lg_usage_error("option '%s' requires an argument", opt);
}

int cmd_add(sync_ctx *c, int argc, char **argv)
{
	static const struct option add_longopts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "public-key", required_argument, NULL, OPT_PK },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "lookback", required_argument, NULL, OPT_LOOKBACK },
		{ "batch-size", required_argument, NULL, OPT_BATCH },
		{ "secret-key-file", required_argument, NULL, OPT_KEYFILE },
		{ "no-auto-sync", no_argument, NULL, OPT_NOAUTO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	add_opts a = { .interval = "5m", .lookback = "7d", .auto_sync = 1 };
	const char *host = LG_DEFAULT_HOST;
	int opt, rc = 0;
	/* A secret never travels in argv (ps shows it): refused by name. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--secret-key") == 0 || strncmp(argv[i], "--secret-key=", 13) == 0)
			return lg_usage_error("a secret key is never given in argv: pipe it on stdin or use --secret-key-file");
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, ":h", add_longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_NAME: rc = need("--name"); a.name = optarg; break;
		case OPT_PK: rc = need("--public-key"); a.pk = optarg; break;
		case OPT_HOST: rc = need("--host"); host = optarg; break;
		case OPT_INTERVAL: rc = need("--interval"); a.interval = optarg; break;
		case OPT_LOOKBACK: rc = need("--lookback"); a.lookback = optarg; break;
		case OPT_BATCH: rc = need("--batch-size"); a.batch = optarg; break;
		case OPT_KEYFILE: rc = need("--secret-key-file"); a.keyfile = optarg; break;
		case OPT_NOAUTO: a.auto_sync = 0; break;
		case 'h': usage(); return 0;
		default: return bad_opt(opt, argv);
		}
	}
	if (rc)
		return rc;
	for (int i = optind; i < argc; i++) {
		if (a.id)
			return lg_usage_error("add: one ID only");
		a.id = argv[i];
	}
	if ((rc = add_check(&a, host)) != 0) {
		free(a.host);
		return rc;
	}
	lg_config cfg;
	char err[1200], keyfile[PATH_MAX];
	/* The whole file must be sound (JSON, private) before it is changed;
	 * its other entries' problems are not add's. */
	if (config_present(c) && lg_config_read(&cfg, c->config, LG_CONFIG_SKIP_BAD, err, sizeof err) != 0) {
		free(a.host);
		lg_err("config: %s", err);
		return LG_EXIT_USAGE;
	}
	int exists = config_present(c) && cfg.json && raw_entry(cfg.json, a.id);
	if (config_present(c))
		lg_config_free(&cfg);
	if (exists) {
		free(a.host);
		lg_err("add: integration '%s' exists (lg-sync remove %s first)", a.id, a.id);
		return LG_EXIT_USAGE;
	}
	if (strncmp(a.pk, "pk-lf-", 6) != 0)
		lg_err("warning: public key does not start with pk-lf-");
	rc = add_secret(&a, keyfile, sizeof keyfile);
	if (rc == 0) {
		rc = lg_config_edit(c->config, add_edit, &a, err, sizeof err);
		if (rc)
			lg_err("%s", err);
		else
			lg_err("added %s (%s) to %s", a.id, a.host, c->config);
	}
	wipe_free(a.secret);
	free(a.host);
	return rc;
}

/* ---- remove ---- */

static int remove_edit(cJSON *root, const char *path, void *arg, char *err, size_t errlen)
{
	const char *id = arg;
	cJSON *list = lg_json_get(root, "integrations");
	cJSON *o = raw_entry(root, id);
	if (!o) {
		snprintf(err, errlen, "remove: no integration '%s' in %s", id, path);
		return LG_EXIT_USAGE;
	}
	cJSON_Delete(cJSON_DetachItemViaPointer(list, o));
	return 0;
}

int cmd_remove(sync_ctx *c, int argc, char **argv)
{
	static const struct option remove_longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	char *id = NULL;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", remove_longopts, NULL)) != -1) {
		if (opt == 'h')
			return usage(), 0;
		return bad_opt(opt, argv);
	}
	for (int i = optind; i < argc; i++) {
		if (id)
			return lg_usage_error("remove: one ID only");
		id = argv[i];
	}
	if (!id)
		return lg_usage_error("remove: missing ID");
	char err[1200];
	if (!config_present(c)) {
		lg_err("remove: no integration '%s' in %s", id, c->config);
		return LG_EXIT_USAGE;
	}
	lg_config cfg;
	if (lg_config_read(&cfg, c->config, LG_CONFIG_SKIP_BAD, err, sizeof err) != 0) {
		lg_err("config: %s", err);
		return LG_EXIT_USAGE;
	}
	lg_config_free(&cfg);
	int rc = lg_config_edit(c->config, remove_edit, id, err, sizeof err);
	if (rc)
		lg_err("%s", err);
	else
		lg_err("removed %s (its stored traces stay in %s)", id, c->db);
	return rc;
}

/* ---- list ---- */

/* The entry as list shows it: the file's object, its inline secret masked,
 * and credentials in its host (refused by every tool, but a hand-edited
 * file may hold them) never shown. */
cJSON *integration_masked(const cJSON *raw)
{
	cJSON *o = cJSON_Duplicate(raw, 1);
	const char *sk = lg_json_str(raw, "secretKey"), *host = lg_json_str(raw, "host");
	if (o && sk) {
		char m[64];
		lg_mask_secret(sk, m, sizeof m);
		lg_json_set(o, "secretKey", cJSON_CreateString(m));
	}
	if (o && host) {
		char m[4200];
		lg_url_mask(host, m, sizeof m);
		lg_json_set(o, "host", cJSON_CreateString(m));
	}
	return o;
}

cJSON *integration_env_entry(void)
{
	const char *pk = getenv("LANGFUSE_PUBLIC_KEY"), *host = getenv("LANGFUSE_HOST");
	if (!pk || !*pk)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "id", cJSON_CreateString("default"));
	lg_json_set(o, "name", cJSON_CreateString("LANGFUSE_* environment"));
	lg_json_set(o, "publicKey", cJSON_CreateString(pk));
	lg_json_set(o, "secretKeyEnv", cJSON_CreateString("LANGFUSE_SECRET_KEY"));
	char m[4200];
	lg_url_mask(host && *host ? host : LG_DEFAULT_HOST, m, sizeof m);
	lg_json_set(o, "host", cJSON_CreateString(m));
	return o;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = lg_json_str(o, key);
	return s ? s : dflt;
}

static void list_row(const cJSON *o, int json)
{
	if (json) {
		char *s = lg_json_to_string(o);
		if (s)
			puts(s);
		free(s);
		return;
	}
	char secret[4200];
	const char *id = str_or(o, "id", "");
	if (lg_json_str(o, "secretKey"))
		snprintf(secret, sizeof secret, "%s", lg_json_str(o, "secretKey"));
	else if (lg_json_str(o, "secretKeyFile"))
		snprintf(secret, sizeof secret, "file:%s", lg_json_str(o, "secretKeyFile"));
	else if (lg_json_str(o, "secretKeyEnv"))
		snprintf(secret, sizeof secret, "env:%s", lg_json_str(o, "secretKeyEnv"));
	else
		snprintf(secret, sizeof secret, "-");
	printf("%-16s %-24s %-34s %-5s %-8s %s\n", id, str_or(o, "name", id), str_or(o, "host", LG_DEFAULT_HOST),
	       cJSON_IsFalse(lg_json_get(o, "autoSync")) ? "no" : "yes", str_or(o, "interval", "5m"), secret);
}

int cmd_list(sync_ctx *c, int argc, char **argv)
{
	static const struct option list_longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, json = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", list_longopts, NULL)) != -1) {
		if (opt == OPT_JSON)
			json = 1;
		else if (opt == 'h')
			return usage(), 0;
		else
			return bad_opt(opt, argv);
	}
	if (optind < argc)
		return lg_usage_error("list: unexpected argument '%s'", argv[optind]);
	if (!json)
		printf("%-16s %-24s %-34s %-5s %-8s %s\n", "ID", "NAME", "HOST", "AUTO", "INTERVAL", "SECRET");
	if (!config_present(c)) {
		cJSON *o = integration_env_entry();
		if (o)
			list_row(o, json);
		cJSON_Delete(o);
		return 0;
	}
	/* Every entry of the file, the bad ones too (reported on stderr):
	 * list is where one looks for them. */
	lg_config cfg;
	int rc = sync_load(c, &cfg);
	if (rc)
		return rc;
	const cJSON *list = lg_json_get(cfg.json, "integrations");
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		cJSON *o = cJSON_IsObject(e) ? integration_masked(e) : NULL;
		if (o)
			list_row(o, json);
		cJSON_Delete(o);
	}
	lg_config_free(&cfg);
	return 0;
}

/* ---- test ---- */

int cmd_test(sync_ctx *c, int argc, char **argv)
{
	static const struct option test_longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	const char *id = NULL;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", test_longopts, NULL)) != -1) {
		if (opt == 'h')
			return usage(), 0;
		return bad_opt(opt, argv);
	}
	for (int i = optind; i < argc; i++) {
		if (id)
			return lg_usage_error("test: one ID only");
		id = argv[i];
	}
	lg_config cfg;
	int rc = sync_load(c, &cfg);
	if (rc)
		return rc;
	char idbuf[256] = "";
	if (!id && cfg.n + cfg.nbad > 0) {
		const char *first = lg_json_str(lg_json_get(cfg.json, "integrations") ?
			lg_json_get(cfg.json, "integrations")->child : NULL, "id");
		snprintf(idbuf, sizeof idbuf, "%s", cfg.json ? (first ? first : "") : cfg.items[0].id);
		id = idbuf;
	}
	if (!id || !*id) {
		lg_config_free(&cfg);
		lg_err(NOTHING_CONFIGURED);
		return LG_EXIT_USAGE;
	}
	int known = lg_config_find(&cfg, id) || lg_config_find_bad(&cfg, id);
	lg_config_free(&cfg);
	if (!known) {
		lg_err("unknown integration '%s'", id);
		return LG_EXIT_USAGE;
	}
	char path[PATH_MAX];
	const char *args[] = { tool_path("lg-fetch", path, sizeof path), "--integration", id, "--test", NULL };
	union { const char *const *c; char *const *m; } av = { args };
	fflush(NULL);
	execvp(args[0], av.m);
	lg_err("cannot run %s: %s", args[0], strerror(errno));
	return LG_EXIT_BAD;
}
