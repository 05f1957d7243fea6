/* lg-sync daemon: every auto-sync integration at its interval until
 * SIGTERM/SIGINT; the config is read again every cycle, so 'lg-sync add'
 * takes effect without a restart. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "serve.h"
#include "sync.h"

typedef struct {
	char *id;
	time_t due;  /* 0: not yet scheduled */
	int fails;   /* consecutive failures */
} slot;

typedef struct {
	slot *s;
	size_t n;
	char *reported; /* the config problems last reported */
} schedule;

__attribute__((format(printf, 1, 2)))
static void log_line(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	printf("%s ", stamp);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

static slot *slot_of(schedule *sc, const char *id)
{
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].id, id) == 0)
			return &sc->s[i];
	slot *p = realloc(sc->s, (sc->n + 1) * sizeof *p);
	if (!p)
		return NULL;
	sc->s = p;
	p[sc->n] = (slot){ .id = strdup(id) };
	return p[sc->n].id ? &p[sc->n++] : NULL;
}

/* 330 -> "5m30s" */
static const char *fmt_seconds(long s, char out[32])
{
	size_t o = 0;
	out[0] = '\0';
	if (s >= 86400)
		o += (size_t)snprintf(out + o, 32 - o, "%ldd", s / 86400), s %= 86400;
	if (s >= 3600)
		o += (size_t)snprintf(out + o, 32 - o, "%ldh", s / 3600), s %= 3600;
	if (s >= 60)
		o += (size_t)snprintf(out + o, 32 - o, "%ldm", s / 60), s %= 60;
	if (s > 0 || o == 0)
		snprintf(out + o, 32 - o, "%lds", s);
	return out;
}

/* First run at start, then every interval plus up to 10% jitter; after k
 * consecutive failures, interval * 2^k (at most 1 hour longer). */
static long next_delay(const lg_integration *it, int fails)
{
	long ivl = it->interval_ms ? (long)(it->interval_ms / 1000) : 300;
	if (ivl <= 0)
		ivl = 1;
	int k = fails > 6 ? 6 : fails;
	long delay = ivl << k;
	if (delay > ivl + 3600)
		delay = ivl + 3600;
	return delay + (ivl >= 10 ? rand() % (ivl / 10 + 1) : 0);
}

/* One run, logged. A run a stop signal ended is logged as stopped: neither
 * a failure nor scheduled. */
static void daemon_run(sync_ctx *c, const lg_integration *it, slot *s)
{
	static const run_opts o = { .mode = "incremental" };
	run_result r;
	char d[32];
	long delay;
	sync_one(c, it, &o, &r);
	if (r.stopped) {
		log_line("%s %s", it->id, r.line);
		return;
	}
	if (r.busy) { /* a manual run holds the lock: not a failure */
		delay = next_delay(it, 0);
		log_line("%s skipped: %s next in %s", it->id, r.line, fmt_seconds(delay, d));
	} else if (r.code == 0) {
		s->fails = 0;
		delay = next_delay(it, 0);
		log_line("%s %s next in %s", it->id, r.line, fmt_seconds(delay, d));
	} else {
		s->fails++;
		delay = next_delay(it, s->fails);
		log_line("%s %s (failures %d) next in %s", it->id, r.line, s->fails, fmt_seconds(delay, d));
	}
	s->due = time(NULL) + delay;
}

/* The config of this cycle; its problems reported when they changed, so a
 * bad entry is said once, not every minute. Returns 0 when loaded. */
static int cycle_config(sync_ctx *c, schedule *sc, lg_config *cfg)
{
	char err[1200];
	struct stat st;
	lg_buf now = { 0 };
	int rc = lg_config_read(cfg, stat(c->config, &st) == 0 ? c->config : NULL, LG_CONFIG_SKIP_BAD, err, sizeof err);
	if (rc)
		lg_buf_printf(&now, "config: %s\n", err);
	for (size_t i = 0; rc == 0 && i < cfg->nbad; i++)
		lg_buf_printf(&now, "config: %s (integration skipped)\n", cfg->bad[i].msg);
	const char *text = now.len ? lg_buf_cstr(&now) : "";
	if (strcmp(text, sc->reported ? sc->reported : "") != 0) {
		for (const char *p = text; *p;) {
			const char *e = strchr(p, '\n');
			lg_err("%.*s", (int)(e - p), p);
			p = e + 1;
		}
		free(sc->reported);
		sc->reported = strdup(text);
	}
	lg_buf_free(&now);
	return rc;
}

int cmd_daemon(sync_ctx *c, int argc, char **argv)
{
	static const struct option daemon_longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 't' },
		{ "console", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, once = 0;
	serve_opts so = { 0 };
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", daemon_longopts, NULL)) != -1) {
		if (opt == 'o')
			once = 1;
		else if (opt == 'l')
			so.listen = optarg;
		else if (opt == 't')
			so.token_file = optarg;
		else if (opt == 'c')
			so.console = optarg;
		else if (opt == 'h')
			return usage(), 0;
		else
			return lg_bad_option(opt, optopt, argv[optind - 1]);
	}
	if (optind < argc)
		return lg_usage_error("daemon: unexpected argument '%s'", argv[optind]);
	if ((so.token_file || so.console) && !so.listen)
		return lg_usage_error("daemon: --token-file and --console go with --listen");
	lg_config cfg;
	int rc = sync_load(c, &cfg);
	if (rc)
		return rc;
	lg_config_free(&cfg);
	if (signals_install() != 0) {
		lg_err("sigaction: %s", strerror(errno));
		return LG_EXIT_BAD;
	}
	/* The API answers from its own threads while the loop below runs. */
	serve_server *sv = NULL;
	if (so.listen && !(sv = serve_start(c, &so, &rc)))
		return rc;
	srand((unsigned)(time(NULL) ^ getpid()));
	c->quiet = c->silent = c->daemon = 1;
	schedule sc = { 0 };
	sc.reported = strdup("");
	log_line("lg-sync daemon: started (config %s, db %s)", c->config, c->db);
	while (!stop_name()) {
		time_t now = time(NULL), next_at = 0;
		int loaded = cycle_config(c, &sc, &cfg) == 0;
		for (size_t i = 0; loaded && i < cfg.n; i++) {
			const lg_integration *it = &cfg.items[i];
			slot *s = it->auto_sync ? slot_of(&sc, it->id) : NULL;
			if (!s)
				continue;
			if (!s->due)
				s->due = now;
			if (s->due <= now && !stop_name())
				daemon_run(c, it, s);
			if (!next_at || s->due < next_at)
				next_at = s->due;
		}
		if (loaded)
			lg_config_free(&cfg);
		if (once || stop_name())
			break;
		long wait_s = next_at ? (long)(next_at - time(NULL)) : 60;
		if (wait_s > 60)
			wait_s = 60;
		if (wait_s > 0) {
			struct pollfd pf = { .fd = stop_fd(), .events = POLLIN };
			poll(&pf, 1, (int)(wait_s * 1000));
		}
	}
	serve_stop(sv);
	log_line("lg-sync daemon: stopped");
	for (size_t i = 0; i < sc.n; i++)
		free(sc.s[i].id);
	free(sc.s);
	free(sc.reported);
	return 0;
}
