/* Policy documents: JSON in, compiled policies out. Everything that can be
 * wrong with a file is found here, before the first record is read. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "injection.h"
#include "policy.h"
#include "re.h"
#include "timeutil.h"

static const char *const sev_names[] = { "critical", "high", "medium", "low" };

const char *pol_severity_name(int sev)
{
	return sev >= 0 && sev < SEV_COUNT ? sev_names[sev] : "?";
}

int pol_severity_parse(const char *s)
{
	for (int i = 0; s && i < SEV_COUNT; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

typedef struct {
	char *why;
	size_t whylen;
	const char *pid;      /* policy being loaded */
} ld;

static int bad(ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(ld *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (l->pid)
		snprintf(l->why, l->whylen, "policy '%s': %s", l->pid, msg);
	else
		snprintf(l->why, l->whylen, "%s", msg);
	return -1;
}

/* An optional number field inside [lo, hi] (whole: an integer): 0 when
 * absent, 1 when read into *out, -1 (why set) when not a number, not
 * finite or out of range. A value like 1e999 is refused here, before any
 * cast to int could overflow. */
static int num_field(ld *l, const cJSON *o, const char *key, const char *what, double lo,
		     double hi, int whole, double *out)
{
	const cJSON *v = lg_json_get(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
	    v->valuedouble > hi || (whole && v->valuedouble != floor(v->valuedouble)))
		return bad(l, "%s: '%s' must be a %s from %g to %g", what, key,
			   whole ? "whole number" : "number", lo, hi);
	*out = v->valuedouble;
	return 1;
}

/* An optional string field; -1 when present but not a string. */
static int opt_str(ld *l, const cJSON *o, const char *key, char **out)
{
	const cJSON *v = lg_json_get(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return bad(l, "'%s' must be a string", key);
	*out = strdup(v->valuestring);
	return *out ? 0 : bad(l, "out of memory");
}

/* An optional array of strings (a single string is accepted too). */
static int str_list(ld *l, const cJSON *o, const char *key, char ***out, size_t *n, int lower)
{
	const cJSON *v = lg_json_get(o, key), *it;
	*out = NULL;
	*n = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v)) {
		*out = calloc(1, sizeof **out);
		if (!*out || !((*out)[0] = strdup(v->valuestring)))
			return bad(l, "out of memory");
		*n = 1;
	} else if (cJSON_IsArray(v)) {
		*out = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
		if (!*out)
			return bad(l, "out of memory");
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it))
				return bad(l, "'%s' must be an array of strings", key);
			if (!((*out)[(*n)++] = strdup(it->valuestring)))
				return bad(l, "out of memory");
		}
	} else {
		return bad(l, "'%s' must be an array of strings", key);
	}
	if (lower)
		for (size_t i = 0; i < *n; i++)
			for (char *p = (*out)[i]; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static pcre2_code *compile(ld *l, const char *what, const char *re)
{
	char why[320];
	pcre2_code *c = lg_re_compile(re, why, sizeof why);
	if (!c)
		bad(l, "%s: %s", what, why);
	return c;
}

static int parse_enum(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* A pattern that is a scorer ("scorer": "injection", "threshold": 50):
 * the scorer's own signal words are its keywords. */
static int parse_scorer(ld *l, const cJSON *o, pol_pattern *pt, const char *what)
{
	const char *sc = lg_json_str(o, "scorer");
	double d = 50;
	if (!sc || strcmp(sc, "injection") != 0)
		return bad(l, "%s: unknown scorer (injection)", what);
	if (lg_json_get(o, "regex"))
		return bad(l, "%s: a pattern has a 'regex' or a 'scorer', not both", what);
	pt->scorer = SCORER_INJECTION;
	const cJSON *t = lg_json_get(o, "threshold");
	if (t && (!lg_json_get_num(o, "threshold", &d) || d < 1 || d > 100))
		return bad(l, "%s: 'threshold' must be a number from 1 to 100", what);
	pt->threshold = (int)d;
	if (opt_str(l, o, "message", &pt->message))
		return -1;
	size_t n = 0;
	while (inj_keywords[n])
		n++;
	if (!(pt->keywords = calloc(n + 1, sizeof *pt->keywords)))
		return bad(l, "out of memory");
	for (; pt->nkeywords < n; pt->nkeywords++)
		if (!(pt->keywords[pt->nkeywords] = strdup(inj_keywords[pt->nkeywords])))
			return bad(l, "out of memory");
	return 0;
}

static int parse_pattern(ld *l, const cJSON *o, pol_pattern *pt, int idx)
{
	static const char *const validators[] = { "none", "luhn", "ssn", "iban", "ipv4", "email", "jwt", "phone", "ipv6",
							  "token", "secret", "password", "basic",
							  "itin", "aba", "account" };
	static const char *const masks[] = { "none", "secret", "email", "digits", "ip" };
	char what[160], *s = NULL;
	double d;

	if (!cJSON_IsObject(o))
		return bad(l, "patterns[%d] must be an object", idx);
	if (opt_str(l, o, "name", &pt->name))
		return -1;
	if (!pt->name && !(pt->name = strdup("match")))
		return bad(l, "out of memory");
	snprintf(what, sizeof what, "pattern '%s'", pt->name);
	if (lg_json_get(o, "scorer"))
		return parse_scorer(l, o, pt, what);
	const char *re = lg_json_str(o, "regex");
	if (!re)
		return bad(l, "%s: 'regex' (a string) is required", what);
	if (!(pt->re = compile(l, what, re)))
		return -1;
	if (str_list(l, o, "keywords", &pt->keywords, &pt->nkeywords, 1) ||
	    str_list(l, o, "caseKeywords", &pt->case_keywords, &pt->ncase_keywords, 0) ||
	    str_list(l, o, "context", &pt->context, &pt->ncontext, 1) ||
	    opt_str(l, o, "message", &pt->message))
		return -1;
	if (opt_str(l, o, "validator", &s))
		return -1;
	pt->validator = s ? parse_enum(s, validators, 16) : V_NONE;
	free(s);
	if (pt->validator < 0)
		return bad(l, "%s: unknown validator (luhn, ssn, iban, ipv4, ipv6, email, jwt, phone, token, secret, password, basic, itin, aba, account)", what);
	if (opt_str(l, o, "mask", &s))
		return -1;
	pt->mask = s ? parse_enum(s, masks, 5) : MASK_NONE;
	free(s);
	if (pt->mask < 0)
		return bad(l, "%s: unknown mask (none, secret, email, digits, ip)", what);
	int rc;
	if ((rc = num_field(l, o, "minEntropy", what, 0, 8, 0, &d)) < 0)
		return -1;
	if (rc)
		pt->min_entropy = d;
	if ((rc = num_field(l, o, "minDigits", what, 0, 1 << 20, 1, &d)) < 0)
		return -1;
	if (rc)
		pt->min_digits = (int)d;
	pt->context_window = 40;
	if ((rc = num_field(l, o, "contextWindow", what, 0, 1 << 20, 1, &d)) < 0)
		return -1;
	if (rc)
		pt->context_window = (int)d;
	pt->context_required = cJSON_IsTrue(lg_json_get(o, "contextRequired"));
	if (pt->context_required && !pt->ncontext)
		return bad(l, "%s: 'contextRequired' needs 'context' words", what);
	if ((rc = num_field(l, o, "group", what, 0, 30, 1, &d)) < 0)
		return -1;
	if (rc) {
		uint32_t groups = 0;
		pcre2_pattern_info(pt->re, PCRE2_INFO_CAPTURECOUNT, &groups);
		if (d > groups)
			return bad(l, "%s: group %g does not exist", what, d);
		pt->group = (int)d;
	}
	const char *keyre = lg_json_str(o, "keyRegex");
	if (lg_json_get(o, "keyRegex") && !keyre)
		return bad(l, "%s: 'keyRegex' must be a regex string", what);
	if (keyre) {
		snprintf(what, sizeof what, "pattern '%s' keyRegex", pt->name);
		if (!(pt->key_re = compile(l, what, keyre)))
			return -1;
		snprintf(what, sizeof what, "pattern '%s'", pt->name);
	}
	const char *allow = lg_json_str(o, "allow");
	if (lg_json_get(o, "allow") && !allow)
		return bad(l, "%s: 'allow' must be a regex string", what);
	if (allow) {
		snprintf(what, sizeof what, "pattern '%s' allow", pt->name);
		if (!(pt->allow = compile(l, what, allow)))
			return -1;
	}
	return 0;
}

/* "output", "spans[*].input", "spans[type=tool,retrieval].input". */
static int parse_target(ld *l, const char *s, pol_target *t)
{
	if (strncmp(s, "spans[", 6) == 0) {
		const char *close = strchr(s, ']');
		if (!close)
			return bad(l, "target '%s': missing ']'", s);
		t->span = 1;
		const char *sel = s + 6;
		if (strncmp(sel, "type=", 5) == 0) {
			sel += 5;
			t->types = calloc((size_t)(close - sel) + 1, sizeof *t->types);
			if (!t->types)
				return bad(l, "out of memory");
			while (sel < close) {
				size_t n = strcspn(sel, ",]");
				if (n == 0)
					return bad(l, "target '%s': empty span type", s);
				t->types[t->ntypes++] = strndup(sel, n);
				sel += n + (sel[n] == ',');
			}
		} else if (!(sel[0] == '*' && sel + 1 == close)) {
			return bad(l, "target '%s': use spans[*] or spans[type=a,b]", s);
		}
		s = close + 1;
		if (*s == '.')
			s++;
		else if (*s)
			return bad(l, "target '%s': expected '.' after ']'", s);
	}
	t->path = strdup(s);
	return t->path ? 0 : bad(l, "out of memory");
}

static int parse_targets(ld *l, const cJSON *o, const char *key, pol_target **out, size_t *n, int required)
{
	char **v;
	size_t nv;
	if (str_list(l, o, key, &v, &nv, 0))
		return -1;
	if (!nv && required) {
		free(v);
		return bad(l, "'%s' (an array of paths) is required", key);
	}
	*out = calloc(nv + 1, sizeof **out);
	*n = 0;
	int rc = *out ? 0 : bad(l, "out of memory");
	for (size_t i = 0; i < nv && rc == 0; i++) {
		rc = parse_target(l, v[i], &(*out)[i]);
		(*n)++;
	}
	free_list(v, nv);
	return rc;
}

static int parse_check(ld *l, const cJSON *o, pol_check *c, int idx)
{
	static const char *const measures[] = { "value", "chars", "words" };
	char *s = NULL;
	pol_target t = { 0 };
	if (!cJSON_IsObject(o))
		return bad(l, "checks[%d] must be an object", idx);
	const char *path = lg_json_str(o, "path");
	if (!path)
		return bad(l, "checks[%d]: 'path' is required", idx);
	int rc = parse_target(l, path, &t);
	c->span = t.span;
	c->types = t.types;
	c->ntypes = t.ntypes;
	c->path = t.path;
	if (rc)
		return -1;
	char cw[32];
	snprintf(cw, sizeof cw, "checks[%d]", idx);
	if (!cJSON_IsNumber(lg_json_get(o, "limit")))
		return bad(l, "checks[%d]: 'limit' (a number) is required", idx);
	if (num_field(l, o, "limit", cw, -1e300, 1e300, 0, &c->limit) < 0)
		return -1;
	if (opt_str(l, o, "name", &c->name) || opt_str(l, o, "message", &c->message))
		return -1;
	if (!c->name && !(c->name = strdup(path)))
		return bad(l, "out of memory");
	if (opt_str(l, o, "measure", &s))
		return -1;
	c->measure = s ? parse_enum(s, measures, 3) : 0;
	free(s);
	if (c->measure < 0)
		return bad(l, "checks[%d]: measure must be value, chars or words", idx);
	if (opt_str(l, o, "op", &s))
		return -1;
	c->op = !s || strcmp(s, ">") == 0 ? '>' : strcmp(s, ">=") == 0 ? 'G' :
		strcmp(s, "<") == 0 ? '<' : strcmp(s, "<=") == 0 ? 'L' : 0;
	free(s);
	if (!c->op)
		return bad(l, "checks[%d]: op must be >, >=, < or <=", idx);
	return 0;
}

static int parse_kind_pattern(ld *l, const cJSON *o, pol_policy *p)
{
	const cJSON *pats = lg_json_get(o, "patterns"), *it;
	if (!cJSON_IsArray(pats) || cJSON_GetArraySize(pats) == 0)
		return bad(l, "'patterns' (a non-empty array) is required");
	p->patterns = calloc((size_t)cJSON_GetArraySize(pats), sizeof *p->patterns);
	if (!p->patterns)
		return bad(l, "out of memory");
	cJSON_ArrayForEach(it, pats) {
		if (parse_pattern(l, it, &p->patterns[p->npatterns], (int)p->npatterns)) {
			p->npatterns++;
			return -1;
		}
		p->npatterns++;
	}
	p->scan_keys = cJSON_IsTrue(lg_json_get(o, "scanKeys"));
	return parse_targets(l, o, "targets", &p->targets, &p->ntargets, 1);
}

static int parse_kind_threshold(ld *l, const cJSON *o, pol_policy *p)
{
	const cJSON *checks = lg_json_get(o, "checks"), *it;
	if (!cJSON_IsArray(checks) || cJSON_GetArraySize(checks) == 0)
		return bad(l, "'checks' (a non-empty array) is required");
	p->checks = calloc((size_t)cJSON_GetArraySize(checks), sizeof *p->checks);
	if (!p->checks)
		return bad(l, "out of memory");
	cJSON_ArrayForEach(it, checks) {
		int rc = parse_check(l, it, &p->checks[p->nchecks], (int)p->nchecks);
		p->nchecks++;
		if (rc)
			return -1;
	}
	return 0;
}

static int parse_kind_list(ld *l, const cJSON *o, pol_policy *p)
{
	if (parse_targets(l, o, "values", &p->values, &p->nvalues, 1) ||
	    str_list(l, o, "approved", &p->approved, &p->napproved, 0) ||
	    str_list(l, o, "deprecated", &p->deprecated, &p->ndeprecated, 0) ||
	    str_list(l, o, "denied", &p->denied, &p->ndenied, 0))
		return -1;
	if (!p->napproved && !p->ndeprecated && !p->ndenied)
		return bad(l, "a list policy needs 'approved', 'deprecated' or 'denied'");
	return 0;
}

static int parse_kind_rate(ld *l, const cJSON *o, pol_policy *p)
{
	const cJSON *lim = lg_json_get(o, "limits"), *it;
	if (str_list(l, o, "keys", &p->keys, &p->nkeys, 0))
		return -1;
	if (!p->nkeys)
		return bad(l, "'keys' (record paths naming the agent or user) is required");
	if (!cJSON_IsArray(lim) || cJSON_GetArraySize(lim) == 0)
		return bad(l, "'limits' (a non-empty array) is required");
	p->limits = calloc((size_t)cJSON_GetArraySize(lim), sizeof *p->limits);
	if (!p->limits)
		return bad(l, "out of memory");
	cJSON_ArrayForEach(it, lim) {
		pol_rate_limit *r = &p->limits[p->nlimits++];
		const char *w = lg_json_str(it, "window");
		double max;
		if (!w || lg_duration_parse(w, &r->window_ms) || r->window_ms <= 0)
			return bad(l, "limits[%zu]: 'window' must be a duration such as \"1m\"", p->nlimits - 1);
		if (!cJSON_IsNumber(lg_json_get(it, "max")) || !lg_json_get_num(it, "max", &max) ||
		    !isfinite(max) || max < 1 || max > 1e9)
			return bad(l, "limits[%zu]: 'max' must be a number from 1 to 1e+09", p->nlimits - 1);
		r->max = (int)max;
		if (!(r->label = strdup(w)))
			return bad(l, "out of memory");
	}
	return 0;
}

static int parse_policy(ld *l, const cJSON *o, pol_policy *p)
{
	static const char *const kinds[] = { "pattern", "threshold", "list", "rate", "required" };
	static const char *const cats[] = { "security", "compliance", "cost", "performance" };
	char *s = NULL;

	if (!cJSON_IsObject(o))
		return bad(l, "a policy must be an object");
	const char *id = lg_json_str(o, "id");
	if (!id || !*id)
		return bad(l, "a policy without 'id'");
	for (const char *c = id; *c; c++)
		if (!(*c == '-' || *c == '_' || *c == '.' || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return bad(l, "policy id '%s': use letters, digits, '-', '_', '.'", id);
	p->id = strdup(id);
	l->pid = p->id;
	if (opt_str(l, o, "name", &p->name) || opt_str(l, o, "description", &p->description) ||
	    opt_str(l, o, "category", &p->category) || opt_str(l, o, "message", &p->message))
		return -1;
	if (!p->name)
		p->name = strdup(id);
	if (!p->category || parse_enum(p->category, cats, 4) < 0)
		return bad(l, "'category' must be security, compliance, cost or performance");
	if (opt_str(l, o, "severity", &s))
		return -1;
	p->severity = pol_severity_parse(s);
	free(s);
	if (p->severity < 0)
		return bad(l, "'severity' must be critical, high, medium or low");
	const cJSON *en = lg_json_get(o, "enabled");
	if (en && !cJSON_IsBool(en))
		return bad(l, "'enabled' must be true or false");
	p->enabled = !en || cJSON_IsTrue(en);
	if (opt_str(l, o, "kind", &s))
		return -1;
	p->kind = parse_enum(s, kinds, 5);
	free(s);
	if (p->kind < 0)
		return bad(l, "'kind' must be pattern, threshold, list, rate or required");
	if (!p->message && !(p->message = strdup("{name}: {detector} at {location}")))
		return bad(l, "out of memory");
	int rc;
	switch (p->kind) {
	case PK_PATTERN: rc = parse_kind_pattern(l, o, p); break;
	case PK_THRESHOLD: rc = parse_kind_threshold(l, o, p); break;
	case PK_LIST: rc = parse_kind_list(l, o, p); break;
	case PK_RATE: rc = parse_kind_rate(l, o, p); break;
	default:
		rc = str_list(l, o, "fields", &p->fields, &p->nfields, 0);
		if (!rc && !p->nfields)
			rc = bad(l, "'fields' (paths that must be present) is required");
		break;
	}
	if (rc)
		return -1;
	const cJSON *ex = lg_json_get(o, "examples");
	if (ex) {
		const cJSON *m = lg_json_get(ex, "match"), *nm = lg_json_get(ex, "nomatch");
		if (!cJSON_IsObject(ex) || (m && !cJSON_IsArray(m)) || (nm && !cJSON_IsArray(nm)))
			return bad(l, "'examples' must be {\"match\": [...], \"nomatch\": [...]}");
		if (!(p->examples = cJSON_Duplicate(ex, 1)))
			return bad(l, "out of memory");
	}
	return 0;
}

static void free_target(pol_target *t)
{
	free_list(t->types, t->ntypes);
	free(t->path);
}

static void free_policy(pol_policy *p)
{
	free(p->id);
	free(p->name);
	free(p->description);
	free(p->category);
	free(p->message);
	for (size_t i = 0; i < p->npatterns; i++) {
		pol_pattern *pt = &p->patterns[i];
		free(pt->name);
		pcre2_code_free(pt->re);
		pcre2_code_free(pt->allow);
		pcre2_code_free(pt->key_re);
		free(pt->key_memo);
		free_list(pt->keywords, pt->nkeywords);
		free_list(pt->case_keywords, pt->ncase_keywords);
		free_list(pt->context, pt->ncontext);
		free(pt->message);
	}
	free(p->patterns);
	for (size_t i = 0; i < p->ntargets; i++)
		free_target(&p->targets[i]);
	free(p->targets);
	for (size_t i = 0; i < p->nchecks; i++) {
		pol_check *c = &p->checks[i];
		free(c->name);
		free(c->path);
		free(c->message);
		free_list(c->types, c->ntypes);
	}
	free(p->checks);
	for (size_t i = 0; i < p->nvalues; i++)
		free_target(&p->values[i]);
	free(p->values);
	free_list(p->approved, p->napproved);
	free_list(p->deprecated, p->ndeprecated);
	free_list(p->denied, p->ndenied);
	free_list(p->keys, p->nkeys);
	for (size_t i = 0; i < p->nlimits; i++)
		free(p->limits[i].label);
	free(p->limits);
	free_list(p->fields, p->nfields);
	cJSON_Delete(p->examples);
	memset(p, 0, sizeof *p);
}

pol_policy *pol_find(pol_engine *e, const char *id)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].id, id) == 0)
			return &e->v[i];
	return NULL;
}

/* A file's policy replaces a built-in of the same id; two files (or one
 * file) naming an id twice is an error. */
static int add_policy(pol_engine *e, ld *l, pol_policy *p)
{
	pol_policy *old = pol_find(e, p->id);
	if (old && !old->builtin) {
		l->pid = NULL;
		bad(l, "policy '%s' is defined twice", p->id);
		free_policy(p);
		return -1;
	}
	if (old) {
		free_policy(old);
		*old = *p;
		return 0;
	}
	pol_policy *v = realloc(e->v, (e->n + 1) * sizeof *v);
	if (!v) {
		free_policy(p);
		return bad(l, "out of memory");
	}
	e->v = v;
	e->v[e->n++] = *p;
	return 0;
}

int pol_load_text(pol_engine *e, const char *text, size_t len, int builtin, char *why, size_t whylen)
{
	ld l = { why, whylen, NULL };
	lg_json_error jerr;
	cJSON *doc = lg_json_parse(text, len, &jerr), *list, *it;
	pol_prefilter_free(e);  /* it points into the policy array, which may move */
	if (!doc)
		return bad(&l, "invalid JSON at byte %zu: %s", jerr.offset, jerr.msg);
	list = cJSON_IsArray(doc) ? doc : lg_json_get(doc, "policies");
	if (!list && cJSON_IsObject(doc) && lg_json_get(doc, "id"))
		list = NULL; /* a single policy */
	else if (!cJSON_IsArray(list)) {
		cJSON_Delete(doc);
		return bad(&l, "expected {\"policies\": [...]}, an array of policies or one policy");
	}
	int rc = 0;
	for (it = list ? list->child : doc; it && rc == 0; it = list ? it->next : NULL) {
		pol_policy p;
		memset(&p, 0, sizeof p);
		l.pid = NULL;
		if (parse_policy(&l, it, &p)) {
			free_policy(&p);
			rc = -1;
			break;
		}
		p.builtin = builtin;
		rc = add_policy(e, &l, &p);
	}
	cJSON_Delete(doc);
	return rc;
}

int pol_load_file(pol_engine *e, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	lg_buf b = { 0 };
	char chunk[65536];
	size_t n;
	if (!f) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (lg_buf_add(&b, chunk, n)) {
			snprintf(why, whylen, "out of memory");
			fclose(f);
			lg_buf_free(&b);
			return -1;
		}
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		snprintf(why, whylen, "read error");
		lg_buf_free(&b);
		return -1;
	}
	int rc = pol_load_text(e, b.data ? b.data : "", b.len, 0, why, whylen);
	lg_buf_free(&b);
	return rc;
}

void pol_engine_free(pol_engine *e)
{
	for (size_t i = 0; i < e->n; i++)
		free_policy(&e->v[i]);
	free(e->v);
	pcre2_match_data_free(e->md);
	lg_buf_free(&e->lower);
	lg_buf_free(&e->warnings);
	pol_eval_free(e);
	memset(e, 0, sizeof *e);
}

int pol_engine_ready(pol_engine *e)
{
	char why[256];
	if (!e->md)
		e->md = pcre2_match_data_create(32, NULL);
	pol_prefilter_free(e);
	return e->md && pol_prefilter_build(e, why, sizeof why) == 0 ? 0 : -1;
}
