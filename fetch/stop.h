/* A clean stop on SIGTERM, SIGINT or SIGHUP: the first signal only sets a
 * flag (the handler is async-signal-safe) and puts the default action back,
 * so a second one kills at once. Everything that can block checks the flag:
 * a transfer aborts through curl's progress callback, sleeps are cut into
 * short slices, the window loop takes no further window. The run then ends
 * with the checkpoint of the last completed window already written and a
 * failed run-end "interrupted by SIGTERM" (exit 1). */
#ifndef FETCH_STOP_H
#define FETCH_STOP_H
#include <stdint.h>

/* Installs the handlers. SIGINT and SIGHUP stay ignored when they were
 * ignored on entry (a background job, nohup). Returns 0 or -1. */
int stop_install(void);
/* The signal received, or 0. */
int stop_requested(void);
/* "SIGTERM", "SIGINT" or "SIGHUP" for the signal received. */
const char *stop_signal_name(void);
/* From ms milliseconds on, stop_requested() answers as if a signal had come
 * (named "the run time limit"): one run cannot hold the machine, or the
 * daemon, for ever. 0: no limit. */
void stop_after(int64_t ms);
/* For tests: as if sig had arrived (0 clears). */
void stop_request(int sig);
#endif
