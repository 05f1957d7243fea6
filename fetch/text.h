/* Text from the server (error bodies, project names, ids) on its way to
 * stderr, run-end (so the store, lg-sync status and logs): a hostile or
 * broken server must not be able to write terminal escapes, forge lines,
 * flood, or have lg repeat the credentials it was sent. */
#ifndef FETCH_TEXT_H
#define FETCH_TEXT_H
#include <stddef.h>

/* Copies in[0..len) to out (at most n bytes with the NUL): control
 * characters (C0, DEL, C1; so ANSI escapes, CR, LF) become spaces; every
 * occurrence of a string of secrets (NULL-terminated, may be NULL), any
 * "Basic <credential>" and any "sk-lf-" token become "***"; then the text
 * is cut at a character boundary with "…" when longer than n - 1. */
void text_clean(const char *in, size_t len, char *out, size_t n, const char *const *secrets);
/* base64 of s (A-Z a-z 0-9 + /, padded with =), malloc'd; NULL out of
 * memory. */
char *text_base64(const char *s);
#endif
