/* lg-sync serve: the HTTP API (api.c) and the server around it (serve.c:
 * libmicrohttpd, the token, limits, static files, the access log). */
#ifndef SYNC_SERVE_H
#define SYNC_SERVE_H
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "sync.h"

/* A body's bound: the largest the API takes (notes of 4 KiB, escaped)
 * with room; 320 connections at most hold 5 MB of bodies. */
#define SERVE_MAX_BODY (16 * 1024)
#define SERVE_MAX_RUNS 64

/* A sync run this server started: until it is reaped. */
typedef struct {
	char id[128];        /* the integration */
	char run[64];        /* the run's id */
	pid_t pid;           /* 0: free slot */
} serve_run;

typedef struct {
	sync_ctx *c;
	char token_path[4096];
	char console[4096];  /* "" when there is none */
	char chartjs[4096];  /* "" when libjs-chart.js is not installed */
	pthread_mutex_t mu;  /* the token and the runs */
	char token[256];
	size_t token_len;
	int token_ok;        /* the file as last read was good */
	struct stat token_st;
	serve_run runs[SERVE_MAX_RUNS];
} serve_ctx;

typedef struct {
	const char *method;
	char **segs;         /* the path's segments after "api", decoded */
	int nsegs;
	const char *body;
	size_t body_len;
	const char *auth;    /* the Authorization header, or NULL */
	/* A query parameter as sent (percent escapes not decoded; '+' is
	 * already a space), or NULL. */
	const char *(*arg)(void *cls, const char *name);
	void *arg_cls;
} api_req;

typedef struct {
	int status;
	lg_buf body;
	const char *allow;   /* for 405 */
	int retry_after;     /* seconds, for 429; 0: none */
	int www_auth;        /* 401: say the scheme */
} api_resp;

/* Answers one API request into out (status and JSON body). */
void api_handle(serve_ctx *s, const api_req *r, api_resp *out);
/* Frees the answers kept of the store. */
void api_cache_free(void);
/* Sets out to the one error shape. */
void api_error(api_resp *out, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The token check: 0 when auth carries the token, else the status to
 * answer (401, or 500 when the token file went bad). */
int serve_auth(serve_ctx *s, const char *auth);
/* token.c: the token file read into s (0, or -1 with why in err), a new
 * one created, and its default path. */
int serve_token_read(serve_ctx *s, char *err, size_t errlen);
int serve_token_create(const char *path, char *err, size_t errlen);
int serve_token_default_path(char *out, size_t n);

/* Starts the server for lg-sync serve or daemon --listen: parses the
 * serve options (--listen, --token-file, --console) out of argv, leaving
 * the others. Returns the server (NULL with *rc set on error). */
typedef struct serve_server serve_server;
/* Options of serve and daemon --listen. */
typedef struct {
	const char *listen, *token_file, *console;
} serve_opts;
serve_server *serve_start(sync_ctx *c, const serve_opts *o, int *rc);
void serve_stop(serve_server *sv);


#endif
