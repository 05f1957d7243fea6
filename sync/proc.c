/* Running the tools: where they are, a pipeline of them with each stage's
 * exit status and stderr, and one-shot queries. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "sync.h"

extern char **environ;

int sfmt(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *tool_path(const char *name, char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			snprintf(out, outlen, "%.*s/%s", (int)(slash - self), self, name);
			if (access(out, X_OK) == 0)
				return out;
		}
	}
	snprintf(out, outlen, "%s", name);
	return out;
}

/* A stage's error is its last stderr line that is not blank, a hint or a
 * retry announcement (lg-fetch prints hints after the error). */
static int is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n\f\v")] == '\0';
}

static int is_noise(const char *s)
{
	const char *p = s + strspn(s, "abcdefghijklmnopqrstuvwxyz-");
	if (strncmp(s, "lg-", 3) == 0 && strncmp(p, ": hint: ", 8) == 0)
		return 1;
	const char *r = strstr(s, "; retry ");
	if (!r)
		return 0;
	r += 8;
	size_t d = strspn(r, "0123456789");
	if (!d || strncmp(r + d, " in ", 4) != 0)
		return 0;
	r += d + 4;
	r += strspn(r, "0123456789.");
	return strcmp(r, "s") == 0;
}

static void stage_line(stage *st, const char *line, int silent)
{
	if (!silent)
		fprintf(stderr, "%s\n", line);
	if (is_blank(line))
		return;
	snprintf(st->last_any, sizeof st->last_any, "%s", line);
	if (!is_noise(line))
		snprintf(st->last, sizeof st->last, "%s", line);
}

const char *stage_error(const stage *st)
{
	return st->last[0] ? st->last : st->last_any[0] ? st->last_any : NULL;
}

/* Feeds bytes of a stage's stderr; complete lines go to stage_line. */
static void stage_feed(stage *st, const char *p, size_t n, int silent)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (st->err.len < 4096)
				lg_buf_addc(&st->err, p[i]);
			continue;
		}
		stage_line(st, st->err.len ? lg_buf_cstr(&st->err) : "", silent);
		st->err.len = 0;
	}
}

int proc_spawn(pid_t *pid, const char *const *argv, const spawn_how *how)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t mask;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return rc;
	if ((rc = posix_spawnattr_init(&at))) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	for (int i = 0; i < 3 && !rc; i++) {
		if (how->fd[i] == SPAWN_NULL)
			rc = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
		else if (how->fd[i] != SPAWN_SAME)
			rc = posix_spawn_file_actions_adddup2(&fa, how->fd[i], i);
	}
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Our own fds are close-on-exec; this covers what a library left open. */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* Server threads block signals and lg-sync ignores SIGPIPE: neither
	 * is the child's. */
	sigemptyset(&mask);
	if (how->stops_blocked) {
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGHUP);
	}
	posix_spawnattr_setsigmask(&at, &mask);
	sigemptyset(&mask);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	posix_spawnattr_setsigdefault(&at, &mask);
	if (how->setpgroup) {
		posix_spawnattr_setpgroup(&at, how->pgid);
		flags |= POSIX_SPAWN_SETPGROUP;
	}
	posix_spawnattr_setflags(&at, flags);
	union { const char *const *c; char *const *m; } av = { argv };
	if (!rc)
		rc = posix_spawnp(pid, argv[0], &fa, &at, av.m, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

/* The stop signals wait, blocked: lg-fetch unblocks them once its
 * handlers are set (a stop sent earlier is then delivered, not lost),
 * the later stages never see them and end when their input ends, so
 * lg-store commits everything lg-fetch wrote. Their own process group
 * keeps a terminal's Ctrl-C for lg-sync alone, which passes it on. */
static int spawn_stage(stage *st, int in, int out, int errw, pid_t pgid)
{
	spawn_how how = { .fd = { in, out, errw }, .setpgroup = 1, .pgid = pgid, .stops_blocked = 1 };
	int rc = proc_spawn(&st->pid, st->argv, &how);
	if (rc) {
		st->pid = -1;
		snprintf(st->last, sizeof st->last, "%s: cannot run %s: %s", st->name, st->argv[0], strerror(rc));
		st->status = 127;
	}
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reads the stages' stderr and the last stage's stdout until each is
 * closed; passes each stop signal on to stage 0 when forward_stop. */
static void pump(stage *st, size_t n, int *errfd, int *outfd, lg_buf *out, int silent, int forward_stop)
{
	struct pollfd pf[PIPELINE_MAX + 2];
	char buf[65536];
	/* A stop before the pipeline started counts too: lg-fetch gets it
	 * once its handler is set. */
	int passed = 0;
	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (errfd[i] >= 0)
				pf[k++] = (struct pollfd){ .fd = errfd[i], .events = POLLIN };
		if (*outfd >= 0)
			pf[k++] = (struct pollfd){ .fd = *outfd, .events = POLLIN };
		if (k == 0)
			return;
		if (forward_stop && stop_fd() >= 0)
			pf[k++] = (struct pollfd){ .fd = stop_fd(), .events = POLLIN };
		if (poll(pf, k, -1) < 0) {
			if (errno != EINTR)
				return;
		}
		/* Each signal is passed on once: lg-fetch's second one kills it. */
		for (int now = stop_count(); forward_stop && passed < now; passed++) {
			stop_drain();
			if (st[0].pid > 0)
				kill(st[0].pid, SIGTERM);
		}
		for (size_t i = 0; i < n; i++) {
			if (errfd[i] < 0)
				continue;
			ssize_t r = read(errfd[i], buf, sizeof buf);
			if (r > 0)
				stage_feed(&st[i], buf, (size_t)r, silent);
			else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				if (st[i].err.len)
					stage_line(&st[i], lg_buf_cstr(&st[i].err), silent);
				st[i].err.len = 0;
				close_fd(&errfd[i]);
			}
		}
		if (*outfd >= 0) {
			ssize_t r = read(*outfd, buf, sizeof buf);
			if (r > 0) {
				if (out)
					lg_buf_add(out, buf, (size_t)r);
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(outfd);
			}
		}
	}
}

int pipeline_run(stage *st, size_t n, int in_fd, int out_fd, lg_buf *out, int silent, int forward_stop)
{
	int errfd[PIPELINE_MAX], outfd = -1, next_in = in_fd, rc = 0;
	pid_t pgid = 0;
	if (next_in < 0)
		next_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		int p[2] = { -1, -1 }, e[2] = { -1, -1 };
		int last_to_fd = i == n - 1 && out_fd >= 0;
		errfd[i] = -1;
		st[i].pid = -1;
		st[i].status = 0;
		if ((!last_to_fd && pipe2(p, O_CLOEXEC) != 0) || pipe2(e, O_CLOEXEC) != 0) {
			snprintf(st[i].last, sizeof st[i].last, "%s: pipe: %s", st[i].name, strerror(errno));
			st[i].status = LG_PIPELINE_NOSTART;
			close_fd(&p[0]), close_fd(&p[1]), close_fd(&e[0]), close_fd(&e[1]);
			rc = -1;
			break;
		}
		/* Only the ends lg-sync reads: a stage's stdin must block. */
		fcntl(e[0], F_SETFL, O_NONBLOCK);
		if (spawn_stage(&st[i], next_in, last_to_fd ? out_fd : p[1], e[1], pgid) == 0 && pgid == 0)
			pgid = st[i].pid;
		close_fd(&p[1]);
		close_fd(&e[1]);
		if (next_in != in_fd && next_in >= 0)
			close(next_in);
		next_in = p[0];
		errfd[i] = e[0];
	}
	if (rc == 0) {
		outfd = next_in;
		if (outfd >= 0)
			fcntl(outfd, F_SETFL, O_NONBLOCK);
	} else if (next_in != in_fd && next_in >= 0) {
		close(next_in);
	}
	size_t started = 0;
	while (started < n && (st[started].pid > 0 || st[started].status))
		started++;
	pump(st, started, errfd, &outfd, out, silent, forward_stop);
	for (size_t i = 0; i < started; i++) {
		int ws;
		if (st[i].pid <= 0)
			continue;
		while (waitpid(st[i].pid, &ws, 0) < 0)
			if (errno != EINTR) {
				ws = 127 << 8;
				break;
			}
		st[i].status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
		lg_buf_free(&st[i].err);
	}
	return rc;
}

int run_capture(const char *const *argv, lg_buf *out, char *err, size_t errlen)
{
	stage st;
	memset(&st, 0, sizeof st);
	st.name = argv[0];
	char path[PATH_MAX];
	const char *args[32];
	size_t i;
	args[0] = tool_path(argv[0], path, sizeof path);
	for (i = 1; argv[i] && i < 31; i++)
		args[i] = argv[i];
	args[i] = NULL;
	st.argv = args;
	pipeline_run(&st, 1, -1, -1, out, 1, 0);
	if (err && errlen)
		snprintf(err, errlen, "%s", stage_error(&st) ? stage_error(&st) : "");
	return st.status;
}
