#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "json.h"
#include "stream.h"
#include "timeutil.h"

static int64_t time_of(const cJSON *ctl, const char *key)
{
	int64_t ms;
	const char *s = lg_json_str(ctl, key);
	return s && lg_time_parse(s, &ms) == 0 ? ms : CONTROL_NO_TIME;
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static const char *checkpoint_refused(const control_run *r, const cJSON *ctl, int64_t now,
				      char *why, size_t n)
{
	const char *run = lg_json_str(ctl, "run"), *integ = lg_json_str(ctl, "integration");
	const char *cur = lg_json_str(ctl, "cursor");
	int64_t at;
	if (!cur || lg_time_parse(cur, &at) != 0)
		return "checkpoint without a valid \"cursor\"";
	if (!r->run)
		return "checkpoint outside a run (no run-start before it)";
	if (!same(run, r->run)) {
		snprintf(why, n, "checkpoint of run %.60s inside run %.60s", run ? run : "(none)", r->run);
		return why;
	}
	if (!same(integ, r->integration)) {
		snprintf(why, n, "checkpoint for integration %.60s in a run of %.60s", integ ? integ : "(none)",
			 r->integration ? r->integration : "(none)");
		return why;
	}
	if ((r->from != CONTROL_NO_TIME && at < r->from) || (r->to != CONTROL_NO_TIME && at > r->to)) {
		snprintf(why, n, "checkpoint cursor %.40s outside the run's range", cur);
		return why;
	}
	if (at > now + CONTROL_SKEW_MS) {
		snprintf(why, n, "checkpoint cursor %.40s is in the future", cur);
		return why;
	}
	return NULL;
}

const char *control_refused(const control_run *r, const cJSON *ctl, const char *bound,
			    int64_t now, char *why, size_t n)
{
	const char *t = lg_control_type(ctl);
	const char *integ = lg_json_str(ctl, "integration");
	if (strcmp(t, "checkpoint") == 0) {
		if (!integ || !*integ || strlen(integ) > 400)
			return "checkpoint without a valid \"integration\"";
		return checkpoint_refused(r, ctl, now, why, n);
	}
	if (strcmp(t, "run-start") != 0 && strcmp(t, "run-end") != 0)
		return NULL;
	const char *run = lg_json_str(ctl, "run");
	if (!run)
		return "control line without \"run\"";
	if (strcmp(t, "run-end") == 0 && same(run, r->run))
		return NULL; /* ends the open run: its integration was checked at run-start */
	if (bound && !same(integ, bound)) {
		snprintf(why, n, "%s for integration %.60s, not %.60s (--integration)", t,
			 integ ? integ : "(none)", bound);
		return why;
	}
	return NULL;
}

int control_open(control_run *r, const cJSON *ctl)
{
	const char *run = lg_json_str(ctl, "run"), *integ = lg_json_str(ctl, "integration");
	control_close(r);
	r->run = strdup(run ? run : "");
	r->integration = integ ? strdup(integ) : NULL;
	r->from = time_of(ctl, "from");
	r->to = time_of(ctl, "to");
	return r->run && (r->integration || !integ) ? 0 : -1;
}

void control_close(control_run *r)
{
	free(r->run);
	free(r->integration);
	r->run = r->integration = NULL;
	r->from = r->to = CONTROL_NO_TIME;
}
