/* lg-policy: placeholder until its own issue lands; says so plainly. */
#include <getopt.h>
#include <stdio.h>

#include "err.h"

static const char usage[] =
	"Usage: lg-policy [OPTION]...\n"
	"Not implemented yet.\n"
	"  -h, --help     show this help and exit\n"
	"      --version  show the version and exit\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	lg_set_progname(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return 0;
		case 'V': lg_print_version(); return 0;
		default: return lg_bad_option(c, optopt, argv[optind - 1]);
		}
	}
	lg_err("not implemented yet");
	return LG_EXIT_BAD;
}
