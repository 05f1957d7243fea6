/* lg-ship's rows: a stored record as one row of the traces table and one
 * row per violation of the violations table, in ClickHouse's JSONEachRow
 * (ship/schema.sql has the columns). */
#ifndef SHIP_ROWS_H
#define SHIP_ROWS_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct {
	lg_buf traces, violations;  /* one JSON object a line */
	size_t ntraces, nviolations;
} ship_rows;

/* Adds the rows of the record text rec (the change seq: the rows' version).
 * 0; -1 when rec is not a JSON object with a string externalId (why says);
 * ENOMEM. */
int ship_rows_add(ship_rows *r, uint64_t seq, const char *rec, size_t len, char *why, size_t n);
void ship_rows_reset(ship_rows *r);
void ship_rows_free(ship_rows *r);
#endif
