/* Time and duration parsing/formatting. Times are int64 milliseconds since
 * the Unix epoch, UTC; formatted as Langfuse does: 2025-06-05T15:45:52.971Z. */
#ifndef LG_TIMEUTIL_H
#define LG_TIMEUTIL_H
#include <stdint.h>

/* ISO 8601 / RFC 3339: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with
 * "Z", "+HH:MM", "+HHMM" or no zone (UTC); space allowed for 'T'. Also
 * "now". Returns 0, or -1 if s is not such a time. */
int lg_time_parse(const char *s, int64_t *ms);
/* Writes the time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (needs 25 bytes). */
char *lg_time_format(int64_t ms, char out[32]);
/* Current time in ms. LG_NOW (a time) overrides it, for tests. */
int64_t lg_time_now(void);
/* Seconds (a Langfuse latency) to whole ms: 0 when s is finite, not
 * negative and at most a year; -1 otherwise (1e999, NaN, -1), so that no
 * out-of-range double is ever cast to an integer. */
int lg_seconds_to_ms(double s, int64_t *ms);
/* The longest duration lg believes, in ms (a year). */
#define LG_MAX_DURATION_MS (366.0 * 86400 * 1000)
/* "90s", "15m", "7d", "1h30m", "500ms", "2w", or a bare number of seconds.
 * Returns 0, or -1 if malformed or negative. */
int lg_duration_parse(const char *s, int64_t *ms);
/* Formats a duration compactly: "7d", "1h30m", "15m", "2s", "250ms". */
char *lg_duration_format(int64_t ms, char out[32]);
#endif
