/* The index of incomplete traces (docs/store.md, "Incomplete traces"):
 * state key "incomplete/<integration>/<externalId>" -> JSON
 *   {"since": trace timestamp, "firstSeen": when put first stored it
 *    incomplete, "reasons": [...], "tries": re-fetches claimed,
 *    "lastTry": ISO or null, "gaveUp": true once the horizon passed}
 * put keeps it in line with each record it writes; lg-sync claims the
 * traces due for a re-fetch. */
#ifndef STORE_PENDING_H
#define STORE_PENDING_H
#include <stdint.h>
#include <stdio.h>

#include "db.h"

/* Longest wait between two re-fetches of one trace, and the shortest. */
#define PENDING_WAIT_MAX_MS (60 * 60000LL)
#define PENDING_WAIT_MIN_MS (5 * 60000LL)
/* Default horizon: how long after first seeing a trace incomplete lg-sync
 * keeps re-fetching it. */
#define PENDING_HORIZON_MS (24 * 3600000LL)

/* Adds, updates or removes rec's entry (rec as written under id). The
 * caller counts PENDING_INDEX_OPS operations for it. Returns an MDB rc. */
#define PENDING_INDEX_OPS 2
int pending_index_record(MDB_txn *txn, store_db *db, const cJSON *rec, const char *id, int64_t now);

/* Counts the entries of an integration (all when NULL). */
void pending_count(MDB_txn *txn, store_db *db, const char *integration, long *pending, long *gave_up);

/* lg-store incomplete [INTEGRATION]: the entries as NDJSON, at most limit
 * (0: all). With due: only the ids of the traces due for a re-fetch now,
 * one per line, at most limit, each claimed (tries + 1, lastTry now) in
 * the same transaction; entries first seen longer than horizon_ms ago are
 * marked gaveUp instead, and traces that started less than settle_ms ago
 * are left for later. Returns an exit status. */
int pending_command(store_db *db, const char *integration, long limit, int due, int64_t horizon_ms,
		    int64_t settle_ms, FILE *out);
#endif
