#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "incomplete.h"
#include "json.h"
#include "merge.h"
#include "metrics.h"
#include "timeutil.h"

int merge_conflict(const cJSON *stored, const cJSON *incoming)
{
	const char *a = lg_json_str(lg_json_get(stored, "source"), "integration");
	const char *b = lg_json_str(lg_json_get(incoming, "source"), "integration");
	return a && b && strcmp(a, b) != 0;
}

/* dst := dst deep-merged with src; src's children are moved out. */
static void deep_merge(cJSON *dst, cJSON *src)
{
	cJSON *c;
	while ((c = src->child) != NULL) {
		cJSON_DetachItemViaPointer(src, c);
		cJSON *old = lg_json_get(dst, c->string);
		if (cJSON_IsNull(c)) {
			cJSON_Delete(c);
		} else if (cJSON_IsObject(c) && cJSON_IsObject(old)) {
			deep_merge(old, c);
			cJSON_Delete(c);
		} else {
			const char *k = c->string;
			c->string = NULL;
			lg_json_set(dst, k, c);
			cJSON_free((char *)(uintptr_t)k);
		}
	}
}

/* Moves src[key] into dst[key] (replace-or-add). */
static void move_key(cJSON *dst, cJSON *src, const char *key)
{
	cJSON *v = lg_json_take(src, key);
	if (v)
		lg_json_set(dst, key, v);
}

static cJSON *find_by(const cJSON *arr, const char *key, const char *val)
{
	for (cJSON *c = arr ? arr->child : NULL; c; c = c->next) {
		const char *v = lg_json_str(c, key);
		if (v && strcmp(v, val) == 0)
			return c;
	}
	return NULL;
}

/* How much of a span's final state a copy holds: Langfuse can serve an
 * older copy of a row (no end, no output, fewer tokens) after the newer
 * one, so the fuller copy wins whatever the order they come in. */
static int span_fullness(const cJSON *s)
{
	int n = 0;
	n += lg_json_is_null(lg_json_get(s, "endTime")) ? 0 : 8;
	n += lg_json_is_null(lg_json_get(s, "output")) ? 0 : 4;
	n += lg_json_is_null(lg_json_get(s, "tokens")) ? 0 : 2;
	n += lg_json_is_null(lg_json_get(s, "input")) ? 0 : 1;
	return n;
}

/* Spans united by id, the fuller copy wins (on a tie the incoming one),
 * ordered like lg-map orders them.
 * Returns 1 if the spans changed, 0 if not, -1 out of memory. */
static int merge_spans(cJSON *base, cJSON *in_spans)
{
	cJSON *old = lg_json_get(base, "spans");
	cJSON *saved = cJSON_IsArray(old) ? cJSON_Duplicate(old, 1) : NULL;
	cJSON *out = cJSON_IsArray(old) ? lg_json_take(base, "spans") : cJSON_CreateArray();
	if (!out || (cJSON_IsArray(old) && !saved)) {
		cJSON_Delete(out);
		cJSON_Delete(saved);
		return -1;
	}
	cJSON *s;
	while ((s = in_spans->child) != NULL) {
		cJSON_DetachItemViaPointer(in_spans, s);
		const char *id = lg_json_str(s, "id");
		cJSON *same = id ? find_by(out, "id", id) : NULL;
		if (!same) {
			for (cJSON *c = out->child; c && !id; c = c->next)
				if (lg_json_equal(c, s))
					same = c;
		}
		if (same && span_fullness(s) < span_fullness(same))
			cJSON_Delete(s);
		else if (same)
			cJSON_ReplaceItemViaPointer(out, same, s);
		else
			cJSON_AddItemToArray(out, s);
	}
	if (lg_json_sort_by_time(out, "startTime") < 0) {
		lg_json_set(base, "spans", out);
		cJSON_Delete(saved);
		return -1;
	}
	int changed = !saved || !lg_json_equal(saved, out);
	cJSON_Delete(saved);
	lg_json_set(base, "spans", out);
	return changed;
}

static void merge_tags(cJSON *base, cJSON *in_tags)
{
	cJSON *tags = lg_json_get(base, "tags");
	if (!cJSON_IsArray(tags)) {
		cJSON *t = cJSON_CreateArray();
		lg_json_set(base, "tags", t);
		tags = t;
	}
	cJSON *t;
	while ((t = in_tags->child) != NULL) {
		cJSON_DetachItemViaPointer(in_tags, t);
		int seen = 0;
		for (cJSON *c = tags->child; c && !seen; c = c->next)
			seen = lg_json_equal(c, t);
		if (seen)
			cJSON_Delete(t);
		else
			cJSON_AddItemToArray(tags, t);
	}
}

/* Scores united by id, the incoming copy of one id winning (a score can be
 * edited): a window's scores are the ones whose own time falls in it, so
 * one trace's scores come in several fragments, some holding nothing else.
 * Ordered by time, then id, as lg-fetch orders a trace's scores. */
static void merge_scores(cJSON *base, cJSON *in_scores)
{
	cJSON *scores = lg_json_get(base, "scores");
	if (!cJSON_IsArray(scores)) {
		if (!in_scores->child)
			return;
		scores = cJSON_CreateArray();
		lg_json_set(base, "scores", scores);
	}
	cJSON *s;
	while ((s = in_scores->child) != NULL) {
		cJSON_DetachItemViaPointer(in_scores, s);
		const char *id = lg_json_str(s, "id");
		cJSON *same = id ? find_by(scores, "id", id) : NULL;
		for (cJSON *c = scores->child; c && !same && !id; c = c->next)
			if (lg_json_equal(c, s))
				same = c;
		if (same)
			cJSON_ReplaceItemViaPointer(scores, same, s);
		else
			cJSON_AddItemToArray(scores, s);
	}
	lg_json_sort_by_time(scores, "timestamp");
}

static void merge_timestamp(cJSON *base, cJSON *in)
{
	int64_t a, b;
	const char *sa = lg_json_str(base, "timestamp"), *sb = lg_json_str(in, "timestamp");
	if (!sb)
		return;
	if (!sa || lg_time_parse(sa, &a) != 0 || (lg_time_parse(sb, &b) == 0 && b < a))
		move_key(base, in, "timestamp");
}

static double confidence(const cJSON *agent)
{
	double c;
	if (!cJSON_IsObject(agent))
		return -2;
	return lg_json_get_num(agent, "confidence", &c) ? c : -1;
}

/* Policies that ran for this incoming record: evaluation.policies (strings
 * or objects with an id), else the policies of its violations. */
static int policy_ran(const cJSON *in, const char *policy)
{
	const cJSON *pol = lg_json_get(lg_json_get(in, "evaluation"), "policies");
	const cJSON *list = cJSON_IsArray(pol) ? pol : lg_json_get(in, "violations");
	for (const cJSON *c = list ? list->child : NULL; c; c = c->next) {
		const char *name = cJSON_IsString(c) ? c->valuestring : NULL;
		if (!name)
			name = lg_json_str(c, list == pol ? "id" : "policy");
		if (!name && list == pol)
			name = lg_json_str(c, "name");
		if (name && strcmp(name, policy) == 0)
			return 1;
	}
	return 0;
}

static const char *const kept_fields[] = {
	"status", "notes", "acknowledgedAt", "resolvedAt", "resolution", "detectedAt",
};

static void set_str(cJSON *obj, const char *key, const char *s)
{
	lg_json_set(obj, key, cJSON_CreateString(s));
}

/* A surviving violation keeps what people did with it, unless it had only
 * been resolved automatically: then it is open again. */
static void keep_history(cJSON *nv, const cJSON *old)
{
	const char *res = lg_json_str(old, "resolution");
	if (res && strcmp(res, "no longer detected") == 0)
		return;
	for (size_t i = 0; i < sizeof kept_fields / sizeof *kept_fields; i++) {
		const cJSON *f = lg_json_get(old, kept_fields[i]);
		if (f)
			lg_json_set(nv, kept_fields[i], cJSON_Duplicate(f, 1));
	}
}

/* whole: in's evaluation saw all of the merged record's content. Only
 * then does a stored violation it did not find stop being detected; an
 * evaluation of a fragment (a late span, a trace's later scores) leaves
 * the others as they are, and the merged record is stale until it is
 * evaluated whole. */
static void merge_violations(cJSON *base, cJSON *in, int64_t now_ms, int whole)
{
	cJSON *inv = lg_json_get(in, "violations");
	int evaluated = cJSON_IsArray(lg_json_get(lg_json_get(in, "evaluation"), "policies"));
	if (!evaluated && !cJSON_IsArray(inv))
		return;
	cJSON *old = lg_json_take(base, "violations");
	cJSON *out = cJSON_IsArray(inv) ? lg_json_take(in, "violations") : cJSON_CreateArray();
	for (cJSON *v = out ? out->child : NULL; v; v = v->next) {
		const char *id = lg_json_str(v, "id");
		const cJSON *prev = id && cJSON_IsArray(old) ? find_by(old, "id", id) : NULL;
		if (prev)
			keep_history(v, prev);
		if (!lg_json_get(v, "status"))
			set_str(v, "status", "new");
	}
	char now[32];
	lg_time_format(now_ms, now);
	cJSON *o;
	while (out && cJSON_IsArray(old) && (o = old->child) != NULL) {
		cJSON_DetachItemViaPointer(old, o);
		const char *id = lg_json_str(o, "id"), *pol = lg_json_str(o, "policy");
		if (id && find_by(out, "id", id)) {
			cJSON_Delete(o);
			continue;
		}
		const char *st = lg_json_str(o, "status");
		if (whole && pol && policy_ran(in, pol) && !(st && strcmp(st, "resolved") == 0)) {
			set_str(o, "status", "resolved");
			set_str(o, "resolution", "no longer detected");
			set_str(o, "resolvedAt", now);
		}
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(old);
	if (out)
		lg_json_set(base, "violations", out);
}

int merge_normalize_violations(cJSON *rec)
{
	cJSON *vs = lg_json_get(rec, "violations");
	int n = 0;
	for (cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next)
		if (cJSON_IsObject(v) && !lg_json_get(v, "status"))
			set_str(v, "status", "new"), n++;
	return n;
}

static void merge_agent(cJSON *base, cJSON *in, const cJSON *stored_agent_name)
{
	cJSON *ia = lg_json_get(in, "agent");
	if (!cJSON_IsObject(ia) || confidence(ia) < confidence(lg_json_get(base, "agent"))) {
		/* The stored agent stays, and so does its metadata.agent_name. */
		cJSON *md = lg_json_get(base, "metadata");
		if (cJSON_IsObject(md)) {
			if (stored_agent_name)
				lg_json_set(md, "agent_name", cJSON_Duplicate(stored_agent_name, 1));
			else
				cJSON_Delete(lg_json_take(md, "agent_name"));
		}
		return;
	}
	move_key(base, in, "agent");
	if (!lg_json_is_null(lg_json_get(in, "agents")))
		move_key(base, in, "agents");
}

static int special_key(const char *k)
{
	static const char *const keys[] = {
		"externalId", "spans", "metadata", "source", "tags", "timestamp",
		"agent", "agents", "violations", "evaluation", "stale", "incomplete", "scores",
	};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

static void merge_object_key(cJSON *base, cJSON *in, const char *key)
{
	cJSON *src = lg_json_get(in, key);
	if (!cJSON_IsObject(src))
		return;
	cJSON *dst = lg_json_get(base, key);
	if (cJSON_IsObject(dst))
		deep_merge(dst, src);
	else
		move_key(base, in, key);
}

/* The fields lg_metrics_apply derives from spans. */
static const char *const derived_md[] = { "tokens", "cost", "model", "models", "latency" };

/* A copy of the derived fields, to put back when the spans did not change:
 * a fragment's own totals must never overwrite the whole trace's. */
static cJSON *save_derived(const cJSON *rec)
{
	const cJSON *md = lg_json_get(rec, "metadata");
	cJSON *d = cJSON_CreateObject(), *dm = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof derived_md / sizeof *derived_md; i++) {
		const cJSON *v = lg_json_get(md, derived_md[i]);
		if (v)
			lg_json_set(dm, derived_md[i], cJSON_Duplicate(v, 1));
	}
	lg_json_set(d, "metadata", dm);
	if (lg_json_get(rec, "duration"))
		lg_json_set(d, "duration", cJSON_Duplicate(lg_json_get(rec, "duration"), 1));
	if (lg_json_get(rec, "status"))
		lg_json_set(d, "status", cJSON_Duplicate(lg_json_get(rec, "status"), 1));
	return d;
}

static void restore_derived(cJSON *rec, cJSON *saved)
{
	cJSON *md = lg_json_obj(rec, "metadata"), *sm = lg_json_get(saved, "metadata");
	for (size_t i = 0; i < sizeof derived_md / sizeof *derived_md; i++)
		move_key(md, sm, derived_md[i]);
	move_key(rec, saved, "duration");
	move_key(rec, saved, "status");
}

static int derived_key(const char *k)
{
	for (size_t i = 0; i < sizeof derived_md / sizeof *derived_md; i++)
		if (strcmp(k, derived_md[i]) == 0)
			return 1;
	return 0;
}

/* Langfuse copies the trace metadata of a trace ingested through its
 * legacy path into every observation's (source.legacyIngested, set by
 * lg-map from lg-fetch's mark). lg-fetch removes the copies when the
 * trace's synthetic root is among the rows it read; spans read apart from
 * it are cleaned here, on the merged record: span metadata entries whose
 * key and value are the trace's go (the keys lg-map computes, whose trace
 * values it replaced, aside), as one complete read would have left them. */
static void drop_copied_metadata(cJSON *base)
{
	const cJSON *tm = lg_json_get(base, "metadata");
	if (!cJSON_IsTrue(lg_json_get(lg_json_get(base, "source"), "legacyIngested")) || !cJSON_IsObject(tm))
		return;
	cJSON *spans = lg_json_get(base, "spans");
	for (cJSON *sp = cJSON_IsArray(spans) ? spans->child : NULL; sp; sp = sp->next) {
		cJSON *md = lg_json_get(sp, "metadata");
		for (cJSON *c = cJSON_IsObject(md) ? md->child : NULL, *next; c; c = next) {
			next = c->next;
			const cJSON *t = c->string && !derived_key(c->string) ? lg_json_get(tm, c->string) : NULL;
			if (t && lg_json_equal(c, t))
				cJSON_Delete(cJSON_DetachItemViaPointer(md, c));
		}
	}
}

int merge_record(cJSON *base, cJSON *in, int64_t now_ms)
{
	const cJSON *old_spans = lg_json_get(base, "spans");
	cJSON *derived = cJSON_IsArray(old_spans) && old_spans->child ? save_derived(base) : NULL;
	cJSON *name = lg_json_get(lg_json_get(base, "metadata"), "agent_name");
	cJSON *stored_agent_name = name ? cJSON_Duplicate(name, 1) : NULL;
	int spans_changed = 0;

	/* Violations last: whether their evaluation saw the whole record is
	 * known once the rest is merged. */
	cJSON *in_violations = lg_json_take(in, "violations"), *in_evaluation = lg_json_take(in, "evaluation");
	cJSON *spans = lg_json_get(in, "spans");
	if (cJSON_IsArray(spans) && (spans_changed = merge_spans(base, spans)) < 0) {
		cJSON_Delete(stored_agent_name);
		cJSON_Delete(derived);
		cJSON_Delete(in_violations);
		cJSON_Delete(in_evaluation);
		return -1;
	}
	merge_object_key(base, in, "metadata");
	merge_object_key(base, in, "source");
	if (cJSON_IsArray(lg_json_get(in, "tags")))
		merge_tags(base, lg_json_get(in, "tags"));
	if (cJSON_IsArray(lg_json_get(in, "scores")))
		merge_scores(base, lg_json_get(in, "scores"));
	merge_timestamp(base, in);
	merge_agent(base, in, stored_agent_name);
	cJSON_Delete(stored_agent_name);

	cJSON *c = in->child;
	while (c) {
		cJSON *next = c->next;
		if (c->string && !special_key(c->string) && !cJSON_IsNull(c)) {
			cJSON_DetachItemViaPointer(in, c);
			const char *k = c->string;
			c->string = NULL;
			lg_json_set(base, k, c);
			cJSON_free((char *)(uintptr_t)k);
		}
		c = next;
	}
	int rc = 0;
	if (spans_changed)
		rc = lg_metrics_apply(base, LG_METRICS_DURATION_FROM_SPANS);
	else if (derived)
		restore_derived(base, derived);
	cJSON_Delete(derived);
	drop_copied_metadata(base);
	/* Whole or not is a property of the merged spans, never of a fragment. */
	if (rc == 0 && lg_incomplete_apply(base) < 0)
		rc = -1;
	const char *seen = lg_json_str(in_evaluation, "contentHash");
	char hex[17];
	if (seen)
		merge_content_hash(base, hex);
	if (in_violations)
		lg_json_set(in, "violations", in_violations);
	if (in_evaluation)
		lg_json_set(in, "evaluation", in_evaluation);
	merge_violations(base, in, now_ms, !seen || strcmp(seen, hex) == 0);
	if (cJSON_IsObject(lg_json_get(in, "evaluation")))
		move_key(base, in, "evaluation");
	return rc;
}

void merge_content_hash(const cJSON *rec, char out[17])
{
	lg_hash_hex(lg_record_content_hash(rec), out);
}

int merge_mark_stale(cJSON *rec)
{
	char hex[17];
	const char *want = lg_json_str(lg_json_get(rec, "evaluation"), "contentHash");
	int stale = 1;
	if (want) { /* never evaluated: stale without hashing */
		merge_content_hash(rec, hex);
		stale = strcmp(want, hex) != 0;
	}
	if (stale)
		lg_json_set(rec, "stale", cJSON_CreateTrue());
	else
		cJSON_Delete(lg_json_take(rec, "stale"));
	return stale;
}
