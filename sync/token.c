/* lg-sync serve's bearer token: read from its file (created 0600 with a
 * random token when missing, refused when others can read it), read again
 * when the file changes, and compared in constant time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "private.h"
#include "serve.h"

#define TOKEN_MIN 16 /* characters: shorter tokens are refused */

/* Reads the token file into s (s->mu held): 0, or -1 with why in err. */
int serve_token_read(serve_ctx *s, char *err, size_t errlen)
{
	struct stat st;
	char buf[512];
	int fd = open(s->token_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", s->token_path, errno == ELOOP ? "a symbolic link: refused" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file", s->token_path);
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errlen, "%s: readable by group or others: refused (chmod 600 it)", s->token_path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		snprintf(err, errlen, "%s: not owned by this user: refused", s->token_path);
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", s->token_path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	char *p = buf + strspn(buf, " \t\r\n"), *e = p + strcspn(p, "\r\n");
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	size_t len = (size_t)(e - p);
	if (len < TOKEN_MIN || len >= sizeof s->token) {
		snprintf(err, errlen, "%s: the token must be %d to %zu characters on its first line", s->token_path,
			 TOKEN_MIN, sizeof s->token - 1);
		return -1;
	}
	memcpy(s->token, p, len);
	s->token[len] = '\0';
	s->token_len = len;
	s->token_st = st;
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* A missing token file is created: 32 random bytes in hex, mode 0600, in
 * a 0700 directory. 0, or -1 with why in err. */
int serve_token_create(const char *path, char *err, size_t errlen)
{
	unsigned char r[32];
	char hex[66], dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (lg_mkdir_private(dir) != 0) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	hex[64] = '\n';
	hex[65] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	int ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
	close(fd);
	explicit_bzero(hex, sizeof hex);
	explicit_bzero(r, sizeof r);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s", path);
		unlink(path);
		return -1;
	}
	lg_err("serve: created the API token in %s", path);
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_mode == b->st_mode;
}

int serve_auth(serve_ctx *s, const char *auth)
{
	struct stat st;
	char err[4400];
	pthread_mutex_lock(&s->mu);
	/* A rotated file is read again at once; one gone bad stops every
	 * request rather than keep an old token in force. */
	if (lstat(s->token_path, &st) != 0 || !s->token_ok || !same_file(&st, &s->token_st)) {
		int was = s->token_ok;
		s->token_ok = serve_token_read(s, err, sizeof err) == 0;
		if (!s->token_ok && was)
			lg_err("serve: token: %s", err);
		else if (s->token_ok && !was)
			lg_err("serve: token: %s is good again", s->token_path);
	}
	int ok = s->token_ok;
	int eq = ok && auth && strncmp(auth, "Bearer ", 7) == 0 &&
		 http_token_eq(auth + 7, strlen(auth + 7), s->token, s->token_len);
	pthread_mutex_unlock(&s->mu);
	return !ok ? 500 : eq ? 0 : 401;
}

int serve_token_default_path(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		return snprintf(out, n, "%s/langguard/api-token", xdg) < (int)n ? 0 : -1;
	if (home && *home)
		return snprintf(out, n, "%s/.config/langguard/api-token", home) < (int)n ? 0 : -1;
	return -1;
}
