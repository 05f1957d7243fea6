/* JSON for lg: our own parser and printer around cJSON trees.
 *
 * Why not cJSON_Parse/cJSON_Print: numbers would round-trip through double
 * (a 19-digit id changes), "\u0000" would cut a string short, and errors
 * would lack a byte offset. Here:
 *  - a parsed number is a cJSON_Number whose valuestring keeps the original
 *    text; lg_json_print writes that text back verbatim. Never change a
 *    number in place (cJSON_SetNumberValue would leave the old text): replace
 *    the item, e.g. lg_json_set(obj, key, cJSON_CreateNumber(x)).
 *  - a string holding "\u0000" is kept as cJSON_Raw with its original quoted
 *    literal (printed verbatim; lg_json_string() returns NULL for it).
 *  - a parsed string or number keeps its text in the item's own allocation
 *    (flag cJSON_IsReference, so cJSON_Delete frees one block): read
 *    valuestring, never free or reassign it; to change a value, replace
 *    the item (cJSON_SetValuestring refuses such items).
 *  - memory a tree's item holds (its key, its text) is freed with
 *    cJSON_free, never free(): the item may live in the parse arena.
 * Use lg_json_print, not cJSON_Print*, for anything a tool writes. */
#ifndef LG_JSON_H
#define LG_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"

#define LG_JSON_MAX_DEPTH 512

typedef struct {
	size_t offset;      /* 1-based byte offset of the error */
	const char *msg;    /* static text, e.g. "unexpected character" */
} lg_json_error;

/* Parses exactly one JSON value (surrounding white space allowed). NULL on
 * error with *err filled in. Validates UTF-8. */
cJSON *lg_json_parse(const char *s, size_t len, lg_json_error *err);

/* lg_json_parse into the parse arena: much faster to build (and to
 * cJSON_Delete); the tree is used as any other, and lives until the next
 * lg_json_arena_reset(), which ends every arena tree at once (keep nothing
 * of one past it: copy what must outlive the record). Items added to it are
 * malloc'd as usual. */
cJSON *lg_json_parse_arena(const char *s, size_t len, lg_json_error *err);
void lg_json_arena_reset(void);
/* For a member of the root object of the last lg_json_parse_arena text:
 * 1 and [*from, *to) its bytes there, from its key's opening quote to the
 * end of its value; 0 for any other item (one added or replaced since). */
int lg_json_top_span(const cJSON *member, size_t *from, size_t *to);

/* Appends the compact JSON text of item. Returns 0, or -1 out of memory. */
int lg_json_print(lg_buf *b, const cJSON *item);
/* Appends s as a quoted, escaped JSON string of n bytes. */
int lg_json_print_string(lg_buf *b, const char *s, size_t n);
/* Convenience: malloc'd compact text (caller frees), NULL on failure. */
char *lg_json_to_string(const cJSON *item);

/* Lookups (case-sensitive keys; NULL-safe on obj). */
cJSON *lg_json_get(const cJSON *obj, const char *key);
/* The string value of obj[key], or NULL if absent / not a string. */
const char *lg_json_str(const cJSON *obj, const char *key);
/* The string of a string item, or NULL. */
const char *lg_json_string(const cJSON *item);
/* 1 and *out set when item is a number; 0 otherwise. */
int lg_json_num(const cJSON *item, double *out);
/* Number at obj[key]: 1 and *out set when present and numeric. */
int lg_json_get_num(const cJSON *obj, const char *key, double *out);
/* Path lookup: "metadata.tokens.total", "spans[2].input", "a.b[0]". Keys with
 * dots can't be addressed this way; use lg_json_get for them. */
cJSON *lg_json_path(const cJSON *root, const char *path);
/* True for absent, JSON null. */
int lg_json_is_null(const cJSON *item);

/* Replace-or-add obj[key] = val (takes ownership of val; never adds a
 * duplicate key). Returns 0, or -1 (val freed) on failure. */
int lg_json_set(cJSON *obj, const char *key, cJSON *val);
/* obj[key] if it is an object, else a new empty object set there. */
cJSON *lg_json_obj(cJSON *obj, const char *key);
/* An integer number item whose text is exact (no double formatting). */
cJSON *lg_json_int(int64_t v);
/* An integer item from a double (a count read from input): truncated,
 * clamped to int64 (a cast would be undefined beyond it), NaN -> 0. */
cJSON *lg_json_int_d(double v);
/* A number item printed with up to 17 significant digits, shortest exact. */
cJSON *lg_json_double(double v);
/* Moves obj[key] out of obj (NULL if absent). */
cJSON *lg_json_take(cJSON *obj, const char *key);
/* Deep equality, numbers compared by value, object key order ignored. */
int lg_json_equal(const cJSON *a, const cJSON *b);
/* Orders an array of objects by the time in each one's key (ISO 8601;
 * missing or unreadable last), then by "id": the order of a record's spans
 * and scores, whatever order their fragments came in. Returns 0, or -1 out
 * of memory (the array is left as it was). */
int lg_json_sort_by_time(cJSON *arr, const char *key);

#endif
