/* lg-detect: LangGuard records in, the same records with the agent that
 * produced each one (docs/detect.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "err.h"
#include "json.h"
#include "rules.h"
#include "stream.h"

static const char usage[] =
	"Usage: lg-detect [OPTION]... [FILE]...\n"
	"Add the agent that produced each LangGuard record (from lg-map): agent\n"
	"{name, source, key, confidence, version, conflicts}, agents[] when there are\n"
	"several, and metadata.agent_name. Signals, strongest first: tags agent:NAME,\n"
	"metadata keys (agent_name, gen_ai.agent.name, ...), AGENT observations,\n"
	"naming patterns over the trace name. No signal: agent is null.\n"
	"Reads FILEs or standard input; \"$lg\" control lines pass through unchanged.\n"
	"\n"
	"  -r, --rules FILE         JSON rules: precedence, confidence, tagPrefixes,\n"
	"                           metadataKeys, versionKeys, patterns, defaultPatterns,\n"
	"                           aliases, known, ignore (see lg-detect(1))\n"
	"  -k, --known FILE         agent names known in advance: one per line, or a\n"
	"                           JSON array of strings\n"
	"  -e, --explain            write per record which signal fired and why to stderr\n"
	"  -q, --quarantine FILE    append bad lines verbatim, each after a\n"
	"                           \"# file:line: reason\" line\n"
	"  -h, --help               show this help and exit\n"
	"      --version            show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 bad lines (reported, the rest still processed),\n"
	"2 usage or invalid rules, 6 read/write error.\n";

typedef struct {
	detector det;
	int explain;
	lg_buf ex;
} detect_ctx;

static int detect_one(lg_stream *st, cJSON **rec, void *vctx)
{
	detect_ctx *ctx = vctx;
	ctx->ex.len = 0;
	if (detect_record(&ctx->det, *rec, ctx->explain ? &ctx->ex : NULL)) {
		lg_stream_reject(st, "out of memory");
		return -1;
	}
	if (ctx->explain)
		lg_err("%s:%lu: %s", st->in_name, st->lineno, lg_buf_cstr(&ctx->ex));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "known", required_argument, NULL, 'k' },
		{ "explain", no_argument, NULL, 'e' },
		{ "quarantine", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules_path = NULL, *known_path = NULL, *quarantine = NULL;
	detect_ctx ctx;
	detect_rules rules;
	char err[512];
	int c, status = 0;

	memset(&ctx, 0, sizeof ctx);
	lg_set_progname(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:k:eq:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_path = optarg; break;
		case 'k': known_path = optarg; break;
		case 'e': ctx.explain = 1; break;
		case 'q': quarantine = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': lg_print_version(); return 0;
		default: return lg_bad_option(c, optopt, argv[optind - 1]);
		}
	}

	/* Every rule and regex is checked before the first record. */
	if (rules_init(&rules, err, sizeof err) ||
	    (rules_path && rules_load(&rules, rules_path, err, sizeof err)) ||
	    (known_path && rules_load_known(&rules, known_path, err, sizeof err))) {
		lg_err("%s", err);
		rules_free(&rules);
		return LG_EXIT_USAGE;
	}
	detect_init(&ctx.det, &rules);

	lg_stream st;
	if ((status = lg_stream_init(&st, stdout, quarantine)) == 0) {
		/* detect_record replaces agent and agents and edits metadata in
		 * place: the rest of each line is written as it came. */
		static const char *const edited[] = { "metadata", NULL };
		st.splice_keys = edited;
		status = lg_stream_run_files(&st, argc - optind, argv + optind, detect_one, NULL, &ctx);
		lg_stream_free(&st);
	}
	detect_free(&ctx.det);
	lg_buf_free(&ctx.ex);
	rules_free(&rules);
	return status;
}
