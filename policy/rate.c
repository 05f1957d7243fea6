/* Rate policies: events per key (a user, a session) inside sliding
 * windows, over the whole stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "json.h"
#include "eval.h"
#include "timeutil.h"

#define RATE_MAX_PER_KEY 100000
#define RATE_BUCKETS 4096

/* Per (policy, key): the trace timestamps inside the longest window,
 * sorted, so memory stays bounded however long the stream. */
typedef struct rate_key {
	struct rate_key *next;
	const pol_policy *p;
	char *key;
	int64_t *ts;
	size_t n, cap;
} rate_key;

struct pol_rate_state {
	rate_key *b[RATE_BUCKETS];
	size_t nkeys;
	int64_t newest;         /* latest timestamp seen, any key */
};

#define RATE_MAX_KEYS 100000

static void free_key(rate_key *k)
{
	free(k->key);
	free(k->ts);
	free(k);
}

/* Many distinct keys (users): forget those whose newest event no window
 * can reach any more. */
static int64_t longest_window(const pol_policy *p)
{
	int64_t w = 0;
	for (size_t i = 0; i < p->nlimits; i++)
		if (p->limits[i].window_ms > w)
			w = p->limits[i].window_ms;
	return w;
}

static void rate_sweep(pol_rate_state *r)
{
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		for (rate_key **pk = &r->b[i]; *pk;) {
			rate_key *k = *pk;
			if (k->n == 0 || k->ts[k->n - 1] <= r->newest - longest_window(k->p)) {
				*pk = k->next;
				free_key(k);
				r->nkeys--;
			} else {
				pk = &k->next;
			}
		}
}

void pol_rate_reset(pol_engine *e)
{
	if (!e->rate)
		return;
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		for (rate_key *k = e->rate->b[i], *nx; k; k = nx) {
			nx = k->next;
			free_key(k);
		}
	free(e->rate);
	e->rate = NULL;
}

static rate_key *rate_lookup(pol_engine *e, const pol_policy *p, const char *key, int64_t ts)
{
	if (!e->rate && !(e->rate = calloc(1, sizeof *e->rate)))
		return NULL;
	if (ts > e->rate->newest)
		e->rate->newest = ts;
	uint64_t h = lg_hash_bytes(key, strlen(key), lg_hash_bytes(&p, sizeof p, LG_HASH_SEED));
	rate_key **slot = &e->rate->b[h % RATE_BUCKETS];
	for (rate_key *k = *slot; k; k = k->next)
		if (k->p == p && strcmp(k->key, key) == 0)
			return k;
	if (e->rate->nkeys >= RATE_MAX_KEYS)
		rate_sweep(e->rate);
	rate_key *k = calloc(1, sizeof *k);
	if (!k || !(k->key = strdup(key))) {
		free(k);
		return NULL;
	}
	e->rate->nkeys++;
	k->p = p;
	k->next = *slot;
	*slot = k;
	return k;
}

/* Index of the first timestamp > t. */
static size_t upper(const int64_t *v, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int rate_insert(rate_key *k, int64_t ts, int64_t longest)
{
	/* forget what no window can reach any more */
	int64_t newest = k->n ? k->ts[k->n - 1] : ts;
	if (ts > newest)
		newest = ts;
	size_t drop = upper(k->ts, k->n, newest - longest);
	if (k->n >= RATE_MAX_PER_KEY && drop == 0)
		drop = 1;
	if (drop) {
		memmove(k->ts, k->ts + drop, (k->n - drop) * sizeof *k->ts);
		k->n -= drop;
	}
	if (ts <= newest - longest)
		return 0;
	if (k->n == k->cap) {
		int64_t *v = lg_grow(k->ts, &k->cap, 16, sizeof *v);
		if (!v)
			return -1;
		k->ts = v;
	}
	size_t at = upper(k->ts, k->n, ts);
	memmove(k->ts + at + 1, k->ts + at, (k->n - at) * sizeof *k->ts);
	k->ts[at] = ts;
	k->n++;
	return 0;
}

void pol_eval_rate(pol_ectx *c, pol_policy *p, const cJSON *rec)
{
	const char *key = NULL, *keypath = NULL;
	int64_t ts, longest = 0;
	for (size_t i = 0; i < p->nkeys && !key; i++) {
		const char *v = lg_json_string(lg_json_path(rec, p->keys[i]));
		if (v && *v) {
			key = v;
			keypath = p->keys[i];
		}
	}
	const char *tss = lg_json_str(rec, "timestamp");
	if (!key || !tss || lg_time_parse(tss, &ts))
		return;
	longest = longest_window(p);
	rate_key *k = rate_lookup(c->e, p, key, ts);
	if (!k || rate_insert(k, ts, longest)) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < p->nlimits; i++) {
		const pol_rate_limit *l = &p->limits[i];
		/* events in (ts - window, ts] seen so far, this one included */
		size_t count = upper(k->ts, k->n, ts) - upper(k->ts, k->n, ts - l->window_ms);
		if (count <= (size_t)l->max)
			continue;
		char a[32], lim[32], det[64], idt[600];
		snprintf(a, sizeof a, "%zu", count);
		snprintf(lim, sizeof lim, "%d", l->max);
		snprintf(det, sizeof det, "per %s", l->label);
		snprintf(idt, sizeof idt, "%s/%s", key, l->label);
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddItemToObject(ev, "match", cJSON_CreateString(key));
		cJSON_AddItemToObject(ev, "actual", lg_json_int((int64_t)count));
		cJSON_AddItemToObject(ev, "limit", lg_json_int(l->max));
		cJSON_AddItemToObject(ev, "window", cJSON_CreateString(l->label));
		pol_var extra[] = { { "actual", a }, { "limit", lim }, { "key", key }, { "window", l->label } };
		pol_add_violation(c, p, NULL, keypath, det, idt, strlen(idt), ev, extra, 4);
	}
}
