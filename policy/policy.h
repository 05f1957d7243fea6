/* lg-policy's engine: policies loaded from JSON (docs/policy.md), compiled
 * once (PCRE2 JIT), then evaluated per record. */
#ifndef LG_POLICY_H
#define LG_POLICY_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"

enum pol_kind { PK_PATTERN, PK_THRESHOLD, PK_LIST, PK_RATE, PK_REQUIRED };
enum pol_sev { SEV_CRITICAL, SEV_HIGH, SEV_MEDIUM, SEV_LOW, SEV_COUNT };
enum pol_mask { MASK_NONE, MASK_SECRET, MASK_EMAIL, MASK_DIGITS, MASK_IP };
enum pol_validator {
	V_NONE, V_LUHN, V_SSN, V_IBAN, V_IPV4, V_EMAIL, V_JWT, V_PHONE, V_IPV6,
	V_TOKEN, V_SECRET, V_PASSWORD, V_BASIC, V_ITIN, V_ABA, V_ACCOUNT,
};

typedef struct {
	char *name;             /* the detector, e.g. "email" */
	pcre2_code *re;
	char **keywords;        /* lowercase; any one must occur */
	size_t nkeywords;
	char **case_keywords;   /* the same, but matched with their case ("SK0") */
	size_t ncase_keywords;
	int min_digits;         /* cheap prefilter: digits in the string */
	int validator;
	double min_entropy;     /* of the reported group, bits per byte */
	int group;              /* capture group reported (0: whole match) */
	pcre2_code *allow;      /* a match of this on the value drops it */
	pcre2_code *key_re;     /* only values whose object key matches */
	struct pol_key_memo *key_memo; /* its verdicts on recent keys */
	char **context;         /* lowercase words near the match */
	size_t ncontext;
	int context_required;
	int context_window;     /* bytes each side */
	int mask;
	char *message;          /* overrides the policy message */
	int limit_warned;       /* its match-limit warning was given */
	int scorer;             /* SCORER_INJECTION instead of a regex, or 0 */
	int threshold;          /* a scorer's score (0-100) that is a finding */
} pol_pattern;

enum pol_scorer { SCORER_NONE, SCORER_INJECTION };

/* A target: a path inside the record or inside each span. */
typedef struct {
	int span;               /* 1: relative to each span */
	char **types;           /* span types to include (NULL: all) */
	size_t ntypes;
	char *path;             /* "" = the whole record / span */
} pol_target;

typedef struct {
	char *name;             /* "tokens.input" or a given name */
	int span;
	char **types;
	size_t ntypes;
	char *path;
	int measure;            /* 0 value, 1 chars, 2 words */
	int op;                 /* '>' '<' 'G' (>=) 'L' (<=) */
	double limit;
	char *message;
} pol_check;

typedef struct {
	int64_t window_ms;
	int max;
	char *label;            /* "1m" */
} pol_rate_limit;

typedef struct {
	char *id, *name, *description, *category, *message;
	int severity, kind, enabled;
	/* pattern */
	pol_pattern *patterns;
	size_t npatterns;
	pol_target *targets;
	size_t ntargets;
	int scan_keys;
	/* threshold */
	pol_check *checks;
	size_t nchecks;
	/* list */
	pol_target *values;     /* where the value is read */
	size_t nvalues;
	char **approved, **deprecated, **denied;
	size_t napproved, ndeprecated, ndenied;
	/* rate */
	char **keys;            /* record paths, first non-empty wins */
	size_t nkeys;
	pol_rate_limit *limits;
	size_t nlimits;
	/* required */
	char **fields;
	size_t nfields;
	cJSON *examples;        /* {"match":[...],"nomatch":[...]} or NULL */
	int builtin;
} pol_policy;

typedef struct pol_rate_state pol_rate_state;
typedef struct pol_prefilter pol_prefilter;

typedef struct {
	pol_policy *v;
	size_t n;
	pcre2_match_data *md;
	lg_buf lower;           /* lowercase copy of a string, for context words */
	pol_rate_state *rate;
	pol_prefilter *pf;      /* every pattern keyword, for the one-pass prefilter */
	int64_t now_ms;         /* the last "now" formatted into now_text */
	char now_text[32];
	int explain;
	lg_buf warnings;        /* lines for stderr, taken by the caller after each record */
} pol_engine;

const char *pol_severity_name(int sev);
int pol_severity_parse(const char *s);

/* Loading. Each returns 0, or -1 with why ("policy 'x': regex ...") set. */
int pol_load_text(pol_engine *e, const char *text, size_t len, int builtin,
		  char *why, size_t whylen);
int pol_load_file(pol_engine *e, const char *path, char *why, size_t whylen);
/* Appends the built-in policy document (policy/builtin.c). 0 or -1. */
int pol_builtin_text(lg_buf *b);
pol_policy *pol_find(pol_engine *e, const char *id);
/* Prepares matching after loading. Returns 0 or -1 (out of memory). */
int pol_engine_ready(pol_engine *e);
void pol_engine_free(pol_engine *e);

/* Evaluation of one record: replaces the violations of the enabled
 * policies, stamps evaluation{}. *worst gets the most severe severity
 * found (SEV_COUNT when none). Returns 0, or -1 (out of memory). */
int pol_eval_record(pol_engine *e, cJSON *rec, int *worst, lg_buf *explain);
/* Self-test of one policy's examples; failures appended to out, returns
 * the number of failed examples. */
int pol_self_test(pol_engine *e, pol_policy *p, lg_buf *out, int *ran);
void pol_rate_reset(pol_engine *e);
/* Frees what evaluation built (prefilter, rate windows). */
void pol_eval_free(pol_engine *e);
/* The one-pass keyword prefilter of every loaded pattern (prefilter.c):
 * 0, or -1 with why; loading more policies frees it. */
int pol_prefilter_build(pol_engine *e, char *why, size_t whylen);
void pol_prefilter_free(pol_engine *e);

/* Validators, entropy, masking and model matching (policy/validators.c). */
int pol_validate(int validator, const char *s, size_t n);
double pol_entropy(const char *s, size_t n);
/* Appends the masked form of s[0..n). */
int pol_mask(lg_buf *b, int mask, const char *s, size_t n);
int pol_model_matches(const char *pattern, const char *model);
int pol_luhn(const char *s, size_t n);
int pol_iban_ok(const char *s, size_t n);
int pol_ssn_ok(const char *s, size_t n);
int pol_ipv4_ok(const char *s, size_t n);
int pol_ipv6_ok(const char *s, size_t n);
/* Secrets: a provider token's body is not a placeholder or a published
 * example (token); a generic assigned value looks random enough and is no
 * placeholder, identifier, path or number (secret); a password in a URI is
 * no placeholder (password); a Basic credential decodes to user:password
 * (basic). */
int pol_token_ok(const char *s, size_t n);
int pol_secret_ok(const char *s, size_t n);
int pol_password_ok(const char *s, size_t n);
int pol_basic_ok(const char *s, size_t n);
/* Code points in s[0..n) (UTF-8). */
size_t pol_utf8_count(const char *s, size_t n);
#endif
