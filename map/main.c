/* lg-map: Langfuse traces in, LangGuard records out (docs/record.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "json.h"
#include "map.h"
#include "stream.h"

static const char usage[] =
	"Usage: lg-map [OPTION]... [FILE]...\n"
	"Convert Langfuse traces (TraceWithFullDetails, one per line) into LangGuard\n"
	"trace records. Reads FILEs or standard input; \"$lg\" control lines pass\n"
	"through unchanged.\n"
	"\n"
	"  -i, --integration NAME   set source.integration (a run-start control line\n"
	"                           naming an integration wins)\n"
	"      --host URL           prefix for relative htmlPath links\n"
	"  -q, --quarantine FILE    append bad lines verbatim, each after a\n"
	"                           \"# file:line: reason\" line\n"
	"  -h, --help               show this help and exit\n"
	"      --version            show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 bad lines (reported, the rest still mapped),\n"
	"2 usage, 6 read/write error.\n";

typedef struct {
	map_opts opts;
	char *run_integration; /* from a run-start control line */
	char *run_host;
} map_ctx;

static int map_record(lg_stream *st, cJSON **rec, void *vctx)
{
	map_ctx *ctx = vctx;
	char why[128];
	map_opts o = ctx->opts;
	if (ctx->run_integration)
		o.integration = ctx->run_integration;
	if (ctx->run_host && !o.host)
		o.host = ctx->run_host;
	/* "user:password@" never reaches a record's htmlPath. */
	char masked[1024];
	if (o.host && strchr(o.host, '@')) {
		lg_url_mask(o.host, masked, sizeof masked);
		o.host = masked;
	}
	cJSON *out = map_trace(*rec, &o, why, sizeof why);
	if (!out) {
		lg_stream_reject(st, "%s", why);
		return -1;
	}
	cJSON_Delete(*rec);
	*rec = out;
	return 0;
}

static void replace(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

static void map_control(lg_stream *st, const cJSON *ctl, void *vctx)
{
	map_ctx *ctx = vctx;
	const char *t = lg_control_type(ctl);
	if (t && strcmp(t, "run-start") == 0) {
		replace(&ctx->run_integration, lg_json_str(ctl, "integration"));
		replace(&ctx->run_host, lg_json_str(ctl, "host"));
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "integration", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "quarantine", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	map_ctx ctx = { { NULL, NULL }, NULL, NULL };
	const char *quarantine = NULL;
	int c, status = 0;

	lg_set_progname(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:q:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': ctx.opts.integration = optarg; break;
		case 'H': ctx.opts.host = optarg; break;
		case 'q': quarantine = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': lg_print_version(); return 0;
		default: return lg_bad_option(c, optopt, argv[optind - 1]);
		}
	}

	lg_stream st;
	if ((status = lg_stream_init(&st, stdout, quarantine)) != 0)
		return status;
	status = lg_stream_run_files(&st, argc - optind, argv + optind, map_record, map_control, &ctx);
	lg_stream_free(&st);
	free(ctx.run_integration);
	free(ctx.run_host);
	return status;
}
