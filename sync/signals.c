/* lg-sync's stop signals: SIGTERM and SIGINT only record the stop and wake
 * whoever polls stop_fd(); the run loop passes SIGTERM on to lg-fetch. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sync.h"

static volatile sig_atomic_t stop_sig, stops;
static int wake[2] = { -1, -1 };

static void on_stop(int sig)
{
	int saved = errno;
	if (!stop_sig)
		stop_sig = sig;
	stops++;
	if (wake[1] >= 0) /* full pipe: a wake-up is pending anyway */
		(void)!write(wake[1], "", 1);
	errno = saved;
}

int signals_install(void)
{
	if (wake[0] < 0 && pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	/* No SA_RESTART: a blocking wait returns EINTR and looks at the stop. */
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	return 0;
}

const char *stop_name(void)
{
	switch (stop_sig) {
	case 0: return NULL;
	case SIGINT: return "SIGINT";
	default: return "SIGTERM";
	}
}

int stop_count(void)
{
	return stops;
}

int stop_fd(void)
{
	return wake[0];
}

void stop_drain(void)
{
	char b[64];
	while (wake[0] >= 0 && read(wake[0], b, sizeof b) > 0)
		;
}
