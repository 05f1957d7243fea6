/* PCRE2 patterns that a rules or policy file names, compiled the one way
 * the tools compile them. */
#ifndef LG_RE_H
#define LG_RE_H
#include <stddef.h>
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

/* Compiles re (UTF-8) and, unless LG_NO_JIT is set, JIT-compiles it. On
 * error NULL, and err holds "regex error at offset N: PCRE2's message". */
pcre2_code *lg_re_compile(const char *re, char *err, size_t errlen);
#endif
