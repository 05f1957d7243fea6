/* The API asks the store through the lg-store command: one child process
 * per query, its stdout read line by line, and answers kept while the
 * store has not changed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
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
#include "api_int.h"

/* ---- running the tools ---- */


/* Runs argv[0] (a tool next to lg-sync, else on $PATH) with stdin from
 * /dev/null, hands each line of its stdout to fn (until fn stops: then
 * its stdout is closed, which ends it quietly), keeps its last stderr
 * line in err. Returns its exit status, 128+N when killed by signal N,
 * -1 when it could not start, -2 when a line was longer than we read. */
int api_tool_lines(const char *const *argv, line_fn fn, void *ctx, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, status = -1, too_long = 0;
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
	const char *args[40];
	size_t i = 0;
	args[0] = tool_path(argv[0], path, sizeof path);
	for (i = 1; argv[i] && i < 39; i++)
		args[i] = argv[i];
	args[i] = NULL;
	spawn_how how = { .fd = { SPAWN_NULL, out[1], er[1] } };
	int rc = proc_spawn(&pid, args, &how);
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
int api_store_exists(const serve_ctx *s)
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
int api_store_version(const serve_ctx *s, uint64_t *ver, ino_t *ino)
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

size_t api_cache_key(const char **args, char *key, size_t cap)
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
int api_cache_get(const char *key, size_t keylen, uint64_t ver, ino_t ino, lg_buf *out)
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

void api_cache_put(const char *key, size_t keylen, uint64_t ver, ino_t ino, const lg_buf *outb)
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
int api_store_lines(serve_ctx *s, api_resp *out, const char **args, line_fn fn, void *ctx, int *status,
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
	if (cacheable && api_store_version(s, &ver, &ino) == 0)
		keylen = api_cache_key(args, key, sizeof key);
	lg_buf kept = { 0 };
	if (keylen && api_cache_get(key, keylen, ver, ino, &kept)) {
		replay(&kept, fn, ctx);
		lg_buf_free(&kept);
		if (status)
			*status = 0;
		return 0;
	}
	tee_ctx t = { fn, ctx, keylen ? &kept : NULL, 0 };
	int st = api_tool_lines(argv, tee_line, &t, err, sizeof err);
	if (st == 0 && t.keep)
		api_cache_put(key, keylen, ver, ino, t.keep);
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
