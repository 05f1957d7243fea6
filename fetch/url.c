#include <stdio.h>
#include <string.h>

#include "timeutil.h"
#include "url.h"

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int url_param(lg_buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *sep = b->len && memchr(b->data, '?', b->len) ? "&" : "?";
	if (lg_buf_adds(b, sep) || lg_buf_adds(b, key) || lg_buf_addc(b, '='))
		return -1;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if (unreserved(*p) ? lg_buf_addc(b, (char)*p) : lg_buf_add(b, enc, 3))
			return -1;
	}
	return 0;
}

int url_param_time(lg_buf *b, const char *key, int64_t ms)
{
	char t[32];
	return url_param(b, key, lg_time_format(ms, t));
}

int url_param_long(lg_buf *b, const char *key, long v)
{
	char t[32];
	snprintf(t, sizeof t, "%ld", v);
	return url_param(b, key, t);
}
