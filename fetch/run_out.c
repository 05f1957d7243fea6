/* What a run writes: the control lines (run-start before anything else,
 * a checkpoint after each window, run-end last), the traces between them,
 * and the progress line on stderr. */
#include <string.h>

#include "err.h"
#include "json.h"
#include "run_int.h"
#include "text.h"
#include "timeutil.h"

static const char *api_name(api_mode m)
{
	return m == API_V2 ? "v2" : m == API_LEGACY ? "legacy" : "auto";
}

char *run_iso(int64_t ms, char buf[32])
{
	return lg_time_format(ms, buf);
}

static int write_json(run_state *s, const cJSON *j)
{
	s->line.len = 0;
	if (lg_json_print(&s->line, j) != 0)
		return -1;
	return lg_stream_write(&s->st, s->line.data, s->line.len);
}

static int emit_control(run_state *s, cJSON *ctl);

int run_emit_start(run_state *s)
{
	if (s->started)
		return 0;
	s->started = 1;
	char a[32], b[32], c[32];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "run-start");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "host", s->c->host);
	cJSON_AddStringToObject(j, "mode", s->o->mode);
	cJSON_AddStringToObject(j, "api", api_name(s->api));
	cJSON_AddStringToObject(j, "from", run_iso(s->o->from, a));
	cJSON_AddStringToObject(j, "to", run_iso(s->o->to, b));
	cJSON_AddStringToObject(j, "startedAt", run_iso(lg_time_now(), c));
	return emit_control(s, j);
}

static int emit_control(run_state *s, cJSON *ctl)
{
	int rc = write_json(s, ctl);
	cJSON_Delete(ctl);
	return rc;
}

/* A "$lg" key makes a line a control line for every later stage, and a
 * control line moves cursors and names integrations: an object from the
 * server that has one is a forgery (or a bug), never data. It is dropped
 * with a warning and counted in run-end's "forged". */
static int forged(run_state *s, const cJSON *t)
{
	const cJSON *k;
	for (k = t ? t->child : NULL; k; k = k->next)
		if (k->string && strcmp(k->string, "$lg") == 0)
			break;
	if (!k)
		return 0;
	s->forged++;
	if (!s->o->quiet) {
		const char *id = lg_json_str(t, "id");
		char clean[100];
		text_clean(id ? id : "(no id)", strlen(id ? id : "(no id)"), clean, sizeof clean, s->c->masks);
		lg_err("warning: trace %s from the server has a \"$lg\" key (a forged control line); dropped", clean);
	}
	return 1;
}

int run_emit_trace(cJSON *t, void *ctx)
{
	run_state *s = ctx;
	if (forged(s, t))
		return 0;
	if (run_emit_start(s) != 0 || write_json(s, t) != 0)
		return 1;
	s->traces++;
	s->win_traces++;
	s->rows += cJSON_GetArraySize(lg_json_get(t, "observations"));
	return 0;
}

int run_emit_checkpoint(run_state *s, window w, long traces, long rows)
{
	char a[32], b[32];
	if (run_emit_start(s) != 0)
		return -1;
	cJSON *j = cJSON_CreateObject(), *win = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "checkpoint");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "cursor", run_iso(w.to, b));
	cJSON_AddStringToObject(win, "from", run_iso(w.from, a));
	cJSON_AddStringToObject(win, "to", b);
	cJSON_AddItemToObject(j, "window", win);
	cJSON_AddItemToObject(j, "traces", lg_json_int(traces));
	cJSON_AddItemToObject(j, "rows", lg_json_int(rows));
	return emit_control(s, j);
}

void run_emit_end(run_state *s)
{
	char c[32];
	if (s->st.stop || run_emit_start(s) != 0)
		return;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "$lg", "run-end");
	cJSON_AddStringToObject(j, "run", s->run_id);
	cJSON_AddStringToObject(j, "integration", s->o->integration);
	cJSON_AddStringToObject(j, "status", s->exit_code ? "failed" : "completed");
	cJSON_AddItemToObject(j, "error", s->exit_code ? cJSON_CreateString(s->error) : cJSON_CreateNull());
	cJSON_AddItemToObject(j, "exitCode", lg_json_int(s->exit_code));
	cJSON_AddItemToObject(j, "traces", lg_json_int(s->traces));
	cJSON_AddItemToObject(j, "rows", lg_json_int(s->rows));
	cJSON_AddItemToObject(j, "forged", lg_json_int(s->forged));
	cJSON_AddItemToObject(j, "requests", lg_json_int(s->c->requests));
	cJSON_AddItemToObject(j, "retries", lg_json_int(s->c->retries));
	cJSON_AddItemToObject(j, "throttledSeconds", lg_json_double((double)(int64_t)(s->c->throttled_s * 1000) / 1000.0));
	cJSON_AddStringToObject(j, "completedAt", run_iso(lg_time_now(), c));
	emit_control(s, j);
}

void run_progress(run_state *s, int64_t upto, int final)
{
	if (!s->o->progress || s->o->quiet)
		return;
	double el = (double)(client_clock_ms() - s->t0) / 1000.0;
	double done = s->o->to > s->o->from ? (double)(upto - s->o->from) / (double)(s->o->to - s->o->from) : 1;
	double eta = done > 0 && done < 1 ? el / done - el : 0;
	fprintf(stderr, "\r%s: windows %ld, traces %ld, rows %ld, requests %ld, throttled %.0fs, "
		"%.0f rows/s, ETA %.0fs  %s", lg_progname, s->windows, s->traces, s->rows + s->a.rows,
		s->c->requests, s->c->throttled_s, el > 0 ? (double)(s->rows + s->a.rows) / el : 0, eta,
		final ? "\n" : "");
	fflush(stderr);
}
