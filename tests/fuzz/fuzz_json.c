/* libFuzzer target: common/json.c. Whatever parses must print to text that
 * parses again and prints identically (print(parse(x)) is a fixed point),
 * and must equal its reparse by lg_json_equal; lg_json_path must not crash
 * on any path. The parse arena must give the same verdict and the same
 * print, and each root member's span must hold exactly that member (what
 * lg_stream's splice copies). fuzz-links: */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int has_duplicate_keys(const cJSON *v)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsObject(v))
			for (const cJSON *d = c->next; d; d = d->next)
				if (c->string && d->string && strcmp(c->string, d->string) == 0)
					return 1;
		if (has_duplicate_keys(c))
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	lg_json_error err, aerr;
	cJSON *v = lg_json_parse((const char *)data, size, &err);
	cJSON *a = lg_json_parse_arena((const char *)data, size, &aerr);
	if (!v != !a || (!v && (err.offset != aerr.offset || strcmp(err.msg, aerr.msg) != 0))) {
		fprintf(stderr, "the arena parse's verdict differs\n");
		abort();
	}
	if (a) {
		lg_buf pa = { 0 }, pm = { 0 };
		if (lg_json_print(&pa, a) || lg_json_print(&pm, v) || pa.len != pm.len || memcmp(pa.data, pm.data, pa.len)) {
			fprintf(stderr, "the arena tree prints differently\n");
			abort();
		}
		for (const cJSON *m = cJSON_IsObject(a) ? a->child : NULL; m; m = m->next) {
			size_t from, to;
			if (!lg_json_top_span(m, &from, &to) || from >= to || to > size) {
				fprintf(stderr, "root member without a span\n");
				abort();
			}
			/* "{" span "}" parses to an object holding just this member. */
			lg_buf one = { 0 };
			lg_buf_addc(&one, '{');
			lg_buf_add(&one, data + from, to - from);
			lg_buf_addc(&one, '}');
			cJSON *o = lg_json_parse(one.data, one.len, NULL);
			lg_buf po = { 0 }, pmem = { 0 };
			/* printed, not lg_json_equal: duplicate keys defeat that */
			if (!o || !o->child || o->child->next || strcmp(o->child->string, m->string) != 0 ||
			    lg_json_print(&po, o->child) || lg_json_print(&pmem, m) || po.len != pmem.len ||
			    memcmp(po.data, pmem.data, po.len) != 0) {
				fprintf(stderr, "a root member's span does not hold that member\n");
				abort();
			}
			cJSON_Delete(o);
			lg_buf_free(&one);
			lg_buf_free(&po);
			lg_buf_free(&pmem);
		}
		lg_buf_free(&pa);
		lg_buf_free(&pm);
		cJSON_Delete(a);
	}
	lg_json_arena_reset();
	if (!v) {
		if (!err.msg || err.offset < 1 || err.offset > size + 1) {
			fprintf(stderr, "bad error report: offset %zu of %zu\n", err.offset, size);
			abort();
		}
		return 0;
	}
	lg_buf b1 = { 0 }, b2 = { 0 };
	if (lg_json_print(&b1, v) != 0)
		abort();
	cJSON *w = lg_json_parse(b1.data, b1.len, &err);
	if (!w) {
		fprintf(stderr, "printed text does not parse: %s at byte %zu\n", err.msg, err.offset);
		abort();
	}
	if (lg_json_print(&b2, w) != 0)
		abort();
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0) {
		fprintf(stderr, "print(parse(print(parse(x)))) differs\n");
		abort();
	}
	/* lg_json_equal looks keys up by name, so duplicate keys defeat it. */
	if (!has_duplicate_keys(v) && (!lg_json_equal(v, w) || lg_json_hash(v) != lg_json_hash(w))) {
		fprintf(stderr, "reparse not equal to the original\n");
		abort();
	}
	/* Paths: a few fixed ones plus the input itself (bounded). */
	static const char *paths[] = { "a", "a.b", "a[0]", "[0]", "metadata.tokens.total", "spans[1].input", "x[", "[-1]", "." };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		(void)lg_json_path(v, paths[i]);
	if (size < 300) {
		char *p = malloc(size + 1);
		memcpy(p, data, size);
		p[size] = '\0';
		(void)lg_json_path(v, p);
		free(p);
	}
	lg_buf_free(&b1);
	lg_buf_free(&b2);
	cJSON_Delete(v);
	cJSON_Delete(w);
	return 0;
}
