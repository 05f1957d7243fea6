/* ClickHouse's HTTP interface, as lg-ship uses it: one POST a request, the
 * query in the URL and the rows (gzip) in the body, or the query as the
 * body. */
#ifndef SHIP_CH_H
#define SHIP_CH_H
#include <stddef.h>
#include <curl/curl.h>

#include "buf.h"

typedef struct {
	CURL *curl;
	char *endpoint;      /* scheme://host:port/ (no credentials, no path) */
	char *user, *password; /* from the URL, or NULL */
	char *database;      /* the URL's path, else "lg" */
	char *name;          /* host:port/database: where lg-ship's position is kept */
	lg_buf answer;       /* the body of the last answer */
	lg_buf gz;           /* the last body compressed */
	long timeout_s;
} ship_ch;

/* Parses http(s)://[user[:password]@]host[:port][/database]; 0, or -1
 * with why. */
int ship_ch_open(ship_ch *ch, const char *url, char *why, size_t n);
void ship_ch_close(ship_ch *ch);
/* POSTs body (len bytes; gzip-compressed when gz) with query in the URL
 * (NULL: body is the query). 0 when ClickHouse answered 200; else *status
 * is its HTTP status (0: no answer: connection refused, timeout...) and why
 * its first line. */
int ship_ch_post(ship_ch *ch, const char *query, const char *body, size_t len, int gz, long *status, char *why,
		 size_t n);
/* gzip of data into out (replaced); 0 or -1. */
int ship_gzip(lg_buf *out, const char *data, size_t len);
#endif
