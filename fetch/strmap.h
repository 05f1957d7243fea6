/* A string-keyed hash map (open addressing), for deduplicating rows by id
 * and grouping them by traceId. Keys are copied; values are opaque. */
#ifndef FETCH_STRMAP_H
#define FETCH_STRMAP_H
#include <stddef.h>

typedef struct {
	char **keys;
	void **vals;
	size_t n, cap;
} strmap;

/* The value for key, or NULL. */
void *strmap_get(const strmap *m, const char *key);
/* Sets key -> val (replacing). Returns 0, or -1 out of memory. */
int strmap_put(strmap *m, const char *key, void *val);
/* Frees the keys (not the values) and empties the map. */
void strmap_clear(strmap *m);
#endif
