/* Query strings for the Langfuse API: every value percent-encoded (a v2
 * cursor is base64 and holds '+', '/' and '='). */
#ifndef FETCH_URL_H
#define FETCH_URL_H
#include <stdint.h>

#include "buf.h"

/* Appends "?key=value" or "&key=value", value percent-encoded (ASCII letters,
 * digits and - . _ ~ kept as they are). Returns 0, or -1 out of memory. */
int url_param(lg_buf *b, const char *key, const char *value);
/* Same with a time formatted as 2025-06-05T15:45:52.971Z. */
int url_param_time(lg_buf *b, const char *key, int64_t ms);
int url_param_long(lg_buf *b, const char *key, long v);
#endif
