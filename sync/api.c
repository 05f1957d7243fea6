/* The API's endpoints (docs/api.md): each request routed, its
 * parameters checked, the store asked through the lg-store command (one
 * child process per query, its stdout read line by line), the answer
 * shaped. Nothing here talks HTTP: serve.c does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "proc.h"
#include "serve.h"
#include "timeutil.h"
#include "utf8.h"

extern char **environ;

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
/* A page of traces stops growing past this many bytes of JSON (it always
 * holds one trace): memory per request stays bounded with large records. */
#define PAGE_BYTES (4L << 20)
/* The longest line of a tool's output the server reads. */
#define LINE_MAX_BYTES (32L << 20)
#define NOTES_MAX 4096

void api_error(api_resp *out, int status, const char *code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Messages quote what the client sent (an id from the path): bytes
	 * that are not UTF-8 become '?', so the answer stays valid JSON. */
	unsigned char *m = (unsigned char *)msg, *end = m + strlen(msg);
	while (m < end) {
		int k = lg_utf8_len(m, end);
		if (k == 0)
			*m++ = '?';
		else
			m += k;
	}
	out->status = status;
	out->body.len = 0;
	lg_buf_adds(&out->body, "{\"success\":false,\"error\":{\"code\":");
	lg_json_print_string(&out->body, code, strlen(code));
	lg_buf_adds(&out->body, ",\"message\":");
	lg_json_print_string(&out->body, msg, strlen(msg));
	lg_buf_adds(&out->body, "}}");
}

/* {"success":true,"data":DATA}; takes data. */
static void ok_data(api_resp *out, int status, cJSON *data)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !data || lg_json_set(o, "success", cJSON_CreateTrue()) || lg_json_set(o, "data", data)) {
		cJSON_Delete(o);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	out->status = status;
	out->body.len = 0;
	if (lg_json_print(&out->body, o) != 0)
		api_error(out, 500, "internal_error", "out of memory");
	cJSON_Delete(o);
}

/* A bare object as the answer (the violations list's own shape). */
static void ok_bare(api_resp *out, cJSON *o)
{
	out->status = 200;
	out->body.len = 0;
	if (!o || lg_json_print(&out->body, o) != 0)
		api_error(out, 500, "internal_error", "out of memory");
	cJSON_Delete(o);
}

/* ---- query parameters ---- */

/* The decoded value of parameter name into out: 1 present (and not
 * empty), 0 absent or empty, -1 a bad escape (out->status set). */
static int arg(const api_req *r, api_resp *out, const char *name, char *val, size_t cap)
{
	const char *raw = r->arg ? r->arg(r->arg_cls, name) : NULL;
	if (!raw || !*raw)
		return 0;
	if (http_pct_decode(raw, strlen(raw), val, cap) < 0) {
		api_error(out, 400, "bad_request", "parameter '%s': bad percent escape, NUL or too long", name);
		return -1;
	}
	return *val != '\0';
}

/* ---- running the tools ---- */

typedef int (*line_fn)(const char *line, size_t n, void *ctx); /* 0 go on, 1 stop */

/* Runs argv[0] (a tool next to lg-sync, else on $PATH) with stdin from
 * /dev/null, hands each line of its stdout to fn (until fn stops: then
 * its stdout is closed, which ends it quietly), keeps its last stderr
 * line in err. Returns its exit status, 128+N when killed by signal N,
 * -1 when it could not start, -2 when a line was longer than we read. */
static int tool_lines(const char *const *argv, line_fn fn, void *ctx, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, status = -1, too_long = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t mask;
	pid_t pid;
	if (err && errlen)
		*err = '\0';
	if (pipe2(out, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(er, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
	/* Threads of the server may block signals; the tool starts clean. */
	sigemptyset(&mask);
	posix_spawnattr_setsigmask(&at, &mask);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	posix_spawnattr_setsigdefault(&at, &mask);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	const char *args[40];
	size_t i = 0;
	args[0] = tool_path(argv[0], path, sizeof path);
	for (i = 1; argv[i] && i < 39; i++)
		args[i] = argv[i];
	args[i] = NULL;
	union { const char *const *c; char *const *m; } av = { args };
	int rc = posix_spawnp(&pid, args[0], &fa, &at, av.m, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	close(er[1]);
	if (rc) {
		close(out[0]);
		close(er[0]);
		return -1;
	}
	lg_buf line = { 0 }, eline = { 0 };
	char buf[16384];
	int ofd = out[0], efd = er[0];
	while (ofd >= 0 || efd >= 0) {
		struct pollfd pf[2];
		int k = 0;
		if (ofd >= 0)
			pf[k++] = (struct pollfd){ .fd = ofd, .events = POLLIN };
		if (efd >= 0)
			pf[k++] = (struct pollfd){ .fd = efd, .events = POLLIN };
		if (poll(pf, (nfds_t)k, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int j = 0; j < k; j++) {
			if (!(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(pf[j].fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			int is_out = pf[j].fd == ofd;
			if (n <= 0) {
				close(pf[j].fd);
				*(is_out ? &ofd : &efd) = -1;
				continue;
			}
			if (!is_out) {
				for (ssize_t b = 0; b < n; b++) {
					if (buf[b] == '\n') {
						if (eline.len && err && errlen)
							snprintf(err, errlen, "%s", lg_buf_cstr(&eline));
						eline.len = 0;
					} else if (eline.len < 1024) {
						lg_buf_addc(&eline, buf[b]);
					}
				}
				continue;
			}
			int stop = 0;
			size_t start = 0;
			for (size_t b = 0; b < (size_t)n && !stop; b++) {
				if (buf[b] != '\n')
					continue;
				if (lg_buf_add(&line, buf + start, b - start) != 0 || line.len > (size_t)LINE_MAX_BYTES) {
					too_long = stop = 1;
					break;
				}
				stop = fn(line.data ? line.data : "", line.len, ctx);
				line.len = 0;
				start = b + 1;
			}
			if (!stop && start < (size_t)n &&
			    (lg_buf_add(&line, buf + start, (size_t)n - start) != 0 || line.len > (size_t)LINE_MAX_BYTES))
				too_long = stop = 1;
			if (stop) {
				close(ofd);
				ofd = -1;
			}
		}
	}
	if (eline.len && err && errlen)
		snprintf(err, errlen, "%s", lg_buf_cstr(&eline));
	lg_buf_free(&line);
	lg_buf_free(&eline);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	/* Closing its stdout early ends it with a write error or SIGPIPE. */
	return too_long ? -2 : status;
}

/* The store has been created (only a sync run's put creates it). */
static int store_exists(const serve_ctx *s)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/data.mdb", s->c->db);
	return access(path, F_OK) == 0;
}

/* ---- answers of the store, kept until it changes ----
 * Under load most requests repeat (a status polled, the first page of
 * traces): each answer of lg-store is kept with the store's version, the
 * id of its last committed transaction, which every commit increases. It
 * is read from data.mdb's two meta pages (LMDB's data format 1: a 16-byte
 * page header, then MDB_meta; store/db_file.c checks the same layout), a
 * pread of 152 bytes, so a kept answer is given only while no commit has
 * happened since it was read. Answers that depend on the clock (a
 * relative since/until) are not kept. */

#define CACHE_ENTRIES 64
#define CACHE_ENTRY_MAX (256L << 10)
#define CACHE_BYTES (4L << 20)

typedef struct {
	char *key;           /* the arguments, NUL-separated */
	size_t keylen;
	uint64_t ver;
	ino_t ino;
	lg_buf out;
	uint64_t used;
} cache_entry;

static struct {
	pthread_mutex_t mu;
	cache_entry e[CACHE_ENTRIES];
	size_t bytes;
	uint64_t tick;
} cache = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0, 0 };

static uint64_t rd64(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* The store's version: 0, or -1 when it cannot be read (then nothing is
 * kept). */
static int store_version(const serve_ctx *s, uint64_t *ver, ino_t *ino)
{
	char path[4200];
	unsigned char m0[152], m1[152];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", s->c->db);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = fstat(fd, &st) == 0 && pread(fd, m0, sizeof m0, 0) == (ssize_t)sizeof m0;
	uint32_t psize = 0;
	if (ok)
		memcpy(&psize, m0 + 40, 4);
	ok = ok && psize >= 512 && psize <= 0x10000 && pread(fd, m1, sizeof m1, psize) == (ssize_t)sizeof m1;
	close(fd);
	if (!ok)
		return -1;
	uint64_t a = rd64(m0 + 144), b = rd64(m1 + 144);
	*ver = a > b ? a : b;
	*ino = st.st_ino;
	return 0;
}

static size_t cache_key(const char **args, char *key, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; args[i]; i++) {
		size_t l = strlen(args[i]) + 1;
		if (n + l > cap)
			return 0;
		memcpy(key + n, args[i], l);
		n += l;
	}
	return n;
}

/* A kept answer for key at version ver, copied into out: 1, else 0. */
static int cache_get(const char *key, size_t keylen, uint64_t ver, ino_t ino, lg_buf *out)
{
	int hit = 0;
	pthread_mutex_lock(&cache.mu);
	for (size_t i = 0; i < CACHE_ENTRIES && !hit; i++) {
		cache_entry *e = &cache.e[i];
		if (e->key && e->ver == ver && e->ino == ino && e->keylen == keylen && !memcmp(e->key, key, keylen)) {
			hit = lg_buf_add(out, e->out.data ? e->out.data : "", e->out.len) == 0;
			e->used = ++cache.tick;
		}
	}
	pthread_mutex_unlock(&cache.mu);
	return hit;
}

static void entry_free(cache_entry *e)
{
	cache.bytes -= e->out.len + e->keylen;
	free(e->key);
	lg_buf_free(&e->out);
	memset(e, 0, sizeof *e);
}

static void cache_put(const char *key, size_t keylen, uint64_t ver, ino_t ino, const lg_buf *outb)
{
	if (outb->len > (size_t)CACHE_ENTRY_MAX)
		return;
	pthread_mutex_lock(&cache.mu);
	cache_entry *slot = NULL;
	for (size_t i = 0; i < CACHE_ENTRIES; i++) {
		cache_entry *e = &cache.e[i];
		if (e->key && e->keylen == keylen && !memcmp(e->key, key, keylen)) {
			entry_free(e); /* an older version of the same answer */
			slot = e;
			break;
		}
		if (!e->key && !slot)
			slot = e;
	}
	/* Room: the least recently used go first. */
	while (!slot || cache.bytes + outb->len + keylen > (size_t)CACHE_BYTES) {
		cache_entry *old = NULL;
		for (size_t i = 0; i < CACHE_ENTRIES; i++)
			if (cache.e[i].key && (!old || cache.e[i].used < old->used))
				old = &cache.e[i];
		if (!old)
			break;
		entry_free(old);
		if (!slot)
			slot = old;
	}
	if (slot && (slot->key = malloc(keylen)) != NULL) {
		memcpy(slot->key, key, keylen);
		slot->keylen = keylen;
		slot->ver = ver;
		slot->ino = ino;
		slot->used = ++cache.tick;
		if (lg_buf_add(&slot->out, outb->data ? outb->data : "", outb->len) == 0)
			cache.bytes += outb->len + keylen;
		else
			entry_free(slot);
	}
	pthread_mutex_unlock(&cache.mu);
}

void api_cache_free(void)
{
	pthread_mutex_lock(&cache.mu);
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (cache.e[i].key)
			entry_free(&cache.e[i]);
	pthread_mutex_unlock(&cache.mu);
}

/* Hands the lines of a kept answer to fn, as the tool would have. */
static void replay(const lg_buf *b, line_fn fn, void *ctx)
{
	const char *p = b->data ? b->data : "", *end = p + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (fn(p, n, ctx))
			return;
		p += n + 1;
	}
}

typedef struct {
	line_fn fn;
	void *ctx;
	lg_buf *keep;
	int stopped;
} tee_ctx;

/* Every line the tool printed is kept, also past where fn stopped
 * reading: the kept answer is the whole output fn saw a prefix of. */
static int tee_line(const char *line, size_t n, void *vctx)
{
	tee_ctx *t = vctx;
	if (t->keep && (lg_buf_add(t->keep, line, n) != 0 || lg_buf_addc(t->keep, '\n') != 0 ||
			t->keep->len > (size_t)CACHE_ENTRY_MAX)) {
		lg_buf_free(t->keep);
		t->keep = NULL;
	}
	if (!t->stopped)
		t->stopped = t->fn(line, n, t->ctx);
	return t->stopped && !t->keep;
}

/* lg-store --db DB ARGS...: 0, or the error answered. A usage error of
 * lg-store is the client's (a bad time, say): 400 with its words. With
 * cacheable, an answer kept for the store's version is used, and a new
 * one kept. */
static int store_lines(serve_ctx *s, api_resp *out, const char **args, line_fn fn, void *ctx, int *status,
		       int cacheable)
{
	const char *argv[40] = { "lg-store", "--db", s->c->db };
	size_t n = 3;
	char err[1100], key[4096];
	uint64_t ver = 0;
	ino_t ino = 0;
	size_t keylen = 0;
	for (size_t i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (cacheable && store_version(s, &ver, &ino) == 0)
		keylen = cache_key(args, key, sizeof key);
	lg_buf kept = { 0 };
	if (keylen && cache_get(key, keylen, ver, ino, &kept)) {
		replay(&kept, fn, ctx);
		lg_buf_free(&kept);
		if (status)
			*status = 0;
		return 0;
	}
	tee_ctx t = { fn, ctx, keylen ? &kept : NULL, 0 };
	int st = tool_lines(argv, tee_line, &t, err, sizeof err);
	if (st == 0 && t.keep)
		cache_put(key, keylen, ver, ino, t.keep);
	lg_buf_free(&kept);
	if (status)
		*status = st;
	if (st == 0 || (status && st == 1))
		return 0;
	if (st == 2) {
		const char *m = strncmp(err, "lg-store: ", 10) == 0 ? err + 10 : err;
		api_error(out, 400, "bad_request", "%s", *m ? m : "bad parameter");
	} else if (st == -2) {
		api_error(out, 500, "internal_error", "a record too large to serve");
	} else if (st == -1 || st == 127) {
		api_error(out, 500, "internal_error", "lg-store could not be started");
	} else {
		lg_err("serve: lg-store %s: exit %d: %s", args[0], st, err);
		api_error(out, 500, "store_error", "the store cannot be read ('lg-store check' says what)");
	}
	return -1;
}

/* ---- filters shared by traces, stats and violations ---- */

typedef struct {
	const char *args[40];
	size_t n;
	char vals[12][1024];
	int nv;
	int relative;        /* a time relative to now: the answer is not kept */
} argv_b;

static void add(argv_b *a, const char *s)
{
	if (a->n < 38)
		a->args[a->n++] = s;
	a->args[a->n] = NULL;
}

/* Adds "--opt VALUE" when parameter name is present. 0, or -1 answered. */
static int pass(argv_b *a, const api_req *r, api_resp *out, const char *name, const char *opt)
{
	if (a->nv == 12)
		return 0;
	char *v = a->vals[a->nv];
	int got = arg(r, out, name, v, sizeof a->vals[0]);
	if (got < 0)
		return -1;
	if (got) {
		int64_t ms;
		a->nv++;
		add(a, opt);
		add(a, v);
		if ((!strcmp(opt, "--from") || !strcmp(opt, "--to")) && (lg_time_parse(v, &ms) != 0 || !strcmp(v, "now")))
			a->relative = 1;
	}
	return 0;
}

static int severity_ok(const char *s)
{
	return !strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high") || !strcmp(s, "critical");
}

/* The filters of `lg-store export`, as parameters. trace_level: the
 * status is the trace's (else the violation's). */
static int filters(argv_b *a, const api_req *r, api_resp *out, int trace_level)
{
	char v[64];
	int got;
	if (pass(a, r, out, "agent", "--agent") || pass(a, r, out, "integration", "--integration") ||
	    pass(a, r, out, "since", "--from") || pass(a, r, out, "until", "--to") ||
	    pass(a, r, out, "policy", "--policy") || pass(a, r, out, "status", "--status"))
		return -1;
	if (trace_level && (pass(a, r, out, "user", "--user") || pass(a, r, out, "session", "--session")))
		return -1;
	if ((got = arg(r, out, "severity", v, sizeof v)) < 0)
		return -1;
	if (got && !severity_ok(v)) {
		api_error(out, 400, "bad_request", "severity: want low, medium, high or critical");
		return -1;
	}
	if (got && pass(a, r, out, "severity", "--severity"))
		return -1;
	if (trace_level) {
		if ((got = arg(r, out, "hasViolations", v, sizeof v)) < 0)
			return -1;
		if (got && strcmp(v, "true") && strcmp(v, "false")) {
			api_error(out, 400, "bad_request", "hasViolations: want true or false");
			return -1;
		}
		if (got && !strcmp(v, "true"))
			add(a, "--has-violations");
	}
	return 0;
}

/* limit (default 50, 1..1000) and order (desc or asc). */
static int paging(const api_req *r, api_resp *out, long *limit, int *reverse)
{
	char v[64];
	int got = arg(r, out, "limit", v, sizeof v);
	*limit = PAGE_DEFAULT;
	if (got < 0)
		return -1;
	if (got && http_parse_count(v, PAGE_MAX, limit) != 0) {
		api_error(out, 400, "bad_request", "limit: want a number from 1 to %d", PAGE_MAX);
		return -1;
	}
	if ((got = arg(r, out, "order", v, sizeof v)) < 0)
		return -1;
	if (got && strcmp(v, "asc") && strcmp(v, "desc")) {
		api_error(out, 400, "bad_request", "order: want asc or desc");
		return -1;
	}
	*reverse = !got || !strcmp(v, "desc");
	return 0;
}

/* ---- health, integrations ---- */

static void get_health(api_resp *out)
{
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "status", cJSON_CreateString("ok"));
	lg_json_set(d, "version", cJSON_CreateString(LG_VERSION));
	ok_data(out, 200, d);
}

static int config_present(const serve_ctx *s)
{
	struct stat st;
	return stat(s->c->config, &st) == 0;
}

/* The config, bad entries skipped; 0, or -1 answered (500). */
static int load_config(serve_ctx *s, api_resp *out, lg_config *cfg)
{
	char err[1200];
	if (lg_config_read(cfg, config_present(s) ? s->c->config : NULL, LG_CONFIG_SKIP_BAD, err, sizeof err) != 0) {
		lg_err("serve: config: %s", err);
		api_error(out, 500, "config_error", "the config file cannot be read (the server's log says why)");
		return -1;
	}
	return 0;
}

/* An entry as the API shows it: masked as `lg-sync list` masks it, a
 * secret file's path and a variable's name left out. */
static cJSON *integration_json(serve_ctx *s, const cJSON *raw, const char *env_id)
{
	cJSON *o = raw ? integration_masked(raw) : integration_env_entry();
	if (!o)
		return NULL;
	const char *src = lg_json_get(o, "secretKey") ? "inline" : lg_json_get(o, "secretKeyFile") ? "file" : "env";
	cJSON_Delete(lg_json_take(o, "secretKeyFile"));
	cJSON_Delete(lg_json_take(o, "secretKeyEnv"));
	lg_json_set(o, "secretKeySource", cJSON_CreateString(src));
	lg_json_set(o, "valid", cJSON_CreateTrue());
	const char *id = env_id ? env_id : lg_json_str(o, "id");
	lg_json_set(o, "isActive", cJSON_CreateBool(id && lock_held(s->c, id)));
	return o;
}

static void get_integrations(serve_ctx *s, api_resp *out)
{
	lg_config cfg;
	if (load_config(s, out, &cfg))
		return;
	cJSON *arr = cJSON_CreateArray();
	if (!cfg.path) {
		cJSON *o = cfg.n ? integration_json(s, NULL, cfg.items[0].id) : NULL;
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	const cJSON *list = cfg.path ? lg_json_get(cfg.json, "integrations") : NULL;
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		const char *id = lg_json_str(e, "id");
		cJSON *o;
		if (id && lg_config_find(&cfg, id)) {
			o = integration_json(s, e, NULL);
		} else {
			/* Reported as the loader words it, without the file's path. */
			const lg_config_bad *bad = NULL;
			for (size_t i = 0; i < cfg.nbad && !bad; i++)
				if ((id && cfg.bad[i].id && !strcmp(cfg.bad[i].id, id)) || (!id && !cfg.bad[i].id))
					bad = &cfg.bad[i];
			const char *msg = bad ? bad->msg : "not valid";
			size_t pl = strlen(cfg.path);
			if (!strncmp(msg, cfg.path, pl) && !strncmp(msg + pl, ": ", 2))
				msg += pl + 2;
			o = cJSON_CreateObject();
			lg_json_set(o, "id", id ? cJSON_CreateString(id) : cJSON_CreateNull());
			lg_json_set(o, "valid", cJSON_CreateFalse());
			lg_json_set(o, "error", cJSON_CreateString(msg));
		}
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	lg_config_free(&cfg);
	ok_data(out, 200, arr);
}

/* ---- sync and its status ---- */

/* The integration, valid; 0, or -1 answered (404, 500). */
static int find_integration(serve_ctx *s, api_resp *out, const char *id, lg_config *cfg, lg_integration **it)
{
	if (load_config(s, out, cfg))
		return -1;
	if ((*it = lg_config_find(cfg, id)) != NULL)
		return 0;
	if (lg_config_find_bad(cfg, id))
		api_error(out, 404, "not_found", "integration '%s' is not valid in the config ('lg-sync list' says why)", id);
	else
		api_error(out, 404, "not_found", "no integration '%s'", id);
	lg_config_free(cfg);
	return -1;
}

static int json_line(const char *line, size_t n, void *ctx)
{
	cJSON **j = ctx;
	lg_json_error je;
	if (!*j)
		*j = lg_json_parse(line, n, &je);
	return 0;
}

/* The integration's latest run as the store has it (lg-store status);
 * *last NULL before the first. 0, or -1 answered. */
static int last_run(serve_ctx *s, api_resp *out, const char *id, cJSON **status)
{
	const char *args[] = { "status", "--", id, NULL };
	*status = NULL;
	if (!store_exists(s))
		return 0;
	if (store_lines(s, out, args, json_line, status, NULL, 1)) {
		cJSON_Delete(*status);
		*status = NULL;
		return -1;
	}
	return 0;
}

static void get_sync_status(serve_ctx *s, api_resp *out, const char *id)
{
	lg_config cfg;
	lg_integration *it;
	cJSON *st;
	if (find_integration(s, out, id, &cfg, &it))
		return;
	int sched = it->auto_sync;
	lg_config_free(&cfg);
	if (last_run(s, out, id, &st))
		return;
	const cJSON *ls = lg_json_get(lg_json_get(st, "data"), "lastSync");
	cJSON *d = cJSON_CreateObject(), *l = NULL;
	lg_json_set(d, "isActive", cJSON_CreateBool(lock_held(s->c, id)));
	lg_json_set(d, "hasSchedule", cJSON_CreateBool(sched));
	if (cJSON_IsObject(ls)) {
		static const char *const keys[] = { "id", "status", "itemsFetched", "itemsIngested", "completedAt" };
		l = cJSON_CreateObject();
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
			const cJSON *v = lg_json_get(ls, keys[i]);
			lg_json_set(l, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		}
	}
	lg_json_set(d, "lastSync", l ? l : cJSON_CreateNull());
	cJSON_Delete(st);
	ok_data(out, 200, d);
}

static int array_line(const char *line, size_t n, void *ctx)
{
	lg_json_error je;
	cJSON *v = lg_json_parse(line, n, &je);
	if (v)
		cJSON_AddItemToArray(ctx, v);
	return 0;
}

/* The integration's last runs as the store recorded them (lg-store runs),
 * newest first, each with its error and start: what the documented status
 * shape leaves out. */
static void get_runs(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	lg_config cfg;
	lg_integration *it;
	long limit;
	int reverse;
	char lim[32];
	if (find_integration(s, out, id, &cfg, &it))
		return;
	lg_config_free(&cfg);
	if (paging(r, out, &limit, &reverse))
		return;
	snprintf(lim, sizeof lim, "%ld", limit);
	cJSON *runs = cJSON_CreateArray();
	const char *args[] = { "runs", "--limit", lim, "--", id, NULL };
	if (store_exists(s) && store_lines(s, out, args, array_line, runs, NULL, 1)) {
		cJSON_Delete(runs);
		return;
	}
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "runs", runs);
	ok_data(out, 200, d);
}

/* The run's id, as lg-fetch makes them: the UTC time and 5 random hex. */
static void new_run_id(char out[64])
{
	char t[32], compact[32], *o = compact;
	unsigned r = 0;
	lg_time_format(lg_time_now(), t);
	for (const char *p = t; *p && *p != '.'; p++)
		if (*p != '-' && *p != ':')
			*o++ = *p;
	*o = '\0';
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned)rand();
	snprintf(out, 64, "%sZ-%05x", compact, r & 0xfffff);
}

/* The id of the run in progress of id: ours, else the store's running one. */
static cJSON *running_id(serve_ctx *s, const char *id)
{
	char run[64];
	cJSON *st = NULL;
	api_resp scratch = { 0 };
	if (serve_run_find(s, id, run, sizeof run) == 0)
		return cJSON_CreateString(run);
	if (last_run(s, &scratch, id, &st) == 0) {
		const cJSON *ls = lg_json_get(lg_json_get(st, "data"), "lastSync");
		const char *sid = lg_json_str(ls, "id"), *state = lg_json_str(ls, "status");
		if (sid && state && !strcmp(state, "running")) {
			cJSON *j = cJSON_CreateString(sid);
			cJSON_Delete(st);
			lg_buf_free(&scratch.body);
			return j;
		}
	}
	cJSON_Delete(st);
	lg_buf_free(&scratch.body);
	return cJSON_CreateNull();
}

static void busy(serve_ctx *s, api_resp *out, const char *id)
{
	cJSON *e = cJSON_CreateObject(), *o = cJSON_CreateObject();
	char msg[300];
	snprintf(msg, sizeof msg, "a sync of '%s' is in progress", id);
	lg_json_set(e, "code", cJSON_CreateString("sync_in_progress"));
	lg_json_set(e, "message", cJSON_CreateString(msg));
	lg_json_set(e, "runId", running_id(s, id));
	lg_json_set(o, "success", cJSON_CreateFalse());
	lg_json_set(o, "error", e);
	ok_bare(out, o);
	out->status = 409;
}

/* lg-sync run ID ..., in its own process group (a terminal's Ctrl-C for
 * the server is not for it). */
static pid_t spawn_run(serve_ctx *s, const char *id, const char *mode, const char *limit, const char *run)
{
	char self[PATH_MAX];
	const char *argv[20];
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t mask;
	pid_t pid;
	argv[n++] = tool_path("lg-sync", self, sizeof self);
	argv[n++] = "--config";
	argv[n++] = s->c->config;
	argv[n++] = "--db";
	argv[n++] = s->c->db;
	argv[n++] = "run";
	argv[n++] = "--mode";
	argv[n++] = mode;
	if (limit) {
		argv[n++] = "--limit";
		argv[n++] = limit;
	}
	argv[n++] = "--run-id";
	argv[n++] = run;
	argv[n++] = "--quiet";
	argv[n++] = "--";
	argv[n++] = id;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	sigemptyset(&mask);
	posix_spawnattr_setsigmask(&at, &mask);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	posix_spawnattr_setsigdefault(&at, &mask);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	union { const char *const *c; char *const *m; } av = { argv };
	int rc = posix_spawn(&pid, argv[0], &fa, &at, av.m, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc ? -1 : pid;
}

/* Whether the store records run as the latest of id (it ran). */
static int run_recorded(serve_ctx *s, const char *id, const char *run)
{
	cJSON *st = NULL;
	api_resp scratch = { 0 };
	int yes = 0;
	if (last_run(s, &scratch, id, &st) == 0) {
		const char *last = lg_json_str(lg_json_get(lg_json_get(st, "data"), "lastSync"), "id");
		yes = last && !strcmp(last, run);
	}
	cJSON_Delete(st);
	lg_buf_free(&scratch.body);
	return yes;
}

/* The request's body as a JSON object, or NULL with the 400 answered. */
static cJSON *body_object(const api_req *r, api_resp *out)
{
	lg_json_error je;
	cJSON *body = r->body_len ? lg_json_parse(r->body, r->body_len, &je) : NULL;
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_json", "the body is not a JSON object");
		return NULL;
	}
	return body;
}

static void post_sync(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	lg_config cfg;
	lg_integration *it;
	const char *mode = "incremental";
	char limit[32] = "";
	cJSON *body = NULL;
	if (r->body_len) {
		if (!(body = body_object(r, out)))
			return;
		const cJSON *m = lg_json_get(body, "mode"), *l = lg_json_get(body, "limit");
		if (m && !(cJSON_IsString(m) && (!strcmp(m->valuestring, "incremental") || !strcmp(m->valuestring, "backfill")))) {
			cJSON_Delete(body);
			api_error(out, 400, "bad_request", "mode: want \"incremental\" or \"backfill\"");
			return;
		}
		if (m)
			mode = !strcmp(m->valuestring, "backfill") ? "backfill" : "incremental";
		double d;
		if (l && !cJSON_IsNull(l)) {
			if (!cJSON_IsNumber(l) || !lg_json_num(l, &d) || d < 1 || d > 1e8 || d != (double)(long)d) {
				cJSON_Delete(body);
				api_error(out, 400, "bad_request", "limit: want an integer from 1 to 100000000");
				return;
			}
			snprintf(limit, sizeof limit, "%ld", (long)d);
		}
	}
	cJSON_Delete(body);
	if (find_integration(s, out, id, &cfg, &it))
		return;
	lg_config_free(&cfg);
	if (lock_held(s->c, id)) {
		busy(s, out, id);
		return;
	}
	char run[64], started[32];
	new_run_id(run);
	lg_time_format(lg_time_now(), started);
	pid_t pid = spawn_run(s, id, mode, *limit ? limit : NULL, run);
	if (pid < 0) {
		api_error(out, 500, "internal_error", "lg-sync run could not be started");
		return;
	}
	/* Answered once the run holds the lock (a status request then sees
	 * it active), or once it ended: then it ran (the store has it) or met
	 * another run's lock. */
	int ws, done = 0;
	for (int waited = 0; waited < 30000; waited += 5) {
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid) {
			done = 1;
			break;
		}
		if (lock_held(s->c, id))
			break;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	if (done && !run_recorded(s, id, run)) {
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 1)
			busy(s, out, id);
		else
			api_error(out, 500, "internal_error", "the run did not start (exit %d; the server's log says why)",
				  WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
		return;
	}
	if (!done && serve_run_add(s, id, run, pid) != 0) {
		/* No reaper: wait here rather than leave a zombie. */
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "id", cJSON_CreateString(run));
	lg_json_set(d, "integration", cJSON_CreateString(id));
	lg_json_set(d, "mode", cJSON_CreateString(mode));
	lg_json_set(d, "limit", *limit ? lg_json_int(atol(limit)) : cJSON_CreateNull());
	lg_json_set(d, "status", cJSON_CreateString("running"));
	lg_json_set(d, "startedAt", cJSON_CreateString(started));
	ok_data(out, 202, d);
}

/* ---- traces ---- */

typedef struct {
	cJSON *arr;
	long limit, count;
	size_t bytes;
	int full, more;
	char last[HTTP_MAX_ID + 32];   /* the last trace's time key */
	int oom;
} page;

/* A record as the list shows it: without its texts and spans. */
static void summarize(cJSON *rec)
{
	const cJSON *spans = lg_json_get(rec, "spans");
	int n = cJSON_IsArray(spans) ? cJSON_GetArraySize(spans) : 0;
	cJSON_Delete(lg_json_take(rec, "input"));
	cJSON_Delete(lg_json_take(rec, "output"));
	cJSON_Delete(lg_json_take(rec, "spans"));
	lg_json_set(rec, "spanCount", lg_json_int(n));
}

static int page_line(const char *line, size_t n, void *ctx)
{
	page *p = ctx;
	lg_json_error je;
	if (p->count == p->limit || (p->count && p->bytes > (size_t)PAGE_BYTES)) {
		p->more = 1;
		return 1;
	}
	cJSON *rec = lg_json_parse(line, n, &je);
	if (!rec) {
		p->oom = 1;
		return 1;
	}
	int64_t ms;
	const char *ts = lg_json_str(rec, "timestamp"), *id = lg_json_str(rec, "externalId");
	if (!ts || lg_time_parse(ts, &ms) != 0)
		ms = INT64_MIN;
	snprintf(p->last, sizeof p->last, "%" PRId64 ":%s", ms, id ? id : "");
	if (!p->full)
		summarize(rec);
	p->bytes += p->full ? n : n / 4; /* a summary is a fraction of the record */
	cJSON_AddItemToArray(p->arr, rec);
	p->count++;
	return 0;
}

static int count_line(const char *line, size_t n, void *ctx)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.*s", (int)(n < 31 ? n : 31), line);
	*(long *)ctx = atol(buf);
	return 0;
}

static void get_traces(serve_ctx *s, const api_req *r, api_resp *out)
{
	argv_b a = { .n = 0 };
	page p = { 0 };
	int reverse, got;
	char v[HTTP_MAX_ID + 64], lim[32];
	add(&a, "export");
	if (filters(&a, r, out, 1) || paging(r, out, &p.limit, &reverse))
		return;
	if ((got = arg(r, out, "view", v, sizeof v)) < 0)
		return;
	if (got && strcmp(v, "summary") && strcmp(v, "full")) {
		api_error(out, 400, "bad_request", "view: want summary or full");
		return;
	}
	p.full = got && !strcmp(v, "full");
	if ((got = arg(r, out, "total", v, sizeof v)) < 0)
		return;
	if (got && strcmp(v, "true") && strcmp(v, "false")) {
		api_error(out, 400, "bad_request", "total: want true or false");
		return;
	}
	int want_total = got && !strcmp(v, "true");
	/* The same filters for the count; their values stay in a. */
	const char *count[40];
	memcpy(count, a.args, sizeof count);
	count[0] = "count";
	char cursor[HTTP_MAX_ID + 64];
	if ((got = arg(r, out, "cursor", cursor, sizeof cursor)) < 0)
		return;
	if (got && !http_cursor_ok(cursor)) {
		api_error(out, 400, "bad_request", "cursor: not a cursor this server gave");
		return;
	}
	if (got) {
		add(&a, "--after");
		add(&a, cursor);
	}
	if (reverse)
		add(&a, "--reverse");
	snprintf(lim, sizeof lim, "%ld", p.limit + 1);
	add(&a, "--limit");
	add(&a, lim);
	/* A page is kept whole, shaped: parsing and trimming its records is
	 * most of a page's cost. */
	char key[4200];
	uint64_t ver = 0;
	ino_t ino = 0;
	size_t keylen = 0;
	if (!a.relative && store_version(s, &ver, &ino) == 0 && (keylen = cache_key(a.args, key, sizeof key - 32)) != 0) {
		memcpy(key + keylen, p.full ? "\0full" : "\0summary", p.full ? 5 : 8);
		keylen += p.full ? 5 : 8;
		memcpy(key + keylen, want_total ? "\0total" : "\0page", 6);
		keylen += 6;
		if (cache_get(key, keylen, ver, ino, &out->body)) {
			out->status = 200;
			return;
		}
	}
	p.arr = cJSON_CreateArray();
	long total = 0;
	if (store_exists(s)) {
		if (store_lines(s, out, a.args, page_line, &p, NULL, 0) ||
		    (want_total && store_lines(s, out, count, count_line, &total, NULL, !a.relative))) {
			cJSON_Delete(p.arr);
			return;
		}
	}
	if (p.oom) {
		cJSON_Delete(p.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "traces", p.arr);
	lg_json_set(d, "nextCursor", p.more ? cJSON_CreateString(p.last) : cJSON_CreateNull());
	if (want_total)
		lg_json_set(d, "total", lg_json_int(total));
	ok_data(out, 200, d);
	if (keylen && out->status == 200)
		cache_put(key, keylen, ver, ino, &out->body);
}

static int record_line(const char *line, size_t n, void *ctx)
{
	return json_line(line, n, ctx);
}

/* The record with that externalId: 0 found, 1 not stored, -1 answered. */
static int get_record(serve_ctx *s, api_resp *out, const char *id, cJSON **rec)
{
	const char *args[] = { "get", "--", id, NULL };
	int st;
	*rec = NULL;
	if (!store_exists(s))
		return 1;
	if (store_lines(s, out, args, record_line, rec, &st, 1))
		return -1;
	if (st == 1 || !*rec) {
		cJSON_Delete(*rec);
		*rec = NULL;
		if (st == 1)
			return 1;
		api_error(out, 500, "store_error", "the store cannot be read ('lg-store check' says what)");
		return -1;
	}
	return 0;
}

static void get_trace(serve_ctx *s, api_resp *out, const char *id)
{
	cJSON *rec;
	int rc = get_record(s, out, id, &rec);
	if (rc == 1)
		api_error(out, 404, "not_found", "no trace '%s'", id);
	if (rc == 0)
		ok_data(out, 200, rec);
}

/* ---- stats ---- */

static void get_stats(serve_ctx *s, const api_req *r, api_resp *out)
{
	static const char *const bys[] = { "agent", "model", "user", "day", "hour", "policy", "integration", "session" };
	argv_b a = { .n = 0 };
	char by[32];
	int got;
	cJSON *j = NULL;
	add(&a, "stats");
	add(&a, "--json");
	if (filters(&a, r, out, 1) || (got = arg(r, out, "by", by, sizeof by)) < 0)
		return;
	if (got) {
		size_t i;
		for (i = 0; i < sizeof bys / sizeof *bys && strcmp(by, bys[i]); i++)
			;
		if (i == sizeof bys / sizeof *bys) {
			api_error(out, 400, "bad_request", "by: want agent, model, user, day, hour, policy, integration or session");
			return;
		}
		add(&a, "--by");
		add(&a, bys[i]);
	}
	if (!store_exists(s)) {
		j = cJSON_CreateObject();
		lg_json_set(j, "by", got ? cJSON_CreateString(by) : cJSON_CreateNull());
		lg_json_set(j, "groups", cJSON_CreateArray());
		ok_data(out, 200, j);
		return;
	}
	if (store_lines(s, out, a.args, json_line, &j, NULL, !a.relative))
		return;
	if (!j) {
		api_error(out, 500, "store_error", "the store cannot be read ('lg-store check' says what)");
		return;
	}
	ok_data(out, 200, j);
}

/* ---- policies ---- */

typedef struct {
	cJSON *arr;
} pol_list;

/* A line of `lg-policy --list`: id, state, severity, category, kind, name. */
static int policy_line(const char *line, size_t n, void *ctx)
{
	pol_list *pl = ctx;
	char buf[2048], *f[6], *save = NULL;
	int k = 0;
	snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), line);
	for (char *t = strtok_r(buf, "\t", &save); t && k < 6; t = strtok_r(NULL, "\t", &save))
		f[k++] = t;
	if (k < 6)
		return 0;
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "id", cJSON_CreateString(f[0]));
	lg_json_set(o, "name", cJSON_CreateString(f[5]));
	lg_json_set(o, "severity", cJSON_CreateString(f[2]));
	lg_json_set(o, "category", cJSON_CreateString(f[3]));
	lg_json_set(o, "kind", cJSON_CreateString(f[4]));
	lg_json_set(o, "enabled", cJSON_CreateBool(!strcmp(f[1], "on")));
	cJSON_AddItemToArray(pl->arr, o);
	return 0;
}

/* lg-policy --list with the config's toggles: what a run evaluates. */
static cJSON *policies(serve_ctx *s, api_resp *out)
{
	const char *base[] = { "lg-policy", "--list", NULL };
	const char **argv = policy_argv(s->c, base);
	pol_list pl = { cJSON_CreateArray() };
	char err[1100];
	if (!argv || !pl.arr) {
		policy_argv_free(argv);
		cJSON_Delete(pl.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return NULL;
	}
	int st = tool_lines(argv, policy_line, &pl, err, sizeof err);
	policy_argv_free(argv);
	if (st != 0) {
		lg_err("serve: lg-policy --list: exit %d: %s", st, err);
		cJSON_Delete(pl.arr);
		api_error(out, 500, "config_error", "the policies cannot be listed (the server's log says why)");
		return NULL;
	}
	return pl.arr;
}

static void get_policies(serve_ctx *s, api_resp *out)
{
	cJSON *arr = policies(s, out);
	if (arr)
		ok_data(out, 200, arr);
}

static void post_toggle(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	cJSON *body = body_object(r, out);
	if (!body)
		return;
	const cJSON *en = lg_json_get(body, "enabled");
	if (!cJSON_IsBool(en)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "enabled: want true or false");
		return;
	}
	int on = cJSON_IsTrue(en);
	cJSON_Delete(body);
	cJSON *arr = policies(s, out);
	if (!arr)
		return;
	int known = 0;
	for (const cJSON *p = arr->child; p && !known; p = p->next)
		known = !strcmp(lg_json_str(p, "id") ? lg_json_str(p, "id") : "", id);
	cJSON_Delete(arr);
	if (!known) {
		api_error(out, 404, "not_found", "no policy '%s'", id);
		return;
	}
	/* Without a file the environment defines the integration; a file
	 * written for the toggle would replace it. */
	if (!config_present(s)) {
		api_error(out, 500, "config_error", "policy states are kept in the config file, and there is none yet ('lg-sync add' creates it)");
		return;
	}
	char err[1200];
	if (policy_toggle(s->c, id, on, err, sizeof err) != 0) {
		lg_err("serve: toggle %s: %s", id, err);
		api_error(out, 500, "config_error", "the config file cannot be written (the server's log says why)");
		return;
	}
	lg_err("serve: policy %s %s", id, on ? "enabled" : "disabled");
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "id", cJSON_CreateString(id));
	lg_json_set(d, "enabled", cJSON_CreateBool(on));
	ok_data(out, 200, d);
}

/* ---- violations ---- */

/* The violation with LangGuard's names first, then everything lg keeps. */
static cJSON *violation_json(const cJSON *v)
{
	static const struct {
		const char *seed, *ours;
	} alias[] = { { "id", "id" }, { "policyId", "policy" }, { "policyName", "name" }, { "severity", "severity" },
		      { "traceId", "externalId" }, { "message", "message" }, { "evidence", "evidence" },
		      { "status", "status" }, { "createdAt", "detectedAt" } };
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < sizeof alias / sizeof *alias; i++) {
		const cJSON *x = lg_json_get(v, alias[i].ours);
		if (x)
			lg_json_set(o, alias[i].seed, cJSON_Duplicate(x, 1));
	}
	for (const cJSON *m = v->child; o && m; m = m->next)
		if (!lg_json_get(o, m->string))
			lg_json_set(o, m->string, cJSON_Duplicate(m, 1));
	return o;
}

typedef struct {
	cJSON *arr;
	long skip, limit, total;
	int bad;
} vpage;

static int violation_line(const char *line, size_t n, void *ctx)
{
	vpage *p = ctx;
	long at = p->total++;
	if (at < p->skip || at >= p->skip + p->limit)
		return 0;
	lg_json_error je;
	cJSON *v = lg_json_parse(line, n, &je), *o = v ? violation_json(v) : NULL;
	cJSON_Delete(v);
	if (!o) {
		p->bad = 1;
		return 1;
	}
	cJSON_AddItemToArray(p->arr, o);
	return 0;
}

static cJSON *violations_answer(cJSON *arr, long total, const char *next)
{
	cJSON *o = cJSON_CreateObject();
	lg_json_set(o, "violations", arr);
	lg_json_set(o, "total", lg_json_int(total));
	lg_json_set(o, "nextCursor", next ? cJSON_CreateString(next) : cJSON_CreateNull());
	return o;
}

static void get_violations(serve_ctx *s, const api_req *r, api_resp *out)
{
	argv_b a = { .n = 0 };
	vpage p = { 0 };
	int reverse, got;
	char cursor[32], next[32];
	add(&a, "violations");
	if (filters(&a, r, out, 0) || paging(r, out, &p.limit, &reverse))
		return;
	if ((got = arg(r, out, "cursor", cursor, sizeof cursor)) < 0)
		return;
	if (got && (strspn(cursor, "0123456789") != strlen(cursor) || strlen(cursor) > 12)) {
		api_error(out, 400, "bad_request", "cursor: not a cursor this server gave");
		return;
	}
	p.skip = got ? atol(cursor) : 0;
	if (reverse)
		add(&a, "--reverse");
	p.arr = cJSON_CreateArray();
	if (store_exists(s) && store_lines(s, out, a.args, violation_line, &p, NULL, !a.relative)) {
		cJSON_Delete(p.arr);
		return;
	}
	if (p.bad) {
		cJSON_Delete(p.arr);
		api_error(out, 500, "internal_error", "out of memory");
		return;
	}
	snprintf(next, sizeof next, "%ld", p.skip + p.limit);
	ok_bare(out, violations_answer(p.arr, p.total, p.skip + p.limit < p.total ? next : NULL));
}

static void get_violations_by_trace(serve_ctx *s, api_resp *out, const char *id)
{
	cJSON *rec;
	int rc = get_record(s, out, id, &rec);
	if (rc == 1)
		api_error(out, 404, "not_found", "no trace '%s'", id);
	if (rc)
		return;
	cJSON *arr = cJSON_CreateArray();
	const cJSON *vs = lg_json_get(rec, "violations");
	const char *agent = lg_json_str(lg_json_get(rec, "agent"), "name");
	if (!agent)
		agent = lg_json_str(lg_json_get(rec, "metadata"), "agent_name");
	const char *in = lg_json_str(lg_json_get(rec, "source"), "integration"), *ts = lg_json_str(rec, "timestamp");
	long n = 0;
	/* The fields `lg-store violations` adds, so both lists look alike. */
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		if (!cJSON_IsObject(v))
			continue;
		cJSON *line = cJSON_Duplicate(v, 1);
		lg_json_set(line, "externalId", cJSON_CreateString(id));
		lg_json_set(line, "traceTimestamp", ts ? cJSON_CreateString(ts) : cJSON_CreateNull());
		lg_json_set(line, "agent", agent ? cJSON_CreateString(agent) : cJSON_CreateNull());
		lg_json_set(line, "integration", in ? cJSON_CreateString(in) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, violation_json(line));
		cJSON_Delete(line);
		n++;
	}
	cJSON_Delete(rec);
	ok_bare(out, violations_answer(arr, n, NULL));
}

static void patch_violation(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	cJSON *body = body_object(r, out);
	if (!body)
		return;
	const char *st = lg_json_str(body, "status");
	const cJSON *notes = lg_json_get(body, "notes");
	if (!st || (strcmp(st, "acknowledged") && strcmp(st, "resolved"))) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "status: want \"acknowledged\" or \"resolved\"");
		return;
	}
	if (notes && !cJSON_IsNull(notes) && (!cJSON_IsString(notes) || strlen(notes->valuestring) > NOTES_MAX)) {
		cJSON_Delete(body);
		api_error(out, 400, "bad_request", "notes: want a string of at most %d bytes", NOTES_MAX);
		return;
	}
	const char *args[] = { !strcmp(st, "resolved") ? "resolve" : "ack", "--", id, NULL, NULL, NULL };
	if (cJSON_IsString(notes)) {
		args[1] = "--note";
		args[2] = notes->valuestring;
		args[3] = "--";
		args[4] = id;
	}
	cJSON *v = NULL;
	char err[1100];
	int status = 0;
	if (!store_exists(s)) {
		cJSON_Delete(body);
		api_error(out, 404, "not_found", "no violation '%s'", id);
		return;
	}
	const char *argv[12] = { "lg-store", "--db", s->c->db };
	for (size_t i = 0; args[i]; i++)
		argv[3 + i] = args[i];
	status = tool_lines(argv, json_line, &v, err, sizeof err);
	cJSON_Delete(body);
	if (status == 0 && v) {
		cJSON *line = violation_json(v);
		cJSON_Delete(v);
		ok_data(out, 200, line);
		return;
	}
	cJSON_Delete(v);
	if (status == 1 && strstr(err, ": not found"))
		api_error(out, 404, "not_found", "no violation '%s'", id);
	else if (status == 1 && strstr(err, "already resolved"))
		api_error(out, 409, "already_resolved", "violation '%s' is resolved", id);
	else {
		lg_err("serve: lg-store %s %s: exit %d: %s", args[0], id, status, err);
		api_error(out, 500, "store_error", "the violation cannot be updated ('lg-store check' says what)");
	}
}

/* ---- routing ---- */

void api_handle(serve_ctx *s, const api_req *r, api_resp *out)
{
	const char *id, *allow;
	http_route route = http_match(r->method, r->segs, r->nsegs, &id, &allow);
	if (route == R_HEALTH) {
		get_health(out);
		return;
	}
	int auth = serve_auth(s, r->auth);
	if (auth == 401) {
		out->www_auth = 1;
		api_error(out, 401, "unauthorized", "missing or wrong 'Authorization: Bearer' token");
		return;
	}
	if (auth) {
		api_error(out, 500, "token_unavailable", "the server's token file cannot be used (the server's log says why)");
		return;
	}
	if (route == R_NONE && allow) {
		out->allow = allow;
		api_error(out, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", r->method, allow);
		return;
	}
	if (route == R_NONE) {
		api_error(out, 404, "not_found", "no such endpoint");
		return;
	}
	if (id && !http_id_ok(id)) {
		api_error(out, 400, "bad_request", "the id in the path is empty, too long or has control characters");
		return;
	}
	switch (route) {
	case R_INTEGRATIONS: get_integrations(s, out); break;
	case R_SYNC: post_sync(s, r, out, id); break;
	case R_SYNC_STATUS: get_sync_status(s, out, id); break;
	case R_RUNS: get_runs(s, r, out, id); break;
	case R_TRACES: get_traces(s, r, out); break;
	case R_TRACE: get_trace(s, out, id); break;
	case R_STATS: get_stats(s, r, out); break;
	case R_POLICIES: get_policies(s, out); break;
	case R_VIOLATIONS: get_violations(s, r, out); break;
	case R_VIOLATIONS_BY_TRACE: get_violations_by_trace(s, out, id); break;
	case R_VIOLATION: patch_violation(s, r, out, id); break;
	case R_POLICY_TOGGLE: post_toggle(s, r, out, id); break;
	default: api_error(out, 404, "not_found", "no such endpoint"); break;
	}
}
