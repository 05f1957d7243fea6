#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "rows.h"
#include "timeutil.h"

/* "key":"value" with the value escaped; "" for a missing or non-string one. */
static int add_str(lg_buf *b, const char *key, const char *val)
{
	if (lg_buf_printf(b, ",\"%s\":", key) < 0)
		return ENOMEM;
	return lg_json_print_string(b, val ? val : "", val ? strlen(val) : 0) ? ENOMEM : 0;
}

/* "key":"<item as compact JSON>" (null: ""): nested values travel as text,
 * which the old ClickHouse's JSONEachRow cannot read as objects. */
static int add_json_text(lg_buf *b, lg_buf *tmp, const char *key, const cJSON *item)
{
	tmp->len = 0;
	if (item && !cJSON_IsNull(item)) {
		if (cJSON_IsString(item)) {
			const char *s = lg_json_string(item);
			if (s && lg_buf_adds(tmp, s))
				return ENOMEM;
		} else if (lg_json_print(tmp, item)) {
			return ENOMEM;
		}
	}
	if (lg_buf_printf(b, ",\"%s\":", key) < 0)
		return ENOMEM;
	return lg_json_print_string(b, tmp->data ? tmp->data : "", tmp->len) ? ENOMEM : 0;
}

/* "key":number, or null for a missing or non-finite one (Nullable). */
static int add_num(lg_buf *b, const char *key, const cJSON *obj, const char *field)
{
	double d;
	if (obj && lg_json_get_num(obj, field, &d) && isfinite(d))
		return lg_buf_printf(b, ",\"%s\":%.17g", key, d) < 0 ? ENOMEM : 0;
	return lg_buf_printf(b, ",\"%s\":null", key) < 0 ? ENOMEM : 0;
}

/* The timestamp in ms (0 when none or unreadable) and in whole seconds for
 * DateTime, which holds 1970 to 2106. */
static int add_time(lg_buf *b, const char *key, const char *iso)
{
	int64_t ms = 0;
	if (!iso || lg_time_parse(iso, &ms) != 0 || ms < 0 || ms / 1000 > (int64_t)UINT32_MAX)
		ms = 0;
	return lg_buf_printf(b, ",\"%s\":%" PRId64 ",\"%sMs\":%" PRId64, key, ms / 1000, key, ms) < 0 ? ENOMEM : 0;
}

static const char *agent_name(const cJSON *rec)
{
	const char *a = lg_json_str(lg_json_get(rec, "agent"), "name");
	return a ? a : lg_json_str(lg_json_get(rec, "metadata"), "agent_name");
}

static int add_tags(lg_buf *b, const cJSON *tags)
{
	int first = 1;
	if (lg_buf_adds(b, ",\"tags\":["))
		return ENOMEM;
	for (const cJSON *t = cJSON_IsArray(tags) ? tags->child : NULL; t; t = t->next) {
		const char *s = lg_json_string(t);
		if (!s)
			continue;
		if ((!first && lg_buf_addc(b, ',')) || lg_json_print_string(b, s, strlen(s)))
			return ENOMEM;
		first = 0;
	}
	return lg_buf_addc(b, ']') ? ENOMEM : 0;
}

static int trace_row(lg_buf *b, lg_buf *tmp, uint64_t seq, const cJSON *rec, const char *id)
{
	const cJSON *md = lg_json_get(rec, "metadata"), *tok = lg_json_get(md, "tokens");
	const cJSON *vs = lg_json_get(rec, "violations");
	const char *integ = lg_json_str(lg_json_get(rec, "source"), "integration");
	int rc;
	if (lg_buf_adds(b, "{\"externalId\":") || lg_json_print_string(b, id, strlen(id)) ||
	    lg_buf_printf(b, ",\"seq\":%" PRIu64, seq) < 0)
		return ENOMEM;
	if ((rc = add_time(b, "timestamp", lg_json_str(rec, "timestamp"))) || (rc = add_str(b, "integration", integ)) ||
	    (rc = add_str(b, "name", lg_json_str(rec, "name"))) || (rc = add_str(b, "userId", lg_json_str(rec, "userId"))) ||
	    (rc = add_str(b, "sessionId", lg_json_str(rec, "sessionId"))) || (rc = add_str(b, "agent", agent_name(rec))) ||
	    (rc = add_str(b, "status", lg_json_str(rec, "status"))) || (rc = add_str(b, "model", lg_json_str(md, "model"))) ||
	    (rc = add_num(b, "durationMs", rec, "duration")) || (rc = add_num(b, "tokensInput", tok, "input")) ||
	    (rc = add_num(b, "tokensOutput", tok, "output")) || (rc = add_num(b, "tokensTotal", tok, "total")) ||
	    (rc = add_num(b, "cost", md, "cost")))
		return rc;
	if (lg_buf_printf(b, ",\"violations\":%d,\"stale\":%d,\"incomplete\":%d", cJSON_IsArray(vs) ? cJSON_GetArraySize(vs) : 0,
			  cJSON_IsTrue(lg_json_get(rec, "stale")) ? 1 : 0,
			  cJSON_IsArray(lg_json_get(rec, "incomplete")) && cJSON_GetArraySize(lg_json_get(rec, "incomplete")) > 0) < 0)
		return ENOMEM;
	if ((rc = add_tags(b, lg_json_get(rec, "tags"))) || (rc = add_json_text(b, tmp, "input", lg_json_get(rec, "input"))) ||
	    (rc = add_json_text(b, tmp, "output", lg_json_get(rec, "output"))) ||
	    (rc = add_json_text(b, tmp, "metadata", md)))
		return rc;
	return lg_buf_adds(b, "}\n") ? ENOMEM : 0;
}

static int violation_row(lg_buf *b, lg_buf *tmp, uint64_t seq, const cJSON *rec, const char *id, const cJSON *v)
{
	const char *vid = lg_json_str(v, "id");
	int rc;
	if (!vid)
		return 0; /* lg-store indexes only violations with an id */
	if (lg_buf_adds(b, "{\"violationId\":") || lg_json_print_string(b, vid, strlen(vid)) ||
	    lg_buf_adds(b, ",\"externalId\":") || lg_json_print_string(b, id, strlen(id)) ||
	    lg_buf_printf(b, ",\"seq\":%" PRIu64, seq) < 0)
		return ENOMEM;
	static const char *const fields[] = { "policy", "name", "category", "severity", "status", "message",
					      "detectedAt", "acknowledgedAt", "resolvedAt", "resolution", "notes" };
	if ((rc = add_time(b, "traceTimestamp", lg_json_str(rec, "timestamp"))) ||
	    (rc = add_str(b, "integration", lg_json_str(lg_json_get(rec, "source"), "integration"))) ||
	    (rc = add_str(b, "agent", agent_name(rec))))
		return rc;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if ((rc = add_str(b, fields[i], lg_json_str(v, fields[i]))))
			return rc;
	if ((rc = add_json_text(b, tmp, "evidence", lg_json_get(v, "evidence"))))
		return rc;
	return lg_buf_adds(b, "}\n") ? ENOMEM : 0;
}

int ship_rows_add(ship_rows *r, uint64_t seq, const char *text, size_t len, char *why, size_t n)
{
	lg_json_error jerr;
	lg_buf tmp = { 0 };
	cJSON *rec = lg_json_parse(text, len, &jerr);
	const char *id = lg_json_str(rec, "externalId");
	int rc = 0;
	if (!cJSON_IsObject(rec) || !id) {
		snprintf(why, n, rec ? "not a record (an object with a string externalId)" : "invalid JSON: %s", jerr.msg);
		cJSON_Delete(rec);
		return -1;
	}
	size_t tlen = r->traces.len, vlen = r->violations.len, nv = 0;
	rc = trace_row(&r->traces, &tmp, seq, rec, id);
	const cJSON *vs = lg_json_get(rec, "violations");
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v && !rc; v = v->next, nv++)
		rc = violation_row(&r->violations, &tmp, seq, rec, id, v);
	if (rc) { /* nothing half-written */
		r->traces.len = tlen;
		r->violations.len = vlen;
	} else {
		r->ntraces++;
		r->nviolations += nv;
	}
	lg_buf_free(&tmp);
	cJSON_Delete(rec);
	return rc;
}

void ship_rows_reset(ship_rows *r)
{
	r->traces.len = r->violations.len = 0;
	r->ntraces = r->nviolations = 0;
}

void ship_rows_free(ship_rows *r)
{
	lg_buf_free(&r->traces);
	lg_buf_free(&r->violations);
	ship_rows_reset(r);
}
