/* Integrations configuration: see config.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "json.h"
#include "private.h"
#include "timeutil.h"

#define CONFIG_MAX_BYTES (1 << 20)

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return LG_EXIT_USAGE;
}

/* The port of host[:port] or [v6]:port, when there is a ':': 1 to 65535
 * in digits ("http://127.0.0.1:" would reach port 80 by accident). */
static int check_port(const char *in, const char *authority, char *err, size_t errlen)
{
	size_t len = strcspn(authority, "/");
	const char *end = authority + len, *host_end = authority;
	if (*authority == '[') {
		host_end = memchr(authority, ']', len);
		if (!host_end)
			return fail(err, errlen, "%s: ']' missing after the IPv6 address", in);
		if (host_end + 1 < end && host_end[1] != ':')
			return fail(err, errlen, "%s: only ':port' may follow the IPv6 address", in);
	}
	const char *colon = memchr(host_end, ':', (size_t)(end - host_end));
	if (*authority != '[' && colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
		return fail(err, errlen, "%s: an IPv6 address needs brackets ([::1]:3000)", in);
	if (!colon)
		return 0;
	if (colon == authority)
		return fail(err, errlen, "%s: host name missing", in);
	long port = 0;
	const char *p = colon + 1;
	if (p == end)
		return fail(err, errlen, "%s: port missing after ':'", in);
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || (port = port * 10 + (*p - '0')) > 65535)
			return fail(err, errlen, "%s: port must be a number from 1 to 65535", in);
	}
	if (port == 0)
		return fail(err, errlen, "%s: port must be a number from 1 to 65535", in);
	return 0;
}

/* The length of "user:password@" at the start of authority, or 0. */
static size_t userinfo_len(const char *authority)
{
	size_t len = strcspn(authority, "/?#");
	const char *at = memchr(authority, '@', len);
	while (at && memchr(at + 1, '@', len - (size_t)(at + 1 - authority)))
		at = memchr(at + 1, '@', len - (size_t)(at + 1 - authority));
	return at ? (size_t)(at - authority) + 1 : 0;
}

static const char *after_scheme(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? p + 3 : NULL;
}

void lg_url_mask(const char *url, char *out, size_t n)
{
	const char *a = after_scheme(url);
	size_t u = a ? userinfo_len(a) : 0;
	if (!u)
		snprintf(out, n, "%s", url);
	else
		snprintf(out, n, "%.*s***@%s", (int)(a - url), url, a + u);
}

int lg_host_normalize(const char *in, char **out, char *err, size_t errlen)
{
	const char *rest;
	if (strncasecmp(in, "https://", 8) == 0)
		rest = in + 8;
	else if (strncasecmp(in, "http://", 7) == 0)
		rest = in + 7;
	else if (after_scheme(in) && userinfo_len(after_scheme(in)))
		return fail(err, errlen, "a host URL must not hold credentials (user:password@), and needs "
			    "http:// or https://");
	else
		return fail(err, errlen, "%s: scheme required (http:// or https://)", in);
	/* Never echoed: what stands before '@' is often a key. */
	if (userinfo_len(rest))
		return fail(err, errlen, "%.*s…: a host URL must not hold credentials (user:password@); "
			    "give the keys as publicKey and secretKey", (int)(rest - in), in);
	if (*rest == '\0' || *rest == '/')
		return fail(err, errlen, "%s: host name missing", in);
	if (strpbrk(in, "?# \t\r\n"))
		return fail(err, errlen, "%s: a host URL takes no query, fragment or white space", in);
	if (check_port(in, rest, err, errlen))
		return LG_EXIT_USAGE;
	size_t n = strlen(in);
	while (n > (size_t)(rest - in) && in[n - 1] == '/')
		n--;
	*out = strndup(in, n);
	if (!*out)
		return fail(err, errlen, "out of memory");
	/* "HTTPS://" is "https://" (schemes are case-insensitive): one spelling
	 * for everything that compares hosts. */
	for (char *p = *out; p < *out + (rest - in); p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* 0 when path is not readable by group or others. */
static int check_private(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return fail(err, errlen, "%s: holds %s but is readable by group or others (chmod 600 %s)",
			    path, what, path);
	return 0;
}

int lg_secret_from_file(const char *path, char **out, char *err, size_t errlen)
{
	int rc = check_private(path, "a secret key", err, errlen);
	if (rc)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	char line[4096];
	char *got = fgets(line, sizeof line, f);
	fclose(f);
	if (!got)
		return fail(err, errlen, "%s: empty secret key file", path);
	char *s = line, *e = line + strlen(line);
	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == s)
		return fail(err, errlen, "%s: empty secret key file", path);
	*out = strndup(s, (size_t)(e - s));
	return *out ? 0 : fail(err, errlen, "out of memory");
}

static void integration_free(lg_integration *it)
{
	free(it->id);
	free(it->name);
	free(it->public_key);
	if (it->secret_key) /* do not leave the secret in freed memory */
		memset(it->secret_key, 0, strlen(it->secret_key));
	free(it->secret_key);
	free(it->host);
	free(it->overlap);
	free(it->max_run_time);
	free(it->refetch_horizon);
	free(it->ship_to);
}

void lg_config_free(lg_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++)
		integration_free(&cfg->items[i]);
	for (size_t i = 0; i < cfg->nbad; i++) {
		free(cfg->bad[i].id);
		free(cfg->bad[i].msg);
	}
	free(cfg->bad);
	free(cfg->items);
	free(cfg->path);
	cJSON_Delete(cfg->json);
	memset(cfg, 0, sizeof *cfg);
}

const lg_config_bad *lg_config_find_bad(const lg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nbad; i++)
		if (cfg->bad[i].id && strcmp(cfg->bad[i].id, id) == 0)
			return &cfg->bad[i];
	return NULL;
}

lg_integration *lg_config_find(const lg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->items[i].id, id) == 0)
			return &cfg->items[i];
	return NULL;
}

static lg_integration *config_add(lg_config *cfg)
{
	lg_integration *p = realloc(cfg->items, (cfg->n + 1) * sizeof *p);
	if (!p)
		return NULL;
	cfg->items = p;
	memset(&p[cfg->n], 0, sizeof *p);
	p[cfg->n].auto_sync = 1;
	p[cfg->n].refetch_limit = -1;
	return &p[cfg->n++];
}

static int from_env(lg_config *cfg, const char *secret, char *err, size_t errlen)
{
	const char *pk = getenv("LANGFUSE_PUBLIC_KEY"), *sk = getenv("LANGFUSE_SECRET_KEY");
	const char *host = getenv("LANGFUSE_HOST");
	if ((!sk || !*sk) && secret)
		sk = secret;
	if (pk && !*pk)
		pk = NULL;
	if (sk && !*sk)
		sk = NULL;
	if (!pk && !sk)
		return 0;
	if (!pk || !sk)
		return fail(err, errlen, "environment: %s is set but %s is not",
			    pk ? "LANGFUSE_PUBLIC_KEY" : "LANGFUSE_SECRET_KEY",
			    pk ? "LANGFUSE_SECRET_KEY" : "LANGFUSE_PUBLIC_KEY");
	lg_integration *it = config_add(cfg);
	if (!it)
		return fail(err, errlen, "out of memory");
	char why[512];
	if (lg_host_normalize(host && *host ? host : LG_DEFAULT_HOST, &it->host, why, sizeof why))
		return fail(err, errlen, "environment: LANGFUSE_HOST: %s", why);
	it->id = strdup("default");
	it->name = strdup("default");
	it->public_key = strdup(pk);
	it->secret_key = strdup(sk);
	if (!it->id || !it->name || !it->public_key || !it->secret_key)
		return fail(err, errlen, "out of memory");
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(CONFIG_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES + 1, f) : 0;
	int bad = !buf || ferror(f);
	fclose(f);
	if (bad || n > CONFIG_MAX_BYTES) {
		fail(err, errlen, "%s: %s", path, !buf ? "out of memory" : n > CONFIG_MAX_BYTES ? "larger than 1 MiB" : "read error");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Optional string field; -1 (error set) when present but not a string. */
static int opt_str(const cJSON *o, const char *key, const char **out, const char *where,
		   char *err, size_t errlen)
{
	const cJSON *v = lg_json_get(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!lg_json_string(v) || !*lg_json_string(v)) {
		fail(err, errlen, "%s.%s: must be a non-empty string", where, key);
		return -1;
	}
	*out = lg_json_string(v);
	return 0;
}

static int opt_duration(const cJSON *o, const char *key, int64_t *out, const char *where,
			char *err, size_t errlen)
{
	const char *s;
	if (opt_str(o, key, &s, where, err, errlen))
		return -1;
	if (s && (lg_duration_parse(s, out) != 0 || *out <= 0)) {
		fail(err, errlen, "%s.%s: invalid duration '%s' (use e.g. 5m, 1h, 7d)", where, key, s);
		return -1;
	}
	return 0;
}

static int parse_secret(lg_integration *it, const cJSON *o, const char *where,
			char *err, size_t errlen)
{
	const char *sk, *skf, *ske;
	char why[512];
	if (opt_str(o, "secretKey", &sk, where, err, errlen) ||
	    opt_str(o, "secretKeyFile", &skf, where, err, errlen) ||
	    opt_str(o, "secretKeyEnv", &ske, where, err, errlen))
		return -1;
	if ((sk != NULL) + (skf != NULL) + (ske != NULL) != 1) {
		fail(err, errlen, "%s: exactly one of secretKey, secretKeyFile, secretKeyEnv required", where);
		return -1;
	}
	if (sk) {
		it->secret_key = strdup(sk);
	} else if (skf) {
		if (lg_secret_from_file(skf, &it->secret_key, why, sizeof why)) {
			fail(err, errlen, "%s.secretKeyFile: %s", where, why);
			return -1;
		}
	} else {
		const char *v = getenv(ske);
		if (!v || !*v) {
			fail(err, errlen, "%s.secretKeyEnv: variable %s is not set", where, ske);
			return -1;
		}
		it->secret_key = strdup(v);
	}
	if (!it->secret_key) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Parses entry o into *it (zeroed first); -1 with err set when invalid,
 * *it then holding whatever was filled (integration_free frees it). */
static int parse_integration(const lg_config *cfg, lg_integration *it, const cJSON *o,
			     const char *path, size_t idx, char *err, size_t errlen)
{
	char where[600], why[512];
	memset(it, 0, sizeof *it);
	it->auto_sync = 1;
	it->refetch_limit = -1;
	it->raw = o;
	snprintf(where, sizeof where, "%s: integrations[%zu]", path, idx);
	if (!cJSON_IsObject(o))
		return fail(err, errlen, "%s: must be an object", where), -1;
	const char *id, *name, *pk, *host, *overlap, *max_run, *horizon, *ship_to;
	if (opt_str(o, "id", &id, where, err, errlen) || opt_str(o, "name", &name, where, err, errlen) ||
	    opt_str(o, "publicKey", &pk, where, err, errlen) || opt_str(o, "host", &host, where, err, errlen) ||
	    opt_str(o, "overlap", &overlap, where, err, errlen) || opt_str(o, "maxRunTime", &max_run, where, err, errlen) ||
	    opt_str(o, "refetchHorizon", &horizon, where, err, errlen) ||
	    opt_str(o, "shipTo", &ship_to, where, err, errlen))
		return -1;
	if (!id)
		return fail(err, errlen, "%s.id: required", where), -1;
	if (cfg && lg_config_find(cfg, id))
		return fail(err, errlen, "%s.id: duplicate id '%s'", where, id), -1;
	if (!pk)
		return fail(err, errlen, "%s.publicKey: required", where), -1;
	it->id = strdup(id);
	it->name = strdup(name ? name : id);
	it->public_key = strdup(pk);
	if (!it->id || !it->name || !it->public_key)
		return fail(err, errlen, "out of memory"), -1;
	if (lg_host_normalize(host ? host : LG_DEFAULT_HOST, &it->host, why, sizeof why))
		return fail(err, errlen, "%s.host: %s", where, why), -1;
	const cJSON *as = lg_json_get(o, "autoSync");
	if (as && !cJSON_IsNull(as)) {
		if (!cJSON_IsBool(as))
			return fail(err, errlen, "%s.autoSync: must be true or false", where), -1;
		it->auto_sync = cJSON_IsTrue(as);
	}
	if (opt_duration(o, "interval", &it->interval_ms, where, err, errlen) ||
	    opt_duration(o, "lookback", &it->lookback_ms, where, err, errlen))
		return -1;
	int64_t ov;
	if (overlap && lg_duration_parse(overlap, &ov) != 0)
		return fail(err, errlen, "%s.overlap: invalid duration '%s' (use e.g. 15m)", where, overlap), -1;
	if (overlap && !(it->overlap = strdup(overlap)))
		return fail(err, errlen, "out of memory"), -1;
	if (max_run && (lg_duration_parse(max_run, &ov) != 0 || ov <= 0))
		return fail(err, errlen, "%s.maxRunTime: invalid duration '%s' (use e.g. 15m)", where, max_run), -1;
	if (max_run && !(it->max_run_time = strdup(max_run)))
		return fail(err, errlen, "out of memory"), -1;
	if (horizon && (lg_duration_parse(horizon, &ov) != 0 || ov <= 0))
		return fail(err, errlen, "%s.refetchHorizon: invalid duration '%s' (use e.g. 24h)", where, horizon), -1;
	if (horizon && !(it->refetch_horizon = strdup(horizon)))
		return fail(err, errlen, "out of memory"), -1;
	if (ship_to && strncmp(ship_to, "http://", 7) != 0 && strncmp(ship_to, "https://", 8) != 0)
		return fail(err, errlen, "%s.shipTo: want a ClickHouse URL, http(s)://host:port[/database]", where), -1;
	if (ship_to && !(it->ship_to = strdup(ship_to)))
		return fail(err, errlen, "out of memory"), -1;
	const cJSON *bs = lg_json_get(o, "batchSize"), *rl = lg_json_get(o, "refetchLimit");
	double d;
	if (rl && !cJSON_IsNull(rl)) {
		if (!lg_json_num(rl, &d) || d < 0 || d > 1000 || d != (double)(long)d)
			return fail(err, errlen, "%s.refetchLimit: must be an integer from 0 to 1000", where), -1;
		it->refetch_limit = (long)d;
	}
	if (bs && !cJSON_IsNull(bs)) {
		if (!lg_json_num(bs, &d) || d < 1 || d > 1000 || d != (double)(long)d)
			return fail(err, errlen, "%s.batchSize: must be an integer from 1 to 1000", where), -1;
		it->batch_size = (long)d;
	}
	return parse_secret(it, o, where, err, errlen);
}

int lg_config_check_entry(const cJSON *entry, const char *path, size_t index, char *err, size_t errlen)
{
	lg_integration it;
	int rc = parse_integration(NULL, &it, entry, path, index, err, errlen);
	integration_free(&it);
	return rc ? LG_EXIT_USAGE : 0;
}

static int add_bad(lg_config *cfg, const cJSON *o, const char *msg)
{
	lg_config_bad *p = realloc(cfg->bad, (cfg->nbad + 1) * sizeof *p);
	if (!p)
		return -1;
	cfg->bad = p;
	const char *id = lg_json_str(o, "id");
	p[cfg->nbad].id = id && *id ? strdup(id) : NULL;
	p[cfg->nbad].msg = strdup(msg);
	cfg->nbad++;
	return p[cfg->nbad - 1].msg ? 0 : -1;
}

/* A file holding an inline secret must be private, like ssh's keys: a
 * whole-file matter, so it fails the file rather than one entry. */
static int check_inline_secrets(const cJSON *list, const char *path, char *err, size_t errlen)
{
	for (const cJSON *o = list->child; o; o = o->next)
		if (cJSON_IsObject(o) && lg_json_get(o, "secretKey"))
			return check_private(path, "secretKey", err, errlen);
	return 0;
}

/* The parsed file; NULL with err set when it is not a JSON object with an
 * "integrations" array. */
static cJSON *read_json(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len, err, errlen);
	if (!text)
		return NULL;
	lg_json_error je;
	cJSON *root = lg_json_parse(text, len, &je);
	free(text);
	if (!root) {
		fail(err, errlen, "%s: invalid JSON at byte %zu: %s", path, je.offset, je.msg);
		return NULL;
	}
	if (!cJSON_IsObject(root))
		fail(err, errlen, "%s: must hold a JSON object", path);
	else if (!cJSON_IsArray(lg_json_get(root, "integrations")))
		fail(err, errlen, "%s: integrations: required, an array", path);
	else
		return root;
	cJSON_Delete(root);
	return NULL;
}

/* A config names the host its keys go to: one that others may rewrite, or
 * swap in a directory they may write to, is refused. */
static int check_not_shared(const char *path, char *err, size_t errlen)
{
	char dir[4096], why[4400];
	struct stat st;
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
	if (stat(dir, &st) != 0)
		return 0; /* reading the file says what is missing */
	if (lg_private_dir(dir, why, sizeof why) != 0)
		return fail(err, errlen, "%s: in a directory others may write to: %s", path, why);
	if (stat(path, &st) == 0 && (st.st_mode & 022))
		return fail(err, errlen, "%s: writable by group or others (chmod go-w %s)", path, path);
	return 0;
}

static int from_file(lg_config *cfg, const char *path, int flags, char *err, size_t errlen)
{
	cJSON *root = read_json(path, err, errlen);
	if (!root)
		return LG_EXIT_USAGE;
	cfg->json = root;
	const cJSON *list = lg_json_get(root, "integrations");
	if (check_inline_secrets(list, path, err, errlen))
		return LG_EXIT_USAGE;
	size_t i = 0;
	for (const cJSON *o = list->child; o; o = o->next, i++) {
		lg_integration it;
		if (parse_integration(cfg, &it, o, path, i, err, errlen) == 0) {
			lg_integration *slot = config_add(cfg);
			if (!slot) {
				integration_free(&it);
				return fail(err, errlen, "out of memory");
			}
			*slot = it;
			continue;
		}
		integration_free(&it);
		if (!(flags & LG_CONFIG_SKIP_BAD))
			return LG_EXIT_USAGE;
		if (add_bad(cfg, o, err))
			return fail(err, errlen, "out of memory");
	}
	return 0;
}

static int load(lg_config *cfg, const char *path, int flags, const char *secret, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	int rc;
	if (path) {
		if (!(cfg->path = strdup(path)))
			return fail(err, errlen, "out of memory");
		rc = check_not_shared(path, err, errlen);
		if (!rc)
			rc = from_file(cfg, path, flags, err, errlen);
	} else {
		rc = from_env(cfg, secret, err, errlen);
	}
	if (rc)
		lg_config_free(cfg);
	return rc;
}

int lg_config_read(lg_config *cfg, const char *path, int flags, char *err, size_t errlen)
{
	return load(cfg, path, flags, NULL, err, errlen);
}

int lg_config_load_file(lg_config *cfg, const char *path, char *err, size_t errlen)
{
	return load(cfg, path, LG_CONFIG_STRICT, NULL, err, errlen);
}

int lg_config_path(char *out, size_t outlen)
{
	const char *explicit_path = getenv("LG_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (explicit_path && *explicit_path)
		n = snprintf(out, outlen, "%s", explicit_path);
	else if (xdg && *xdg == '/')
		n = snprintf(out, outlen, "%s/langguard/config.json", xdg);
	else if (home && *home)
		n = snprintf(out, outlen, "%s/.config/langguard/config.json", home);
	else
		return -1;
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int lg_config_load_flags(lg_config *cfg, int flags, const char *secret, char *err, size_t errlen)
{
	const char *explicit_path = getenv("LG_CONFIG");
	char path[4096];
	struct stat st;
	if (explicit_path && *explicit_path)
		return load(cfg, explicit_path, flags, secret, err, errlen);
	if (lg_config_path(path, sizeof path) == 0 && stat(path, &st) == 0)
		return load(cfg, path, flags, secret, err, errlen);
	return load(cfg, NULL, flags, secret, err, errlen);
}

int lg_config_load(lg_config *cfg, char *err, size_t errlen)
{
	return lg_config_load_flags(cfg, LG_CONFIG_STRICT, NULL, err, errlen);
}

int lg_config_load_secret(lg_config *cfg, const char *secret, char *err, size_t errlen)
{
	return lg_config_load_flags(cfg, LG_CONFIG_STRICT, secret, err, errlen);
}

/* ---- writing ---- */

/* The file's text: one integration a line, so a diff shows which changed. */
static int print_config(lg_buf *b, const cJSON *root)
{
	int rc = lg_buf_adds(b, "{");
	for (const cJSON *m = root->child; m && !rc; m = m->next) {
		rc |= lg_buf_adds(b, m == root->child ? "\n  " : ",\n  ");
		rc |= lg_json_print_string(b, m->string, strlen(m->string));
		rc |= lg_buf_adds(b, ": ");
		if (strcmp(m->string, "integrations") != 0 || !cJSON_IsArray(m)) {
			rc |= lg_json_print(b, m);
			continue;
		}
		rc |= lg_buf_adds(b, "[");
		for (const cJSON *e = m->child; e; e = e->next) {
			rc |= lg_buf_adds(b, e == m->child ? "\n    " : ",\n    ");
			rc |= lg_json_print(b, e);
		}
		rc |= lg_buf_adds(b, m->child ? "\n  ]" : "]");
	}
	rc |= lg_buf_adds(b, "\n}\n");
	return rc ? -1 : 0;
}

static int write_atomic(const char *path, const cJSON *root, char *err, size_t errlen)
{
	lg_buf b = { 0 };
	char tmp[4200];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	snprintf(tmp, sizeof tmp, "%.*s/.config.json.XXXXXX", dirlen, slash ? path : ".");
	if (print_config(&b, root) != 0) {
		lg_buf_free(&b);
		return fail(err, errlen, "out of memory"), LG_EXIT_IO;
	}
	int fd = mkstemp(tmp);
	int ok = fd >= 0 && fchmod(fd, 0600) == 0;
	for (size_t off = 0; ok && off < b.len;) {
		ssize_t w = write(fd, b.data + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	int saved = errno;
	ok = ok && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		saved = errno ? errno : saved;
		if (fd >= 0)
			unlink(tmp);
	}
	lg_buf_free(&b);
	if (!ok)
		return fail(err, errlen, "%s: cannot write: %s", path, strerror(saved)), LG_EXIT_IO;
	return 0;
}

int lg_config_edit(const char *path, lg_config_edit_fn edit, void *arg, char *err, size_t errlen)
{
	char dir[4096], lock[4200];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash && slash != path && lg_mkdir_private(dir) != 0)
		return fail(err, errlen, "%s: cannot create: %s", dir, strerror(errno)), LG_EXIT_IO;
	snprintf(lock, sizeof lock, "%s.lock", path);
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0)
		return fail(err, errlen, "%s: %s", lock, strerror(errno)), LG_EXIT_IO;
	while (flock(lfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(lfd);
			return fail(err, errlen, "%s: lock: %s", lock, strerror(errno)), LG_EXIT_IO;
		}
	int rc;
	struct stat st;
	cJSON *root;
	if (stat(path, &st) == 0)
		root = read_json(path, err, errlen);
	else if (errno == ENOENT)
		root = lg_json_parse("{\"integrations\":[]}", 19, &(lg_json_error){ 0 });
	else
		root = NULL, fail(err, errlen, "%s: %s", path, strerror(errno));
	if (!root)
		rc = LG_EXIT_USAGE;
	else if ((rc = edit(root, path, arg, err, errlen)) == 0)
		rc = write_atomic(path, root, err, errlen);
	cJSON_Delete(root);
	close(lfd); /* releases the lock */
	return rc;
}
