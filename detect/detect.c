#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "detect.h"
#include "json.h"

/* Longest name we take for an agent; longer values are prose, not names. */
#define NAME_MAX_LEN 200
/* Longest trace name the naming patterns look at. */
#define NAME_PATTERN_MAX 1024

struct detect_cand {
	enum detect_source src;
	const char *name;      /* resolved (alias, known spelling); not NUL-terminated */
	size_t len;
	size_t key_off;        /* into detector.keys */
	int depth;             /* observation: AGENT ancestors */
	const char *id, *parent, *start; /* observation: span id, parentId, startTime */
	size_t idx;            /* order of discovery */
	int unknown;           /* pattern: name neither known nor learned */
};

struct span_link {
	const char *id, *parent;
};

void detect_init(detector *d, detect_rules *r)
{
	memset(d, 0, sizeof *d);
	d->rules = r;
}

void detect_free(detector *d)
{
	free(d->c);
	free(d->links);
	lg_buf_free(&d->keys);
	memset(d, 0, sizeof *d);
}

static int is_sep(char c)
{
	return c == '-' || c == '_' || c == '.' || c == ' ';
}

/* Same agent: equal without case and without separators, as name_map. */
static int name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < alen && is_sep(a[i]))
			i++;
		while (j < blen && is_sep(b[j]))
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		if (tolower((unsigned char)a[i++]) != tolower((unsigned char)b[j++]))
			return 0;
	}
}

/* Trims white space; rejects empty, over-long and placeholder values. */
static const char *clean_name(const char *s, size_t *len)
{
	static const char *const placeholders[] = { "none", "null", "nil", "unknown", "undefined", "n/a", "-" };
	size_t n = strlen(s);
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n || n > NAME_MAX_LEN)
		return NULL;
	for (size_t i = 0; i < sizeof placeholders / sizeof *placeholders; i++)
		if (name_eq(s, n, placeholders[i], strlen(placeholders[i])))
			return NULL;
	*len = n;
	return s;
}

/* A name shaped like one an engineer gave an agent: a capital first, then
 * some lower case ("CustomerService", "Planner"); "langchain", "HTTP" and
 * "v1" are not. */
static int looks_like_name(const char *s, size_t n)
{
	if (!n || !isupper((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (islower((unsigned char)s[i]))
			return 1;
	return 0;
}

/* Aliases first, then the spelling of a name known in advance. */
static void resolve(const detect_rules *r, const char **s, size_t *n)
{
	const char *v = name_map_get(&r->aliases, *s, *n);
	if (!v)
		v = name_map_get(&r->known, *s, *n);
	if (v) {
		*s = v;
		*n = strlen(v);
	}
}

static detect_cand *cand_add(detector *d, enum detect_source src, const char *name, size_t len)
{
	if (d->n == d->cap) {
		detect_cand *c = lg_grow(d->c, &d->cap, 16, sizeof *c);
		if (!c)
			return NULL;
		d->c = c;
	}
	detect_cand *c = &d->c[d->n];
	memset(c, 0, sizeof *c);
	c->src = src;
	c->name = name;
	c->len = len;
	c->idx = d->n++;
	c->key_off = d->keys.len;
	return c;
}

static const char *cand_key(const detector *d, const detect_cand *c)
{
	return d->keys.data + c->key_off;
}

/* Appends the NUL-terminated key text of the candidate just added. */
static int key_add(detector *d, const char *prefix, const char *key)
{
	if (lg_buf_adds(&d->keys, prefix) || lg_buf_adds(&d->keys, key) || lg_buf_addc(&d->keys, '\0'))
		return -1;
	return 0;
}

/* ---- tags ------------------------------------------------------------ */

static int from_tags(detector *d, const cJSON *rec, lg_buf *ex)
{
	const detect_rules *r = d->rules;
	const cJSON *tags = lg_json_get(rec, "tags");
	if (!cJSON_IsArray(tags))
		return 0;
	for (const cJSON *t = tags->child; t; t = t->next) {
		const char *s = lg_json_string(t);
		if (!s)
			continue;
		for (size_t i = 0; i < r->ntag_prefixes; i++) {
			size_t pl = strlen(r->tag_prefixes[i]);
			if (strncasecmp(s, r->tag_prefixes[i], pl) != 0)
				continue;
			size_t n;
			const char *name = clean_name(s + pl, &n);
			if (!name) {
				if (ex)
					lg_buf_printf(ex, "; tag '%s' names no agent", s);
				break;
			}
			resolve(r, &name, &n);
			if (!cand_add(d, SRC_TAG, name, n) || key_add(d, "", s))
				return -1;
			break;
		}
	}
	return 0;
}

/* ---- metadata -------------------------------------------------------- */

/* obj[key], where a dotted key may also be a path of nested objects:
 * "gen_ai.agent.name" finds {"gen_ai.agent.name": …} and
 * {"gen_ai": {"agent": {"name": …}}}. */
static const cJSON *md_lookup(const cJSON *obj, const char *key)
{
	const cJSON *v = lg_json_get(obj, key);
	if (v || !obj)
		return v;
	char part[256];
	for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
		size_t n = (size_t)(dot - key);
		if (n >= sizeof part)
			break;
		memcpy(part, key, n);
		part[n] = '\0';
		const cJSON *sub = lg_json_get(obj, part);
		if (cJSON_IsObject(sub) && (v = md_lookup(sub, dot + 1)))
			return v;
	}
	return NULL;
}

/* The previous run's agent wrote metadata.agent_name: that value is our own
 * output, not a signal. What the record held before (if anything) was kept
 * in the previous agent's conflicts. */
static int own_agent_name(const cJSON *prev, const char *v)
{
	const char *pname = lg_json_str(prev, "name");
	if (!pname || strcmp(pname, v) != 0)
		return 0;
	const char *psrc = lg_json_str(prev, "source"), *pkey = lg_json_str(prev, "key");
	return !(psrc && pkey && strcmp(psrc, "metadata") == 0 && strcmp(pkey, "metadata.agent_name") == 0);
}

static const char *prev_original_agent_name(const cJSON *prev)
{
	const cJSON *cs = lg_json_get(prev, "conflicts");
	for (const cJSON *c = cJSON_IsArray(cs) ? cs->child : NULL; c; c = c->next) {
		const char *k = lg_json_str(c, "key");
		if (k && strcmp(k, "metadata.agent_name") == 0)
			return lg_json_str(c, "name");
	}
	return NULL;
}

static int md_candidate(detector *d, const char *prefix, const char *key, const char *s)
{
	size_t n;
	const char *name = clean_name(s, &n);
	if (!name)
		return 0;
	resolve(d->rules, &name, &n);
	if (!cand_add(d, SRC_METADATA, name, n) || key_add(d, prefix, key))
		return -1;
	return 0;
}

/* One metadata object: its own keys, then the same keys under
 * "attributes" (where OTel-instrumented traces carry gen_ai.agent.*). */
static int from_metadata_obj(detector *d, const cJSON *md, const char *where, const cJSON *prev)
{
	const detect_rules *r = d->rules;
	char prefix[64];
	if (!cJSON_IsObject(md))
		return 0;
	for (int nested = 0; nested < 2; nested++) {
		const cJSON *obj = nested ? lg_json_get(md, "attributes") : md;
		if (!cJSON_IsObject(obj))
			continue;
		snprintf(prefix, sizeof prefix, "%s%s", where, nested ? "attributes." : "");
		for (size_t i = 0; i < r->nmd_keys; i++) {
			const char *s = lg_json_string(md_lookup(obj, r->md_keys[i]));
			if (!s)
				continue;
			if (prev && !nested && strcmp(where, "metadata.") == 0 &&
			    strcmp(r->md_keys[i], "agent_name") == 0 && own_agent_name(prev, s)) {
				s = prev_original_agent_name(prev);
				if (!s)
					continue;
			}
			if (md_candidate(d, prefix, r->md_keys[i], s))
				return -1;
		}
	}
	return 0;
}

/* The first span without a parent: the trace's root observation. */
static const cJSON *root_span(const cJSON *rec, size_t *index)
{
	const cJSON *spans = lg_json_get(rec, "spans");
	size_t i = 0;
	for (const cJSON *s = cJSON_IsArray(spans) ? spans->child : NULL; s; s = s->next, i++)
		if (lg_json_is_null(lg_json_get(s, "parentId"))) {
			*index = i;
			return s;
		}
	return NULL;
}

static int from_metadata(detector *d, const cJSON *rec, const cJSON *prev)
{
	size_t ri = 0;
	if (from_metadata_obj(d, lg_json_get(rec, "metadata"), "metadata.", prev))
		return -1;
	const cJSON *root = root_span(rec, &ri);
	if (root) {
		char where[64];
		snprintf(where, sizeof where, "spans[%zu].metadata.", ri);
		return from_metadata_obj(d, lg_json_get(root, "metadata"), where, NULL);
	}
	return 0;
}

/* agent_version and friends, trace metadata first, then the root span. */
static const char *find_version(const detect_rules *r, const cJSON *rec)
{
	size_t ri = 0;
	const cJSON *root = root_span(rec, &ri);
	const cJSON *mds[2] = { lg_json_get(rec, "metadata"), root ? lg_json_get(root, "metadata") : NULL };
	for (int m = 0; m < 2; m++)
		for (int nested = 0; nested < 2; nested++) {
			const cJSON *obj = nested ? lg_json_get(mds[m], "attributes") : mds[m];
			if (!cJSON_IsObject(obj))
				continue;
			for (size_t i = 0; i < r->nversion_keys; i++) {
				const cJSON *v = md_lookup(obj, r->version_keys[i]);
				const char *s = lg_json_string(v);
				if (!s && cJSON_IsNumber(v))
					s = v->valuestring;  /* the number's original text */
				if (s && *s)
					return s;
			}
		}
	return NULL;
}

/* ---- AGENT observations ---------------------------------------------- */

static int is_agent_span(const cJSON *s)
{
	const char *t = lg_json_str(s, "type"), *ot = lg_json_str(s, "observationType");
	return (t && strcmp(t, "agent") == 0) || (ot && strcasecmp(ot, "AGENT") == 0);
}

static int link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct span_link *)a)->id, ((const struct span_link *)b)->id);
}

static const char *parent_of(const detector *d, const char *id)
{
	struct span_link key = { id, NULL };
	const struct span_link *l = bsearch(&key, d->links, d->nlinks, sizeof key, link_cmp);
	return l ? l->parent : NULL;
}

/* Sorted id -> parentId of every span, to walk up from an AGENT span. */
static int build_links(detector *d, const cJSON *spans)
{
	d->nlinks = 0;
	for (const cJSON *s = spans->child; s; s = s->next) {
		const char *id = lg_json_str(s, "id");
		if (!id)
			continue;
		if (d->nlinks == d->caplinks) {
			struct span_link *l = lg_grow(d->links, &d->caplinks, 64, sizeof *l);
			if (!l)
				return -1;
			d->links = l;
		}
		d->links[d->nlinks].id = id;
		d->links[d->nlinks++].parent = lg_json_str(s, "parentId");
	}
	qsort(d->links, d->nlinks, sizeof *d->links, link_cmp);
	return 0;
}

/* The name an AGENT observation gives its agent: its own name, without
 * OTel's "invoke_agent " prefix, unless generic; then its metadata keys.
 * Returns 1 with name and key filled in, 0 when it names no agent. */
static int observation_name(const detect_rules *r, const cJSON *s, size_t index,
			    const char **name, size_t *n, char *key, size_t keylen)
{
	const char *nm = lg_json_str(s, "name");
	if (nm) {
		static const char *const ops[] = { "invoke_agent ", "create_agent " };
		for (size_t i = 0; i < 2; i++)
			if (strncmp(nm, ops[i], strlen(ops[i])) == 0)
				nm += strlen(ops[i]);
		if ((*name = clean_name(nm, n))) {
			resolve(r, name, n);
			if (!name_map_get(&r->ignore, *name, *n)) {
				snprintf(key, keylen, "spans[%zu].name", index);
				return 1;
			}
		}
	}
	const cJSON *md = lg_json_get(s, "metadata");
	for (int nested = 0; nested < 2; nested++) {
		const cJSON *obj = nested ? lg_json_get(md, "attributes") : md;
		for (size_t i = 0; cJSON_IsObject(obj) && i < r->nmd_keys; i++) {
			const char *v = lg_json_string(md_lookup(obj, r->md_keys[i]));
			if (v && (*name = clean_name(v, n))) {
				resolve(r, name, n);
				snprintf(key, keylen, "spans[%zu].metadata.%s%s", index,
					 nested ? "attributes." : "", r->md_keys[i]);
				return 1;
			}
		}
	}
	return 0;
}

static int obs_cmp(const void *a, const void *b)
{
	const detect_cand *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->start && y->start) {
		int c = strcmp(x->start, y->start);
		if (c)
			return c;
	} else if (x->start != y->start) {
		return x->start ? -1 : 1;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* How many AGENT observations enclose this one (0: outermost). */
static int agent_depth(const detector *d, size_t first, const char *parent)
{
	int depth = 0;
	for (size_t steps = 0; parent && steps <= d->nlinks; steps++) {
		for (size_t i = first; i < d->n; i++)
			if (d->c[i].id && strcmp(d->c[i].id, parent) == 0) {
				depth++;
				break;
			}
		parent = parent_of(d, parent);
	}
	return depth;
}

static int from_observations(detector *d, const cJSON *rec, lg_buf *ex)
{
	const cJSON *spans = lg_json_get(rec, "spans");
	size_t first = d->n, index = 0;
	char key[96];
	if (!cJSON_IsArray(spans))
		return 0;
	for (const cJSON *s = spans->child; s; s = s->next, index++) {
		if (!is_agent_span(s))
			continue;
		const char *name;
		size_t n;
		if (!observation_name(d->rules, s, index, &name, &n, key, sizeof key)) {
			if (ex)
				lg_buf_printf(ex, "; AGENT observation spans[%zu] '%s' names no agent", index,
					      lg_json_str(s, "name") ? lg_json_str(s, "name") : "");
			continue;
		}
		detect_cand *c = cand_add(d, SRC_OBSERVATION, name, n);
		if (!c || key_add(d, "", key))
			return -1;
		c->id = lg_json_str(s, "id");
		c->parent = lg_json_str(s, "parentId");
		c->start = lg_json_str(s, "startTime");
	}
	if (d->n - first > 1) {
		if (build_links(d, spans))
			return -1;
		for (size_t i = first; i < d->n; i++)
			d->c[i].depth = agent_depth(d, first, d->c[i].parent);
		qsort(d->c + first, d->n - first, sizeof *d->c, obs_cmp);
	}
	return 0;
}

/* ---- naming patterns ------------------------------------------------- */

/* The first pattern whose (?<agent>…) capture names an agent: an alias, a
 * known or learned name, or one a stronger signal of the same record names
 * (in that spelling), or, for an unknown one, a name-shaped word that is not
 * a framework's. */
static int from_patterns(detector *d, const cJSON *rec, lg_buf *ex)
{
	const detect_rules *r = d->rules;
	const char *tname = lg_json_str(rec, "name");
	size_t tlen = tname ? strlen(tname) : 0;
	/* A trace name is a short label; a long one is text, not a naming scheme
	 * (and keeps the per-record cost bounded). */
	if (!tname || tlen > NAME_PATTERN_MAX)
		return 0;
	for (size_t i = 0; i < r->npatterns; i++) {
		const detect_pattern *p = &r->patterns[i];
		int rc = pcre2_match(p->code, (PCRE2_SPTR)tname, tlen, 0, 0, p->md, NULL);
		if (rc < 0)
			continue;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
		if (ov[2 * p->group] == PCRE2_UNSET)
			continue;
		const char *name = tname + ov[2 * p->group];
		size_t n = ov[2 * p->group + 1] - ov[2 * p->group];
		while (n && isspace((unsigned char)*name))
			name++, n--;
		while (n && isspace((unsigned char)name[n - 1]))
			n--;
		if (!n || n > NAME_MAX_LEN)
			continue;
		const char *v = name_map_get(&r->aliases, name, n);
		int unknown = 0;
		if (!v)
			v = name_map_get(&r->known, name, n);
		if (!v)
			v = name_map_get(&r->learned, name, n);
		for (size_t k = 0; !v && k < d->n; k++)
			if (d->c[k].src != SRC_PATTERN && name_eq(d->c[k].name, d->c[k].len, name, n)) {
				/* named by a stronger signal of this very record */
				detect_cand *c = cand_add(d, SRC_PATTERN, d->c[k].name, d->c[k].len);
				return !c || key_add(d, "", p->name) ? -1 : 0;
			}
		if (v) {
			name = v;
			n = strlen(v);
		} else if (name_map_get(&r->ignore, name, n) || (!p->any_name && !looks_like_name(name, n))) {
			if (ex)
				lg_buf_printf(ex, "; pattern '%s' matched '%.*s', not an agent name", p->name, (int)n, name);
			continue;
		} else {
			unknown = !p->any_name; /* the rule's author vouches for its captures */
		}
		detect_cand *c = cand_add(d, SRC_PATTERN, name, n);
		if (!c || key_add(d, "", p->name))
			return -1;
		c->unknown = unknown;
		return 0;
	}
	return 0;
}

/* ---- decision and output --------------------------------------------- */

static cJSON *string_n(const char *s, size_t n)
{
	char *t = strndup(s, n);
	cJSON *j = t ? cJSON_CreateString(t) : NULL;
	free(t);
	return j;
}

static int in_list(const detect_cand *const *list, size_t n, const detect_cand *c, int same_source)
{
	for (size_t i = 0; i < n; i++)
		if (name_eq(list[i]->name, list[i]->len, c->name, c->len) && (!same_source || list[i]->src == c->src))
			return 1;
	return 0;
}

static const detect_cand *first_of(const detector *d, enum detect_source src)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].src == src)
			return &d->c[i];
	return NULL;
}

/* Other sources' first candidates, and every metadata value, that name
 * someone else. Several tags or AGENT observations are a multi-agent
 * trace, not a disagreement. */
static size_t find_conflicts(const detector *d, const detect_cand *win, const detect_cand **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n && n < max; i++) {
		const detect_cand *c = &d->c[i];
		int primary = first_of(d, c->src) == c;
		if (c == win || (!primary && c->src != SRC_METADATA))
			continue;
		if (name_eq(c->name, c->len, win->name, win->len) || in_list(out, n, c, 1))
			continue;
		out[n++] = c;
	}
	return n;
}

static cJSON *agent_json(const detector *d, const detect_cand *win, const char *version,
			 const detect_cand **conf, size_t nconf, int confidence)
{
	cJSON *a = cJSON_CreateObject();
	if (!a)
		return NULL;
	int bad = lg_json_set(a, "name", string_n(win->name, win->len)) ||
		  lg_json_set(a, "source", cJSON_CreateString(detect_source_name(win->src))) ||
		  lg_json_set(a, "key", cJSON_CreateString(cand_key(d, win))) ||
		  lg_json_set(a, "confidence", lg_json_double(confidence / 100.0));
	if (!bad && version)
		bad = lg_json_set(a, "version", cJSON_CreateString(version));
	if (!bad && nconf) {
		cJSON *arr = cJSON_CreateArray();
		bad = lg_json_set(a, "conflicts", arr);
		for (size_t i = 0; !bad && i < nconf; i++) {
			cJSON *c = cJSON_CreateObject();
			bad = !c || !cJSON_AddItemToArray(arr, c) ||
			      lg_json_set(c, "name", string_n(conf[i]->name, conf[i]->len)) ||
			      lg_json_set(c, "source", cJSON_CreateString(detect_source_name(conf[i]->src))) ||
			      lg_json_set(c, "key", cJSON_CreateString(cand_key(d, conf[i])));
		}
	}
	if (bad) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* agents[]: the winner, then every agent named by a tag or an AGENT
 * observation; NULL when there are fewer than two. */
static cJSON *agents_json(const detector *d, const detect_cand *win, const detect_cand **seen, int *err)
{
	size_t n = 0;
	seen[n++] = win;
	for (size_t i = 0; i < d->n; i++) {
		const detect_cand *c = &d->c[i];
		if ((c->src == SRC_TAG || c->src == SRC_OBSERVATION) && !in_list(seen, n, c, 0))
			seen[n++] = c;
	}
	if (n < 2)
		return NULL;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < n; i++) {
		cJSON *s = string_n(seen[i]->name, seen[i]->len);
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	*err = !arr;
	return arr;
}

/* Names from tags, metadata and observations, for naming patterns in the
 * records that follow ("customerservice.plan" -> "CustomerService"). */
static void learn(detector *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].src != SRC_PATTERN)
			(void)name_map_put(&d->rules->learned, d->c[i].name, d->c[i].len, NULL);
}

/* metadata.agent_name follows agent.name; a value only we wrote goes when
 * no agent is found any more. */
static int set_metadata_name(cJSON *rec, const detect_cand *win, const cJSON *prev)
{
	cJSON *md = lg_json_get(rec, "metadata");
	if (!win) {
		const char *v = lg_json_str(md, "agent_name");
		if (v && prev && own_agent_name(prev, v))
			cJSON_Delete(lg_json_take(md, "agent_name"));
		return 0;
	}
	if (!md || cJSON_IsNull(md)) {
		if (lg_json_set(rec, "metadata", cJSON_CreateObject()))
			return -1;
		md = lg_json_get(rec, "metadata");
	}
	if (!cJSON_IsObject(md))
		return 0; /* not ours to reshape */
	return lg_json_set(md, "agent_name", string_n(win->name, win->len));
}

static void explain_line(lg_buf *ex, const cJSON *rec, const detector *d, const detect_cand *win,
			 const detect_cand **conf, size_t nconf, int confidence, const char *notes)
{
	const char *id = lg_json_str(rec, "externalId");
	lg_buf_printf(ex, "%s: ", id ? id : "(no externalId)");
	if (!win) {
		const char *nm = lg_json_str(rec, "name");
		lg_buf_printf(ex, "no agent: no agent tag, metadata key or AGENT observation, and trace name '%s' matched no pattern",
			      nm ? nm : "");
	} else {
		lg_buf_printf(ex, "agent %.*s from %s '%s' (confidence %d.%02d)", (int)win->len, win->name,
			      detect_source_name(win->src), cand_key(d, win), confidence / 100, confidence % 100);
		for (size_t i = 0; i < nconf; i++)
			lg_buf_printf(ex, "; conflict: %s '%s' says %.*s", detect_source_name(conf[i]->src),
				      cand_key(d, conf[i]), (int)conf[i]->len, conf[i]->name);
	}
	lg_buf_adds(ex, notes);
}

int detect_record(detector *d, cJSON *rec, lg_buf *explain)
{
	detect_rules *r = d->rules;
	/* The previous run's agent is not a signal; it only tells which
	 * metadata.agent_name we wrote ourselves. Replaced in place (same key
	 * order, so a second run prints the same bytes) once nothing points
	 * into it any more. */
	cJSON *prev = lg_json_get(rec, "agent");
	lg_buf notes = { 0 };
	lg_buf *ex = explain ? &notes : NULL;
	const detect_cand **list = NULL;
	int rc = -1;

	d->n = 0;
	d->keys.len = 0;
	for (int i = 0; i < r->norder; i++) {
		int bad = 0;
		switch (r->order[i]) {
		case SRC_TAG: bad = from_tags(d, rec, ex); break;
		case SRC_METADATA: bad = from_metadata(d, rec, cJSON_IsObject(prev) ? prev : NULL); break;
		case SRC_OBSERVATION: bad = from_observations(d, rec, ex); break;
		case SRC_PATTERN: bad = from_patterns(d, rec, ex); break;
		default: break;
		}
		if (bad)
			goto out;
	}
	const detect_cand *win = NULL;
	for (int i = 0; i < r->norder && !win; i++)
		win = first_of(d, r->order[i]);
	list = malloc((d->n + 1) * sizeof *list);
	if (!list)
		goto out;
	size_t nconf = 0;
	int confidence = 0;
	cJSON *agent = NULL, *agents = NULL;
	if (win) {
		nconf = find_conflicts(d, win, list, d->n);
		confidence = r->confidence[win->src];
		if (nconf)
			confidence -= r->conflict_penalty;
		if (win->unknown)
			confidence -= r->unknown_pattern_penalty;
		if (confidence < 1)
			confidence = 1;
		if (explain)
			explain_line(explain, rec, d, win, list, nconf, confidence, notes.data ? lg_buf_cstr(&notes) : "");
		if (!(agent = agent_json(d, win, find_version(r, rec), list, nconf, confidence)))
			goto out;
		int err = 0;
		agents = agents_json(d, win, list, &err);
		if (err) {
			cJSON_Delete(agent);
			goto out;
		}
	} else {
		if (explain)
			explain_line(explain, rec, d, NULL, NULL, 0, 0, notes.data ? lg_buf_cstr(&notes) : "");
		agent = cJSON_CreateNull();
	}
	/* Before metadata.agent_name is replaced: candidates may point into it. */
	learn(d);
	if (set_metadata_name(rec, win, cJSON_IsObject(prev) ? prev : NULL) ||
	    lg_json_set(rec, "agent", agent)) {
		cJSON_Delete(agents);
		goto out;
	}
	if (agents) {
		if (lg_json_set(rec, "agents", agents))
			goto out;
	} else {
		cJSON_Delete(lg_json_take(rec, "agents"));
	}
	rc = 0;
out:
	free(list);
	lg_buf_free(&notes);
	return rc;
}
