/* lg-sync status: the store's record of the last run, with what lg-sync
 * alone knows (a run holds the lock now, the integration is scheduled). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "proc.h"
#include "private.h"
#include "sync.h"

void lock_path(const sync_ctx *c, const char *id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/sync-%s.lock", c->db, id);
}

int lock_held(const sync_ctx *c, const char *id)
{
	char path[4400];
	lock_path(c, id, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

cJSON *store_status(const sync_ctx *c, const char *id)
{
	return store_status_rc(c, id, 0, NULL);
}

/* A store lg-store cannot read is said so (success false, storeReadable
 * false, lg-store's message on stderr when loud, *rc 6 or its status),
 * never shown as "lastSync": null, which reads as "never synced". */
cJSON *store_status_rc(const sync_ctx *c, const char *id, int loud, int *rc)
{
	struct stat st;
	cJSON *j = NULL;
	if (rc)
		*rc = 0;
	if (stat(c->db, &st) != 0) {
		j = cJSON_CreateObject();
		cJSON *data = lg_json_obj(j, "data"), *inc = cJSON_CreateObject();
		lg_json_set(j, "success", cJSON_CreateTrue());
		lg_json_set(data, "lastSync", cJSON_CreateNull());
		lg_json_set(inc, "pending", lg_json_int(0));
		lg_json_set(inc, "gaveUp", lg_json_int(0));
		lg_json_set(data, "incomplete", inc);
		return j;
	}
	lg_buf out = { 0 };
	char err[1024];
	const char *argv[] = { "lg-store", "--db", c->db, "status", id, NULL };
	lg_json_error je;
	int status = run_capture(argv, &out, err, sizeof err);
	if (out.len)
		j = lg_json_parse(out.data, out.len, &je);
	lg_buf_free(&out);
	if (loud && status && *err)
		fprintf(stderr, "%s\n", err);
	if (j && cJSON_IsObject(lg_json_get(j, "data"))) {
		if (rc)
			*rc = status;
		return j;
	}
	cJSON_Delete(j);
	char msg[128];
	snprintf(msg, sizeof msg, "the store is unreadable (lg-store status exit %d)", status);
	j = cJSON_CreateObject();
	lg_json_set(j, "success", cJSON_CreateFalse());
	lg_json_set(j, "error", cJSON_CreateString(msg));
	cJSON *data = lg_json_obj(j, "data");
	lg_json_set(data, "storeReadable", cJSON_CreateFalse());
	lg_json_set(data, "lastSync", cJSON_CreateNull());
	if (rc)
		*rc = status ? status : LG_EXIT_IO;
	return j;
}

/* {"success":true,"data":{"integration","isActive","hasSchedule",...the store's}} */
static int print_status(const sync_ctx *c, const lg_integration *it)
{
	int store_rc;
	cJSON *j = store_status_rc(c, it->id, 1, &store_rc);
	cJSON *data = lg_json_take(j, "data"), *out = cJSON_CreateObject();
	cJSON_Delete(lg_json_take(data, "integration"));
	cJSON_Delete(lg_json_take(data, "isActive"));
	cJSON_Delete(lg_json_take(data, "hasSchedule"));
	lg_json_set(out, "integration", cJSON_CreateString(it->id));
	lg_json_set(out, "isActive", cJSON_CreateBool(lock_held(c, it->id)));
	lg_json_set(out, "hasSchedule", cJSON_CreateBool(it->auto_sync));
	for (cJSON *m = data->child; m; m = data->child) {
		cJSON_DetachItemViaPointer(data, m);
		cJSON_AddItemToObject(out, m->string, m);
	}
	cJSON_Delete(data);
	lg_json_set(j, "data", out);
	lg_buf b = { 0 };
	int rc = lg_json_print(&b, j) == 0 && lg_buf_addc(&b, '\n') == 0 &&
		fwrite(b.data, 1, b.len, stdout) == b.len ? store_rc : LG_EXIT_IO;
	lg_buf_free(&b);
	cJSON_Delete(j);
	return rc;
}

int cmd_status(sync_ctx *c, int argc, char **argv)
{
	static const struct option status_longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", status_longopts, NULL)) != -1) {
		if (opt == 'h')
			return usage(), 0;
		return lg_bad_option(opt, optopt, argv[optind - 1]);
	}
	lg_config cfg;
	const char **ids = NULL;
	int n = 0, skipped = 0, rc = sync_select(c, &cfg, argv + optind, argc - optind, &ids, &n, &skipped);
	if (rc)
		return rc;
	/* Every integration printed; the exit status is the worst. */
	for (int i = 0; i < n; i++) {
		int one = print_status(c, lg_config_find(&cfg, ids[i]));
		rc = one > rc ? one : rc;
	}
	if (rc == 0 && skipped)
		rc = LG_EXIT_USAGE; /* an integration asked for is not valid: reported by sync_load */
	free(ids);
	lg_config_free(&cfg);
	return rc;
}

/* lg-sync cursor ID [--reset TIME]: where the next incremental run starts,
 * or set it (recovery from a wrong cursor) under the integration's lock. */
int cmd_cursor(sync_ctx *c, int argc, char **argv)
{
	static const struct option cursor_longopts[] = {
		{ "reset", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	const char *reset = NULL, *id = NULL;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", cursor_longopts, NULL)) != -1) {
		if (opt == 'r' && !*optarg)
			return lg_usage_error("option '--reset' requires an argument");
		if (opt == 'r')
			reset = optarg;
		else if (opt == 'h')
			return usage(), 0;
		else
			return lg_bad_option(opt, optopt, argv[optind - 1]);
	}
	for (int i = optind; i < argc; i++) {
		if (id)
			return lg_usage_error("cursor: one integration");
		id = argv[i];
	}
	if (!id)
		return lg_usage_error("cursor: which integration?");
	lg_config cfg;
	int rc = sync_load(c, &cfg);
	if (rc)
		return rc;
	int known = lg_config_find(&cfg, id) != NULL;
	lg_config_free(&cfg);
	if (!known) {
		lg_err("unknown integration '%s'", id);
		return LG_EXIT_USAGE;
	}
	char path[4400], lock[4400];
	const char *argv_store[] = { tool_path("lg-store", path, sizeof path), "--db", c->db, "cursor", id,
				     reset ? "--reset" : NULL, reset, NULL };
	if (!reset) {
		union { const char *const *c; char *const *m; } av = { argv_store };
		fflush(NULL);
		execvp(argv_store[0], av.m);
		lg_err("cannot run %s: %s", argv_store[0], strerror(errno));
		return LG_EXIT_BAD;
	}
	if (lg_mkdir_private(c->db) != 0) {
		lg_err("db: cannot create %s", c->db);
		return LG_EXIT_IO;
	}
	lock_path(c, id, lock, sizeof lock);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		lg_err("cannot open %s", lock);
		return LG_EXIT_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		lg_err("%s: a sync run is in progress (lock %s)", id, lock);
		return LG_EXIT_BAD;
	}
	stage st = { .name = "lg-store", .argv = argv_store };
	/* lg-store's own output and messages, as if run directly. */
	lg_buf out = { 0 };
	pipeline_run(&st, 1, -1, -1, &out, 0, 0);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	lg_buf_free(&out);
	close(fd);
	return st.status;
}
