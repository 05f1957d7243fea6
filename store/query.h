/* Reading the store: filters shared by export, count, stats and
 * violations; every scan runs in one read transaction (a consistent
 * snapshot that never blocks writers). */
#ifndef STORE_QUERY_H
#define STORE_QUERY_H
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "db.h"

typedef struct {
	int64_t from, to;                 /* [from, to) on timestamp; INT64_MIN/MAX: open */
	const char *agent, *status, *integration, *user, *session, *policy;
	const char *meta_key, *meta_val;  /* --meta KEY=VALUE, KEY a path under metadata */
	int severity;                     /* at least this (1 low .. 4 critical), 0 any */
	int has_violations, stale;
	double min_duration, max_duration, min_tokens, max_tokens, min_cost, max_cost; /* NAN: unset */
	/* Paging (export, violations): the walk's direction, where it resumes,
	 * how many lines it prints. */
	int reverse;                      /* newest first */
	const char *after_id;             /* resume after the time key (after_ms, after_id); NULL: from the start */
	int64_t after_ms;
	long limit;                       /* at most this many lines; 0: all */
} query_filter;

void query_filter_init(query_filter *f);
/* "MS:ID", the time key of a record (its timestamp in ms since the epoch,
 * INT64_MIN when it has none, and its externalId) as --after takes it:
 * 0, or -1 when s has another form. *id points into s. */
int query_parse_after(const char *s, int64_t *ms, const char **id);
/* 1..4 for low, medium, high, critical (any case), 0 otherwise. */
int query_severity(const char *s);
/* Whether any record-level filter is set (export can then copy bytes). */
int query_filter_active(const query_filter *f);
int query_match(const query_filter *f, const cJSON *rec);
/* Violation-level filters (status, severity, policy) for `violations`. */
int query_match_violation(const query_filter *f, const cJSON *v);

/* Each returns an exit status. */
int query_export(store_db *db, const query_filter *f, FILE *out);
int query_count(store_db *db, const query_filter *f, FILE *out);
/* total: after the lines, {"$lg":"violations","total":N}, N the number of
 * matching violations, past --limit too. */
int query_violations(store_db *db, const query_filter *f, int total, FILE *out);
/* by: NULL (everything), agent, model, day, hour, policy, integration,
 * user, session, or two of them "A,B": A's groups, each with B's groups
 * of its traces ("groups"). Each group has lastSeen, its newest trace's
 * time. */
int query_stats(store_db *db, const query_filter *f, const char *by, int json, FILE *out);
int query_valid_by(const char *by);
#endif
