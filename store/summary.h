/* A trace's summary: the few fields of its record that stats and the
 * violation lists ask about (time, agent, model, status, integration,
 * user, session, duration, tokens, cost, and each violation's severity,
 * policy and status), in a compact layout of its own. The summaries
 * sub-database keeps one per record under the record's time key, written
 * in the transaction that writes the record, so `stats` and `violations`
 * walk a time range without reading or parsing the records themselves.
 *
 * The layout (version 1), all integers little-endian:
 *   u8  version (SUMMARY_VERSION)
 *   u8  which numbers the record has (SUM_DURATION, SUM_TOKENS, SUM_COST)
 *   f64 duration, tokens (metadata.tokens.total), cost (metadata.cost)
 *   7 strings: timestamp, agent, model, status, integration, user, session
 *   u32 number of violations, then each: u8 flags (SUM_V_OBJECT),
 *       u8 severity (0 unknown, 1 low .. 4 critical), 2 strings: policy, status
 * A string is a u32 length then its bytes; SUM_ABSENT as the length says
 * the record has no such string (absent, null, or not a string). */
#ifndef STORE_SUMMARY_H
#define STORE_SUMMARY_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"

#define SUMMARY_VERSION 1
#define SUM_DURATION 1
#define SUM_TOKENS 2
#define SUM_COST 4
#define SUM_V_OBJECT 1
#define SUM_ABSENT 0xffffffffu

typedef struct {
	const char *s; /* NULL: absent; else n bytes, no NUL among them */
	size_t n;
} sum_str;

typedef struct {
	int object;      /* the violation is a JSON object */
	int severity;    /* 0 unknown, 1 low .. 4 critical */
	sum_str policy, status;
} sum_violation;

typedef struct {
	sum_str timestamp, agent, model, status, integration, user, session;
	unsigned has;    /* SUM_DURATION | SUM_TOKENS | SUM_COST */
	double duration, tokens, cost;
	size_t nviol;
	const unsigned char *viol, *end; /* the violations, for summary_next_violation */
} summary;

/* Appends rec's summary to out. 0, or -1 out of memory. */
int summary_encode(const cJSON *rec, lg_buf *out);
/* The same summary from a record's text, reading only the members it
 * needs (the rest skipped, not parsed): put's fast path has no tree.
 * text must be one valid JSON object. 0; 1 when the text needs the full
 * parser (a member key with escapes); -1 out of memory. */
int summary_encode_text(const char *text, size_t len, lg_buf *out);
/* Reads a summary (pointing into p, which must outlive s). 0, or -1 when
 * it is malformed or of another version. */
int summary_decode(const void *p, size_t n, summary *s);
/* The next violation from *pos (start at s->viol): 1, or 0 at the end. */
int summary_next_violation(const summary *s, const unsigned char **pos, sum_violation *v);
/* s equals the C string want (NULL want: never). */
int sum_is(sum_str s, const char *want);
/* s as a C string in b (its previous contents dropped): NULL when s is
 * absent or memory ran out (*oom set). */
const char *sum_cstr(sum_str s, lg_buf *b, int *oom);
#endif

/* ---- the summaries sub-database (summary_db.c) ---- */
#include "db.h"

/* The summary of rec (or, rec NULL, of the record text text/len) into out
 * (its contents replaced): 0, or ENOMEM. */
int summary_make(const cJSON *rec, const char *text, size_t len, lg_buf *out);
/* Writes a summary made by summary_make under its record's time key in the
 * write transaction txn; nothing when the store has no summaries yet
 * (summary_open makes them later). An LMDB code. */
int summary_put(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen, const lg_buf *sum);
/* summary_make, then summary_put; scratch: a buffer to reuse. An LMDB
 * code or errno's. */
int summary_note(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen, const cJSON *rec,
		 lg_buf *scratch);
/* Deletes the summary under key (a time key the record left). */
int summary_forget(store_db *db, MDB_txn *txn, const unsigned char *key, size_t klen);
/* Creates the summaries of a store from before them, and summarizes every
 * record without one in time order, 1,000 a transaction (a kill loses
 * nothing: the next call goes on); then marks the store ("summary").
 * Cheap once done. Returns an exit status, the failure reported. */
int summary_open(store_db *db);
