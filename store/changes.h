/* The change feed: every write of a record (put's new records and merges,
 * ack and resolve of its violations) gives it the next change sequence,
 * in the same transaction, under which changes lists it; its previous
 * entry goes, so the feed holds each record once, at its last change.
 * Readers ask for what changed after a sequence they have. Returns: LMDB
 * codes or errno's, except where an exit status is said. */
#ifndef STORE_CHANGES_H
#define STORE_CHANGES_H
#include <stdint.h>
#include <stdio.h>

#include "db.h"

/* Puts and deletes one changes_note takes at most. */
#define CHANGES_OPS 3

/* Gives the record id the next sequence in the write transaction txn.
 * is_new: it was not stored before (nothing to take out of the feed).
 * Nothing, 0, when the store has no feed yet (changes_open_feed puts every
 * record in it later). */
int changes_note(store_db *db, MDB_txn *txn, const char *id, size_t idlen, int is_new);

/* Creates the feed of a store from before it, and puts every record not in
 * it yet there in time order, 1,000 a transaction (a kill loses nothing:
 * the next call goes on); then marks the store ("feed"). Cheap once done.
 * Returns an exit status, the failure reported. */
int changes_open_feed(store_db *db);

/* The last sequence given out (0: none), as of txn. */
int changes_last(store_db *db, MDB_txn *txn, uint64_t *last);

/* Calls fn for each record changed after since, in sequence order, at
 * most limit (0: no limit), with its sequence and its current text (valid
 * during the call); *last: the last sequence passed (since if none),
 * *more: records remain after it. fn's non-zero ends the walk and is
 * returned. */
typedef int (*changes_fn)(void *ctx, uint64_t seq, const char *id, size_t idlen, const char *rec,
			  size_t len);
int changes_walk(store_db *db, MDB_txn *txn, uint64_t since, size_t limit, changes_fn fn, void *ctx,
		 uint64_t *last, int *more);

/* lg-store changes: the records, then
 * {"$lg":"changes","since":S,"last":N,"records":K,"more":B}. An exit status. */
int changes_print(store_db *db, uint64_t since, size_t limit, FILE *out);

/* The position of a consumer (lg-ship's destination): the last sequence it
 * has, 0 when none; set in its own transaction. */
int changes_position(store_db *db, MDB_txn *txn, const char *who, uint64_t *seq);
int changes_set_position(store_db *db, const char *who, uint64_t seq);
#endif
