/* lg-sync: runs lg-fetch | lg-map | lg-detect | lg-policy | lg-store put
 * per configured integration, owns the config file's integrations, the
 * per-integration run lock, status and the scheduler. */
#ifndef SYNC_H
#define SYNC_H
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"

/* What every command shares: where the config and the store are. */
typedef struct {
	char config[4096];   /* the config file (may not exist) */
	char db[4096];       /* the store directory */
	int quiet;
	int silent;          /* daemon: stages' stderr kept, not shown */
	int daemon;          /* runs bounded by the integration's maxRunTime */
	const char *run_id;  /* run --run-id: the id the run is recorded under, or NULL */
} sync_ctx;

/* ---- sync/integrations.c: add, list, remove, test; loading for the others ---- */
int cmd_add(sync_ctx *c, int argc, char **argv);
int cmd_list(sync_ctx *c, int argc, char **argv);
int cmd_remove(sync_ctx *c, int argc, char **argv);
int cmd_test(sync_ctx *c, int argc, char **argv);
/* Loads the config, each bad entry reported on stderr and skipped. With no
 * file, the LANGFUSE_* environment's "default". Returns 0 or LG_EXIT_USAGE
 * (message printed). */
int sync_load(sync_ctx *c, lg_config *cfg);
/* sync_load, then the integrations ids name (with none, every valid one);
 * an invalid entry asked for is reported, left out and counted in
 * *skipped. Returns 0 with cfg loaded and *ids_out malloc'd, or an exit
 * status (message printed, nothing to free). */
int sync_select(sync_ctx *c, lg_config *cfg, char **ids, int nids, const char ***ids_out, int *n_out, int *skipped);

/* The entry as `list` shows it: a copy, its inline secret masked, no
 * credentials in its host. */
struct cJSON *integration_masked(const struct cJSON *raw);
/* The LANGFUSE_* environment's integration as `list` shows it, or NULL. */
struct cJSON *integration_env_entry(void);

/* ---- sync/status.c ---- */
int cmd_status(sync_ctx *c, int argc, char **argv);
int cmd_cursor(sync_ctx *c, int argc, char **argv);
/* The store's status of id parsed (never NULL: a neutral one without a store). */
struct cJSON *store_status(const sync_ctx *c, const char *id);
/* The same; its status in *rc, lg-store's message on stderr when loud. */
struct cJSON *store_status_rc(const sync_ctx *c, const char *id, int loud, int *rc);
/* 1 when a run holds id's lock now. */
int lock_held(const sync_ctx *c, const char *id);
void lock_path(const sync_ctx *c, const char *id, char *out, size_t outlen);

/* ---- sync/proc.c: running the tools ---- */
/* The tool's path: the one next to lg-sync wins over $PATH. */
const char *tool_path(const char *name, char *out, size_t outlen);
/* Runs argv (argv[0] a tool name), stdin from /dev/null, stdout into *out,
 * the last stderr line into err (may be NULL). Returns the exit status
 * (128+N when killed by signal N), or -1 when it could not start. */
int run_capture(const char *const *argv, lg_buf *out, char *err, size_t errlen);

/* ---- sync/signals.c ---- */
/* SIGTERM/SIGINT set the stop (and wake sig_fd); 0 or -1. */
int signals_install(void);
/* The stop signal received ("SIGTERM", "SIGINT") or NULL. */
const char *stop_name(void);
/* How many stop signals came so far. */
int stop_count(void);
/* A pipe's read end that becomes readable at each stop signal. */
int stop_fd(void);
/* Drains stop_fd. */
void stop_drain(void);

/* ---- sync/run.c ---- */
typedef struct {
	const char *mode;    /* "incremental" or "backfill" */
	const char *since, *until, *limit;
} run_opts;

typedef struct {
	int code;            /* 0 or the failing stage's status */
	int busy;            /* another run held the lock */
	const char *stopped; /* the stop signal that ended it, or NULL */
	char line[2048];     /* one-line summary */
} run_result;

void sync_one(sync_ctx *c, const lg_integration *it, const run_opts *o, run_result *r);
int cmd_run(sync_ctx *c, int argc, char **argv);

/* ---- sync/daemon.c ---- */
int cmd_daemon(sync_ctx *c, int argc, char **argv);

/* ---- sync/serve.c ---- */
int cmd_serve(sync_ctx *c, int argc, char **argv);

/* ---- sync/policies.c: the policy toggles the config keeps ---- */
/* base (NULL-terminated, lg-policy's argv) with --enable ID / --disable ID
 * for each entry of the config's "policies"; malloc'd, NULL out of
 * memory. Free with policy_argv_free. */
const char **policy_argv(const sync_ctx *c, const char *const *base);
void policy_argv_free(const char **argv);
/* Sets policy id on or off in the config (locked, atomic). Returns 0 or
 * an exit status with why in err. */
int policy_toggle(const sync_ctx *c, const char *id, int enabled, char *err, size_t errlen);

/* ---- sync/main.c ---- */
void usage(void);
#endif
