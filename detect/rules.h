/* lg-detect's configuration: which signals to trust in which order, the
 * metadata keys and naming patterns to look at, aliases and known agent
 * names (docs/detect.md). Everything is validated and compiled here, before
 * the first record is read. */
#ifndef LG_DETECT_RULES_H
#define LG_DETECT_RULES_H
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum detect_source { SRC_TAG, SRC_METADATA, SRC_OBSERVATION, SRC_PATTERN, SRC_COUNT };

/* A map from a name to its canonical spelling or alias target; keys match
 * without case and without the separators - _ . and space. Open
 * addressing; bounded by cap when cap > 0. */
typedef struct {
	char **keys;      /* folded */
	char **vals;
	size_t n, size, cap;
} name_map;

typedef struct {
	char *name;       /* shown in errors and as agent.key */
	char *regex;
	pcre2_code *code;
	pcre2_match_data *md;
	int group;        /* number of the (?<agent>...) group */
	int any_name;     /* accept an unknown capture whatever its shape */
} detect_pattern;

typedef struct {
	enum detect_source order[SRC_COUNT];
	int norder;
	int confidence[SRC_COUNT];   /* in hundredths */
	int conflict_penalty;        /* hundredths subtracted when signals disagree */
	int unknown_pattern_penalty; /* hundredths subtracted for a pattern name not known */
	char **tag_prefixes;
	size_t ntag_prefixes;
	char **md_keys;              /* agent name keys, strongest first */
	size_t nmd_keys;
	char **version_keys;
	size_t nversion_keys;
	detect_pattern *patterns;
	size_t npatterns;
	name_map aliases;            /* alias -> agent name */
	name_map known;              /* --known and alias targets: canonical spelling */
	name_map learned;            /* names seen from strong signals so far */
	name_map ignore;             /* generic names that are never an agent */
} detect_rules;

const char *detect_source_name(enum detect_source s);

/* Fills in the defaults (docs/detect.md). Returns 0, or -1 out of memory or
 * when a default pattern fails to compile (err filled in). */
int rules_init(detect_rules *r, char *err, size_t errlen);
/* Merges a rules file (JSON) into r. Returns 0, or -1 with err holding
 * "FILE: RULE: why" (PCRE2's own words for a bad regex). */
int rules_load(detect_rules *r, const char *path, char *err, size_t errlen);
/* Adds agent names known in advance: a JSON array of strings, or one name
 * per line ("#" starts a comment). Returns 0 or -1 with err. */
int rules_load_known(detect_rules *r, const char *path, char *err, size_t errlen);
void rules_free(detect_rules *r);

/* name_map: value for key (case-insensitive), or NULL. */
const char *name_map_get(const name_map *m, const char *key, size_t klen);
/* Adds key -> val (val NULL: the key as given) unless key is present (first one wins) or the map is
 * full. Returns 0, or -1 out of memory. */
int name_map_put(name_map *m, const char *key, size_t klen, const char *val);
void name_map_free(name_map *m);
#endif
