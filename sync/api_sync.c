/* The API's sync endpoints: a run started as `lg-sync run` does it, in its
 * own process under the integration's lock, watched until it is reaped,
 * and its status and history read from the store. */
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

/* ---- runs started over HTTP, watched until they are reaped ---- */

typedef struct {
	serve_ctx *s;
	pid_t pid;
} reap_arg;

static void *reaper(void *p)
{
	reap_arg a = *(reap_arg *)p;
	int ws;
	free(p);
	while (waitpid(a.pid, &ws, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&a.s->mu);
	for (size_t i = 0; i < SERVE_MAX_RUNS; i++)
		if (a.s->runs[i].pid == a.pid)
			a.s->runs[i].pid = 0;
	pthread_mutex_unlock(&a.s->mu);
	return NULL;
}

/* Registers a run we started, and a thread that reaps it. 0, or -1. */
static int run_add(serve_ctx *s, const char *id, const char *run, pid_t pid)
{
	pthread_t t;
	pthread_attr_t at;
	reap_arg *a = malloc(sizeof *a);
	size_t i;
	if (!a)
		return -1;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < SERVE_MAX_RUNS && s->runs[i].pid; i++)
		;
	if (i < SERVE_MAX_RUNS) {
		snprintf(s->runs[i].id, sizeof s->runs[i].id, "%s", id);
		snprintf(s->runs[i].run, sizeof s->runs[i].run, "%s", run);
		s->runs[i].pid = pid;
	}
	pthread_mutex_unlock(&s->mu);
	*a = (reap_arg){ s, pid };
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	int rc = pthread_create(&t, &at, reaper, a);
	pthread_attr_destroy(&at);
	if (rc) {
		free(a);
		pthread_mutex_lock(&s->mu);
		if (i < SERVE_MAX_RUNS)
			s->runs[i].pid = 0;
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	return 0;
}

/* The run id of a run of id that we started and that still runs, copied
 * into out; 0, or -1 when there is none. */
static int run_find(serve_ctx *s, const char *id, char *out, size_t outlen)
{
	int found = -1;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < SERVE_MAX_RUNS && found; i++)
		if (s->runs[i].pid && strcmp(s->runs[i].id, id) == 0) {
			snprintf(out, outlen, "%s", s->runs[i].run);
			found = 0;
		}
	pthread_mutex_unlock(&s->mu);
	return found;
}

/* ---- sync and its status ---- */

/* The integration, valid; 0, or -1 answered (404, 500). */
static int find_integration(serve_ctx *s, api_resp *out, const char *id, lg_config *cfg, lg_integration **it)
{
	if (api_load_config(s, out, cfg))
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

int api_json_line(const char *line, size_t n, void *ctx)
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
	if (!api_store_exists(s))
		return 0;
	if (api_store_lines(s, out, args, api_json_line, status, NULL, 1)) {
		cJSON_Delete(*status);
		*status = NULL;
		return -1;
	}
	return 0;
}

void api_get_sync_status(serve_ctx *s, api_resp *out, const char *id)
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
	api_ok_data(out, 200, d);
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
void api_get_runs(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	lg_config cfg;
	lg_integration *it;
	long limit;
	int reverse;
	char lim[32];
	if (find_integration(s, out, id, &cfg, &it))
		return;
	lg_config_free(&cfg);
	if (api_paging(r, out, &limit, &reverse))
		return;
	snprintf(lim, sizeof lim, "%ld", limit);
	cJSON *runs = cJSON_CreateArray();
	const char *args[] = { "runs", "--limit", lim, "--", id, NULL };
	if (api_store_exists(s) && api_store_lines(s, out, args, array_line, runs, NULL, 1)) {
		cJSON_Delete(runs);
		return;
	}
	cJSON *d = cJSON_CreateObject();
	lg_json_set(d, "runs", runs);
	api_ok_data(out, 200, d);
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
	if (run_find(s, id, run, sizeof run) == 0)
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
	api_ok_bare(out, o);
	out->status = 409;
}

/* lg-sync run ID ..., in its own process group (a terminal's Ctrl-C for
 * the server is not for it). */
static pid_t spawn_run(serve_ctx *s, const char *id, const char *mode, const char *limit, const char *run)
{
	char self[PATH_MAX];
	const char *argv[20];
	size_t n = 0;
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
	spawn_how how = { .fd = { SPAWN_NULL, SPAWN_NULL, SPAWN_SAME }, .setpgroup = 1 };
	int rc = proc_spawn(&pid, argv, &how);
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

void api_post_sync(serve_ctx *s, const api_req *r, api_resp *out, const char *id)
{
	lg_config cfg;
	lg_integration *it;
	const char *mode = "incremental";
	char limit[32] = "";
	cJSON *body = NULL;
	if (r->body_len) {
		if (!(body = api_body_object(r, out)))
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
	if (!done && run_add(s, id, run, pid) != 0) {
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
	api_ok_data(out, 202, d);
}
