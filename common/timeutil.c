#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int lg_time_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	const char *p = s;
	if (!s)
		return -1;
	if (strcmp(s, "now") == 0) {
		*ms = lg_time_now();
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1])
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				int n = 0;
				while (isdigit((unsigned char)*p)) {
					if (n < 3)
						frac = frac * 10 + (*p - '0');
					n++;
					p++;
				}
				if (n == 0)
					return -1;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om = 0;
		p++;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return -1;
		off = sign * ((int64_t)oh * 3600 + om * 60);
	}
	if (*p)
		return -1;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000 + frac;
	return 0;
}

char *lg_time_format(int64_t ms, char out[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int msec = (int)(ms - secs * 1000);
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m % 13, d % 32, (unsigned)(rem / 3600) % 24,
		 (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned)msec % 1000);
	return out;
}

int lg_seconds_to_ms(double s, int64_t *ms)
{
	if (!(s >= 0 && s * 1000 <= LG_MAX_DURATION_MS))
		return -1;
	*ms = (int64_t)llround(s * 1000);
	return 0;
}

int64_t lg_time_now(void)
{
	const char *fake = getenv("LG_NOW");
	int64_t ms;
	if (fake && *fake && strcmp(fake, "now") != 0 && lg_time_parse(fake, &ms) == 0)
		return ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lg_duration_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t total = 0;
	int parts = 0;
	if (!s || !*s)
		return -1;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		char *e;
		double v = strtod(p, &e);
		p = e;
		int64_t unit;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else {
			switch (*p) {
			case 's': unit = 1000; break;
			case 'm': unit = 60000; break;
			case 'h': unit = 3600000; break;
			case 'd': unit = 86400000; break;
			case 'w': unit = 7 * 86400000LL; break;
			case '\0':
				if (parts)
					return -1;
				unit = 1000;
				p--;
				break;
			default: return -1;
			}
			p++;
		}
		if (v < 0 || v > 1e7)
			return -1;
		total += (int64_t)(v * (double)unit + 0.5);
		parts++;
	}
	*ms = total;
	return 0;
}

char *lg_duration_format(int64_t ms, char out[32])
{
	static const struct { const char *u; int64_t n; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 } };
	size_t o = 0;
	out[0] = '\0';
	if (ms <= 0) {
		snprintf(out, 32, "0s");
		return out;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
		if (ms >= units[i].n) {
			o += (size_t)snprintf(out + o, 32 - o, "%lld%s", (long long)(ms / units[i].n), units[i].u);
			ms %= units[i].n;
		}
	}
	return out;
}
