#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retry.h"

resp_class retry_classify(long status, const char *body)
{
	if (status >= 200 && status < 300)
		return RESP_OK;
	switch (status) {
	case 401: case 403: return RESP_AUTH;
	case 404: return RESP_NOT_FOUND;
	case 410: return RESP_GONE;
	case 408: case 429: return RESP_RETRY;
	case 524: return RESP_NARROW;
	case 422:
		if (body && strstr(body, "PayloadTooLarge"))
			return RESP_TOO_LARGE;
		if (body && strstr(body, "Request timed out"))
			return RESP_NARROW;
		return RESP_FATAL;
	}
	if (status >= 500 || status == 0)
		return RESP_RETRY;
	return RESP_FATAL;
}

int retry_after_parse(const char *value, int64_t now_ms, int64_t *wait_ms)
{
	const char *p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long long s = strtoll(p, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end || s < 0 || s > 86400LL * 365)
			return -1;
		*wait_ms = s * 1000;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(p, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return -1;
	int64_t at = (int64_t)timegm(&tm) * 1000;
	*wait_ms = at > now_ms ? at - now_ms : 0;
	return 0;
}

int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, double rnd)
{
	int64_t ceil_ms = base_ms;
	for (int i = 0; i < attempt && ceil_ms < cap_ms; i++)
		ceil_ms *= 2;
	if (ceil_ms > cap_ms)
		ceil_ms = cap_ms;
	return (int64_t)(rnd * (double)(ceil_ms + 1));
}
