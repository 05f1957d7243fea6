#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "re.h"
#include "rules.h"

#define LEARNED_MAX 4096
#define NAME_KEY_MAX 256
#define KNOWN_MAX 100000

static const char *const source_names[SRC_COUNT] = { "tag", "metadata", "observation", "pattern" };

const char *detect_source_name(enum detect_source s)
{
	return s < SRC_COUNT ? source_names[s] : "?";
}

static int source_from_name(const char *s, enum detect_source *out)
{
	for (int i = 0; i < SRC_COUNT; i++)
		if (strcmp(s, source_names[i]) == 0) {
			*out = (enum detect_source)i;
			return 0;
		}
	return -1;
}

/* ---- name_map -------------------------------------------------------- */

/* Names compare without case and without separators, so "cs-bot",
 * "CS_Bot" and "csbot" are one key, and "customer-service" finds
 * "CustomerService". Returns the folded length, or (size_t)-1 when the
 * name is too long to be a name. */
static size_t fold(const char *s, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '-' || c == '_' || c == ' ' || c == '.')
			continue;
		if (k + 1 >= outlen)
			return (size_t)-1;
		out[k++] = (char)tolower(c);
	}
	out[k] = '\0';
	return k;
}

static size_t fold_hash(const char *s)
{
	size_t h = (size_t)1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

static const char *lookup_folded(const name_map *m, const char *f)
{
	for (size_t i = fold_hash(f) & (m->size - 1);; i = (i + 1) & (m->size - 1)) {
		if (!m->keys[i])
			return NULL;
		if (strcmp(m->keys[i], f) == 0)
			return m->vals[i];
	}
}

const char *name_map_get(const name_map *m, const char *key, size_t klen)
{
	char f[NAME_KEY_MAX];
	if (!m->size || fold(key, klen, f, sizeof f) == (size_t)-1)
		return NULL;
	return lookup_folded(m, f);
}

static int name_map_grow(name_map *m)
{
	size_t size = m->size ? m->size * 2 : 64;
	char **keys = calloc(size, sizeof *keys), **vals = calloc(size, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->size; i++) {
		if (!m->keys[i])
			continue;
		size_t j = fold_hash(m->keys[i]) & (size - 1);
		while (keys[j])
			j = (j + 1) & (size - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->size = size;
	return 0;
}

int name_map_put(name_map *m, const char *key, size_t klen, const char *val)
{
	char f[NAME_KEY_MAX];
	if (fold(key, klen, f, sizeof f) == (size_t)-1 || (m->size && lookup_folded(m, f)) ||
	    (m->cap && m->n >= m->cap))
		return 0;
	if ((m->n + 1) * 2 > m->size && name_map_grow(m))
		return -1;
	char *k = strdup(f), *v = val ? strdup(val) : strndup(key, klen);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	size_t i = fold_hash(f) & (m->size - 1);
	while (m->keys[i])
		i = (i + 1) & (m->size - 1);
	m->keys[i] = k;
	m->vals[i] = v;
	m->n++;
	return 0;
}

void name_map_free(name_map *m)
{
	for (size_t i = 0; i < m->size; i++) {
		free(m->keys[i]);
		free(m->vals[i]);
	}
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* ---- defaults -------------------------------------------------------- */

static const char *const default_tag_prefixes[] = { "agent:", "agent=" };
static const char *const default_md_keys[] = {
	"agent_name", "agentName", "agent", "agent.name", "agent_id",
	"gen_ai.agent.name", "gen_ai.agent.id",
};
static const char *const default_version_keys[] = {
	"agent_version", "agentVersion", "agent.version", "gen_ai.agent.version",
};
static const struct { const char *name, *regex; int any_name; } default_patterns[] = {
	/* OTel GenAI span names: "invoke_agent {gen_ai.agent.name}"; the
	 * convention itself vouches for the name. */
	{ "invoke_agent Agent", "^(?:invoke_agent|create_agent) (?<agent>[^\\s]+)$", 1 },
	{ "Agent.operation", "^(?<agent>[A-Za-z][A-Za-z0-9_-]*)\\.[A-Za-z_][A-Za-z0-9_-]*$", 0 },
	{ "agent/operation", "^(?<agent>[A-Za-z][A-Za-z0-9_-]*)/[A-Za-z_][A-Za-z0-9_-]*$", 0 },
	{ "agent:operation", "^(?<agent>[A-Za-z][A-Za-z0-9_-]*):\\s*[A-Za-z_][A-Za-z0-9_-]*$", 0 },
	{ "[Agent] operation", "^\\[(?<agent>[A-Za-z][A-Za-z0-9 _-]*)\\]\\s*\\S.*$", 0 },
};
/* Framework, vendor and placeholder names that show up where an agent name
 * would, but never name one (observation names and naming patterns). */
static const char *const default_ignore[] = {
	"agent", "agents", "agentexecutor", "agent_executor", "invoke_agent", "create_agent",
	"openai", "azureopenai", "azure", "anthropic", "langchain", "langgraph", "langfuse",
	"llamaindex", "llama_index", "llama-index", "litellm", "bedrock", "vertexai", "gemini",
	"google", "cohere", "mistral", "mistralai", "groq", "ollama", "huggingface", "crewai",
	"autogen", "dspy", "haystack", "semantic_kernel", "runnable", "runnablesequence",
	"runnablelambda", "chain", "chatopenai", "chatanthropic", "http", "https", "api", "app",
};

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof **v);
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Compiles one pattern; on error, err names the file, the rule and PCRE2's
 * message. */
static int pattern_add(detect_rules *r, const char *file, const char *name, const char *regex,
		       int any_name, char *err, size_t errlen)
{
	char why[320];
	pcre2_code *re = lg_re_compile(regex, why, sizeof why);
	if (!re) {
		seterr(err, errlen, "%s: pattern '%s': %s", file, name, why);
		return -1;
	}
	int group = pcre2_substring_number_from_name(re, (PCRE2_SPTR) "agent");
	if (group < 0) {
		pcre2_code_free(re);
		seterr(err, errlen, "%s: pattern '%s': no named group (?<agent>...)", file, name);
		return -1;
	}
	detect_pattern *np = realloc(r->patterns, (r->npatterns + 1) * sizeof *np);
	if (!np) {
		pcre2_code_free(re);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	r->patterns = np;
	detect_pattern *p = &np[r->npatterns];
	memset(p, 0, sizeof *p);
	p->code = re;
	p->group = group;
	p->any_name = any_name;
	p->md = pcre2_match_data_create_from_pattern(re, NULL);
	p->name = strdup(name);
	p->regex = strdup(regex);
	r->npatterns++;
	if (!p->md || !p->name || !p->regex) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int rules_init(detect_rules *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < SRC_COUNT; i++)
		r->order[i] = (enum detect_source)i;
	r->norder = SRC_COUNT;
	r->confidence[SRC_TAG] = 95;
	r->confidence[SRC_METADATA] = 90;
	r->confidence[SRC_OBSERVATION] = 80;
	r->confidence[SRC_PATTERN] = 60;
	r->conflict_penalty = 20;
	r->unknown_pattern_penalty = 10;
	r->learned.cap = LEARNED_MAX;
	r->known.cap = KNOWN_MAX;
	for (size_t i = 0; i < N(default_tag_prefixes); i++)
		if (strv_add(&r->tag_prefixes, &r->ntag_prefixes, default_tag_prefixes[i]))
			goto oom;
	for (size_t i = 0; i < N(default_md_keys); i++)
		if (strv_add(&r->md_keys, &r->nmd_keys, default_md_keys[i]))
			goto oom;
	for (size_t i = 0; i < N(default_version_keys); i++)
		if (strv_add(&r->version_keys, &r->nversion_keys, default_version_keys[i]))
			goto oom;
	for (size_t i = 0; i < N(default_ignore); i++)
		if (name_map_put(&r->ignore, default_ignore[i], strlen(default_ignore[i]), default_ignore[i]))
			goto oom;
	for (size_t i = 0; i < N(default_patterns); i++)
		if (pattern_add(r, "(built-in)", default_patterns[i].name, default_patterns[i].regex,
				default_patterns[i].any_name, err, errlen))
			return -1;
	return 0;
oom:
	seterr(err, errlen, "out of memory");
	return -1;
}

void rules_free(detect_rules *r)
{
	strv_free(r->tag_prefixes, r->ntag_prefixes);
	strv_free(r->md_keys, r->nmd_keys);
	strv_free(r->version_keys, r->nversion_keys);
	for (size_t i = 0; i < r->npatterns; i++) {
		pcre2_match_data_free(r->patterns[i].md);
		pcre2_code_free(r->patterns[i].code);
		free(r->patterns[i].name);
		free(r->patterns[i].regex);
	}
	free(r->patterns);
	name_map_free(&r->aliases);
	name_map_free(&r->known);
	name_map_free(&r->learned);
	name_map_free(&r->ignore);
	memset(r, 0, sizeof *r);
}

/* ---- rules file ------------------------------------------------------ */

static int read_file(const char *path, lg_buf *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (lg_buf_add(b, chunk, n)) {
			fclose(f);
			seterr(err, errlen, "%s: out of memory", path);
			return -1;
		}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		seterr(err, errlen, "%s: read error", path);
		return -1;
	}
	lg_buf_cstr(b);
	return 0;
}

static cJSON *parse_file(const char *path, char *err, size_t errlen)
{
	lg_buf b = { 0 };
	if (read_file(path, &b, err, errlen)) {
		lg_buf_free(&b);
		return NULL;
	}
	lg_json_error je;
	cJSON *root = lg_json_parse(b.data ? b.data : "", b.len, &je);
	lg_buf_free(&b);
	if (!root)
		seterr(err, errlen, "%s: invalid JSON at byte %zu: %s", path, je.offset, je.msg);
	return root;
}

/* A non-empty array of non-empty strings, appended to v. */
static int load_strings(const char *file, const char *key, const cJSON *arr, char ***v, size_t *n,
			char *err, size_t errlen)
{
	int i = 0;
	if (!cJSON_IsArray(arr)) {
		seterr(err, errlen, "%s: %s: must be an array of strings", file, key);
		return -1;
	}
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		const char *s = lg_json_string(c);
		if (!s || !*s) {
			seterr(err, errlen, "%s: %s[%d]: must be a non-empty string", file, key, i);
			return -1;
		}
		if (strv_add(v, n, s)) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int load_precedence(detect_rules *r, const char *file, const cJSON *arr, char *err, size_t errlen)
{
	int n = 0, seen[SRC_COUNT] = { 0 };
	if (!cJSON_IsArray(arr) || !arr->child) {
		seterr(err, errlen, "%s: precedence: must be a non-empty array of sources", file);
		return -1;
	}
	for (const cJSON *c = arr->child; c; c = c->next, n++) {
		const char *s = lg_json_string(c);
		enum detect_source src;
		if (!s || source_from_name(s, &src)) {
			seterr(err, errlen, "%s: precedence[%d]: unknown source (want tag, metadata, observation or pattern)", file, n);
			return -1;
		}
		if (seen[src]++) {
			seterr(err, errlen, "%s: precedence[%d]: '%s' listed twice", file, n, s);
			return -1;
		}
		r->order[n] = src;
	}
	r->norder = n;
	return 0;
}

static int load_confidence(detect_rules *r, const char *file, const cJSON *obj, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		seterr(err, errlen, "%s: confidence: must be an object", file);
		return -1;
	}
	for (const cJSON *c = obj->child; c; c = c->next) {
		double v;
		enum detect_source src;
		int *slot;
		if (strcmp(c->string, "conflictPenalty") == 0)
			slot = &r->conflict_penalty;
		else if (strcmp(c->string, "unknownPatternPenalty") == 0)
			slot = &r->unknown_pattern_penalty;
		else if (source_from_name(c->string, &src) == 0)
			slot = &r->confidence[src];
		else {
			seterr(err, errlen, "%s: confidence.%s: unknown key", file, c->string);
			return -1;
		}
		if (!lg_json_num(c, &v) || v < 0 || v > 1) {
			seterr(err, errlen, "%s: confidence.%s: must be a number from 0 to 1", file, c->string);
			return -1;
		}
		*slot = (int)(v * 100 + 0.5);
	}
	return 0;
}

static int load_patterns(detect_rules *r, const char *file, const cJSON *arr, char *err, size_t errlen)
{
	int i = 0;
	if (!cJSON_IsArray(arr)) {
		seterr(err, errlen, "%s: patterns: must be an array", file);
		return -1;
	}
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		char label[32];
		snprintf(label, sizeof label, "patterns[%d]", i);
		const char *regex = lg_json_string(c), *name = label;
		int any = 0;
		if (cJSON_IsObject(c)) {
			regex = lg_json_str(c, "regex");
			if (lg_json_str(c, "name"))
				name = lg_json_str(c, "name");
			const cJSON *a = lg_json_get(c, "anyName");
			if (a && !cJSON_IsBool(a)) {
				seterr(err, errlen, "%s: pattern '%s': anyName must be true or false", file, name);
				return -1;
			}
			any = cJSON_IsTrue(a);
			for (const cJSON *k = c->child; k; k = k->next)
				if (strcmp(k->string, "regex") && strcmp(k->string, "name") && strcmp(k->string, "anyName")) {
					seterr(err, errlen, "%s: pattern '%s': unknown key '%s'", file, name, k->string);
					return -1;
				}
		}
		if (!regex || !*regex) {
			seterr(err, errlen, "%s: pattern '%s': needs a non-empty \"regex\" string", file, name);
			return -1;
		}
		if (pattern_add(r, file, name, regex, any, err, errlen))
			return -1;
	}
	return 0;
}

static int load_aliases(detect_rules *r, const char *file, const cJSON *obj, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		seterr(err, errlen, "%s: aliases: must be an object {\"alias\": \"AgentName\"}", file);
		return -1;
	}
	for (const cJSON *c = obj->child; c; c = c->next) {
		const char *to = lg_json_string(c);
		if (!*c->string || !to || !*to) {
			seterr(err, errlen, "%s: aliases.%s: must map a name to a non-empty string", file, c->string);
			return -1;
		}
		if (name_map_put(&r->aliases, c->string, strlen(c->string), to) ||
		    name_map_put(&r->known, to, strlen(to), to)) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int add_known(detect_rules *r, const char *s, size_t n)
{
	char *name = strndup(s, n);
	int rc = name ? name_map_put(&r->known, s, n, name) : -1;
	free(name);
	return rc;
}

static int load_names(detect_rules *r, name_map *m, const char *file, const char *key,
		      const cJSON *arr, char *err, size_t errlen)
{
	char **v = NULL;
	size_t n = 0;
	int rc = load_strings(file, key, arr, &v, &n, err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((m == &r->known ? add_known(r, v[i], strlen(v[i])) : name_map_put(m, v[i], strlen(v[i]), v[i]))) {
			seterr(err, errlen, "out of memory");
			rc = -1;
		}
	strv_free(v, n);
	return rc;
}

int rules_load(detect_rules *r, const char *path, char *err, size_t errlen)
{
	cJSON *root = parse_file(path, err, errlen);
	int rc = 0;
	if (!root)
		return -1;
	if (!cJSON_IsObject(root)) {
		seterr(err, errlen, "%s: must hold a JSON object", path);
		cJSON_Delete(root);
		return -1;
	}
	const cJSON *dp = lg_json_get(root, "defaultPatterns");
	if (dp && !cJSON_IsBool(dp)) {
		seterr(err, errlen, "%s: defaultPatterns: must be true or false", path);
		rc = -1;
	} else if (cJSON_IsFalse(dp)) {
		/* Drop the built-in patterns; the file's own come in below. */
		for (size_t i = 0; i < r->npatterns; i++) {
			pcre2_match_data_free(r->patterns[i].md);
			pcre2_code_free(r->patterns[i].code);
			free(r->patterns[i].name);
			free(r->patterns[i].regex);
		}
		r->npatterns = 0;
	}
	/* A file's patterns go before the built-in ones: the user knows best. */
	size_t builtin = r->npatterns;
	for (const cJSON *c = root->child; rc == 0 && c; c = c->next) {
		const char *k = c->string;
		if (strcmp(k, "precedence") == 0)
			rc = load_precedence(r, path, c, err, errlen);
		else if (strcmp(k, "confidence") == 0)
			rc = load_confidence(r, path, c, err, errlen);
		else if (strcmp(k, "tagPrefixes") == 0)
			rc = load_strings(path, k, c, &r->tag_prefixes, &r->ntag_prefixes, err, errlen);
		else if (strcmp(k, "metadataKeys") == 0)
			rc = load_strings(path, k, c, &r->md_keys, &r->nmd_keys, err, errlen);
		else if (strcmp(k, "versionKeys") == 0)
			rc = load_strings(path, k, c, &r->version_keys, &r->nversion_keys, err, errlen);
		else if (strcmp(k, "patterns") == 0)
			rc = load_patterns(r, path, c, err, errlen);
		else if (strcmp(k, "aliases") == 0)
			rc = load_aliases(r, path, c, err, errlen);
		else if (strcmp(k, "known") == 0)
			rc = load_names(r, &r->known, path, k, c, err, errlen);
		else if (strcmp(k, "ignore") == 0)
			rc = load_names(r, &r->ignore, path, k, c, err, errlen);
		else if (strcmp(k, "defaultPatterns") != 0) {
			seterr(err, errlen, "%s: unknown key '%s'", path, k);
			rc = -1;
		}
	}
	if (rc == 0 && builtin && r->npatterns > builtin) {
		/* rotate: file patterns [builtin, n) to the front */
		size_t nf = r->npatterns - builtin;
		detect_pattern *tmp = malloc(builtin * sizeof *tmp);
		if (!tmp) {
			seterr(err, errlen, "out of memory");
			rc = -1;
		} else {
			memcpy(tmp, r->patterns, builtin * sizeof *tmp);
			memmove(r->patterns, r->patterns + builtin, nf * sizeof *tmp);
			memcpy(r->patterns + nf, tmp, builtin * sizeof *tmp);
			free(tmp);
		}
	}
	cJSON_Delete(root);
	return rc;
}

int rules_load_known(detect_rules *r, const char *path, char *err, size_t errlen)
{
	lg_buf b = { 0 };
	int rc = 0;
	if (read_file(path, &b, err, errlen)) {
		lg_buf_free(&b);
		return -1;
	}
	const char *p = b.data ? b.data : "", *end = p + b.len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p == '[') {
		lg_json_error je;
		cJSON *arr = lg_json_parse(b.data, b.len, &je);
		if (!arr) {
			seterr(err, errlen, "%s: invalid JSON at byte %zu: %s", path, je.offset, je.msg);
			rc = -1;
		} else {
			rc = load_names(r, &r->known, path, "known", arr, err, errlen);
		}
		cJSON_Delete(arr);
		lg_buf_free(&b);
		return rc;
	}
	/* One name per line; blank lines and "#" comments skipped. */
	for (p = b.data; rc == 0 && p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p;
		p = nl ? nl + 1 : end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (add_known(r, s, (size_t)(e - s))) {
			seterr(err, errlen, "out of memory");
			rc = -1;
		}
	}
	lg_buf_free(&b);
	return rc;
}
