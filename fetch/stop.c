#include <signal.h>
#include <stddef.h>

#include "stop.h"

#define NSIGNALS 3

static volatile sig_atomic_t stop_sig;
static const int stop_signals[NSIGNALS] = { SIGTERM, SIGINT, SIGHUP };
static int handled[NSIGNALS]; /* set before any handler can run */

/* Only sig_atomic_t stores and sigaction(2), both async-signal-safe. The
 * signals we handle get their default action back; ignored ones stay so. */
static void on_stop(int sig)
{
	struct sigaction dfl;
	stop_sig = sig;
	sigemptyset(&dfl.sa_mask);
	dfl.sa_flags = 0;
	dfl.sa_handler = SIG_DFL;
	for (size_t i = 0; i < NSIGNALS; i++)
		if (handled[i])
			sigaction(stop_signals[i], &dfl, NULL);
}

int stop_install(void)
{
	struct sigaction sa, old;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaddset(&sa.sa_mask, stop_signals[i]);
	/* Writes to a pipe restart; nanosleep and poll return EINTR anyway. */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_stop;
	for (size_t i = 0; i < NSIGNALS; i++) {
		int sig = stop_signals[i];
		if (sig != SIGTERM && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		handled[i] = 1;
		if (sigaction(sig, &sa, NULL) != 0)
			return -1;
	}
	return 0;
}

int stop_requested(void)
{
	return stop_sig;
}

const char *stop_signal_name(void)
{
	switch (stop_sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

void stop_request(int sig)
{
	stop_sig = sig;
}
