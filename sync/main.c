/* lg-sync: see sync.h. main parses the global options and hands the rest
 * of the command line to the command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "sync.h"

void usage(void)
{
	fputs("Usage: lg-sync [--config FILE] [--db DIR] COMMAND [ARGS]\n"
	      "\n"
	      "Runs lg-fetch | lg-map | lg-detect | lg-policy | lg-store put for each\n"
	      "configured Langfuse integration and keeps its sync state.\n"
	      "\n"
	      "Commands:\n"
	      "  add ID --name NAME --public-key PK [--host URL] [--interval 5m]\n"
	      "         [--lookback 7d] [--batch-size N] [--no-auto-sync]\n"
	      "         [--secret-key-file FILE]\n"
	      "                      add an integration; the secret key is read from stdin\n"
	      "                      (not echoed on a terminal) unless --secret-key-file\n"
	      "  list [--json]       list integrations (secrets masked)\n"
	      "  remove ID           remove an integration (its stored traces stay)\n"
	      "  test [ID]           check the credentials (lg-fetch --test)\n"
	      "  run [ID...] [--mode incremental|backfill] [--since T] [--until T]\n"
	      "      [--limit N] [--quiet] [--run-id ID]\n"
	      "                      sync now: every integration, or the ones named\n"
	      "  status [ID...]      one status JSON line per integration\n"
	      "  cursor ID [--reset TIME]\n"
	      "                      print where the next incremental run of ID starts;\n"
	      "                      --reset sets it (also backwards) to recover from a\n"
	      "                      wrong cursor\n"
	      "  daemon [--once] [--listen ADDR:PORT [--token-file FILE] [--console DIR]]\n"
	      "                      run every auto-sync integration at its interval\n"
	      "                      until SIGTERM/SIGINT; --listen serves the API too\n"
	      "  serve [--listen ADDR:PORT] [--token-file FILE] [--console DIR]\n"
	      "                      answer the HTTP API (docs/api.md) and serve the web\n"
	      "                      console until SIGTERM/SIGINT: --listen defaults to\n"
	      "                      127.0.0.1:8077 (port 0: any free one); every /api/\n"
	      "                      request but /api/health needs 'Authorization: Bearer'\n"
	      "                      with the token of --token-file (default\n"
	      "                      $XDG_CONFIG_HOME/langguard/api-token, created 0600\n"
	      "                      when missing); --console DIR: the console's files\n"
	      "                      (default $LG_CONSOLE_DIR, else the installed ones)\n"
	      "\n"
	      "SIGTERM or SIGINT during a run (run, daemon) stops it after its last\n"
	      "completed window: lg-fetch alone gets SIGTERM, the stages after it drain,\n"
	      "the run is recorded as failed (\"interrupted by SIGTERM\") with the cursor at\n"
	      "that window's end. run then exits 1 without starting the next integration;\n"
	      "daemon logs \"ID stopped by SIGTERM: ...\" and exits 0.\n"
	      "\n"
	      "An integration of the config file that is not valid is reported and\n"
	      "skipped; the others run.\n"
	      "\n"
	      "Options:\n"
	      "  --config FILE       integrations file (default $LG_CONFIG or\n"
	      "                      $XDG_CONFIG_HOME/langguard/config.json)\n"
	      "  --db DIR            store directory (default $LG_DB or\n"
	      "                      $XDG_DATA_HOME/langguard/db)\n"
	      "  -h, --help          show this help and exit\n"
	      "  --version           show the version and exit\n"
	      "\n"
	      "With no config file, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and\n"
	      "LANGFUSE_HOST define one integration named \"default\".\n"
	      "Exit status: 0 ok, 1 runtime failure or a run already in progress, 2 usage or\n"
	      "configuration, 3 authentication, 4 network, 5 API error, 6 storage; a failed\n"
	      "run exits with the status of the stage that failed.\n",
	      stdout);
}

static int default_paths(sync_ctx *c)
{
	const char *db = getenv("LG_DB"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (lg_config_path(c->config, sizeof c->config) != 0)
		return lg_usage_error("no config path: set LG_CONFIG or HOME");
	if (db && *db)
		snprintf(c->db, sizeof c->db, "%s", db);
	else if (xdg && *xdg)
		snprintf(c->db, sizeof c->db, "%s/langguard/db", xdg);
	else if (home && *home)
		snprintf(c->db, sizeof c->db, "%s/.local/share/langguard/db", home);
	else
		return lg_usage_error("no store path: set LG_DB or HOME");
	return 0;
}

enum { OPT_CONFIG = 256, OPT_DB, OPT_VERSION };

static int parse_globals(sync_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			if (!*optarg)
				return lg_usage_error("option '--config' requires an argument");
			snprintf(c->config, sizeof c->config, "%s", optarg);
			setenv("LG_CONFIG", optarg, 1);
			break;
		case OPT_DB:
			if (!*optarg)
				return lg_usage_error("option '--db' requires an argument");
			snprintf(c->db, sizeof c->db, "%s", optarg);
			break;
		case 'h': usage(); return -1;
		case OPT_VERSION: lg_print_version(); return -1;
		default: return lg_bad_option(opt, optopt, argv[optind - 1]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(sync_ctx *, int, char **);
	} commands[] = {
		{ "add", cmd_add }, { "list", cmd_list }, { "remove", cmd_remove }, { "test", cmd_test },
		{ "run", cmd_run }, { "status", cmd_status }, { "cursor", cmd_cursor }, { "daemon", cmd_daemon },
		{ "serve", cmd_serve },
	};
	sync_ctx c;
	memset(&c, 0, sizeof c);
	lg_set_progname("lg-sync");
	/* Everything lg-sync and its stages create (config, locks, quarantined
	 * lines, which may hold unmasked trace data) is private. */
	umask(077);
	int rc = default_paths(&c);
	if (rc == 0)
		rc = parse_globals(&c, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;
	/* The C tools read the same file: name it for them. */
	struct stat st;
	if (stat(c.config, &st) == 0)
		setenv("LG_CONFIG", c.config, 1);
	if (optind >= argc)
		return lg_usage_error("missing command");
	const char *cmd = argv[optind];
	if (strcmp(cmd, "help") == 0) {
		usage();
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(cmd, commands[i].name) == 0) {
			optind++;
			/* Each command parses its own options: argv[0] its name. */
			int sub_argc = argc - optind + 1;
			char **sub_argv = argv + optind - 1;
			optind = 0;
			rc = commands[i].fn(&c, sub_argc, sub_argv);
			return fflush(stdout) == 0 || rc ? rc : LG_EXIT_IO;
		}
	return lg_usage_error("unknown command '%s'", cmd);
}
