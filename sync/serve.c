/* lg-sync serve: the HTTP server around the API (api.c) on
 * libmicrohttpd. Each connection has a thread of its own, so a request
 * waiting for a slow store query keeps no other connection from being
 * read (nor from being timed out while it waits); the store queries
 * running at once (QUERIES) and the connections (CONN_ACCEPTED) are
 * bounded whatever the number of clients. Here: the listen socket, the
 * limits, static files for the console and the access log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "private.h"
#include "serve.h"

#define QUERIES 8             /* API requests answered at once (store queries) */
#define CONN_ANSWERED 256     /* open connections answered; more get 429 */
#define CONN_ACCEPTED 320     /* open connections accepted at all */
#define CONN_TIMEOUT 10       /* seconds without a byte before a connection is closed */
#define HEAD_DEADLINE 10      /* seconds for a request's line and headers, all of them */
#define DRAIN_MAX (1024 * 1024) /* a chunked body past the limit: read and dropped up to this */
#define CONN_MEMORY (32 * 1024) /* per connection: request line, headers, buffers */

static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

struct serve_server;
static struct serve_server *volatile lingering;

/* An open connection, watched while a request's head comes in. */
typedef struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	time_t since; /* when the head began (monotonic s); 0: it is in */
} conn_watch;

struct serve_server {
	serve_ctx s;
	struct MHD_Daemon *d;
	atomic_int open;
	sem_t queries; /* QUERIES tickets: an API request holds one */
	char where[300];
	/* libmicrohttpd's timeout counts idle time only: a client that sends
	 * a byte of its headers every few seconds would hold a connection for
	 * hours. The watchdog thread ends a head not whole in HEAD_DEADLINE. */
	pthread_mutex_t wmu;
	pthread_cond_t wcond;
	conn_watch *watched;
	int wstop;
	pthread_t watchdog;
	int watchdog_on;
};

/* A request being read: its body, and when it began (for the log). */
typedef struct {
	struct timespec t0;
	lg_buf body;
	size_t dropped; /* bytes of a body over the limit, read and dropped */
} request;

/* ---- answering ---- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One line per request: who, what (the path without its query, bytes
 * that are not printable shown as '?'), the status, the time, the size.
 * Never a header: the token is in one. */
static void access_log(struct MHD_Connection *conn, const char *method, const char *url, int status,
		       const request *q, size_t bytes)
{
	char who[INET6_ADDRSTRLEN] = "?", path[201], line[400];
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, who, sizeof who);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, who, sizeof who);
	}
	size_t i;
	for (i = 0; url[i] && i < sizeof path - 1; i++)
		path[i] = url[i] >= 0x20 && url[i] < 0x7f && url[i] != '"' ? url[i] : '?';
	path[i] = '\0';
	int n = snprintf(line, sizeof line, "lg-sync: %s \"%.10s %s\" %d %.1fms %zuB\n", who, method, path, status,
			 q ? ms_since(&q->t0) : 0.0, bytes);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_json(struct MHD_Connection *conn, const char *method, const char *url,
				 const request *q, api_resp *a)
{
	static char empty[1];
	struct MHD_Response *r = MHD_create_response_from_buffer(a->body.len, a->body.data ? a->body.data : empty,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (a->allow)
		MHD_add_response_header(r, "Allow", a->allow);
	if (a->www_auth)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"lg\"");
	if (a->retry_after) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", a->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (a->status == 413 || a->status == 429)
		MHD_add_response_header(r, "Connection", "close");
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)a->status, r);
	MHD_destroy_response(r);
	access_log(conn, method, url, a->status, q, a->body.len);
	lg_buf_free(&a->body);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, const char *method, const char *url,
				  const request *q, int status, const char *code, const char *msg)
{
	api_resp a = { 0 };
	api_error(&a, status, code, "%s", msg);
	if (status == 429)
		a.retry_after = 1;
	return send_json(conn, method, url, q, &a);
}

/* ---- static files ---- */

/* Opens DIR/segs... with no symbolic link followed at any step below DIR:
 * an fd of a regular file, or -1. */
static int open_below(const char *dir, char **segs, int n, struct stat *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < n; i++) {
		int last = i == n - 1;
		int next = openat(fd, segs[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
		close(fd);
		fd = next;
	}
	if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static enum MHD_Result send_file(struct MHD_Connection *conn, const char *method, const char *url,
				 const request *q, int fd, const struct stat *st, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_fd((size_t)st->st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	access_log(conn, method, url, 200, q, (size_t)st->st_size);
	return rc;
}

static enum MHD_Result serve_static(serve_server *sv, struct MHD_Connection *conn, const char *method,
				    const char *url, const request *q, char **segs, int n)
{
	static char index_name[] = "index.html";
	static char *index_seg[] = { index_name };
	struct stat st;
	int fd = -1;
	const char *type = NULL;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		api_resp a = { 0 };
		api_error(&a, 405, "method_not_allowed", "only GET and HEAD here");
		a.allow = "GET, HEAD";
		return send_json(conn, method, url, q, &a);
	}
	if (n == 2 && !strcmp(segs[0], "vendor") && !strcmp(segs[1], "chart.js")) {
		if (*sv->s.chartjs && (fd = open(sv->s.chartjs, O_RDONLY | O_CLOEXEC)) >= 0 &&
		    (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
			close(fd);
			fd = -1;
		}
		type = "text/javascript; charset=utf-8";
	} else if (*sv->s.console) {
		char **file = NULL;
		int nfile = 0;
		if (n == 1 && !*segs[0]) { /* "/" */
			file = index_seg;
			nfile = 1;
		} else if (n >= 1 && !strcmp(segs[0], "console")) {
			file = n == 1 || (n == 2 && !*segs[1]) ? index_seg : segs + 1;
			nfile = n == 1 || (n == 2 && !*segs[1]) ? 1 : n - 1;
		}
		if (file && http_static_ok(file, nfile) && (type = http_content_type(file[nfile - 1])) != NULL)
			fd = open_below(sv->s.console, file, nfile, &st);
	}
	if (fd < 0)
		return send_error(conn, method, url, q, 404, "not_found", "no such file");
	return send_file(conn, method, url, q, fd, &st, type);
}

/* ---- libmicrohttpd's callbacks ---- */

static time_t mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* The head of the connection's request is in (since 0), or the next one's
 * clock starts (since now). */
static void watch_mark(serve_server *sv, struct MHD_Connection *c, time_t since)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_watch *w = ci ? ci->socket_context : NULL;
	if (!w)
		return;
	pthread_mutex_lock(&sv->wmu);
	w->since = since;
	pthread_mutex_unlock(&sv->wmu);
}

static void *watchdog(void *p)
{
	serve_server *sv = p;
	pthread_mutex_lock(&sv->wmu);
	while (!sv->wstop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&sv->wcond, &sv->wmu, &until);
		time_t now = mono_s();
		/* shutdown(), not close(): libmicrohttpd reads the end and closes
		 * the connection itself. An entry leaves the list before its
		 * socket is closed, so the fd here is still the connection's. */
		for (conn_watch *w = sv->watched; w; w = w->next)
			if (w->since && now - w->since >= HEAD_DEADLINE) {
				shutdown(w->fd, SHUT_RDWR);
				w->since = 0;
			}
	}
	pthread_mutex_unlock(&sv->wmu);
	return NULL;
}

/* Paths reach us as sent: each segment is decoded once by the router, so
 * "%2F" inside an id is not a separator and "%2e%2e" is seen as "..". */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	return strlen(s);
}

static const char *query_arg(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	serve_server *sv = cls;
	request *q = *con_cls;
	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof *q)))
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &q->t0);
		*con_cls = q;
		watch_mark(sv, conn, 0);
		if (atomic_load(&sv->open) > CONN_ANSWERED)
			return send_error(conn, method, url, q, 429, "too_many_requests", "too many connections; retry in a second");
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SERVE_MAX_BODY)
			return send_error(conn, method, url, q, 413, "body_too_large", "the body is over 16 KiB");
		return MHD_YES;
	}
	if (*upload_size) {
		/* Only a chunked body (no Content-Length) gets here past the
		 * limit. libmicrohttpd takes no answer while a body is coming
		 * in: the rest is read and dropped so the 413 can go out at its
		 * end, but no more than DRAIN_MAX of it: a body that may never
		 * end has its connection closed there, without an answer. */
		size_t got = *upload_size;
		*upload_size = 0;
		if (q->dropped || q->body.len + got > SERVE_MAX_BODY) {
			q->dropped += got;
			if (q->dropped <= DRAIN_MAX)
				return MHD_YES;
			access_log(conn, method, url, 413, q, 0);
			return MHD_NO;
		}
		return lg_buf_add(&q->body, upload, got) != 0 ? MHD_NO : MHD_YES;
	}
	if (q->dropped)
		return send_error(conn, method, url, q, 413, "body_too_large", "the body is over 16 KiB");
	char buf[4096], *segs[HTTP_MAX_SEGS];
	int n = http_split_path(url, segs, HTTP_MAX_SEGS, buf, sizeof buf);
	if (n == -1)
		return send_error(conn, method, url, q, 400, "bad_request", "the path has a bad percent escape or a NUL");
	if (n < 0)
		return send_error(conn, method, url, q, 404, "not_found", "no such endpoint");
	if (n >= 1 && !strcmp(segs[0], "api")) {
		api_resp a = { 0 };
		api_req r = { method, segs + 1, n - 1, q->body.data, q->body.len,
			      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
			      query_arg, conn };
		/* A request waiting here holds its own thread only; its
		 * connection is not timed out meanwhile. */
		while (sem_wait(&sv->queries) != 0 && errno == EINTR)
			;
		api_handle(&sv->s, &r, &a);
		sem_post(&sv->queries);
		return send_json(conn, method, url, q, &a);
	}
	return serve_static(sv, conn, method, url, q, segs, n);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	request *q = *con_cls;
	(void)toe;
	watch_mark(cls, c, mono_s());
	if (q) {
		lg_buf_free(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	serve_server *sv = cls;
	conn_watch *w;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&sv->open, 1);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(w = calloc(1, sizeof *w)))
			return;
		w->fd = ci->connect_fd;
		w->since = mono_s();
		pthread_mutex_lock(&sv->wmu);
		w->next = sv->watched;
		if (w->next)
			w->next->prev = w;
		sv->watched = w;
		pthread_mutex_unlock(&sv->wmu);
		*socket_context = w;
		return;
	}
	atomic_fetch_sub(&sv->open, 1);
	if ((w = *socket_context) != NULL) {
		pthread_mutex_lock(&sv->wmu);
		if (w->prev)
			w->prev->next = w->next;
		else
			sv->watched = w->next;
		if (w->next)
			w->next->prev = w->prev;
		pthread_mutex_unlock(&sv->wmu);
		free(w);
		*socket_context = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[600];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	lg_err("serve: %s", msg);
}

/* ---- starting ---- */

/* The console's files: --console, $LG_CONSOLE_DIR, the installed share
 * directory, or console/ of the source tree the binary was built in. */
static void find_console(serve_ctx *s, const char *opt)
{
	const char *env = getenv("LG_CONSOLE_DIR");
	char self[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
	struct stat st;
	s->console[0] = '\0';
	if (opt || (env && *env)) {
		snprintf(s->console, sizeof s->console, "%s", opt ? opt : env);
		return;
	}
#ifdef LG_DATADIR
	if (stat(LG_DATADIR "/console", &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(s->console, sizeof s->console, "%s", LG_DATADIR "/console");
		return;
	}
#endif
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	static const char *const up[] = { "/../console", "/../../../console" };
	for (size_t i = 0; i < sizeof up / sizeof *up; i++) {
		snprintf(cand, sizeof cand, "%s%s", self, up[i]);
		if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (!realpath(cand, real) || strlen(real) >= sizeof s->console)
				continue;
			memcpy(s->console, real, strlen(real) + 1);
			return;
		}
	}
}

static void find_chartjs(serve_ctx *s)
{
	static const char *const paths[] = { "/usr/share/javascript/chart.js/chart.min.js",
					     "/usr/share/javascript/chart.js/chart.js" };
	s->chartjs[0] = '\0';
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		if (access(paths[i], R_OK) == 0) {
			snprintf(s->chartjs, sizeof s->chartjs, "%s", paths[i]);
			return;
		}
}

/* The listen socket, bound: an fd, or -1 with why in err. */
static int listen_on(const char *spec, char *where, size_t wlen, int *loopback, char *err, size_t errlen)
{
	char host[256];
	unsigned port;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	if (http_parse_listen(spec, host, sizeof host, &port) != 0) {
		snprintf(err, errlen, "--listen: want ADDRESS:PORT (127.0.0.1:8077, [::1]:8077, localhost:8077), not '%s'", spec);
		return -1;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		sl = sizeof *v4;
		*loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		sl = sizeof *v6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
	} else {
		snprintf(err, errlen, "--listen: '%s' is not an IP address (or localhost)", host);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 512) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET)
		snprintf(where, wlen, "http://%s:%u", host, ntohs(v4->sin_port));
	else
		snprintf(where, wlen, "http://[%s]:%u", host, ntohs(v6->sin6_port));
	return fd;
}

serve_server *serve_start(sync_ctx *c, const serve_opts *o, int *rc)
{
	char err[4600];
	int loopback = 0;
	serve_server *sv = calloc(1, sizeof *sv);
	*rc = LG_EXIT_USAGE;
	if (!sv) {
		*rc = LG_EXIT_BAD;
		return NULL;
	}
	serve_ctx *s = &sv->s;
	s->c = c;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&sv->wmu, NULL);
	pthread_cond_init(&sv->wcond, NULL);
	sem_init(&sv->queries, 0, QUERIES);
	if (o->token_file)
		snprintf(s->token_path, sizeof s->token_path, "%s", o->token_file);
	else if (serve_token_default_path(s->token_path, sizeof s->token_path) != 0) {
		lg_usage_error("serve: no token file: use --token-file or set HOME");
		goto fail;
	}
	struct stat st;
	if (lstat(s->token_path, &st) != 0 && errno == ENOENT && serve_token_create(s->token_path, err, sizeof err) != 0) {
		lg_err("serve: %s", err);
		goto fail;
	}
	if (serve_token_read(s, err, sizeof err) != 0) {
		lg_err("serve: %s", err);
		goto fail;
	}
	s->token_ok = 1;
	find_console(s, o->console);
	find_chartjs(s);
	int fd = listen_on(o->listen ? o->listen : "127.0.0.1:8077", sv->where, sizeof sv->where, &loopback, err, sizeof err);
	if (fd < 0) {
		lg_err("serve: %s", err);
		goto fail;
	}
	if (!loopback)
		lg_err("serve: warning: %s is not a loopback address: the API has no TLS; put it behind a TLS proxy", sv->where);
	signal(SIGPIPE, SIG_IGN);
	/* A thread per connection: glibc would give each of up to 8 a core
	 * its own heap arena, and each arena keeps what it once held, so the
	 * server's memory would grow with the clients. The answers are made in
	 * a child (lg-store); a connection's thread only copies them out. */
	mallopt(M_ARENA_MAX, 2);
	sv->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
				 0, NULL, NULL, on_request, sv,
				 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, sv,
				 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_ACCEPTED,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
				 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv,
				 MHD_OPTION_NOTIFY_CONNECTION, on_connection, sv,
				 MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, sv,
				 MHD_OPTION_END);
	if (!sv->d) {
		close(fd);
		lg_err("serve: cannot start the HTTP server on %s", sv->where);
		*rc = LG_EXIT_BAD;
		goto fail;
	}
	if (pthread_create(&sv->watchdog, NULL, watchdog, sv) != 0) {
		MHD_stop_daemon(sv->d);
		lg_err("serve: cannot start a thread: %s", strerror(errno));
		*rc = LG_EXIT_BAD;
		goto fail;
	}
	sv->watchdog_on = 1;
	lg_err("serving %s (token in %s; console %s)", sv->where, s->token_path, *s->console ? s->console : "none");
	*rc = 0;
	return sv;
fail:
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&sv->wmu);
	pthread_cond_destroy(&sv->wcond);
	sem_destroy(&sv->queries);
	explicit_bzero(s->token, sizeof s->token);
	free(sv);
	return NULL;
}

void serve_stop(serve_server *sv)
{
	if (!sv)
		return;
	pthread_mutex_lock(&sv->wmu);
	sv->wstop = 1;
	pthread_cond_signal(&sv->wcond);
	pthread_mutex_unlock(&sv->wmu);
	if (sv->watchdog_on)
		pthread_join(sv->watchdog, NULL);
	MHD_stop_daemon(sv->d);
	api_cache_free();
	/* Runs we started go on (each holds its lock and records itself);
	 * their reapers end with the process. */
	explicit_bzero(sv->s.token, sizeof sv->s.token);
	pthread_mutex_lock(&sv->s.mu);
	int running = 0;
	for (size_t i = 0; i < SERVE_MAX_RUNS; i++)
		running += sv->s.runs[i].pid != 0;
	pthread_mutex_unlock(&sv->s.mu);
	if (!running) {
		pthread_mutex_destroy(&sv->s.mu);
		pthread_mutex_destroy(&sv->wmu);
		pthread_cond_destroy(&sv->wcond);
		sem_destroy(&sv->queries);
		free(sv);
		return;
	}
	lg_err("serve: %d sync run%s started over HTTP still running", running, running == 1 ? "" : "s");
	/* Their reapers still use sv: it stays until exit. */
	lingering = sv;
}

enum { OPT_LISTEN = 256, OPT_TOKEN_FILE, OPT_CONSOLE };

int cmd_serve(sync_ctx *c, int argc, char **argv)
{
	static const struct option serve_longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	serve_opts o = { 0 };
	int opt, rc;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", serve_longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN: o.listen = optarg; break;
		case OPT_TOKEN_FILE: o.token_file = optarg; break;
		case OPT_CONSOLE: o.console = optarg; break;
		case 'h': usage(); return 0;
		default: return lg_bad_option(opt, optopt, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return lg_usage_error("serve: unexpected argument '%s'", argv[optind]);
	if (signals_install() != 0) {
		lg_err("sigaction: %s", strerror(errno));
		return LG_EXIT_BAD;
	}
	serve_server *sv = serve_start(c, &o, &rc);
	if (!sv)
		return rc;
	while (!stop_name()) {
		struct pollfd pf = { .fd = stop_fd(), .events = POLLIN };
		poll(&pf, 1, 60000);
	}
	serve_stop(sv);
	lg_err("serve: stopped by %s", stop_name());
	return 0;
}
