/* The small lg-store commands: get, status, runs, cursor, ack/resolve,
 * check, backup. Each returns an exit status. */
#ifndef STORE_ADMIN_H
#define STORE_ADMIN_H
#include <stdio.h>

#include "db.h"

int admin_get(store_db *db, const char *id, FILE *out);
int admin_cursor(store_db *db, const char *integration, FILE *out);
/* Sets integration's cursor to time (already checked as ISO 8601). */
int admin_cursor_reset(store_db *db, const char *integration, const char *time);
/* active, scheduled: what lg-sync knows (its lock, its config). db NULL:
 * no store yet, lastSync null. */
int admin_status(store_db *db, const char *integration, int active, int scheduled, FILE *out);
/* status when the store cannot be read: success false, lastSync null,
 * storeReadable false. Returns status (the failure's exit status). */
int admin_status_unreadable(int active, int scheduled, int status, FILE *out);
/* The runs as stored, newest first, one per line: integration's only when
 * not NULL, at most limit (0: all). */
int admin_runs(store_db *db, const char *integration, long limit, FILE *out);
/* to: "acknowledged" or "resolved"; note may be NULL. Prints the violation. */
int admin_set_violation(store_db *db, const char *vid, const char *to, const char *note, FILE *out);
/* Exit 6 when a value is damaged (each listed), 1 when the indexes and
 * the records disagree. */
int admin_check(store_db *db, FILE *out);
int admin_backup(store_db *db, const char *file);
#endif
