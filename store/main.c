/* lg-store: the LMDB store at the end of the pipeline (docs/store.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "changes.h"
#include "db.h"
#include "err.h"
#include "pending.h"
#include "put.h"
#include "query.h"
#include "summary.h"
#include "timeutil.h"

/* Two strings: C compilers need not take one longer than 4095. */
static const char usage[] =
	"Usage: lg-store [--db DIR] COMMAND [OPTION]... [ARG]\n"
	"Store LangGuard trace records in LMDB, merge fragments, keep sync state,\n"
	"answer questions.\n"
	"\n"
	"Commands:\n"
	"  put                 upsert records from standard input (NDJSON, with \"$lg\"\n"
	"                      control lines); prints nothing on stdout unless\n"
	"                      --summary json\n"
	"  get ID              print the record with this externalId\n"
	"  export              print matching records, oldest first (NDJSON)\n"
	"  count               print the number of matching records\n"
	"  stats               traces, success rate, avg/p95 duration, tokens, cost,\n"
	"                      violations by severity (a table, or --json)\n"
	"  violations          print matching violations with their trace (NDJSON)\n"
	"  ack ID              mark a violation acknowledged\n"
	"  resolve ID          mark a violation resolved\n"
	"  status [INTEGRATION]  the last sync run, as lg-sync status prints it\n"
	"                      (lastSync null before the first run or store)\n"
	"  runs [INTEGRATION]  the sync runs as recorded, newest first (NDJSON)\n"
	"  cursor INTEGRATION  print the resume point for lg-fetch (nothing if none)\n"
	"                      (--reset TIME: set it, also backwards)\n"
	"  incomplete [INTEGRATION]  the traces not whole yet, with when they were\n"
	"                      first seen and re-fetched (NDJSON)\n"
	"  changes             the records changed after --since SEQ, each once, in\n"
	"                      the order of their last change, then a \"$lg\" line\n"
	"                      with the last change's sequence (NDJSON)\n"
	"  check               verify every index against the records\n"
	"  backup FILE         write a consistent, compacted copy (an LMDB data.mdb)\n"
	"\n"
	"Options:\n"
	"      --db DIR          database directory (default $LG_DB, else\n"
	"                        $XDG_DATA_HOME/langguard/db, else ~/.local/share/langguard/db)\n"
	"      --map-size SIZE   initial map size, e.g. 64M, 2G (grows by itself)\n"
	"  put:\n"
	"      --batch N         records per write transaction (default 500)\n"
	"      --create          take an empty (0-byte) data.mdb for a new store\n"
	"  -q, --quarantine FILE append bad lines verbatim after \"# file:line: reason\"\n"
	"      --summary FORMAT  text (stderr, default), json (stdout) or none\n"
	"      --integration ID  runs must belong to integration ID: a run-start,\n"
	"                        or a run-end outside a run, for another is refused\n"
	"      --no-control      ignore \"$lg\" lines (records from a file not trusted\n"
	"                        to move cursors or record runs)\n"
	"  export, count, stats, violations:\n"
	"      --from TIME, --to TIME   timestamp range [from, to): ISO 8601, \"now\",\n"
	"                        or a duration back from now (\"7d\")\n"
	"      --agent NAME, --status STATUS, --integration ID, --user ID, --session ID\n"
	"      --has-violations  only traces with violations\n"
	"      --severity SEV    violations of at least low|medium|high|critical\n"
	"      --policy ID       violations of this policy\n"
	"      --min-duration MS, --max-duration MS, --min-tokens N, --max-tokens N,\n"
	"      --min-cost USD, --max-cost USD\n"
	"      --meta KEY=VALUE  metadata value (KEY may be a path: a.b)\n"
	"      --stale           records whose policies must run again\n"
	"      (for violations, --status is the violation's: new, acknowledged, resolved)\n"
	"";
static const char usage_more[] =
	"  export, violations:\n"
	"      --reverse         newest first\n"
	"      --limit N         at most N lines\n"
	"      --after MS:ID     export: resume after the record whose time key this is\n"
	"                        (its timestamp in ms since the epoch, its externalId)\n"
	"      --total           violations: then {\"$lg\":\"violations\",\"total\":N}, N\n"
	"                        the matching violations, past --limit too\n"
	"  stats:\n"
	"      --by KEY          agent, model, day, hour, policy, integration, user,\n"
	"                        session; or KEY,KEY: each group of the first split\n"
	"                        by the second (agent,hour)\n"
	"      --json            JSON instead of a table\n"
	"  ack, resolve:\n"
	"      --note TEXT       keep a note with the violation\n"
	"  incomplete, runs:\n"
	"      --limit N         at most N lines\n"
	"      --due             only the ids due for a re-fetch now, one per line,\n"
	"                        each counted as tried (lg-sync uses it)\n"
	"      --horizon DUR     with --due: give up on a trace first seen longer\n"
	"                        ago than DUR (default 24h); it stays stored and listed\n"
	"      --settle DUR      with --due: only traces that started DUR ago or more\n"
	"                        (a late row comes with the next read of its window)\n"
	"  changes:\n"
	"      --since SEQ       after change SEQ (default 0: from the first)\n"
	"      --limit N         at most N records\n"
	"  status:\n"
	"      --active, --scheduled   what lg-sync knows: a sync is running / scheduled\n"
	"  -h, --help            show this help and exit\n"
	"      --version         show the version and exit\n"
	"\n"
	"Only put creates the store; the other commands on a DIR without one say\n"
	"\"no store at DIR\" and exit 6 (status and cursor answer as for an empty\n"
	"store). Every stored value carries a checksum: a damaged one, or a\n"
	"truncated or foreign data.mdb, is an error (exit 6), never silent.\n"
	"\n"
	"Exit status: 0 ok, 1 bad or conflicting records / not found / check failed,\n"
	"2 usage, 6 storage or I/O error.\n";

enum {
	O_DB = 256, O_MAPSIZE, O_BATCH, O_SUMMARY, O_FROM, O_TO, O_AGENT, O_STATUS,
	O_INTEG, O_USER, O_SESSION, O_HASV, O_SEV, O_POLICY, O_MIND, O_MAXD, O_MINT,
	O_MAXT, O_MINC, O_MAXC, O_META, O_STALE, O_BY, O_JSON, O_NOTE, O_ACTIVE, O_SCHED,
	O_VERSION, O_LIMIT, O_DUE, O_HORIZON, O_SETTLE, O_NOCONTROL, O_RESET, O_CREATE, O_AFTER,
	O_REVERSE, O_SINCE, O_TOTAL,
};

typedef struct {
	const char *db, *summary, *by, *note, *quarantine, *reset;
	size_t mapsize, batch;
	int json, active, scheduled, no_control, create, total;
	long limit;              /* incomplete, changes, runs (export and violations: f.limit) */
	uint64_t since;          /* changes */
	int due;
	int64_t horizon, settle;
	query_filter f;
} options;

static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	case 'T': case 't': v <<= 40; end++; break;
	}
	if (*end || v == 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_num(const char *opt, const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || isnan(*out))
		return lg_usage_error("%s: not a number: '%s'", opt, s);
	return 0;
}

/* An ISO time, "now", or a duration back from now. */
static int parse_time(const char *opt, const char *s, int64_t *ms)
{
	int64_t d;
	if (lg_time_parse(s, ms) == 0)
		return 0;
	if (lg_duration_parse(s, &d) == 0) {
		*ms = lg_time_now() - d;
		return 0;
	}
	return lg_usage_error("%s: not a time or duration: '%s'", opt, s);
}

static int set_option(options *o, int c, const char *arg)
{
	query_filter *f = &o->f;
	switch (c) {
	case O_DB: o->db = arg; return 0;
	case O_MAPSIZE:
		return parse_size(arg, &o->mapsize) ? lg_usage_error("--map-size: bad size '%s'", arg) : 0;
	case O_BATCH: {
		size_t n;
		if (parse_size(arg, &n) || n > 1000000)
			return lg_usage_error("--batch: want 1..1000000, not '%s'", arg);
		o->batch = n;
		return 0;
	}
	case 'q': o->quarantine = arg; return 0;
	case O_SUMMARY:
		if (strcmp(arg, "text") && strcmp(arg, "json") && strcmp(arg, "none"))
			return lg_usage_error("--summary: want text, json or none, not '%s'", arg);
		o->summary = arg;
		return 0;
	case O_FROM: return parse_time("--from", arg, &f->from);
	case O_TO: return parse_time("--to", arg, &f->to);
	case O_AGENT: f->agent = arg; return 0;
	case O_STATUS: f->status = arg; return 0;
	case O_INTEG: f->integration = arg; return 0;
	case O_USER: f->user = arg; return 0;
	case O_SESSION: f->session = arg; return 0;
	case O_HASV: f->has_violations = 1; return 0;
	case O_SEV:
		if (!(f->severity = query_severity(arg)))
			return lg_usage_error("--severity: want low, medium, high or critical, not '%s'", arg);
		return 0;
	case O_POLICY: f->policy = arg; return 0;
	case O_MIND: return parse_num("--min-duration", arg, &f->min_duration);
	case O_MAXD: return parse_num("--max-duration", arg, &f->max_duration);
	case O_MINT: return parse_num("--min-tokens", arg, &f->min_tokens);
	case O_MAXT: return parse_num("--max-tokens", arg, &f->max_tokens);
	case O_MINC: return parse_num("--min-cost", arg, &f->min_cost);
	case O_MAXC: return parse_num("--max-cost", arg, &f->max_cost);
	case O_META: {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return lg_usage_error("--meta: want KEY=VALUE, not '%s'", arg);
		char *k = strndup(arg, (size_t)(eq - arg));
		if (!k)
			return LG_EXIT_BAD;
		free((char *)(uintptr_t)f->meta_key);
		f->meta_key = k;
		f->meta_val = eq + 1;
		return 0;
	}
	case O_STALE: f->stale = 1; return 0;
	case O_BY:
		if (!query_valid_by(arg))
			return lg_usage_error("--by: want agent, model, day, hour, policy, integration, user or session, or two of them (agent,hour), not '%s'", arg);
		o->by = arg;
		return 0;
	case O_JSON: o->json = 1; return 0;
	case O_TOTAL: o->total = 1; return 0;
	case O_NOTE: o->note = arg; return 0;
	case O_ACTIVE: o->active = 1; return 0;
	case O_SCHED: o->scheduled = 1; return 0;
	case O_LIMIT: {
		char *end;
		long n = strtol(arg, &end, 10);
		if (!*arg || *end || n < 1)
			return lg_usage_error("--limit: want a number from 1, not '%s'", arg);
		o->limit = n;
		f->limit = n;
		return 0;
	}
	case O_AFTER:
		if (query_parse_after(arg, &f->after_ms, &f->after_id) != 0)
			return lg_usage_error("--after: want MS:ID (a time key), not '%s'", arg);
		return 0;
	case O_REVERSE: f->reverse = 1; return 0;
	case O_DUE: o->due = 1; return 0;
	case O_HORIZON:
		if (lg_duration_parse(arg, &o->horizon) != 0 || o->horizon <= 0)
			return lg_usage_error("--horizon: not a duration: '%s'", arg);
		return 0;
	case O_SETTLE:
		if (lg_duration_parse(arg, &o->settle) != 0 || o->settle < 0)
			return lg_usage_error("--settle: not a duration: '%s'", arg);
		return 0;
	case O_NOCONTROL: o->no_control = 1; return 0;
	case O_RESET: {
		int64_t ms;
		if (lg_time_parse(arg, &ms) != 0)
			return lg_usage_error("--reset: '%s' is not an ISO 8601 time", arg);
		o->reset = arg;
		return 0;
	}
	case O_CREATE: o->create = 1; return 0;
	case O_SINCE: {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(arg, &end, 10);
		if (!*arg || *end || errno || *arg == '-')
			return lg_usage_error("--since: want a change sequence (0 or more), not '%s'", arg);
		o->since = n;
		return 0;
	}
	}
	return LG_EXIT_USAGE;
}

/* Each command: its name, how many operands (min, max). */
static const struct {
	const char *name;
	int min, max;
} commands[] = {
	{ "put", 0, 0 }, { "get", 1, 1 }, { "export", 0, 0 }, { "count", 0, 0 },
	{ "stats", 0, 0 }, { "violations", 0, 0 }, { "ack", 1, 1 }, { "resolve", 1, 1 },
	{ "status", 0, 1 }, { "cursor", 1, 1 }, { "check", 0, 0 }, { "backup", 1, 1 },
	{ "incomplete", 0, 1 }, { "changes", 0, 0 }, { "runs", 0, 1 },
};

static int run_put(store_db *db, const options *o)
{
	put_opts po = { o->batch ? o->batch : 500, o->quarantine, "<stdin>", o->f.integration, o->no_control };
	put_counts n;
	int status = put_run(db, stdin, &po, &n);
	const char *s = o->summary ? o->summary : "text";
	if (strcmp(s, "text") == 0) {
		lg_err("put: %lu ingested, %lu updated, %lu unchanged, %lu failed, %lu stale",
		       n.ingested, n.updated, n.unchanged, n.failed, n.stale);
	} else if (strcmp(s, "json") == 0) {
		printf("{\"ingested\":%lu,\"updated\":%lu,\"unchanged\":%lu,\"failed\":%lu,\"stale\":%lu}\n",
		       n.ingested, n.updated, n.unchanged, n.failed, n.stale);
		if (fflush(stdout) != 0 && errno != EPIPE) {
			lg_err("write error: %s", strerror(errno));
			return LG_EXIT_IO;
		}
	}
	return status;
}

static int run_command(store_db *db, const char *cmd, char **args, const options *o)
{
	if (!strcmp(cmd, "put"))
		return run_put(db, o);
	if (!strcmp(cmd, "get"))
		return admin_get(db, args[0], stdout);
	if (!strcmp(cmd, "export"))
		return query_export(db, &o->f, stdout);
	if (!strcmp(cmd, "count"))
		return query_count(db, &o->f, stdout);
	if (!strcmp(cmd, "stats"))
		return query_stats(db, &o->f, o->by, o->json, stdout);
	if (!strcmp(cmd, "violations"))
		return query_violations(db, &o->f, o->total, stdout);
	if (!strcmp(cmd, "ack"))
		return admin_set_violation(db, args[0], "acknowledged", o->note, stdout);
	if (!strcmp(cmd, "resolve"))
		return admin_set_violation(db, args[0], "resolved", o->note, stdout);
	if (!strcmp(cmd, "status"))
		return admin_status(db, args[0], o->active, o->scheduled, stdout);
	if (!strcmp(cmd, "runs"))
		return admin_runs(db, args[0], o->limit, stdout);
	if (!strcmp(cmd, "cursor"))
		return o->reset ? admin_cursor_reset(db, args[0], o->reset) : admin_cursor(db, args[0], stdout);
	if (!strcmp(cmd, "check"))
		return admin_check(db, stdout);
	if (!strcmp(cmd, "changes"))
		return changes_print(db, o->since, o->limit > 0 ? (size_t)o->limit : 0, stdout);
	if (!strcmp(cmd, "incomplete"))
		return pending_command(db, args[0], o->limit, o->due, o->horizon ? o->horizon : PENDING_HORIZON_MS,
				       o->settle, stdout);
	return admin_backup(db, args[0]);
}

/* Only put creates a store; the other commands read one that exists. */
static int store_exists(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return access(path, F_OK) == 0 || errno != ENOENT; /* other errors: db_open says */
}

/* What lg-sync asks before the first run: status has no lastSync yet and
 * there is no cursor (nothing printed); the rest is an error. */
static int no_store(const char *cmd, const char *dir, const char *arg, const options *o)
{
	if (strcmp(cmd, "status") == 0)
		return admin_status(NULL, arg, o->active, o->scheduled, stdout);
	if ((strcmp(cmd, "cursor") == 0 && !o->reset) || strcmp(cmd, "incomplete") == 0 || strcmp(cmd, "runs") == 0)
		return 0;
	lg_err("no store at %s", dir);
	return LG_EXIT_IO;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "map-size", required_argument, NULL, O_MAPSIZE },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "quarantine", required_argument, NULL, 'q' },
		{ "summary", required_argument, NULL, O_SUMMARY },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "agent", required_argument, NULL, O_AGENT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "integration", required_argument, NULL, O_INTEG },
		{ "user", required_argument, NULL, O_USER },
		{ "session", required_argument, NULL, O_SESSION },
		{ "has-violations", no_argument, NULL, O_HASV },
		{ "severity", required_argument, NULL, O_SEV },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "min-duration", required_argument, NULL, O_MIND },
		{ "max-duration", required_argument, NULL, O_MAXD },
		{ "min-tokens", required_argument, NULL, O_MINT },
		{ "max-tokens", required_argument, NULL, O_MAXT },
		{ "min-cost", required_argument, NULL, O_MINC },
		{ "max-cost", required_argument, NULL, O_MAXC },
		{ "meta", required_argument, NULL, O_META },
		{ "stale", no_argument, NULL, O_STALE },
		{ "by", required_argument, NULL, O_BY },
		{ "json", no_argument, NULL, O_JSON },
		{ "note", required_argument, NULL, O_NOTE },
		{ "active", no_argument, NULL, O_ACTIVE },
		{ "scheduled", no_argument, NULL, O_SCHED },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "due", no_argument, NULL, O_DUE },
		{ "horizon", required_argument, NULL, O_HORIZON },
		{ "settle", required_argument, NULL, O_SETTLE },
		{ "no-control", no_argument, NULL, O_NOCONTROL },
		{ "reset", required_argument, NULL, O_RESET },
		{ "create", no_argument, NULL, O_CREATE },
		{ "after", required_argument, NULL, O_AFTER },
		{ "reverse", no_argument, NULL, O_REVERSE },
		{ "since", required_argument, NULL, O_SINCE },
		{ "total", no_argument, NULL, O_TOTAL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	options o;
	char dir[4096];
	int c, status = 0;

	memset(&o, 0, sizeof o);
	query_filter_init(&o.f);
	lg_set_progname(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			fputs(usage_more, stdout);
			goto out;
		}
		if (c == O_VERSION) {
			lg_print_version();
			goto out;
		}
		if (c == '?' || c == ':') {
			status = lg_bad_option(c, optopt, argv[optind - 1]);
			goto out;
		}
		if ((status = set_option(&o, c, optarg)) != 0)
			goto out;
	}
	if (optind == argc) {
		status = lg_usage_error("no command (put, get, export, count, stats, violations, ack, resolve, status, cursor, check, backup, incomplete, changes)");
		goto out;
	}
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	size_t i;
	for (i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, cmd) == 0)
			break;
	if (i == sizeof commands / sizeof *commands) {
		status = lg_usage_error("unknown command '%s'", cmd);
		goto out;
	}
	if (nargs < commands[i].min || nargs > commands[i].max) {
		status = lg_usage_error("%s: wrong number of arguments", cmd);
		goto out;
	}
	if (o.f.from >= o.f.to) {
		status = lg_usage_error("--from must be before --to");
		goto out;
	}
	if (db_default_dir(o.db, dir, sizeof dir) != 0) {
		status = lg_usage_error("no database directory: use --db or set LG_DB");
		goto out;
	}
	/* A closed pipe is an errno, not a signal: "| head -n1" ends quietly. */
	signal(SIGPIPE, SIG_IGN);
	if (o.f.after_id && strcmp(cmd, "export") != 0) {
		status = lg_usage_error("--after goes with export");
		goto out;
	}
	if (o.total && strcmp(cmd, "violations") != 0) {
		status = lg_usage_error("--total goes with violations");
		goto out;
	}
	if (o.reset && strcmp(cmd, "cursor") != 0) {
		status = lg_usage_error("--reset goes with cursor");
		goto out;
	}
	if (strcmp(cmd, "put") != 0 && !store_exists(dir)) {
		status = no_store(cmd, dir, nargs ? argv[optind + 1] : NULL, &o);
		goto out;
	}
	store_db db;
	int put = strcmp(cmd, "put") == 0;
	if ((status = db_open(&db, dir, o.mapsize, put ? DB_WRITE | (o.create ? DB_CREATE : 0) : 0)) != 0) {
		if (strcmp(cmd, "status") == 0)
			status = admin_status_unreadable(o.active, o.scheduled, status, stdout);
		goto out;
	}
	char *none[] = { NULL };
	/* The writers of records, and the feed's reader, put a store from
	 * before the feed in it first; the writers summarize one from before
	 * summaries. */
	if (put || !strcmp(cmd, "ack") || !strcmp(cmd, "resolve") || !strcmp(cmd, "changes"))
		status = changes_open_feed(&db);
	if (!status && (put || !strcmp(cmd, "ack") || !strcmp(cmd, "resolve")))
		status = summary_open(&db);
	if (!status)
		status = run_command(&db, cmd, nargs ? argv + optind + 1 : none, &o);
	db_close(&db);
out:
	free((char *)(uintptr_t)o.f.meta_key);
	return status;
}
