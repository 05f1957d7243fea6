/* Records for the unit tests built the way lg-map builds them, so that
 * the store's merge is tested on what it is given in use. */
#ifndef LG_T_RECORDS_H
#define LG_T_RECORDS_H
#include <cjson/cJSON.h>

/* The JSON text s, which a test wrote; a typo in it exits 2 naming it. */
cJSON *t_json(const char *s);

/* Finishes rec, whose "spans" are set, as lg-map does: spans by start
 * time, then id; timestamp the earliest start; metrics (the duration from
 * the spans) and incompleteness. Returns rec. */
cJSON *t_mapped(cJSON *rec);
#endif
