/* A pipeline of tools, spawned and watched by lg-sync. */
#ifndef SYNC_PROC_H
#define SYNC_PROC_H
#include <sys/types.h>

#include "buf.h"

#define PIPELINE_MAX 8
/* The status of a stage that could not be started. */
#define LG_PIPELINE_NOSTART 127

typedef struct {
	const char *name;         /* "lg-fetch", for messages */
	const char *const *argv;  /* argv[0]: the program (a path, or found in $PATH) */
	pid_t pid;
	int status;               /* exit status; 128+N when killed by signal N */
	char last[1024];          /* last stderr line that is no hint nor retry */
	char last_any[1024];      /* last non-blank stderr line */
	lg_buf err;               /* the stderr line being read */
} stage;

/* How proc_spawn starts a child: its stdin, stdout and stderr (an fd of
 * ours, SPAWN_NULL for /dev/null, SPAWN_SAME for lg-sync's own), its
 * process group (with setpgroup: pgid's, or a new one when pgid is 0) and
 * whether SIGTERM, SIGINT and SIGHUP start blocked. */
#define SPAWN_SAME (-1)
#define SPAWN_NULL (-2)
typedef struct {
	int fd[3];
	int setpgroup;
	pid_t pgid;
	int stops_blocked;
} spawn_how;

/* Starts argv (argv[0] a path, or a name found in $PATH) as how says.
 * The child starts clean whatever lg-sync's threads and handlers did:
 * SIGPIPE, SIGTERM and SIGINT at their defaults, no other signal blocked,
 * and no fd of ours but the three it is given. Returns 0 with *pid set,
 * or an errno value. */
int proc_spawn(pid_t *pid, const char *const *argv, const spawn_how *how);

/* Runs st[0..n) as a pipeline: stage 0 reads in_fd (or /dev/null when
 * negative), the last stage's stdout goes to out_fd, or when that is
 * negative is collected into out (may be NULL),
 * each stage's stderr is read line by line (copied to ours unless silent)
 * to keep its error line. With forward_stop, each stop signal lg-sync gets
 * is passed on to stage 0 as SIGTERM. Returns 0, or -1 when not every
 * stage could be started (the statuses say which). */
int pipeline_run(stage *st, size_t n, int in_fd, int out_fd, lg_buf *out, int silent, int forward_stop);
/* snprintf for paths and messages built from a path: the text is cut at
 * outlen (messages) and a cut path is reported by its -1. */
int sfmt(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The stage's error line, or NULL when it printed nothing. */
const char *stage_error(const stage *st);
#endif
