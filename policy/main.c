/* lg-policy: evaluates governance policies on LangGuard records and
 * attaches violations with evidence (docs/policy.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "policy.h"
#include "stream.h"

static const char usage[] =
	"Usage: lg-policy [OPTION]... [FILE]...\n"
	"Evaluate governance policies on LangGuard records (one per line) and attach\n"
	"violations[] and evaluation{}. Reads FILEs or standard input; \"$lg\" control\n"
	"lines pass through unchanged.\n"
	"\n"
	"  -p, --policies FILE      load policies from FILE (JSON; repeatable); a policy\n"
	"                           with a built-in's id replaces the built-in\n"
	"      --no-builtin         do not load the built-in policies\n"
	"      --enable ID          turn policy ID on (repeatable)\n"
	"      --disable ID         turn policy ID off (repeatable)\n"
	"      --fail-on SEVERITY   exit 7 when a violation at or above SEVERITY\n"
	"                           (critical, high, medium, low) was found\n"
	"      --explain            per record, tell on stderr what matched where\n"
	"      --list               print the policies (id, state, severity, category,\n"
	"                           kind, name) and exit\n"
	"      --self-test          run every policy's examples and exit\n"
	"      --dump-builtin       print the built-in policies as JSON and exit\n"
	"  -q, --quarantine FILE    append bad lines verbatim, each after a\n"
	"                           \"# file:line: reason\" line\n"
	"  -h, --help               show this help and exit\n"
	"      --version            show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 bad lines (reported, the rest still evaluated) or a\n"
	"failed self-test, 2 usage or a bad policy file, 6 read/write error,\n"
	"7 --fail-on threshold reached.\n";

enum { OPT_NO_BUILTIN = 256, OPT_ENABLE, OPT_DISABLE, OPT_FAIL_ON, OPT_EXPLAIN, OPT_LIST,
       OPT_SELF_TEST, OPT_DUMP, OPT_VERSION };

typedef struct {
	pol_engine eng;
	int fail_on;         /* severity index, or -1 */
	int gate;            /* a violation reached fail_on */
	lg_buf explain;
} run_ctx;

static int policy_record(lg_stream *st, cJSON **rec, void *vctx)
{
	run_ctx *ctx = vctx;
	int worst;
	ctx->explain.len = 0;
	if (pol_eval_record(&ctx->eng, *rec, &worst, ctx->eng.explain ? &ctx->explain : NULL)) {
		lg_stream_reject(st, "out of memory evaluating policies");
		return -1;
	}
	if (ctx->fail_on >= 0 && worst <= ctx->fail_on)
		ctx->gate = 1;
	if (ctx->explain.len)
		fwrite(ctx->explain.data, 1, ctx->explain.len, stderr);
	if (ctx->eng.warnings.len) {
		fwrite(ctx->eng.warnings.data, 1, ctx->eng.warnings.len, stderr);
		ctx->eng.warnings.len = 0;
	}
	return 0;
}

static int dump_builtin(void)
{
	lg_buf b = { 0 };
	int rc = pol_builtin_text(&b);
	if (rc == 0 && (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)))
		rc = -1;
	lg_buf_free(&b);
	if (rc)
		lg_err("write error");
	return rc ? LG_EXIT_IO : 0;
}

static const char *const kind_names[] = { "pattern", "threshold", "list", "rate", "required" };

static int list_policies(pol_engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		pol_policy *p = &e->v[i];
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", p->id, p->enabled ? "on" : "off",
		       pol_severity_name(p->severity), p->category, kind_names[p->kind], p->name);
	}
	if (fflush(stdout) || ferror(stdout)) {
		lg_err("write error");
		return LG_EXIT_IO;
	}
	return 0;
}

static int self_test(pol_engine *e)
{
	int failed = 0;
	for (size_t i = 0; i < e->n; i++) {
		lg_buf out = { 0 };
		int ran = 0, f = pol_self_test(e, &e->v[i], &out, &ran);
		if (f) {
			fwrite(out.data, 1, out.len, stderr);
			printf("FAIL %s: %d of %d examples\n", e->v[i].id, f, ran);
		} else {
			printf("ok %s: %d examples\n", e->v[i].id, ran);
		}
		failed += f;
		lg_buf_free(&out);
	}
	if (fflush(stdout) || ferror(stdout)) {
		lg_err("write error");
		return LG_EXIT_IO;
	}
	return failed ? LG_EXIT_BAD : 0;
}

static int load_builtin(pol_engine *e)
{
	char why[600];
	lg_buf b = { 0 };
	int rc = pol_builtin_text(&b) ? -1 : pol_load_text(e, b.data, b.len, 1, why, sizeof why);
	lg_buf_free(&b);
	if (rc)
		lg_err("built-in policies: %s", why);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policies", required_argument, NULL, 'p' },
		{ "no-builtin", no_argument, NULL, OPT_NO_BUILTIN },
		{ "enable", required_argument, NULL, OPT_ENABLE },
		{ "disable", required_argument, NULL, OPT_DISABLE },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "self-test", no_argument, NULL, OPT_SELF_TEST },
		{ "dump-builtin", no_argument, NULL, OPT_DUMP },
		{ "quarantine", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	run_ctx ctx;
	const char *quarantine = NULL;
	char **files = calloc((size_t)argc + 1, sizeof *files);
	struct { const char *id; int on; } *toggles = calloc((size_t)argc + 1, sizeof *toggles);
	size_t nfiles = 0, ntoggles = 0;
	int c, status = 0, builtin = 1, action = 0;

	lg_set_progname(argv[0]);
	memset(&ctx, 0, sizeof ctx);
	ctx.fail_on = -1;
	if (!files || !toggles) {
		lg_err("out of memory");
		return LG_EXIT_BAD;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:q:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': files[nfiles++] = optarg; break;
		case OPT_NO_BUILTIN: builtin = 0; break;
		case OPT_ENABLE:
		case OPT_DISABLE:
			toggles[ntoggles].id = optarg;
			toggles[ntoggles++].on = c == OPT_ENABLE;
			break;
		case OPT_FAIL_ON:
			ctx.fail_on = pol_severity_parse(optarg);
			if (ctx.fail_on < 0) {
				status = lg_usage_error("--fail-on: '%s' is not critical, high, medium or low", optarg);
				goto out;
			}
			break;
		case OPT_EXPLAIN: ctx.eng.explain = 1; break;
		case OPT_LIST:
		case OPT_SELF_TEST:
		case OPT_DUMP: action = c; break;
		case 'q': quarantine = optarg; break;
		case 'h': fputs(usage, stdout); goto out;
		case OPT_VERSION: lg_print_version(); goto out;
		default: status = lg_bad_option(c, optopt, argv[optind - 1]); goto out;
		}
	}
	if (action == OPT_DUMP) {
		status = dump_builtin();
		goto out;
	}

	/* Everything is loaded and compiled before the first record. */
	if (builtin && load_builtin(&ctx.eng)) {
		status = LG_EXIT_BAD;
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		char why[600];
		if (pol_load_file(&ctx.eng, files[i], why, sizeof why)) {
			lg_err("%s: %s", files[i], why);
			status = LG_EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < ntoggles; i++) {
		pol_policy *p = pol_find(&ctx.eng, toggles[i].id);
		if (!p) {
			status = lg_usage_error("--%s: no policy '%s'", toggles[i].on ? "enable" : "disable",
						toggles[i].id);
			goto out;
		}
		p->enabled = toggles[i].on;
	}
	if (pol_engine_ready(&ctx.eng)) {
		lg_err("out of memory");
		status = LG_EXIT_BAD;
		goto out;
	}
	if (action == OPT_LIST) {
		status = list_policies(&ctx.eng);
		goto out;
	}
	if (action == OPT_SELF_TEST) {
		status = self_test(&ctx.eng);
		goto out;
	}

	lg_stream st;
	if ((status = lg_stream_init(&st, stdout, quarantine)) != 0)
		goto out;
	/* pol_eval_record only replaces violations and evaluation: the rest
	 * of each line is written as it came. */
	static const char *const edited[] = { NULL };
	st.splice_keys = edited;
	status = lg_stream_run_files(&st, argc - optind, argv + optind, policy_record, NULL, &ctx);
	lg_stream_free(&st);
	/* Errors say more than the gate: 1 and 6 win over 7. */
	if (status == 0 && ctx.gate)
		status = LG_EXIT_POLICY;
out:
	pol_engine_free(&ctx.eng);
	lg_buf_free(&ctx.explain);
	free(files);
	free(toggles);
	return status;
}
