/* Exit codes shared by every tool (the same numbers in every man page) and
 * the one error format:
 * "lg-map: <stdin>:42: invalid JSON at byte 17". */
#ifndef LG_ERR_H
#define LG_ERR_H

enum lg_exit {
	LG_EXIT_OK = 0,
	LG_EXIT_BAD = 1,     /* bad records or runtime failure */
	LG_EXIT_USAGE = 2,   /* usage or configuration */
	LG_EXIT_AUTH = 3,    /* 401/403 */
	LG_EXIT_NET = 4,     /* DNS, TLS, timeout after retries */
	LG_EXIT_API = 5,     /* non-retryable status, retries exhausted */
	LG_EXIT_IO = 6,      /* storage or local I/O */
	LG_EXIT_POLICY = 7,  /* lg-policy --fail-on gate */
};

extern const char *lg_progname;

void lg_set_progname(const char *argv0);
/* "prog: message\n" on stderr. */
void lg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: message, then "Try 'prog --help'"; returns LG_EXIT_USAGE. */
int lg_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt_long error text for an unknown option or missing argument. */
int lg_bad_option(int opt, int optopt_, const char *arg);
/* Prints "prog VERSION" on stdout. */
void lg_print_version(void);
/* Mask a secret for display: "sk-lf-…1a2b" (prefix up to the last '-', last 4). */
void lg_mask_secret(const char *secret, char *out, unsigned long outlen);

#endif
