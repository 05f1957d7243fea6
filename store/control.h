/* Whether lg-store put may apply a control line. Control lines steer the
 * sync state (which run is open, where an integration's cursor stands), so
 * put trusts them only as far as the run that carries them:
 *  - a run belongs to the integration its run-start names; with
 *    put --integration ID, a run-start for another integration is refused;
 *  - a checkpoint must belong to the open run and its integration, and its
 *    cursor must lie within the run's [from, to] (when run-start gave one)
 *    and no further than CONTROL_SKEW_MS past the present;
 *  - a run-end for a run that is not open must name the bound integration
 *    (and, checked in put_control.c against the store, the stored run's own).
 * A refused line is a bad line (reported, quarantined, exit 1); the cursor
 * and the runs stay as they were. */
#ifndef STORE_CONTROL_H
#define STORE_CONTROL_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* How far a cursor may lie ahead of this machine's clock. */
#define CONTROL_SKEW_MS ((int64_t)5 * 60000)
/* A run-start without a range. */
#define CONTROL_NO_TIME INT64_MIN

typedef struct {
	char *run;           /* the open run, or NULL */
	char *integration;   /* the integration it belongs to */
	int64_t from, to;    /* its range, CONTROL_NO_TIME when not given */
} control_run;

/* NULL when ctl (a control line) may be applied, else why not (in why or
 * static). bound: put --integration, or NULL; now: the present in ms. */
const char *control_refused(const control_run *r, const cJSON *ctl, const char *bound,
			    int64_t now, char *why, size_t n);
/* r becomes the run ctl (a run-start) opens. Returns 0, -1 out of memory. */
int control_open(control_run *r, const cJSON *ctl);
/* No run open any more. */
void control_close(control_run *r);
#endif
