/* What lg-policy's evaluation files share: the context of one record's
 * evaluation, the findings of a string, and the helpers each kind of
 * policy uses to report a violation. Not part of the engine's interface
 * (policy.h). */
#ifndef LG_POLICY_EVAL_H
#define LG_POLICY_EVAL_H
#include "policy.h"

/* A regex finding inside the string being scanned (byte offsets). */
typedef struct {
	pol_policy *p;
	int pat;
	size_t s, e;
	int key;        /* found in an object key */
	int score;      /* a scorer's: the score and its signals (bits) */
	unsigned signals;
} pol_hit;

/* One record's evaluation. */
typedef struct {
	pol_engine *e;
	pol_policy **run;       /* the policies evaluated */
	size_t nrun;
	const char *ext;        /* externalId */
	char now[32];
	cJSON *found;           /* array of new violations */
	lg_buf path;            /* location being walked */
	lg_buf tmp;
	pol_hit *hits;
	size_t nhits, caphits;
	const char *span_type;  /* type of the span being walked, or NULL */
	const unsigned char *mok; /* per member of the group walked: its target takes this span */
	cJSON *limits;          /* {policy id: regex match limits hit}, or NULL */
	int oom;
} pol_ectx;

/* A "{name}" placeholder of a message and its value. */
typedef struct {
	const char *k, *v;
} pol_var;

/* Adds a violation of p at loc; evidence is taken over. The message comes
 * from tmpl (a pattern's or check's own, else the policy's); idtext makes
 * the violation's id. The same id found twice counts once. */
void pol_add_violation(pol_ectx *c, pol_policy *p, const char *tmpl, const char *loc,
		       const char *detector, const char *idtext, size_t idlen,
		       cJSON *evidence, const pol_var *extra, size_t nextra);
/* For cJSON_ArrayForEach over something that may not be an array. */
const cJSON *pol_array_or_null(const cJSON *v);
/* The value at path under root ("" is root itself), or NULL. */
const cJSON *pol_resolve(const cJSON *root, const char *path);
/* Whether a span type t passes a target's type filter (NULL: all). */
int pol_has_type(char **types, size_t n, const char *t);
/* Runs policies run[0..nrun) on rec, as pol_eval_record does for the
 * enabled ones. */
int pol_eval_with(pol_engine *e, pol_policy **run, size_t nrun, cJSON *rec, int *worst,
		  lg_buf *expl);

/* One kind of policy each, findings added to c->found. */
void pol_eval_patterns(pol_ectx *c, const cJSON *rec);           /* patterns.c */
void pol_eval_threshold(pol_ectx *c, pol_policy *p, const cJSON *rec); /* checks.c */
void pol_eval_list(pol_ectx *c, pol_policy *p, const cJSON *rec);
void pol_eval_required(pol_ectx *c, pol_policy *p, const cJSON *rec);
void pol_eval_rate(pol_ectx *c, pol_policy *p, const cJSON *rec);     /* rate.c */

/* The one-pass prefilter (prefilter.c). Build compiles the keywords of
 * every loaded pattern, enabled or not (0, or -1 with why). Scan finds the
 * candidate patterns of s (those whose keyword occurs, those without
 * keywords, and scorers, which probe every string) and counts its digits
 * (0, or -1). Next gives the candidates one by one in load order (a cursor
 * starts zeroed, its keyword says whether the last one's keyword occurred):
 * 1, or 0 when none is left. Lower: s lowercased (A-Z only) in the engine's buffer, or
 * NULL when out of memory. */
int pol_prefilter_scan(pol_engine *e, const char *s, size_t n, int *digits);
typedef struct {
	size_t word;
	uint64_t bits;
	int keyword;            /* the pattern given last: one of its keywords occurs */
} pol_cursor;
int pol_prefilter_next(const pol_engine *e, pol_cursor *it, pol_policy **p, int *pat);
const char *pol_lower(pol_engine *e, const char *s, size_t n);
#endif
