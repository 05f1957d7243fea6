/* Threshold, list and required-field policies: values read at a path of
 * the record or of each span, compared with limits or lists. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "metrics.h"
#include "eval.h"

static const cJSON *container_or_null(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v) ? v : NULL;
}

static void fmt_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.10g", v);
}

/* ---- threshold policies -------------------------------------------- */

/* Characters (want 1) or words (want 2) in every string under v: only
 * the one asked for is counted. */
static void measure_text(const cJSON *v, int want, double *count)
{
	static unsigned char space[256];
	static int space_ready;
	const cJSON *ch;
	if (!space_ready) {
		for (int i = 0; i < 256; i++)
			space[i] = isspace(i) != 0;
		space_ready = 1;
	}
	if (cJSON_IsString(v) && v->valuestring) {
		const unsigned char *s = (const unsigned char *)v->valuestring;
		if (want == 1) {
			*count += (double)pol_utf8_count(v->valuestring, strlen(v->valuestring));
		} else {
			int in = 0;
			size_t w = 0;
			for (; *s; s++) {
				int sp = space[*s];
				w += !sp && !in;
				in = !sp;
			}
			*count += (double)w;
		}
	}
	cJSON_ArrayForEach(ch, container_or_null(v))
		measure_text(ch, want, count);
}

static int compare(int op, double a, double limit)
{
	switch (op) {
	case '>': return a > limit;
	case 'G': return a >= limit;
	case '<': return a < limit;
	default: return a <= limit;
	}
}

/* loc: the location, or NULL for "spans[at].<path>" (formatted only when
 * a violation needs it: most checks pass on most spans). */
static void check_value(pol_ectx *c, pol_policy *p, const pol_check *k, const cJSON *v,
			const cJSON *span, const char *loc, size_t at)
{
	char sloc[512];
	double actual = 0, count = 0;
	int dup;                /* evidence.actual: the value as written, else the number */
	if (k->measure == 0) {
		if (span && strcmp(k->path, "duration") == 0) {
			actual = lg_span_duration_ms(span);
			if (actual < 0)
				return;
			dup = v && cJSON_IsNumber(v);
		} else {
			if (!lg_json_num(v, &actual))
				return;
			dup = 1;
		}
	} else {
		if (!v || cJSON_IsNull(v))
			return;
		measure_text(v, k->measure == 1 ? 1 : 2, &count);
		actual = count;
		dup = 0;
	}
	/* nothing allocated for the checks that pass (nearly all of them) */
	if (!compare(k->op, actual, k->limit))
		return;
	cJSON *act = dup ? cJSON_Duplicate(v, 0)
		   : k->measure == 0 ? lg_json_double(actual) : lg_json_int((int64_t)actual);
	char a[40], l[40];
	if (!loc) {
		snprintf(sloc, sizeof sloc, "spans[%zu]%s%s", at, *k->path ? "." : "", k->path);
		loc = sloc;
	}
	fmt_num(a, sizeof a, actual);
	fmt_num(l, sizeof l, k->limit);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "actual", act);
	cJSON_AddItemToObject(ev, "limit", lg_json_double(k->limit));
	const char *sname = span ? lg_json_str(span, "name") : NULL;
	pol_var extra[] = { { "actual", a }, { "limit", l }, { "check", k->name }, { "span", sname ? sname : "" } };
	pol_add_violation(c, p, k->message, loc, k->name, k->name, strlen(k->name), ev, extra, 4);
}

void pol_eval_threshold(pol_ectx *c, pol_policy *p, const cJSON *rec)
{
	const cJSON *spans = pol_array_or_null(lg_json_get(rec, "spans")), *sp;
	for (size_t i = 0; i < p->nchecks; i++) {
		const pol_check *k = &p->checks[i];
		if (!k->span) {
			check_value(c, p, k, pol_resolve(rec, k->path), NULL, *k->path ? k->path : ".", 0);
			continue;
		}
		size_t idx = 0;
		cJSON_ArrayForEach(sp, spans) {
			size_t at = idx++;
			if (!pol_has_type(k->types, k->ntypes, lg_json_str(sp, "type")))
				continue;
			check_value(c, p, k, pol_resolve(sp, k->path), sp, NULL, at);
		}
	}
}

/* ---- list policies ------------------------------------------------- */

static int in_list(char **list, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (pol_model_matches(list[i], v))
			return 1;
	return 0;
}

static void list_value(pol_ectx *c, pol_policy *p, const char *v, const char *loc)
{
	const char *reason;
	if (!v || !*v)
		return;
	/* deprecated wins over approved: a model on both lists is flagged */
	if (in_list(p->deprecated, p->ndeprecated, v))
		reason = "deprecated";
	else if (in_list(p->denied, p->ndenied, v))
		reason = "denied";
	else if (p->napproved && !in_list(p->approved, p->napproved, v))
		reason = "not approved";
	else
		return;
	/* one violation per distinct value and reason in a record */
	cJSON *it;
	cJSON_ArrayForEach(it, c->found) {
		const cJSON *ev = lg_json_get(it, "evidence");
		const char *m = lg_json_str(ev, "match"), *pol = lg_json_str(it, "policy");
		const char *det = lg_json_str(ev, "detector");
		if (m && pol && det && strcmp(pol, p->id) == 0 && strcmp(m, v) == 0 && strcmp(det, reason) == 0)
			return;
	}
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "match", cJSON_CreateString(v));
	pol_var extra[] = { { "value", v }, { "reason", reason } };
	pol_add_violation(c, p, NULL, loc, reason, v, strlen(v), ev, extra, 2);
}

static void list_item(pol_ectx *c, pol_policy *p, const cJSON *v, const char *loc)
{
	char sub[560];
	const cJSON *ch;
	size_t i = 0;
	if (cJSON_IsString(v)) {
		list_value(c, p, v->valuestring, loc);
		return;
	}
	cJSON_ArrayForEach(ch, pol_array_or_null(v)) {
		snprintf(sub, sizeof sub, "%s[%zu]", loc, i++);
		if (cJSON_IsString(ch))
			list_value(c, p, ch->valuestring, sub);
	}
}

void pol_eval_list(pol_ectx *c, pol_policy *p, const cJSON *rec)
{
	const cJSON *spans = pol_array_or_null(lg_json_get(rec, "spans")), *sp;
	char loc[512];
	for (size_t i = 0; i < p->nvalues; i++) {
		const pol_target *t = &p->values[i];
		if (!t->span) {
			list_item(c, p, pol_resolve(rec, t->path), t->path);
			continue;
		}
		size_t idx = 0;
		cJSON_ArrayForEach(sp, spans) {
			size_t at = idx++;
			if (!pol_has_type(t->types, t->ntypes, lg_json_str(sp, "type")))
				continue;
			snprintf(loc, sizeof loc, "spans[%zu]%s%s", at, *t->path ? "." : "", t->path);
			list_item(c, p, pol_resolve(sp, t->path), loc);
		}
	}
}
/* ---- required fields ----------------------------------------------- */

void pol_eval_required(pol_ectx *c, pol_policy *p, const cJSON *rec)
{
	for (size_t i = 0; i < p->nfields; i++) {
		const cJSON *v = lg_json_path(rec, p->fields[i]);
		const char *s = lg_json_string(v);
		if (!lg_json_is_null(v) && !(s && !*s) && !(cJSON_IsArray(v) && !v->child))
			continue;
		pol_var extra[] = { { "field", p->fields[i] } };
		pol_add_violation(c, p, NULL, p->fields[i], "missing", p->fields[i], strlen(p->fields[i]),
				  cJSON_CreateObject(), extra, 1);
	}
}
