#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "t.h"

static char *roundtrip(const char *in)
{
	lg_json_error e;
	cJSON *v = lg_json_parse(in, strlen(in), &e);
	if (!v)
		return NULL;
	char *s = lg_json_to_string(v);
	cJSON_Delete(v);
	return s;
}

static void check_rt(const char *in, const char *want, const char *name)
{
	char *got = roundtrip(in);
	T_STR(got, want, name);
	free(got);
}

static void check_err(const char *in, size_t off, const char *msg, const char *name)
{
	lg_json_error e;
	cJSON *v = lg_json_parse(in, strlen(in), &e);
	T_OK(v == NULL, name);
	if (!v) {
		char n2[128];
		snprintf(n2, sizeof n2, "%s offset", name);
		T_INT(e.offset, off, n2);
		snprintf(n2, sizeof n2, "%s message", name);
		T_STR(e.msg, msg, n2);
	}
	cJSON_Delete(v);
}

int main(void)
{
	check_rt("{\"id\":1234567890123456789}", "{\"id\":1234567890123456789}", "19-digit integer kept exactly");
	check_rt("[1.50,-0,1e400,0.1]", "[1.50,-0,1e400,0.1]", "number text kept verbatim");
	check_rt("\"a\\u0000b\"", "\"a\\u0000b\"", "\\u0000 survives");
	check_rt("\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"", "unicode escapes decoded to UTF-8");
	check_rt("\"\\ud800x\"", "\"\xef\xbf\xbdx\"", "lone surrogate becomes U+FFFD");
	check_rt("{\"a\":\"line\\nbreak\\t\\\"q\\\"\\\\\",\"b\":[true,false,null]}",
		 "{\"a\":\"line\\nbreak\\t\\\"q\\\"\\\\\",\"b\":[true,false,null]}", "escapes round trip");
	check_rt(" { \"a\" : [ ] , \"b\" : { } } ", "{\"a\":[],\"b\":{}}", "white space dropped");
	check_rt("\"\\u001f\"", "\"\\u001f\"", "control char escaped");

	check_err("{\"a\":1,}", 8, "expected a string key", "trailing comma");
	check_err("{\"a\" 1}", 6, "expected ':'", "missing colon");
	check_err("[1,2", 5, "unexpected end of input", "unterminated array");
	check_err("\"abc", 1, "unterminated string", "unterminated string");
	check_err("{} x", 4, "trailing characters after JSON value", "trailing garbage");
	check_err("\"\xff\"", 2, "invalid UTF-8", "invalid UTF-8");
	check_err("\"\xc0\xaf\"", 2, "invalid UTF-8", "overlong UTF-8");
	check_err("01", 2, "trailing characters after JSON value", "leading zero");
	check_err("\"a\tb\"", 3, "control character in string", "raw tab in string");
	check_err("nul", 1, "unexpected character", "bad literal");

	/* Depth limit. */
	char deep[2 * LG_JSON_MAX_DEPTH + 8];
	size_t n = 0;
	for (int i = 0; i < LG_JSON_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < LG_JSON_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	lg_json_error e;
	cJSON *v = lg_json_parse(deep, n, &e);
	T_OK(v != NULL, "nesting at the limit parses");
	cJSON_Delete(v);
	char deeper[2 * LG_JSON_MAX_DEPTH + 8];
	memset(deeper, '[', LG_JSON_MAX_DEPTH + 1);
	deeper[LG_JSON_MAX_DEPTH + 1] = '\0';
	v = lg_json_parse(deeper, strlen(deeper), &e);
	T_OK(v == NULL && strcmp(e.msg, "nesting too deep") == 0, "nesting over the limit rejected");

	/* Helpers. */
	const char *doc = "{\"a\":{\"b\":[10,{\"c\":\"x\"}]},\"n\":2.5,\"s\":\"t\"}";
	v = lg_json_parse(doc, strlen(doc), &e);
	double d = 0;
	T_STR(lg_json_string(lg_json_path(v, "a.b[1].c")), "x", "path with index");
	T_OK(lg_json_path(v, "a.b[5]") == NULL, "path out of range");
	T_OK(lg_json_get_num(v, "n", &d) && d == 2.5, "get_num");
	T_OK(!lg_json_get_num(v, "s", &d), "get_num on string fails");
	lg_json_set(v, "s", cJSON_CreateString("u"));
	lg_json_set(v, "new", lg_json_int(9007199254740993LL));
	char *s = lg_json_to_string(v);
	T_STR(s, "{\"a\":{\"b\":[10,{\"c\":\"x\"}]},\"n\":2.5,\"s\":\"u\",\"new\":9007199254740993}",
	      "replace-or-add keeps one key, exact int");
	free(s);
	cJSON *dup = cJSON_Duplicate(v, 1);
	T_OK(lg_json_equal(v, dup), "duplicate is equal");
	lg_json_set(dup, "n", lg_json_double(2.50));
	T_OK(lg_json_equal(v, dup), "numbers compared by value");
	lg_json_set(dup, "n", lg_json_double(3));
	T_OK(!lg_json_equal(v, dup), "different number differs");
	cJSON_Delete(dup);
	cJSON *taken = lg_json_take(v, "a");
	T_OK(taken && lg_json_get(v, "a") == NULL, "take detaches");
	cJSON_Delete(taken);
	cJSON_Delete(v);

	lg_buf b = { 0 };
	cJSON *num = lg_json_double(0.1 + 0.2);
	lg_json_print(&b, num);
	T_STR(lg_buf_cstr(&b), "0.30000000000000004", "double printed shortest exact");
	cJSON_Delete(num);

	/* The parse arena: same trees, editable, grafted into malloc'd trees
	 * and back, many blocks, reset (ASan poisons what a reset ended). */
	const char *adoc = "{\"id\":\"t1\",\"n\":12345678901234567890,\"s\":\"a\\u0000b\","
			  "\"m\":{\"k\":[1,2,{\"x\":null}]},\"e\":\"\\u00e9\"}";
	for (int round = 0; round < 3; round++) {
		cJSON *heap = lg_json_parse(adoc, strlen(adoc), NULL);
		cJSON *ar = lg_json_parse_arena(adoc, strlen(adoc), NULL);
		T_OK(ar && heap && lg_json_equal(ar, heap), "arena tree equals the malloc'd one");
		b.len = 0;
		lg_json_print(&b, ar);
		T_STR(lg_buf_cstr(&b), "{\"id\":\"t1\",\"n\":12345678901234567890,\"s\":\"a\\u0000b\","
		      "\"m\":{\"k\":[1,2,{\"x\":null}]},\"e\":\"\xc3\xa9\"}", "arena tree prints as the malloc'd one");
		/* arena item into a malloc'd tree, malloc'd item into the arena tree */
		cJSON *m = lg_json_take(ar, "m");
		T_OK(lg_json_set(heap, "moved", m) == 0 && lg_json_path(heap, "moved.k[2]") != NULL,
		     "arena subtree set into a malloc'd tree (its key freed through the hooks)");
		T_OK(lg_json_set(ar, "id", cJSON_CreateString("t2")) == 0, "malloc'd item replaces an arena one");
		T_STR(lg_json_str(ar, "id"), "t2", "replacement readable");
		cJSON_Delete(ar);
		cJSON_DeleteItemFromObject(heap, "moved"); /* an arena subtree deleted before the reset */
		lg_json_arena_reset();
		b.len = 0;
		lg_json_print(&b, heap);
		T_OK(strstr(lg_buf_cstr(&b), "12345678901234567890") != NULL, "malloc'd tree intact after a reset");
		cJSON_Delete(heap);
	}
	/* A document larger than the first block and than what a reset keeps. */
	lg_buf big = { 0 };
	lg_buf_add(&big, "[", 1);
	for (int i = 0; i < 200000; i++)
		lg_buf_add(&big, i ? ",{\"k\":\"vvvvvvvvvvvvvvvv\"}" : "{\"k\":\"vvvvvvvvvvvvvvvv\"}", i ? 25 : 24);
	lg_buf_add(&big, "]", 1);
	cJSON *bv = lg_json_parse_arena(big.data, big.len, NULL);
	T_INT(bv ? cJSON_GetArraySize(bv) : -1, 200000, "large arena parse spans many blocks");
	cJSON_Delete(bv);
	lg_json_arena_reset();
	cJSON *after = lg_json_parse_arena("{\"a\":[true,false]}", 18, NULL);
	T_OK(after && cJSON_IsTrue(lg_json_path(after, "a[0]")), "arena usable after a large reset");
	lg_json_error e2;
	T_OK(lg_json_parse_arena("{\"a\":[1,}", 10, &e2) == NULL && e2.offset == 9, "arena parse error has its offset");
	lg_json_arena_reset();
	/* Root member spans, for lg_stream's splice. */
	const char *sp = " { \"a\" : 1 , \"b\":[2,{\"c\":3}],\"d\\u0041\":\"x\"} ";
	cJSON *spt = lg_json_parse_arena(sp, strlen(sp), NULL);
	size_t f = 0, t = 0;
	T_OK(spt && lg_json_top_span(lg_json_get(spt, "a"), &f, &t) && t - f == 7 && memcmp(sp + f, "\"a\" : 1", 7) == 0,
	     "span of a member: key to value end, inner spaces kept");
	T_OK(lg_json_top_span(lg_json_get(spt, "b"), &f, &t) && memcmp(sp + f, "\"b\":[2,{\"c\":3}]", t - f) == 0,
	     "span of a container member");
	T_OK(lg_json_top_span(lg_json_get(spt, "dA"), &f, &t) && memcmp(sp + f, "\"d\\u0041\":\"x\"", t - f) == 0,
	     "span keeps the key as written");
	T_OK(!lg_json_top_span(lg_json_path(spt, "b[1].c"), &f, &t), "no span for a nested member");
	lg_json_set(spt, "a", cJSON_CreateNumber(5));
	T_OK(!lg_json_top_span(lg_json_get(spt, "a"), &f, &t), "no span for a replaced member");
	cJSON_Delete(spt);
	lg_json_arena_reset();
	lg_buf_free(&big);
	lg_buf_free(&b);
	return t_done();
}
