#include "re.h"

#include <stdio.h>
#include <stdlib.h>

pcre2_code *lg_re_compile(const char *re, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "regex error at offset %zu: %s", (size_t)off, (const char *)msg);
		return NULL;
	}
	/* JIT is an optimisation: a platform without it still matches.
	 * LG_NO_JIT=1 skips it: valgrind cannot follow JIT code. */
	if (!getenv("LG_NO_JIT"))
		(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}
