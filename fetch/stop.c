#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "stop.h"

#define NSIGNALS 3

static volatile sig_atomic_t stop_sig;
static const int stop_signals[NSIGNALS] = { SIGTERM, SIGINT, SIGHUP };
static int handled[NSIGNALS]; /* set before any handler can run */
static int64_t deadline_ms;   /* CLOCK_MONOTONIC, 0 = none */
static int deadline_hit;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	/* lg-sync starts us with the stop signals blocked: one it sent before
	 * the handlers above were set waited, pending, and is delivered here,
	 * a clean stop instead of a kill by the default action or a loss. */
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaddset(&set, stop_signals[i]);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int stop_requested(void)
{
	if (!stop_sig && deadline_ms && now_ms() >= deadline_ms) {
		deadline_hit = 1;
		stop_sig = SIGALRM;
	}
	return stop_sig;
}

void stop_after(int64_t ms)
{
	deadline_ms = ms > 0 ? now_ms() + ms : 0;
}

const char *stop_signal_name(void)
{
	switch (stop_sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	case SIGALRM: return deadline_hit ? "the run time limit (--max-run-time)" : "SIGALRM";
	default: return "a signal";
	}
}

void stop_request(int sig)
{
	stop_sig = sig;
}
