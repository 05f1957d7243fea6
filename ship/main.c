/* lg-ship: the change feed of an lg-store into ClickHouse (docs/scale.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../store/changes.h"
#include "../store/db.h"
#include "ch.h"
#include "err.h"
#include "rows.h"
#include "schema.h"
#include "timeutil.h"

static const char usage[] =
	"Usage: lg-ship [--db DIR] --to URL [OPTION]...\n"
	"Ship the records changed in an lg-store to ClickHouse: the traces table\n"
	"and a flattened violations table, over ClickHouse's HTTP interface\n"
	"(INSERT ... FORMAT JSONEachRow, gzip), batch by batch; the position per\n"
	"destination is kept in the store once ClickHouse has acknowledged a batch.\n"
	"\n"
	"Options:\n"
	"      --db DIR          the store (default $LG_DB, else\n"
	"                        $XDG_DATA_HOME/langguard/db, else ~/.local/share/langguard/db)\n"
	"      --to URL          http(s)://[user[:password]@]host:port[/database]\n"
	"                        (database lg unless the URL names one)\n"
	"      --init            create the database and its tables first (if missing)\n"
	"      --batch N         records per INSERT (default 2000)\n"
	"      --retry-for DUR   retry a failed batch with backoff for DUR before giving\n"
	"                        up (default 10m; the position stays where it was)\n"
	"      --since SEQ       ship the changes after SEQ instead of after the\n"
	"                        destination's position (again, after a restore)\n"
	"      --position        print {\"destination\",\"position\",\"last\"} and exit\n"
	"      --schema          print the tables' SQL for the URL's database and exit\n"
	"  -h, --help            show this help and exit\n"
	"      --version         show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 a stored record unreadable (skipped), 2 usage,\n"
	"4 ClickHouse unreachable after retries, 5 ClickHouse refused a request,\n"
	"6 storage error.\n";

enum { O_DB = 256, O_TO, O_INIT, O_BATCH, O_RETRY, O_SINCE, O_POSITION, O_SCHEMA, O_VERSION };

/* Bytes of trace rows per INSERT at most, whatever --batch says. */
#define SHIP_BATCH_BYTES ((size_t)32 << 20)
/* A walk's answer when the batch is full (the record is not taken). */
#define SHIP_FULL (-2)

typedef struct {
	const char *db, *to;
	int init, position, schema, since_set;
	size_t batch;
	int64_t retry_ms;
	uint64_t since;
} options;

typedef struct {
	ship_rows rows;
	unsigned long bad;
} batch_ctx;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One request, retried while ClickHouse cannot be reached or answers 5xx,
 * 408 or 429: waits 250 ms doubling to 10 s, for retry_ms at most from the
 * first failure. An exit status. */
static int send_retried(ship_ch *ch, const char *query, const char *body, size_t len, int gz, int64_t retry_ms)
{
	int64_t start = mono_ms(), wait = 250;
	for (;;) {
		long st;
		char why[512];
		if (ship_ch_post(ch, query, body, len, gz, &st, why, sizeof why) == 0)
			return 0;
		int retry = st == 0 || st >= 500 || st == 408 || st == 429;
		if (!retry) {
			lg_err("%s: %s", ch->name, why);
			return LG_EXIT_API;
		}
		int64_t left = start + retry_ms - mono_ms();
		if (left <= 0) {
			lg_err("%s: %s (gave up after %" PRId64 " s of retries)", ch->name, why, retry_ms / 1000);
			return st == 0 ? LG_EXIT_NET : LG_EXIT_API;
		}
		lg_err("%s: %s (retrying in %" PRId64 " ms)", ch->name, why, wait < left ? wait : left);
		sleep_ms(wait < left ? wait : left);
		wait = wait * 2 > 10000 ? 10000 : wait * 2;
	}
}

static int init_tables(ship_ch *ch, int64_t retry_ms)
{
	lg_buf sql = { 0 };
	int status = 0;
	for (size_t i = 0; !status && i < ship_schema_count(); i++) {
		if (ship_schema_statement(&sql, i, ch->database))
			status = LG_EXIT_BAD;
		else
			status = send_retried(ch, NULL, sql.data, sql.len, 0, retry_ms);
	}
	lg_buf_free(&sql);
	return status;
}

static int print_schema(const char *db)
{
	lg_buf sql = { 0 };
	for (size_t i = 0; i < ship_schema_count(); i++) {
		if (ship_schema_statement(&sql, i, db))
			return LG_EXIT_BAD;
		printf("%s%s;\n", i ? "\n" : "", lg_buf_cstr(&sql));
	}
	lg_buf_free(&sql);
	return fflush(stdout) == 0 ? 0 : LG_EXIT_IO;
}

static int take(void *vctx, uint64_t seq, const char *id, size_t idlen, const char *rec, size_t len)
{
	batch_ctx *b = vctx;
	char why[200];
	if (b->rows.ntraces && b->rows.traces.len >= SHIP_BATCH_BYTES)
		return SHIP_FULL;
	int rc = ship_rows_add(&b->rows, seq, rec, len, why, sizeof why);
	if (rc < 0) {
		b->bad++;
		lg_err("record '%.*s' (change %" PRIu64 "): %s: skipped", (int)(idlen > 200 ? 200 : idlen), id, seq, why);
		return 0;
	}
	return rc;
}

/* Ships every change after the position, batch by batch. */
static int ship(store_db *db, ship_ch *ch, const options *o)
{
	batch_ctx b = { { { 0 }, { 0 }, 0, 0 }, 0 };
	lg_buf q1 = { 0 }, q2 = { 0 };
	unsigned long records = 0, violations = 0;
	uint64_t from = 0, at = 0;
	int status = 0, more = 1, first = 1;
	lg_buf_printf(&q1, "INSERT INTO %s.traces FORMAT JSONEachRow", ch->database);
	lg_buf_printf(&q2, "INSERT INTO %s.violations FORMAT JSONEachRow", ch->database);
	while (more && !status) {
		MDB_txn *txn;
		uint64_t last;
		int rc = db_txn_begin(db, MDB_RDONLY, &txn);
		if (!rc && first && !o->since_set)
			rc = changes_position(db, txn, ch->name, &at);
		if (first) {
			at = o->since_set ? o->since : at;
			from = at;
			first = 0;
		}
		ship_rows_reset(&b.rows);
		if (!rc) {
			rc = changes_walk(db, txn, at, o->batch, take, &b, &last, &more);
			if (rc == SHIP_FULL) {
				rc = 0;
				more = 1;
			}
		}
		if (txn)
			mdb_txn_abort(txn);
		db_trim_map(db); /* the pages read stay resident otherwise: the whole store, in the end */
		if (rc) {
			status = rc == ENOMEM ? (lg_err("out of memory"), LG_EXIT_IO) : db_fail(db, "changes", rc);
			break;
		}
		if (last == at)
			break;
		if (b.rows.ntraces && (status = send_retried(ch, q1.data, b.rows.traces.data, b.rows.traces.len, 1, o->retry_ms)))
			break;
		if (b.rows.nviolations &&
		    (status = send_retried(ch, q2.data, b.rows.violations.data, b.rows.violations.len, 1, o->retry_ms)))
			break;
		/* Only now, ClickHouse having both tables' rows: a kill before this
		 * line ships the batch again, and its rows collapse there. */
		if ((rc = changes_set_position(db, ch->name, last))) {
			status = db_fail(db, "position", rc);
			break;
		}
		records += b.rows.ntraces;
		violations += b.rows.nviolations;
		at = last;
	}
	lg_err("%lu records, %lu violations shipped to %s (changes %" PRIu64 " to %" PRIu64 ")", records, violations,
	       ch->name, from, at);
	ship_rows_free(&b.rows);
	lg_buf_free(&q1);
	lg_buf_free(&q2);
	return status ? status : b.bad ? LG_EXIT_BAD : 0;
}

static int print_position(store_db *db, ship_ch *ch)
{
	MDB_txn *txn;
	uint64_t pos = 0, last = 0;
	int rc = db_txn_begin(db, MDB_RDONLY, &txn);
	if (!rc && !(rc = changes_position(db, txn, ch->name, &pos)))
		rc = changes_last(db, txn, &last);
	if (txn)
		mdb_txn_abort(txn);
	if (rc)
		return db_fail(db, "position", rc);
	printf("{\"destination\":\"%s\",\"position\":%" PRIu64 ",\"last\":%" PRIu64 "}\n", ch->name, pos, last);
	return fflush(stdout) == 0 ? 0 : LG_EXIT_IO;
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < min)
		return lg_usage_error("%s: want a number from %" PRIu64 ", not '%s'", opt, min, s);
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "to", required_argument, NULL, O_TO },
		{ "init", no_argument, NULL, O_INIT },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "retry-for", required_argument, NULL, O_RETRY },
		{ "since", required_argument, NULL, O_SINCE },
		{ "position", no_argument, NULL, O_POSITION },
		{ "schema", no_argument, NULL, O_SCHEMA },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	uint64_t n;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_INIT: o->init = 1; break;
		case O_BATCH:
			if (parse_u64("--batch", optarg, 1, &n) || n > 1000000)
				return lg_usage_error("--batch: want 1..1000000, not '%s'", optarg);
			o->batch = (size_t)n;
			break;
		case O_RETRY:
			if (lg_duration_parse(optarg, &o->retry_ms) != 0 || o->retry_ms < 0)
				return lg_usage_error("--retry-for: not a duration: '%s'", optarg);
			break;
		case O_SINCE:
			if (parse_u64("--since", optarg, 0, &o->since))
				return LG_EXIT_USAGE;
			o->since_set = 1;
			break;
		case O_POSITION: o->position = 1; break;
		case O_SCHEMA: o->schema = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		case O_VERSION: lg_print_version(); return -1;
		default: return lg_bad_option(c, optopt, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return lg_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->to && !o->schema)
		return lg_usage_error("--to URL is required");
	return 0;
}

int main(int argc, char **argv)
{
	options o = { NULL, NULL, 0, 0, 0, 0, 2000, 600000, 0 };
	ship_ch ch;
	char dir[4096], why[300];
	lg_set_progname(argv[0]);
	int status = parse_args(argc, argv, &o);
	if (status)
		return status < 0 ? 0 : status;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		lg_err("curl: cannot initialise");
		return LG_EXIT_BAD;
	}
	if (ship_ch_open(&ch, o.to ? o.to : "http://localhost:8123/lg", why, sizeof why) != 0) {
		ship_ch_close(&ch);
		curl_global_cleanup();
		return lg_usage_error("%s", why);
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.schema) {
		status = print_schema(ch.database);
		goto out;
	}
	if (db_default_dir(o.db, dir, sizeof dir) != 0) {
		status = lg_usage_error("no database directory: use --db or set LG_DB");
		goto out;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (access(path, F_OK) != 0) {
		lg_err("no store at %s", dir);
		status = LG_EXIT_IO;
		goto out;
	}
	store_db db;
	if ((status = db_open(&db, dir, 0, 0)) != 0)
		goto out;
	if (!(status = changes_open_feed(&db))) {
		if (o.position)
			status = print_position(&db, &ch);
		else if (!o.init || !(status = init_tables(&ch, o.retry_ms)))
			status = ship(&db, &ch, &o);
	}
	db_close(&db);
out:
	ship_ch_close(&ch);
	curl_global_cleanup();
	return status;
}
