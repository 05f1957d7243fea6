#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

const char *lg_progname = "lg";

void lg_set_progname(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	if (argv0)
		lg_progname = slash ? slash + 1 : argv0;
}

__attribute__((format(printf, 1, 0)))
static void vreport(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", lg_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lg_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

int lg_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'\n", lg_progname);
	return LG_EXIT_USAGE;
}

int lg_bad_option(int opt, int optopt_, const char *arg)
{
	if (opt == ':')
		return lg_usage_error("option '%s' requires an argument", arg);
	if (optopt_ && optopt_ < 256)
		return lg_usage_error("unknown option '-%c'", optopt_);
	return lg_usage_error("unknown option '%s'", arg);
}

void lg_print_version(void)
{
	printf("%s %s\n", lg_progname, LG_VERSION);
}

void lg_mask_secret(const char *secret, char *out, unsigned long outlen)
{
	size_t n = secret ? strlen(secret) : 0;
	/* Langfuse's own prefix says which key it is; the rest (a UUID, with
	 * dashes of its own) shows only its last 4 characters. */
	size_t pre = n >= 12 && (strncmp(secret, "sk-lf-", 6) == 0 || strncmp(secret, "pk-lf-", 6) == 0) ? 6 : 0;

	if (n < 8) {
		snprintf(out, outlen, "…");
		return;
	}
	snprintf(out, outlen, "%.*s…%s", (int)pre, secret, secret + n - 4);
}
