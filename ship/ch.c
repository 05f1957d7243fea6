#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ch.h"

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	lg_buf *b = ud;
	return lg_buf_add(b, p, size * nmemb) ? 0 : size * nmemb;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* A database name ClickHouse takes unquoted: letters, digits, _. */
static int plain_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

int ship_ch_open(ship_ch *ch, const char *url, char *why, size_t n)
{
	memset(ch, 0, sizeof *ch);
	ch->timeout_s = 300;
	const char *p = strstr(url, "://");
	if (!p || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)) {
		snprintf(why, n, "--to: want http://host:port[/database], not '%s'", url);
		return -1;
	}
	const char *auth = p + 3, *host = auth, *at = NULL, *slash = strchr(auth, '/');
	for (const char *q = auth; *q && (!slash || q < slash); q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		ch->user = dup_n(auth, (size_t)((colon ? colon : at) - auth));
		ch->password = colon ? dup_n(colon + 1, (size_t)(at - colon - 1)) : NULL;
		host = at + 1;
	}
	size_t hlen = slash ? (size_t)(slash - host) : strlen(host);
	const char *db = slash && slash[1] ? slash + 1 : "lg";
	size_t dblen = strlen(db);
	while (dblen && db[dblen - 1] == '/')
		dblen--;
	ch->database = dup_n(db, dblen);
	if (!hlen || !ch->database || !plain_name(ch->database)) {
		snprintf(why, n, "--to: want http://host:port[/database] (a database of letters, digits and _)");
		return -1;
	}
	lg_buf b = { 0 };
	lg_buf_printf(&b, "%.*s%.*s/", (int)(auth - url), url, (int)hlen, host);
	ch->endpoint = b.data;
	b = (lg_buf){ 0 };
	lg_buf_printf(&b, "%.*s/%s", (int)hlen, host, ch->database);
	ch->name = b.data;
	if (!ch->endpoint || !ch->name || !(ch->curl = curl_easy_init())) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	return 0;
}

void ship_ch_close(ship_ch *ch)
{
	if (ch->curl)
		curl_easy_cleanup(ch->curl);
	if (ch->password)
		memset(ch->password, 0, strlen(ch->password));
	free(ch->endpoint);
	free(ch->user);
	free(ch->password);
	free(ch->database);
	free(ch->name);
	lg_buf_free(&ch->answer);
	lg_buf_free(&ch->gz);
	memset(ch, 0, sizeof *ch);
}

int ship_gzip(lg_buf *out, const char *data, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* 15 + 16: a gzip header, which ClickHouse reads for Content-Encoding: gzip. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, (uLong)len);
	out->len = 0;
	if (lg_buf_reserve(out, bound)) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

int ship_ch_post(ship_ch *ch, const char *query, const char *body, size_t len, int gz, long *status, char *why,
		 size_t n)
{
	lg_buf url = { 0 };
	struct curl_slist *hdr = NULL;
	char err[CURL_ERROR_SIZE] = "";
	*status = 0;
	if (gz && ship_gzip(&ch->gz, body, len) == 0) {
		body = ch->gz.data;
		len = ch->gz.len;
		hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
	}
	hdr = curl_slist_append(hdr, "Content-Type: text/plain; charset=utf-8");
	hdr = curl_slist_append(hdr, "Expect:");
	lg_buf_adds(&url, ch->endpoint);
	if (query) {
		char *q = curl_easy_escape(ch->curl, query, 0);
		/* On a Distributed table the 200 then means every shard has its rows. */
		lg_buf_printf(&url, "?query=%s&input_format_skip_unknown_fields=1&insert_distributed_sync=1", q ? q : "");
		curl_free(q);
	}
	ch->answer.len = 0;
	curl_easy_reset(ch->curl);
	curl_easy_setopt(ch->curl, CURLOPT_URL, lg_buf_cstr(&url));
	curl_easy_setopt(ch->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(ch->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(ch->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(ch->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(ch->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(ch->curl, CURLOPT_WRITEDATA, &ch->answer);
	curl_easy_setopt(ch->curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(ch->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ch->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(ch->curl, CURLOPT_TIMEOUT, ch->timeout_s);
	curl_easy_setopt(ch->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(ch->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(ch->curl, CURLOPT_USERAGENT, "lg-ship/" LG_VERSION);
	if (ch->user) {
		curl_easy_setopt(ch->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(ch->curl, CURLOPT_USERNAME, ch->user);
		curl_easy_setopt(ch->curl, CURLOPT_PASSWORD, ch->password ? ch->password : "");
	}
	CURLcode rc = curl_easy_perform(ch->curl);
	curl_slist_free_all(hdr);
	lg_buf_free(&url);
	if (rc != CURLE_OK) {
		snprintf(why, n, "%s", err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(ch->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status == 200)
		return 0;
	const char *a = ch->answer.data ? ch->answer.data : "";
	size_t l = strcspn(a, "\n");
	snprintf(why, n, "HTTP %ld: %.*s", *status, (int)(l > 300 ? 300 : l), a);
	return -1;
}
