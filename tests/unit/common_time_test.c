#include <stdlib.h>

#include "t.h"
#include "timeutil.h"

int main(void)
{
	int64_t ms = 0;
	char buf[32];
	T_OK(lg_time_parse("2025-06-05T15:45:52.971Z", &ms) == 0, "parse langfuse time");
	T_INT(ms, 1749138352971LL, "epoch ms");
	T_STR(lg_time_format(ms, buf), "2025-06-05T15:45:52.971Z", "format round trip");
	T_OK(lg_time_parse("2025-06-05T17:45:52.971+02:00", &ms) == 0 && ms == 1749138352971LL, "offset +02:00");
	T_OK(lg_time_parse("2025-06-05T15:45:52.971123456Z", &ms) == 0 && ms == 1749138352971LL, "nanoseconds truncated");
	T_OK(lg_time_parse("2025-06-05T15:45:52Z", &ms) == 0 && ms == 1749138352000LL, "no fraction");
	T_OK(lg_time_parse("2025-06-05", &ms) == 0 && ms == 1749081600000LL, "date only");
	T_OK(lg_time_parse("1970-01-01T00:00:00Z", &ms) == 0 && ms == 0, "epoch");
	T_OK(lg_time_parse("2024-02-29T00:00:00Z", &ms) == 0, "leap day");
	T_OK(lg_time_parse("2025-02-30T00:00:00Z", &ms) != 0, "invalid day rejected");
	T_OK(lg_time_parse("2025-13-01", &ms) != 0, "invalid month rejected");
	T_OK(lg_time_parse("yesterday", &ms) != 0, "garbage rejected");
	T_OK(lg_time_parse("2025-06-05T15:45:52.971Zjunk", &ms) != 0, "trailing junk rejected");
	T_STR(lg_time_format(-1, buf), "1969-12-31T23:59:59.999Z", "negative ms formatted");
	setenv("LG_NOW", "2026-01-02T03:04:05.000Z", 1);
	T_STR(lg_time_format(lg_time_now(), buf), "2026-01-02T03:04:05.000Z", "LG_NOW fakes now");
	unsetenv("LG_NOW");

	T_OK(lg_duration_parse("15m", &ms) == 0 && ms == 900000, "15m");
	T_OK(lg_duration_parse("7d", &ms) == 0 && ms == 604800000LL, "7d");
	T_OK(lg_duration_parse("1h30m", &ms) == 0 && ms == 5400000, "1h30m");
	T_OK(lg_duration_parse("500ms", &ms) == 0 && ms == 500, "500ms");
	T_OK(lg_duration_parse("90", &ms) == 0 && ms == 90000, "bare seconds");
	T_OK(lg_duration_parse("1.5h", &ms) == 0 && ms == 5400000, "fractional hours");
	T_OK(lg_duration_parse("-5m", &ms) != 0, "negative rejected");
	T_OK(lg_duration_parse("5x", &ms) != 0, "unknown unit rejected");
	T_OK(lg_duration_parse("", &ms) != 0, "empty rejected");
	T_STR(lg_duration_format(5400000, buf), "1h30m", "format 1h30m");
	T_STR(lg_duration_format(604800000LL, buf), "7d", "format 7d");
	return t_done();
}
