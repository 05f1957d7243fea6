/* common/config: file over environment, defaults, normalised hosts, secret
 * sources, permission refusal, errors naming the file and the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "json.h"
#include "t.h"
#include "timeutil.h"

static char dir[] = "/tmp/lg-config-test.XXXXXX";

static const char *write_file(const char *name, const char *text, int mode)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

/* Loads text as the config file; returns the status, err filled. */
static int load(lg_config *c, const char *text, int mode, char *err)
{
	const char *p = write_file("config.json", text, mode);
	return lg_config_load_file(c, p, err, 512);
}

static void test_host(void)
{
	char *h = NULL, err[512];
	T_INT(lg_host_normalize("https://lf.example.com/langfuse/", &h, err, sizeof err), 0, "host: path prefix");
	T_STR(h, "https://lf.example.com/langfuse", "host: trailing slash removed, prefix kept");
	free(h);
	T_INT(lg_host_normalize("HTTPS://Lf.Example.com/LF/", &h, err, sizeof err), 0, "host: upper-case scheme");
	T_STR(h, "https://Lf.Example.com/LF", "host: scheme lower-cased, the rest as written");
	free(h);
	T_INT(lg_host_normalize("cloud.langfuse.com", &h, err, sizeof err), 2, "host: scheme required");
	T_STR(err, "cloud.langfuse.com: scheme required (http:// or https://)", "host: scheme message");
	T_INT(lg_host_normalize("ftp://x", &h, err, sizeof err), 2, "host: ftp refused");
	T_INT(lg_host_normalize("https://", &h, err, sizeof err), 2, "host: empty host refused");
	T_INT(lg_host_normalize("http://127.0.0.1:", &h, err, sizeof err), 2, "host: empty port refused");
	T_STR(err, "http://127.0.0.1:: port missing after ':'", "host: empty port message");
	T_INT(lg_host_normalize("http://127.0.0.1:/langfuse", &h, err, sizeof err), 2, "host: empty port before a path");
	T_INT(lg_host_normalize("http://h:80x", &h, err, sizeof err), 2, "host: port not a number");
	T_STR(err, "http://h:80x: port must be a number from 1 to 65535", "host: bad port message");
	T_INT(lg_host_normalize("http://h:0", &h, err, sizeof err), 2, "host: port 0 refused");
	T_INT(lg_host_normalize("http://h:65536", &h, err, sizeof err), 2, "host: port above 65535 refused");
	T_INT(lg_host_normalize("http://:3000", &h, err, sizeof err), 2, "host: port without a host refused");
	T_INT(lg_host_normalize("http://::1:3000", &h, err, sizeof err), 2, "host: bare IPv6 refused");
	T_INT(lg_host_normalize("http://[::1", &h, err, sizeof err), 2, "host: unclosed IPv6 bracket");
	T_INT(lg_host_normalize("http://[::1]x", &h, err, sizeof err), 2, "host: junk after IPv6");
	T_INT(lg_host_normalize("http://127.0.0.1:3000/", &h, err, sizeof err), 0, "host: a port");
	T_STR(h, "http://127.0.0.1:3000", "host: port kept");
	free(h);
	T_INT(lg_host_normalize("http://[::1]:65535/lf", &h, err, sizeof err), 0, "host: IPv6 with a port");
	T_STR(h, "http://[::1]:65535/lf", "host: IPv6 kept");
	free(h);
	T_INT(lg_host_normalize("https://[::1]", &h, err, sizeof err), 0, "host: IPv6 without a port");
	free(h);
}

static void test_file(void)
{
	lg_config c;
	char err[512];
	setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-env", 1);
	setenv("LANGFUSE_SECRET_KEY", "sk-lf-env", 1);
	int rc = load(&c, "{\"integrations\":[{\"id\":\"prod\",\"name\":\"Production\",\"publicKey\":\"pk-lf-1\","
		      "\"secretKey\":\"sk-lf-1\",\"autoSync\":false,\"interval\":\"5m\",\"lookback\":\"7d\",\"batchSize\":100},"
		      "{\"id\":\"dev\",\"publicKey\":\"pk-lf-2\",\"secretKeyEnv\":\"DEV_SK\",\"host\":\"http://localhost:3000/\"}]}",
		      0600, err);
	T_INT(rc, 2, "file: secretKeyEnv unset is an error");
	T_OK(strstr(err, "config.json: integrations[1].secretKeyEnv: variable DEV_SK is not set") != NULL,
	     "file: error names file and field");
	setenv("DEV_SK", "sk-lf-dev", 1);
	rc = load(&c, "{\"integrations\":[{\"id\":\"prod\",\"name\":\"Production\",\"publicKey\":\"pk-lf-1\","
		  "\"secretKey\":\"sk-lf-1\",\"autoSync\":false,\"interval\":\"5m\",\"lookback\":\"7d\",\"batchSize\":100},"
		  "{\"id\":\"dev\",\"publicKey\":\"pk-lf-2\",\"secretKeyEnv\":\"DEV_SK\",\"host\":\"http://localhost:3000/\"}]}",
		  0600, err);
	T_INT(rc, 0, "file: loads");
	T_INT(c.n, 2, "file wins over the environment");
	lg_integration *p = lg_config_find(&c, "prod"), *d = lg_config_find(&c, "dev");
	T_OK(p && d, "file: find by id");
	T_STR(p->host, "https://cloud.langfuse.com", "file: default host");
	T_STR(p->name, "Production", "file: name");
	T_INT(p->auto_sync, 0, "file: autoSync");
	T_INT(p->interval_ms, 300000, "file: interval");
	T_INT(p->lookback_ms, 7 * 86400000LL, "file: lookback");
	T_INT(p->batch_size, 100, "file: batchSize");
	T_STR(d->secret_key, "sk-lf-dev", "file: secretKeyEnv");
	T_STR(d->host, "http://localhost:3000", "file: host normalised");
	T_STR(d->name, "dev", "file: name defaults to id");
	T_INT(d->auto_sync, 1, "file: autoSync defaults to true");
	lg_config_free(&c);

	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"sk\"}]}", 0644, err), 2,
	      "file: inline secret readable by others refused");
	T_OK(strstr(err, "holds secretKey but is readable by group or others") != NULL, "file: permission message");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKeyEnv\":\"DEV_SK\"}]}", 0644, err), 0,
	      "file: no secret inside, readable is fine");
	lg_config_free(&c);
	char skf[256];
	snprintf(skf, sizeof skf, "%s", write_file("sk", "  sk-lf-file \n", 0600));
	char text[600];
	snprintf(text, sizeof text, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKeyFile\":\"%s\"}]}", skf);
	T_INT(load(&c, text, 0600, err), 0, "file: secretKeyFile");
	T_STR(c.items[0].secret_key, "sk-lf-file", "file: secretKeyFile trimmed");
	lg_config_free(&c);
	chmod(skf, 0644);
	T_INT(load(&c, text, 0600, err), 2, "file: readable secretKeyFile refused");
	T_OK(strstr(err, "integrations[0].secretKeyFile:") != NULL, "file: secretKeyFile error names the field");

	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"host\":\"x.com\"}]}", 0600, err), 2,
	      "file: host without scheme");
	T_OK(strstr(err, "integrations[0].host: x.com: scheme required") != NULL, "file: host error names the field");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"secretKeyEnv\":\"X\"}]}", 0600, err), 2,
	      "file: two secret sources");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\"},{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\"}]}", 0600, err), 2,
	      "file: duplicate id");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"secretKey\":\"s\"}]}", 0600, err), 2, "file: publicKey required");
	T_OK(strstr(err, "integrations[0].publicKey: required") != NULL, "file: publicKey message");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"batchSize\":0}]}", 0600, err), 2,
	      "file: batchSize range");
	T_INT(load(&c, "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"interval\":\"soon\"}]}", 0600, err), 2,
	      "file: bad interval");
	T_INT(load(&c, "{\"integrations\":[", 0600, err), 2, "file: invalid JSON");
	T_OK(strstr(err, "config.json: invalid JSON at byte") != NULL, "file: invalid JSON names the file");
	T_INT(load(&c, "{}", 0600, err), 2, "file: integrations required");
}

static void test_env(void)
{
	lg_config c;
	char err[512];
	char xdg[300];
	snprintf(xdg, sizeof xdg, "%s/none", dir);
	unsetenv("LG_CONFIG");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-env", 1);
	setenv("LANGFUSE_SECRET_KEY", "sk-lf-env", 1);
	setenv("LANGFUSE_HOST", "https://us.cloud.langfuse.com/", 1);
	T_INT(lg_config_load(&c, err, sizeof err), 0, "env: loads");
	T_OK(c.n == 1 && !c.path, "env: one integration, no file");
	T_STR(c.items[0].id, "default", "env: id default");
	T_STR(c.items[0].host, "https://us.cloud.langfuse.com", "env: host normalised");
	lg_config_free(&c);
	unsetenv("LANGFUSE_HOST");
	T_INT(lg_config_load(&c, err, sizeof err), 0, "env: default host");
	T_STR(c.items[0].host, "https://cloud.langfuse.com", "env: cloud by default");
	lg_config_free(&c);
	unsetenv("LANGFUSE_SECRET_KEY");
	T_INT(lg_config_load(&c, err, sizeof err), 2, "env: public key without secret");
	T_STR(err, "environment: LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not", "env: message");
	unsetenv("LANGFUSE_PUBLIC_KEY");
	T_INT(lg_config_load(&c, err, sizeof err), 0, "env: nothing set");
	T_INT(c.n, 0, "env: no integration");
	lg_config_free(&c);
	setenv("LG_CONFIG", "/nonexistent/lg.json", 1);
	T_INT(lg_config_load(&c, err, sizeof err), 2, "LG_CONFIG missing file");
	T_STR(err, "/nonexistent/lg.json: No such file or directory", "LG_CONFIG missing file message");
	unsetenv("LG_CONFIG");
}

/* Credentials in a host URL: refused, never repeated; masked for printing;
 * secrets masked with Langfuse's own prefix. */
static void test_secrets(void)
{
	char *h = NULL, err[512], m[128];
	T_INT(lg_host_normalize("https://pk-lf-1:sk-lf-SECRET@h.example", &h, err, sizeof err), 2, "userinfo: refused");
	T_STR(err, "https://…: a host URL must not hold credentials (user:password@); give the keys as publicKey and secretKey",
	      "userinfo: message without the credentials");
	T_INT(lg_host_normalize("http://sk-lf-SECRET@127.0.0.1:3000/x", &h, err, sizeof err), 2, "userinfo: user alone refused");
	T_OK(!strstr(err, "SECRET"), "userinfo: user alone never echoed");
	T_INT(lg_host_normalize("https://h.example/p@th", &h, err, sizeof err), 0, "an @ in the path is no userinfo");
	free(h);
	lg_url_mask("https://u:p@h/x@y", m, sizeof m);
	T_STR(m, "https://***@h/x@y", "url mask");
	lg_url_mask("https://h/x", m, sizeof m);
	T_STR(m, "https://h/x", "url mask: nothing to mask");
	lg_mask_secret("sk-lf-11111111-2222-3333-4444-5555aaaa", m, sizeof m);
	T_STR(m, "sk-lf-…aaaa", "mask: the sk-lf- prefix kept");
	lg_mask_secret("pk-lf-abcdefgh1234", m, sizeof m);
	T_STR(m, "pk-lf-…1234", "mask: the pk-lf- prefix kept");
	lg_mask_secret("my-own-secret-value", m, sizeof m);
	T_STR(m, "…alue", "mask: no foreign prefix shown");
	lg_mask_secret("sk-lf-a", m, sizeof m);
	T_STR(m, "…", "mask: too short to show anything");
	int64_t ms = -1;
	T_INT(lg_seconds_to_ms(1.5, &ms), 0, "seconds: 1.5");
	T_INT(ms, 1500, "seconds: 1500 ms");
	T_INT(lg_seconds_to_ms(strtod("1e999", NULL), &ms), -1, "seconds: 1e999 (infinity) refused");
	T_INT(lg_seconds_to_ms(-1, &ms), -1, "seconds: negative refused");
	T_INT(lg_seconds_to_ms(0.0 / 0.0, &ms), -1, "seconds: NaN refused");
}

/* LG_CONFIG_SKIP_BAD: the bad entry's message kept, the others loaded. */
static void test_skip_bad(void)
{
	lg_config c;
	char err[512];
	const char *p = write_file("config.json",
		"{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\"},"
		"{\"id\":\"b\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"host\":\"x.com\"},"
		"{\"publicKey\":\"pk\",\"secretKey\":\"s\"},"
		"{\"id\":\"d\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"overlap\":\"30m\"}]}", 0600);
	T_INT(lg_config_read(&c, p, LG_CONFIG_STRICT, err, sizeof err), 2, "skip: strict fails on the bad entry");
	T_INT(lg_config_read(&c, p, LG_CONFIG_SKIP_BAD, err, sizeof err), 0, "skip: lenient loads");
	T_INT(c.n, 2, "skip: the two good entries");
	T_OK(lg_config_find(&c, "a") && lg_config_find(&c, "d") && !lg_config_find(&c, "b"), "skip: good ones by id");
	T_INT(c.nbad, 2, "skip: two skipped");
	const lg_config_bad *b = lg_config_find_bad(&c, "b");
	T_OK(b && strstr(b->msg, "config.json: integrations[1].host: x.com: scheme required"), "skip: message names the entry");
	T_OK(c.bad[1].id == NULL && strstr(c.bad[1].msg, "integrations[2].id: required"), "skip: an entry without id");
	T_STR(lg_config_find(&c, "d")->overlap, "30m", "skip: overlap as written");
	T_OK(lg_config_find(&c, "a")->raw == c.json->child->child, "skip: raw points at the entry");
	lg_config_free(&c);
	p = write_file("config.json", "{\"integrations\":[{\"id\":\"a\",\"publicKey\":\"pk\",\"secretKey\":\"s\"},"
		       "{\"id\":\"b\",\"publicKey\":\"pk\",\"secretKey\":\"s\",\"host\":\"x.com\"}]}", 0640);
	T_INT(lg_config_read(&c, p, LG_CONFIG_SKIP_BAD, err, sizeof err), 2, "skip: a readable inline secret fails the file");
	T_OK(strstr(err, "holds secretKey but is readable by group or others") != NULL, "skip: whole-file message");
}

static int add_entry(cJSON *root, const char *path, void *arg, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "id", cJSON_CreateString(arg));
	lg_json_set(o, "publicKey", cJSON_CreateString("pk"));
	lg_json_set(o, "secretKey", cJSON_CreateString("sk-lf-1"));
	int rc = lg_config_check_entry(o, path, 0, err, errlen);
	if (rc == 0)
		cJSON_AddItemToArray(lg_json_get(root, "integrations"), o);
	else
		cJSON_Delete(o);
	return rc;
}

static int refuse(cJSON *root, const char *path, void *arg, char *err, size_t errlen)
{
	snprintf(err, errlen, "refused");
	return 2;
}

/* lg_config_edit: created private, each edit kept, a refusal writes nothing. */
static void test_edit(void)
{
	char path[300], err[512], one[] = "one", two[] = "two", none[] = "", x[] = "x";
	struct stat st;
	lg_config c;
	snprintf(path, sizeof path, "%s/new/dir/config.json", dir);
	T_INT(lg_config_edit(path, add_entry, one, err, sizeof err), 0, "edit: creates the file");
	T_INT(lg_config_edit(path, add_entry, two, err, sizeof err), 0, "edit: second entry");
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "edit: file 0600");
	char d[300];
	snprintf(d, sizeof d, "%s/new/dir", dir);
	T_OK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700, "edit: directory 0700");
	T_INT(lg_config_edit(path, refuse, NULL, err, sizeof err), 2, "edit: refusal returned");
	T_INT(lg_config_edit(path, add_entry, none, err, sizeof err), 2, "edit: entry the loader refuses");
	T_INT(lg_config_load_file(&c, path, err, sizeof err), 0, "edit: result loads");
	T_OK(c.n == 2 && lg_config_find(&c, "one") && lg_config_find(&c, "two"), "edit: both entries, nothing else");
	lg_config_free(&c);
	const char *bad = write_file("broken.json", "{\"integrations\":", 0600);
	T_INT(lg_config_edit(bad, add_entry, x, err, sizeof err), 2, "edit: invalid file left alone");
	T_OK(strstr(err, "invalid JSON") != NULL, "edit: invalid file message");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_host();
	test_secrets();
	test_file();
	test_env();
	test_skip_bad();
	test_edit();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
