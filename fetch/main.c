/* lg-fetch: page Langfuse (v2 observations or the legacy endpoints) and
 * emit one Langfuse trace per line, with $lg control lines (docs/fetch.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "err.h"
#include "json.h"
#include "run.h"
#include "stop.h"
#include "text.h"
#include "timeutil.h"

/* Two strings: C compilers need not take one longer than 4095. */
static const char usage[] =
	"Usage: lg-fetch [OPTION]...\n"
	"Page a Langfuse project's traces and print one Langfuse trace\n"
	"(TraceWithFullDetails) per line, oldest window first, between \"$lg\"\n"
	"control lines: run-start, a checkpoint after each window, run-end.\n"
	"\n"
	"Connection (the config file wins over LANGFUSE_PUBLIC_KEY,\n"
	"LANGFUSE_SECRET_KEY and LANGFUSE_HOST):\n"
	"  -i, --integration ID       integration of $LG_CONFIG (default\n"
	"                             $XDG_CONFIG_HOME/langguard/config.json)\n"
	"      --host URL             Langfuse base URL (default from the config)\n"
	"      --secret-key-file FILE read the secret key from FILE (mode 0600)\n"
	"      --api auto|v2|legacy   auto: v2 observations, legacy on 404\n"
	"      --test                 check the connection and exit\n"
	"      --list-integrations    print the configured integrations (secrets\n"
	"                             masked) as JSON lines and exit\n"
	"\n"
	"What to read (windows [from, to), to = now - lag):\n"
	"      --since TIME           from TIME (ISO 8601)\n"
	"      --until TIME           up to TIME (excluded)\n"
	"      --lookback DUR         from now - DUR (default: the integration's\n"
	"                             lookback, else 7d)\n"
	"      --cursor TIME          incremental: what is new since TIME, and\n"
	"                             once more what has since become overlap old\n"
	"      --overlap DUR          how late a row may arrive (default 1h): each\n"
	"                             row is read when new and again once overlap\n"
	"                             old ([TIME - overlap, now - overlap), ends on a\n"
	"                             grid of overlap/4); 0 reads each row once\n"
	"      --lag DUR              leave the newest DUR out (default 0)\n"
	"      --limit N              stop after N traces (at a window end)\n"
	"      --batch-size N         page size (v2 up to 1000, legacy up to 100;\n"
	"                             default the maximum)\n"
	"      --expand-metadata KEYS v2 truncates metadata values at 200 characters\n"
	"                             except for these comma-separated keys\n"
	"      --max-rows N           rows one window may hold before it is split\n"
	"                             (default 50000)\n"
	"      --trace-id ID          re-fetch this trace whole instead of windows\n"
	"                             (repeatable; rows started in the last 30 days,\n"
	"                             or --since/--lookback/--until); no checkpoint\n"
	"      --trace-ids FILE       the same for each id in FILE, one per line\n"
	"                             (- = standard input)\n"
	"\n";
static const char usage_requests[] =
	"Requests:\n"
	"      --rate N               at most N requests per minute\n"
	"      --retries N            attempts per request for 5xx, timeouts, cut\n"
	"                             bodies (default 8)\n"
	"      --retry-base-ms MS     first backoff delay (default 500, or\n"
	"                             $LG_RETRY_BASE_MS)\n"
	"      --max-wait DUR         longest Retry-After honoured (default 300s)\n"
	"      --timeout SECS         abort a stalled transfer after SECS (60)\n"
	"      --connect-timeout SECS (default 10)\n"
	"      --max-time SECS        the longest one request may take, however\n"
	"                             slowly its bytes come (default 300)\n"
	"      --max-body SIZE        the largest response body, before and after\n"
	"                             gzip (K, M suffixes; default 16M); a larger\n"
	"                             one halves the page size\n"
	"      --max-requests N       requests per run (default 100000)\n"
	"      --max-run-time DUR     stop the run cleanly after DUR, as SIGTERM\n"
	"                             does (default none)\n"
	"      --run-id ID            the run's id in run-start and run-end (letters,\n"
	"                             digits, . _ : -; at most 63; default: made\n"
	"                             from the time and a random number)\n"
	"      --proxy-http           let http_proxy/ALL_PROXY carry requests to a\n"
	"                             plain http:// host (the keys travel in clear\n"
	"                             to the proxy; by default it is bypassed)\n"
	"\n"
	"      --progress             a progress line on stderr (default when\n"
	"                             stderr is a terminal)\n"
	"  -q, --quiet                only errors on stderr\n"
	"  -v, --verbose              one stderr line per request\n"
	"  -h, --help                 show this help and exit\n"
	"      --version              show the version and exit\n"
	"\n"
	"SIGTERM, SIGINT or SIGHUP stop the run cleanly: the window being read is\n"
	"dropped (the next run reads it again), the last checkpoint stays that of\n"
	"the last completed window, run-end says \"failed\" with \"interrupted by\n"
	"SIGTERM\", exit 1. A second signal kills at once.\n"
	"\n"
	"Exit status: 0 ok, 1 runtime failure or interrupted, 2 usage or\n"
	"configuration, 3 authentication, 4 network, 5 API error, 6 write error.\n";

enum {
	OPT_HOST = 256, OPT_SECRET_FILE, OPT_API, OPT_TEST, OPT_LIST, OPT_SINCE, OPT_UNTIL,
	OPT_LOOKBACK, OPT_CURSOR, OPT_OVERLAP, OPT_LAG, OPT_LIMIT, OPT_BATCH, OPT_MAX_ROWS,
	OPT_RATE, OPT_RETRIES, OPT_RETRY_BASE, OPT_MAX_WAIT, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT,
	OPT_PROGRESS, OPT_VERSION, OPT_EXPAND, OPT_MAX_TIME, OPT_MAX_BODY, OPT_MAX_REQUESTS,
	OPT_MAX_RUN_TIME, OPT_PROXY_HTTP, OPT_TRACE_ID, OPT_TRACE_IDS, OPT_RUN_ID,
};

typedef struct {
	const char *integration, *host, *secret_file, *since, *until, *lookback, *cursor;
	const char *overlap, *lag, *max_wait, *expand, *max_run_time, *run_id;
	api_mode api;
	int test, list, progress, quiet, verbose, proxy_http;
	long limit, batch, max_rows, rate, retries, retry_base, timeout, connect_timeout;
	long max_time, max_body, max_requests;
	char **trace_ids;        /* --trace-id, --trace-ids */
	size_t n_ids, cap_ids;
	int by_id;
} options;

static int add_trace_id(options *o, const char *id)
{
	if (!*id || strlen(id) > 1000)
		return lg_usage_error("--trace-id: '%.40s' is not a trace id", id);
	if (o->n_ids == o->cap_ids) {
		char **v = lg_grow(o->trace_ids, &o->cap_ids, 16, sizeof *v);
		if (!v)
			return LG_EXIT_BAD;
		o->trace_ids = v;
	}
	if (!(o->trace_ids[o->n_ids] = strdup(id)))
		return LG_EXIT_BAD;
	o->n_ids++;
	return 0;
}

static void free_trace_ids(options *o)
{
	for (size_t i = 0; i < o->n_ids; i++)
		free(o->trace_ids[i]);
	free(o->trace_ids);
	o->trace_ids = NULL;
	o->n_ids = 0;
}

/* One id per line; blank lines skipped, "\r\n" accepted. */
static int read_trace_ids(options *o, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		lg_err("--trace-ids: %s: %s", path, strerror(errno));
		return LG_EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	unsigned long lineno = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (strlen(line) != (size_t)n) {
			lg_err("--trace-ids: %s:%lu: not a trace id", path, lineno);
			rc = LG_EXIT_USAGE;
		} else {
			rc = add_trace_id(o, line);
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	o->by_id = 1;
	return rc;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return lg_usage_error("%s: '%s' is not a number from %ld to %ld", opt, s, lo, hi);
	*out = v;
	return 0;
}

/* "512K", "16M", "1G" or bytes; at least 1 KiB, at most 1 GiB. */
static int parse_size(const char *opt, const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10), mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1L << 10;
	else if (*end == 'M' || *end == 'm')
		mul = 1L << 20;
	else if (*end == 'G' || *end == 'g')
		mul = 1L << 30;
	if (mul > 1)
		end++;
	if (!*s || *end || v < 1 || v > (1L << 30) / mul || v * mul < 1024)
		return lg_usage_error("%s: '%s' is not a size from 1K to 1G", opt, s);
	*out = v * mul;
	return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{ "integration", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "secret-key-file", required_argument, NULL, OPT_SECRET_FILE },
		{ "api", required_argument, NULL, OPT_API },
		{ "test", no_argument, NULL, OPT_TEST },
		{ "list-integrations", no_argument, NULL, OPT_LIST },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "lookback", required_argument, NULL, OPT_LOOKBACK },
		{ "cursor", required_argument, NULL, OPT_CURSOR },
		{ "overlap", required_argument, NULL, OPT_OVERLAP },
		{ "lag", required_argument, NULL, OPT_LAG },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "batch-size", required_argument, NULL, OPT_BATCH },
		{ "expand-metadata", required_argument, NULL, OPT_EXPAND },
		{ "max-rows", required_argument, NULL, OPT_MAX_ROWS },
		{ "trace-id", required_argument, NULL, OPT_TRACE_ID },
		{ "trace-ids", required_argument, NULL, OPT_TRACE_IDS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "retry-base-ms", required_argument, NULL, OPT_RETRY_BASE },
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "max-time", required_argument, NULL, OPT_MAX_TIME },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
		{ "max-run-time", required_argument, NULL, OPT_MAX_RUN_TIME },
		{ "proxy-http", no_argument, NULL, OPT_PROXY_HTTP },
		{ "run-id", required_argument, NULL, OPT_RUN_ID },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":i:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o->integration = optarg; break;
		case OPT_HOST: o->host = optarg; break;
		case OPT_SECRET_FILE: o->secret_file = optarg; break;
		case OPT_API:
			if (strcmp(optarg, "auto") == 0) o->api = API_AUTO;
			else if (strcmp(optarg, "v2") == 0) o->api = API_V2;
			else if (strcmp(optarg, "legacy") == 0) o->api = API_LEGACY;
			else rc = lg_usage_error("--api: '%s' is not auto, v2 or legacy", optarg);
			break;
		case OPT_TEST: o->test = 1; break;
		case OPT_LIST: o->list = 1; break;
		case OPT_SINCE: o->since = optarg; break;
		case OPT_UNTIL: o->until = optarg; break;
		case OPT_LOOKBACK: o->lookback = optarg; break;
		case OPT_CURSOR: o->cursor = optarg; break;
		case OPT_OVERLAP: o->overlap = optarg; break;
		case OPT_LAG: o->lag = optarg; break;
		case OPT_LIMIT: rc = parse_long("--limit", optarg, 1, LONG_MAX, &o->limit); break;
		case OPT_BATCH: rc = parse_long("--batch-size", optarg, 1, 1000, &o->batch); break;
		case OPT_MAX_ROWS: rc = parse_long("--max-rows", optarg, 1, LONG_MAX, &o->max_rows); break;
		case OPT_RATE: rc = parse_long("--rate", optarg, 1, 100000, &o->rate); break;
		case OPT_RETRIES: rc = parse_long("--retries", optarg, 1, 100, &o->retries); break;
		case OPT_RETRY_BASE: rc = parse_long("--retry-base-ms", optarg, 0, 600000, &o->retry_base); break;
		case OPT_EXPAND: o->expand = optarg; break;
		case OPT_TRACE_ID: o->by_id = 1; rc = add_trace_id(o, optarg); break;
		case OPT_TRACE_IDS: rc = read_trace_ids(o, optarg); break;
		case OPT_MAX_WAIT: o->max_wait = optarg; break;
		case OPT_TIMEOUT: rc = parse_long("--timeout", optarg, 1, 86400, &o->timeout); break;
		case OPT_CONNECT_TIMEOUT: rc = parse_long("--connect-timeout", optarg, 1, 3600, &o->connect_timeout); break;
		case OPT_MAX_TIME: rc = parse_long("--max-time", optarg, 1, 86400, &o->max_time); break;
		case OPT_MAX_BODY: rc = parse_size("--max-body", optarg, &o->max_body); break;
		case OPT_MAX_REQUESTS: rc = parse_long("--max-requests", optarg, 1, LONG_MAX, &o->max_requests); break;
		case OPT_MAX_RUN_TIME: o->max_run_time = optarg; break;
		case OPT_PROXY_HTTP: o->proxy_http = 1; break;
		case OPT_RUN_ID:
			/* It becomes a store key and a word in log lines. */
			if (!*optarg || strlen(optarg) > 63 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != strlen(optarg))
				rc = lg_usage_error("--run-id: want 1 to 63 letters, digits, '.', '_', ':', '-', not '%s'", optarg);
			o->run_id = optarg;
			break;
		case OPT_PROGRESS: o->progress = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': fputs(usage, stdout); fputs(usage_requests, stdout); return -1;
		case OPT_VERSION: lg_print_version(); return -1;
		default: return lg_bad_option(c, optopt, argv[optind - 1]);
		}
	}
	if (rc == 0 && optind < argc)
		rc = lg_usage_error("unexpected argument '%s'", argv[optind]);
	return rc;
}

static int duration_opt(const char *opt, const char *s, int64_t dflt, int64_t *out)
{
	*out = dflt;
	if (s && lg_duration_parse(s, out) != 0)
		return lg_usage_error("%s: '%s' is not a duration (e.g. 15m, 1h, 7d)", opt, s);
	return 0;
}

static int time_opt(const char *opt, const char *s, int64_t *out)
{
	if (s && lg_time_parse(s, out) != 0)
		return lg_usage_error("%s: '%s' is not an ISO 8601 time", opt, s);
	return 0;
}

/* The window and the run mode from --since/--until/--lookback/--cursor. */
static int plan_range(const options *o, const lg_integration *it, run_opts *r)
{
	int64_t lag, overlap, lookback, until = 0, since = 0, cursor = 0;
	if (o->cursor && (o->since || o->lookback))
		return lg_usage_error("--cursor cannot be combined with --since or --lookback");
	if (o->by_id && (o->cursor || o->test))
		return lg_usage_error("--trace-id cannot be combined with --cursor or --test");
	if (o->since && o->lookback)
		return lg_usage_error("--since cannot be combined with --lookback");
	if (duration_opt("--lag", o->lag, 0, &lag) || duration_opt("--overlap", o->overlap, FETCH_OVERLAP_MS, &overlap) ||
	    duration_opt("--lookback", o->lookback, it->lookback_ms ? it->lookback_ms : 7 * 86400000LL, &lookback) ||
	    time_opt("--until", o->until, &until) || time_opt("--since", o->since, &since) ||
	    time_opt("--cursor", o->cursor, &cursor))
		return LG_EXIT_USAGE;
	r->to = o->until ? until : lg_time_now() - lag;
	if (o->cursor) {
		r->from = cursor - overlap;
		r->mode = "incremental";
		/* Rows before the settled range's start were read once they were
		 * overlap old; read [cursor, to) new and the settled range
		 * [cursor - overlap, to - overlap) again, one range when they
		 * meet. The settled range's ends are floored to a grid of a
		 * quarter overlap: consecutive runs still tile it (each starts
		 * where the last ended), but it is read in fewer, fuller pages,
		 * once every few runs. */
		if (overlap > 0) {
			int64_t grid = overlap / 4 > 1000 ? overlap / 4 : 1000;
			r->from = cursor - cursor % grid - overlap;
			if (r->to - overlap < cursor) {
				r->settle_to = r->to - r->to % grid - overlap;
				r->fresh_from = cursor;
			}
		}
	} else if (o->since) {
		r->from = since;
		r->mode = "range";
	} else {
		r->from = r->to - lookback;
		r->mode = o->until ? "range" : "backfill";
	}
	if (o->by_id) {
		/* A trace re-fetched may have started long before the
		 * integration's lookback: its rows count from its start. */
		if (!o->since && !o->lookback)
			r->from = r->to - FETCH_REFETCH_SPAN_MS;
		r->mode = "refetch";
	}
	if (o->until && o->since && since >= until)
		return lg_usage_error("--since must be before --until");
	return 0;
}

static void list_integrations(const lg_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const lg_integration *it = &cfg->items[i];
		char mask[64], d[32];
		lg_mask_secret(it->secret_key, mask, sizeof mask);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", it->id);
		cJSON_AddStringToObject(j, "name", it->name);
		cJSON_AddStringToObject(j, "host", it->host);
		cJSON_AddStringToObject(j, "publicKey", it->public_key);
		cJSON_AddStringToObject(j, "secretKey", mask);
		cJSON_AddBoolToObject(j, "autoSync", it->auto_sync);
		cJSON_AddItemToObject(j, "interval", it->interval_ms ? cJSON_CreateString(lg_duration_format(it->interval_ms, d)) : cJSON_CreateNull());
		cJSON_AddItemToObject(j, "lookback", it->lookback_ms ? cJSON_CreateString(lg_duration_format(it->lookback_ms, d)) : cJSON_CreateNull());
		cJSON_AddItemToObject(j, "batchSize", it->batch_size ? lg_json_int(it->batch_size) : cJSON_CreateNull());
		cJSON_AddStringToObject(j, "source", cfg->path ? cfg->path : "environment");
		char *s = lg_json_to_string(j);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(j);
	}
}

/* The integration to use: --integration ID from the file; with no file
 * the environment's one (named ID when given). */
static lg_integration *pick_integration(lg_config *cfg, const char *id)
{
	const char *where = cfg->path ? cfg->path : "the environment";
	/* A bad entry was skipped at load: it fails only when it is the one asked for. */
	const lg_config_bad *bad = NULL;
	if (id && !lg_config_find(cfg, id))
		bad = lg_config_find_bad(cfg, id);
	else if (!id && cfg->n == 0 && cfg->nbad == 1)
		bad = &cfg->bad[0];
	if (bad) {
		lg_err("%s", bad->msg);
		return NULL;
	}
	if (cfg->n == 0) {
		lg_usage_error("no integration: %s defines none (set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, "
			       "or write $LG_CONFIG)", where);
		return NULL;
	}
	if (!cfg->path) {
		if (id) {
			free(cfg->items[0].id);
			cfg->items[0].id = strdup(id);
		}
		return &cfg->items[0];
	}
	if (!id) {
		if (cfg->n == 1 && cfg->nbad == 0)
			return &cfg->items[0];
		lg_usage_error("%s defines %zu integrations: choose one with --integration", where, cfg->n + cfg->nbad);
		return NULL;
	}
	lg_integration *it = lg_config_find(cfg, id);
	if (!it)
		lg_usage_error("%s: no integration with id '%s'", where, id);
	return it;
}

static void warn_key_prefixes(const lg_integration *it, int quiet)
{
	if (quiet)
		return;
	if (strncmp(it->public_key, "pk-lf-", 6) != 0)
		lg_err("warning: the public key does not start with pk-lf-");
	if (strncmp(it->secret_key, "sk-lf-", 6) != 0)
		lg_err("warning: the secret key does not start with sk-lf-");
}

static int setup_client(const options *o, lg_integration *it, client *c)
{
	char err[1100];
	http_opts ho = { o->connect_timeout ? o->connect_timeout : 10, o->timeout ? o->timeout : 60,
			 o->max_time ? o->max_time : 300, o->max_body ? (size_t)o->max_body : (size_t)16 << 20 };
	int64_t max_wait, max_run;
	if (duration_opt("--max-wait", o->max_wait, 300000, &max_wait) ||
	    duration_opt("--max-run-time", o->max_run_time, 0, &max_run))
		return LG_EXIT_USAGE;
	stop_after(max_run);
	memset(c, 0, sizeof *c);
	c->host = it->host;
	c->max_attempts = o->retries ? (int)o->retries : 8;
	const char *env_base = getenv("LG_RETRY_BASE_MS");
	c->base_ms = o->retry_base >= 0 ? o->retry_base : env_base && *env_base ? atol(env_base) : 500;
	c->cap_ms = 30000;
	c->max_wait_ms = max_wait;
	c->budget_ms = 15 * 60000;
	c->min_retry_after_ms = 1000;
	c->max_requests = o->max_requests ? o->max_requests : 100000;
	c->rate_per_min = (double)o->rate;
	c->quiet = o->quiet;
	c->verbose = o->verbose && !o->quiet;
	if (http_init(&c->http, it->public_key, it->secret_key, &ho, err, sizeof err) != 0) {
		lg_err("%s", err);
		return LG_EXIT_BAD;
	}
	if (c->verbose) {
		char mask[64];
		lg_mask_secret(it->secret_key, mask, sizeof mask);
		lg_err("integration %s: %s, public key %s, secret key %s", it->id, it->host, it->public_key, mask);
	}
	return 0;
}

/* Whether host (a normalised URL) names this machine: 127.0.0.0/8, [::1]
 * or localhost. */
static int loopback(const char *host)
{
	const char *a = strstr(host, "://");
	a = a ? a + 3 : host;
	size_t n = strcspn(a, ":/");
	if (*a == '[')
		return strncmp(a, "[::1]", 5) == 0;
	return (n == 9 && strncasecmp(a, "localhost", 9) == 0) || strncmp(a, "127.", 4) == 0;
}

/* Plain http: the keys cross the network in clear. Said once per run;
 * and a proxy from the environment, which would see them too, is bypassed
 * unless --proxy-http asks for it. */
static int plain_http(const options *o, const lg_integration *it, client *c)
{
	if (strncmp(it->host, "http://", 7) != 0)
		return 0;
	if (!loopback(it->host) && !o->quiet)
		lg_err("warning: %s is plain http: the keys and the traces cross the network unencrypted "
		       "(use https://)", it->host);
	if (!o->proxy_http && curl_easy_setopt(c->http.curl, CURLOPT_NOPROXY, "*") != CURLE_OK) {
		lg_err("curl: CURLOPT_NOPROXY: cannot set");
		return LG_EXIT_BAD;
	}
	return 0;
}

/* A core dump, or another process of the same user reading our memory,
 * would hold the key in plain text and in base64. */
static void protect_memory(void)
{
	struct rlimit none = { 0, 0 };
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &none);
}

/* The Basic credential as sent, for text_clean to mask. */
static char *basic_credential(const lg_integration *it)
{
	lg_buf b = { 0 };
	char *out = NULL;
	if (lg_buf_printf(&b, "%s:%s", it->public_key, it->secret_key) == 0)
		out = text_base64(b.data);
	if (b.data)
		memset(b.data, 0, b.cap);
	lg_buf_free(&b);
	return out;
}

static void wipe(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

int main(int argc, char **argv)
{
	options o;
	memset(&o, 0, sizeof o);
	o.retry_base = -1;
	lg_set_progname(argv[0]);
	protect_memory();
	/* First thing, so a SIGTERM right after start is a clean stop too. */
	if (stop_install() != 0) {
		lg_err("sigaction: %s", strerror(errno));
		return LG_EXIT_BAD;
	}
	int rc = parse_options(argc, argv, &o);
	if (rc) {
		free_trace_ids(&o);
		return rc < 0 ? 0 : rc;
	}

	char err[1100];
	lg_config cfg;
	char *sk = NULL, *basic = NULL;
	/* Read first: with LANGFUSE_PUBLIC_KEY alone, it completes the
	 * integration of the environment. */
	if (o.secret_file && lg_secret_from_file(o.secret_file, &sk, err, sizeof err) != 0) {
		lg_err("--secret-key-file: %s", err);
		free_trace_ids(&o);
		return LG_EXIT_USAGE;
	}
	if (lg_config_load_flags(&cfg, LG_CONFIG_SKIP_BAD, sk, err, sizeof err) != 0) {
		lg_err("%s", err);
		wipe(sk);
		free_trace_ids(&o);
		return LG_EXIT_USAGE;
	}
	if (o.list) {
		/* The good ones listed, each skipped one reported: exit 2 then. */
		list_integrations(&cfg);
		for (size_t i = 0; i < cfg.nbad; i++)
			lg_err("%s", cfg.bad[i].msg);
		rc = cfg.nbad ? LG_EXIT_USAGE : 0;
		lg_config_free(&cfg);
		wipe(sk);
		free_trace_ids(&o);
		return fflush(stdout) == 0 ? rc : LG_EXIT_IO;
	}
	lg_integration *it = pick_integration(&cfg, o.integration);
	run_opts r;
	memset(&r, 0, sizeof r);
	client c;
	memset(&c, 0, sizeof c);
	rc = it ? 0 : LG_EXIT_USAGE;
	if (rc == 0 && o.host) {
		char *h;
		if (lg_host_normalize(o.host, &h, err, sizeof err) != 0)
			rc = lg_usage_error("--host: %s", err);
		else {
			free(it->host);
			it->host = h;
		}
	}
	if (rc == 0 && sk) {
		memset(it->secret_key, 0, strlen(it->secret_key));
		free(it->secret_key);
		it->secret_key = sk;
		sk = NULL;
	}
	if (rc == 0)
		rc = plan_range(&o, it, &r);
	if (rc == 0) {
		warn_key_prefixes(it, o.quiet);
		rc = setup_client(&o, it, &c);
	}
	if (rc == 0)
		rc = plain_http(&o, it, &c);
	if (rc == 0 && !(basic = basic_credential(it)))
		rc = LG_EXIT_BAD;
	c.masks[0] = it ? it->secret_key : NULL;
	c.masks[1] = basic;
	if (rc == 0) {
		r.integration = it->id;
		r.expand_metadata = o.expand;
		r.api = o.api;
		r.batch_size = o.batch ? o.batch : it->batch_size;
		r.max_rows = o.max_rows ? o.max_rows : 50000;
		r.limit = o.limit;
		r.run_id = o.run_id;
		r.progress = o.progress || isatty(STDERR_FILENO);
		r.quiet = o.quiet;
		r.c = &c;
		rc = o.test ? run_test(&r) : o.by_id ? run_refetch(&r, o.trace_ids, o.n_ids, stdout) : run_fetch(&r, stdout);
	}
	free_trace_ids(&o);
	if (c.http.curl)
		http_free(&c.http);
	wipe(basic);
	wipe(sk);
	lg_config_free(&cfg);
	return rc;
}
