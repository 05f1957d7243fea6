/* lg-ship's tables in ClickHouse (ship/schema.sql is this for database lg;
 * tests check they agree). Written for ClickHouse 18.16 and later: no
 * DateTime64 (a DateTime and the ms beside it), nested JSON as String. */
#ifndef SHIP_SCHEMA_H
#define SHIP_SCHEMA_H
#include "buf.h"

/* The statements for database db, each ending in ";\n". Returns their count. */
size_t ship_schema_count(void);
/* Statement i for database db into out (replaced, without the ";\n"). */
int ship_schema_statement(lg_buf *out, size_t i, const char *db);
#endif
