/* fetch/stop: the first signal sets the flag and restores the default
 * action (a second one kills), ignored signals stay ignored, and a stop
 * cuts client_sleep_ms short. */
#include <signal.h>
#include <stdint.h>

#include "../../fetch/client.h"
#include "../../fetch/stop.h"
#include "t.h"

static void (*handler_of(int sig))(int)
{
	struct sigaction sa;
	sigaction(sig, NULL, &sa);
	return sa.sa_handler;
}

static void test_signal(void)
{
	signal(SIGHUP, SIG_IGN); /* as under nohup */
	T_INT(stop_install(), 0, "install");
	T_OK(handler_of(SIGTERM) != SIG_DFL && handler_of(SIGTERM) != SIG_IGN, "install: SIGTERM handled");
	T_OK(handler_of(SIGINT) != SIG_DFL && handler_of(SIGINT) != SIG_IGN, "install: SIGINT handled");
	T_OK(handler_of(SIGHUP) == SIG_IGN, "install: an ignored SIGHUP stays ignored");
	T_INT(stop_requested(), 0, "no signal yet");
	raise(SIGTERM);
	T_INT(stop_requested(), SIGTERM, "SIGTERM sets the flag");
	T_STR(stop_signal_name(), "SIGTERM", "signal name");
	T_OK(handler_of(SIGTERM) == SIG_DFL, "first signal: SIGTERM back to default");
	T_OK(handler_of(SIGINT) == SIG_DFL, "first signal: SIGINT back to default");
	T_OK(handler_of(SIGHUP) == SIG_IGN, "first signal: SIGHUP still ignored");
}

static void test_sleep(void)
{
	stop_request(0);
	int64_t t0 = client_clock_ms();
	T_INT(client_sleep_ms(150), 150, "sleep: the whole time without a stop");
	T_OK(client_clock_ms() - t0 >= 150, "sleep: slept");
	stop_request(SIGINT);
	t0 = client_clock_ms();
	T_INT(client_sleep_ms(60000), 0, "sleep: a stop returns at once");
	T_OK(client_clock_ms() - t0 < 1000, "sleep: well under the minute");
	T_STR(stop_signal_name(), "SIGINT", "signal name: SIGINT");
}

int main(void)
{
	test_signal();
	test_sleep();
	return t_done();
}
