/* Evaluating policies on one record: every enabled policy runs (no
 * short-circuit), each finding becomes a violation with evidence, old
 * violations of the policies that ran are replaced (statuses kept by id).
 * Each kind of policy has its own file (patterns.c, checks.c, rate.c);
 * this one holds what they share and the record's merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "metrics.h"
#include "eval.h"
#include "timeutil.h"

/* ---- violations ---------------------------------------------------- */

/* Expands "{name}" placeholders; unknown ones stay as written. */
static void expand(lg_buf *b, const char *tmpl, const pol_var *vars, size_t n)
{
	for (const char *p = tmpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		size_t i = n;
		if (close)
			for (i = 0; i < n; i++)
				if (strlen(vars[i].k) == (size_t)(close - p - 1) &&
				    strncmp(p + 1, vars[i].k, (size_t)(close - p - 1)) == 0)
					break;
		if (close && i < n) {
			lg_buf_adds(b, vars[i].v ? vars[i].v : "");
			p = close;
		} else {
			lg_buf_addc(b, *p);
		}
	}
}

static char *violation_id(const pol_policy *p, const char *ext, const char *loc,
			  const char *match, size_t mlen, char out[17])
{
	uint64_t h = LG_HASH_SEED;
	h = lg_hash_bytes(p->id, strlen(p->id) + 1, h);
	h = lg_hash_bytes(ext, strlen(ext) + 1, h);
	h = lg_hash_bytes(loc, strlen(loc) + 1, h);
	h = lg_hash_bytes(match, mlen, h);
	return lg_hash_hex(h, out);
}

/* Adds a violation; evidence is taken over. The message comes from tmpl
 * (a pattern's or check's own, else the policy's). */
void pol_add_violation(pol_ectx *c, pol_policy *p, const char *tmpl, const char *loc,
		       const char *detector, const char *idtext, size_t idlen,
		       cJSON *evidence, const pol_var *extra, size_t nextra)
{
	char id[17];
	pol_var vars[12];
	size_t n = 0;
	vars[n++] = (pol_var){ "name", p->name };
	vars[n++] = (pol_var){ "policy", p->id };
	vars[n++] = (pol_var){ "severity", pol_severity_name(p->severity) };
	vars[n++] = (pol_var){ "location", loc };
	vars[n++] = (pol_var){ "detector", detector };
	for (size_t i = 0; i < nextra && n < 12; i++)
		vars[n++] = extra[i];
	c->tmp.len = 0;
	expand(&c->tmp, tmpl ? tmpl : p->message, vars, n);
	cJSON *v = cJSON_CreateObject();
	if (!v || !evidence) {
		cJSON_Delete(v);
		cJSON_Delete(evidence);
		c->oom = 1;
		return;
	}
	violation_id(p, c->ext, loc, idtext, idlen, id);
	/* The same finding reached twice (overlapping targets) counts once. */
	cJSON *it;
	cJSON_ArrayForEach(it, c->found) {
		const char *oid = lg_json_str(it, "id");
		if (oid && strcmp(oid, id) == 0) {
			cJSON_Delete(v);
			cJSON_Delete(evidence);
			return;
		}
	}
	cJSON_AddItemToObject(v, "id", cJSON_CreateString(id));
	cJSON_AddItemToObject(v, "policy", cJSON_CreateString(p->id));
	cJSON_AddItemToObject(v, "name", cJSON_CreateString(p->name));
	cJSON_AddItemToObject(v, "category", cJSON_CreateString(p->category));
	cJSON_AddItemToObject(v, "severity", cJSON_CreateString(pol_severity_name(p->severity)));
	cJSON_AddItemToObject(v, "message", cJSON_CreateString(lg_buf_cstr(&c->tmp)));
	/* location and detector first: evidence reads best that way */
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "location", cJSON_CreateString(loc));
	cJSON_AddItemToObject(ev, "detector", cJSON_CreateString(detector));
	while (evidence->child) {
		cJSON *ch = cJSON_DetachItemViaPointer(evidence, evidence->child);
		char *k = ch->string;
		ch->string = NULL;
		cJSON_AddItemToObject(ev, k, ch);
		cJSON_free(k);
	}
	cJSON_Delete(evidence);
	cJSON_AddItemToObject(v, "evidence", ev);
	cJSON_AddItemToArray(c->found, v);
}

/* ---- helpers the policy kinds share -------------------------------- */

int pol_has_type(char **types, size_t n, const char *t)
{
	if (!types)
		return 1;
	for (size_t i = 0; t && i < n; i++)
		if (strcmp(types[i], t) == 0)
			return 1;
	return 0;
}

const cJSON *pol_array_or_null(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

const cJSON *pol_resolve(const cJSON *root, const char *path)
{
	return *path ? lg_json_path(root, path) : root;
}

/* ---- the record ---------------------------------------------------- */

static void run_policies(pol_ectx *c, const cJSON *rec)
{
	pol_eval_patterns(c, rec);
	for (size_t i = 0; i < c->nrun; i++) {
		pol_policy *p = c->run[i];
		switch (p->kind) {
		case PK_THRESHOLD: pol_eval_threshold(c, p, rec); break;
		case PK_LIST: pol_eval_list(c, p, rec); break;
		case PK_RATE: pol_eval_rate(c, p, rec); break;
		case PK_REQUIRED: pol_eval_required(c, p, rec); break;
		default: break;
		}
	}
}

static int sev_rank(const cJSON *v)
{
	int s = pol_severity_parse(lg_json_str(v, "severity"));
	return s < 0 ? SEV_COUNT : s;
}

static int str_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int violation_cmp(const void *pa, const void *pb)
{
	const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
	int d = sev_rank(a) - sev_rank(b);
	if (d)
		return d;
	if ((d = str_cmp(lg_json_str(a, "policy"), lg_json_str(b, "policy"))))
		return d;
	const cJSON *ea = lg_json_get(a, "evidence"), *eb = lg_json_get(b, "evidence");
	if ((d = str_cmp(lg_json_str(ea, "location"), lg_json_str(eb, "location"))))
		return d;
	double sa = 0, sb = 0;
	lg_json_get_num(ea, "start", &sa);
	lg_json_get_num(eb, "start", &sb);
	return (sa > sb) - (sa < sb);
}

static int sort_violations(cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	cJSON **v = malloc((n + 1) * sizeof *v);
	if (!v)
		return -1;
	while (arr->child)
		v[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
	qsort(v, n, sizeof *v, violation_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, v[i]);
	free(v);
	return 0;
}

static int ran(const pol_ectx *c, const char *id)
{
	for (size_t i = 0; id && i < c->nrun; i++)
		if (strcmp(c->run[i]->id, id) == 0)
			return 1;
	return 0;
}

/* A violation found again keeps what people did with it: status, notes,
 * detectedAt and any other key lg-policy does not own. */
static void carry_over(cJSON *nv, const cJSON *old)
{
	static const char *const own[] = { "id", "policy", "name", "category", "severity", "message", "evidence", NULL };
	const cJSON *k;
	cJSON_ArrayForEach(k, old) {
		int mine = 0;
		for (int i = 0; own[i]; i++)
			mine |= strcmp(k->string, own[i]) == 0;
		if (!mine)
			lg_json_set(nv, k->string, cJSON_Duplicate(k, 1));
	}
}

static cJSON *merge(pol_ectx *c, cJSON *old)
{
	cJSON *out = cJSON_CreateArray(), *nv, *ov;
	const cJSON *olds = pol_array_or_null(old);
	if (!out)
		return NULL;
	while ((nv = c->found->child)) {
		cJSON_DetachItemViaPointer(c->found, nv);
		const char *id = lg_json_str(nv, "id");
		const cJSON *prev = NULL;
		cJSON_ArrayForEach(ov, olds)
			if (ran(c, lg_json_str(ov, "policy")) && str_cmp(lg_json_str(ov, "id"), id) == 0)
				prev = ov;
		cJSON_AddItemToObject(nv, "status", cJSON_CreateString("new"));
		cJSON_AddItemToObject(nv, "detectedAt", cJSON_CreateString(c->now));
		if (prev)
			carry_over(nv, prev);
		cJSON_AddItemToArray(out, nv);
	}
	/* violations of policies that did not run now stay as they were */
	while (cJSON_IsArray(old) && (ov = old->child)) {
		cJSON_DetachItemViaPointer(old, ov);
		if (cJSON_IsObject(ov) && !ran(c, lg_json_str(ov, "policy")))
			cJSON_AddItemToArray(out, ov);
		else
			cJSON_Delete(ov);
	}
	if (sort_violations(out)) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

static void explain(pol_ectx *c, lg_buf *b, size_t npol)
{
	const cJSON *v;
	size_t n = (size_t)cJSON_GetArraySize(c->found);
	lg_buf_printf(b, "%s: %zu violation%s from %zu polic%s\n", *c->ext ? c->ext : "(no externalId)",
		      n, n == 1 ? "" : "s", npol, npol == 1 ? "y" : "ies");
	cJSON_ArrayForEach(v, c->found) {
		const cJSON *ev = lg_json_get(v, "evidence");
		double s, e;
		lg_buf_printf(b, "  %s %s %s", lg_json_str(v, "severity"), lg_json_str(v, "policy"),
			      lg_json_str(ev, "location"));
		if (lg_json_get_num(ev, "start", &s) && lg_json_get_num(ev, "end", &e))
			lg_buf_printf(b, "[%.0f,%.0f)", s, e);
		lg_buf_printf(b, " %s: %s\n", lg_json_str(ev, "detector"), lg_json_str(v, "message"));
	}
}

static void ectx_free(pol_ectx *c)
{
	lg_buf_free(&c->path);
	lg_buf_free(&c->tmp);
	free(c->hits);
	cJSON_Delete(c->found);
	cJSON_Delete(c->limits);
}

int pol_eval_with(pol_engine *e, pol_policy **run, size_t nrun, cJSON *rec, int *worst,
		     lg_buf *expl)
{
	pol_ectx c;
	char hex[17];
	memset(&c, 0, sizeof c);
	c.e = e;
	c.run = run;
	c.nrun = nrun;
	char why[256];
	if (!e->pf && pol_prefilter_build(e, why, sizeof why))
		return -1;
	c.ext = lg_json_str(rec, "externalId");
	if (!c.ext)
		c.ext = "";
	int64_t now = lg_time_now();
	if (!e->now_text[0] || now != e->now_ms) {     /* one format per millisecond */
		lg_time_format(now, e->now_text);
		e->now_ms = now;
	}
	memcpy(c.now, e->now_text, sizeof c.now);
	if (!(c.found = cJSON_CreateArray()))
		return -1;
	lg_hash_hex(lg_record_content_hash(rec), hex);
	run_policies(&c, rec);
	if (worst) {
		const cJSON *v;
		*worst = SEV_COUNT;
		cJSON_ArrayForEach(v, c.found)
			if (sev_rank(v) < *worst)
				*worst = sev_rank(v);
	}
	if (expl)
		explain(&c, expl, nrun);
	cJSON *old = lg_json_take(rec, "violations");
	cJSON *vs = merge(&c, old);
	cJSON_Delete(old);
	cJSON *ev = cJSON_CreateObject(), *ids = cJSON_CreateArray();
	for (size_t i = 0; i < nrun && ids; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(run[i]->id));
	if (ev) {
		cJSON_AddItemToObject(ev, "contentHash", cJSON_CreateString(hex));
		cJSON_AddItemToObject(ev, "policies", ids);
		cJSON_AddItemToObject(ev, "evaluatedAt", cJSON_CreateString(c.now));
		if (c.limits) {
			cJSON_AddItemToObject(ev, "matchLimit", c.limits);
			c.limits = NULL;
		}
	} else {
		cJSON_Delete(ids);
	}
	int rc = (!vs || !ev || c.oom) ? -1 : 0;
	lg_json_set(rec, "violations", vs);
	lg_json_set(rec, "evaluation", ev);
	ectx_free(&c);
	return rc;
}

int pol_eval_record(pol_engine *e, cJSON *rec, int *worst, lg_buf *expl)
{
	pol_policy **run = malloc((e->n + 1) * sizeof *run);
	size_t n = 0;
	if (!run)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].enabled)
			run[n++] = &e->v[i];
	int rc = pol_eval_with(e, run, n, rec, worst, expl);
	free(run);
	return rc;
}
