/* Minimal unit-test helpers: each check prints "PASS name" or
 * "FAIL name: why"; tests/run.sh counts those lines. */
#ifndef LG_T_H
#define LG_T_H
#include <stdio.h>
#include <string.h>

static int t_failed;

#define T_OK(cond, name) do { \
	if (cond) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: %s:%d: %s\n", (name), __FILE__, __LINE__, #cond); t_failed++; } \
} while (0)

#define T_STR(got, want, name) do { \
	const char *t_g_ = (got), *t_w_ = (want); \
	if (t_g_ && t_w_ && strcmp(t_g_, t_w_) == 0) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: got [%s] want [%s]\n", (name), t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)"); t_failed++; } \
} while (0)

#define T_INT(got, want, name) do { \
	long long t_g_ = (long long)(got), t_w_ = (long long)(want); \
	if (t_g_ == t_w_) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: got %lld want %lld\n", (name), t_g_, t_w_); t_failed++; } \
} while (0)

#define T_DBL(got, want, eps, name) do { \
	double t_g_ = (got), t_w_ = (want); \
	if (t_g_ - t_w_ <= (eps) && t_w_ - t_g_ <= (eps)) printf("PASS %s\n", (name)); \
	else { printf("FAIL %s: got %.17g want %.17g\n", (name), t_g_, t_w_); t_failed++; } \
} while (0)

static inline int t_done(void) { return t_failed ? 1 : 0; }
#endif
