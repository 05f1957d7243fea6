/* What the API's files share (sync/api*.c, not the rest of lg-sync): the
 * answer helpers, request parameters, the filters that become lg-store
 * arguments, and running lg-store with its answers kept until the store
 * changes. */
#ifndef LG_SYNC_API_INT_H
#define LG_SYNC_API_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "serve.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
/* A page of traces stops growing past this many bytes of JSON (it always
 * holds one trace): memory per request stays bounded with large records. */
#define PAGE_BYTES (4L << 20)
/* The longest line of a tool's output the server reads. */
#define LINE_MAX_BYTES (32L << 20)
#define NOTES_MAX 4096

typedef int (*line_fn)(const char *line, size_t n, void *ctx); /* 0 go on, 1 stop */

typedef struct {
	const char *args[40];
	size_t n;
	char vals[12][1024];
	int nv;
	int relative;        /* a time relative to now: the answer is not kept */
} argv_b;

/* api.c: answers, parameters, filters, integrations and records. */
void api_ok_data(api_resp *out, int status, cJSON *data);
void api_ok_bare(api_resp *out, cJSON *o);
int api_arg(const api_req *r, api_resp *out, const char *name, char *val, size_t cap);
int api_bool_arg(const api_req *r, api_resp *out, const char *name, int dflt, int *on);
cJSON *api_body_object(const api_req *r, api_resp *out);
void api_argv_add(argv_b *a, const char *s);
int api_filters(argv_b *a, const api_req *r, api_resp *out, int trace_level);
int api_paging(const api_req *r, api_resp *out, long *limit, int *reverse);
int api_config_present(const serve_ctx *s);
int api_load_config(serve_ctx *s, api_resp *out, lg_config *cfg);
int api_get_record(serve_ctx *s, api_resp *out, const char *id, cJSON **rec);

/* api_store.c: lg-store and other tools run as children, answers kept. */
int api_tool_lines(const char *const *argv, line_fn fn, void *ctx, char *err, size_t errlen);
int api_store_exists(const serve_ctx *s);
int api_store_version(const serve_ctx *s, uint64_t *ver, ino_t *ino);
size_t api_cache_key(const char **args, char *key, size_t cap);
int api_cache_get(const char *key, size_t keylen, uint64_t ver, ino_t ino, lg_buf *out);
void api_cache_put(const char *key, size_t keylen, uint64_t ver, ino_t ino, const lg_buf *outb);
int api_store_lines(serve_ctx *s, api_resp *out, const char **args, line_fn fn, void *ctx, int *status,
		    int cacheable);

/* api_sync.c: sync runs and their status. */
int api_json_line(const char *line, size_t n, void *ctx);
void api_get_sync_status(serve_ctx *s, api_resp *out, const char *id);
void api_get_runs(serve_ctx *s, const api_req *r, api_resp *out, const char *id);
void api_post_sync(serve_ctx *s, const api_req *r, api_resp *out, const char *id);

/* api_policy.c: policies and violations. */
void api_get_policies(serve_ctx *s, api_resp *out);
void api_post_toggle(serve_ctx *s, const api_req *r, api_resp *out, const char *id);
void api_get_violations(serve_ctx *s, const api_req *r, api_resp *out);
void api_get_violations_by_trace(serve_ctx *s, api_resp *out, const char *id);
void api_patch_violation(serve_ctx *s, const api_req *r, api_resp *out, const char *id);

#endif
