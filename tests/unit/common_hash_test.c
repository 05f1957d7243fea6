#include <string.h>

#include "hash.h"
#include "json.h"
#include "t.h"

static cJSON *parse(const char *s)
{
	lg_json_error e;
	return lg_json_parse(s, strlen(s), &e);
}

static int same_hash(const char *a, const char *b)
{
	cJSON *x = parse(a), *y = parse(b);
	int r = lg_json_hash(x) == lg_json_hash(y);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return r;
}

int main(void)
{
	T_OK(same_hash("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}"), "key order ignored");
	T_OK(same_hash("{\"a\":1.50}", "{\"a\":1.5}"), "number spelling ignored");
	T_OK(!same_hash("{\"a\":[1,2]}", "{\"a\":[2,1]}"), "array order matters");
	T_OK(!same_hash("{\"a\":\"1\"}", "{\"a\":1}"), "string vs number differ");
	T_OK(!same_hash("{\"a\":null}", "{}"), "null key vs absent differ");
	T_OK(!same_hash("{\"a\":{\"b\":1},\"c\":2}", "{\"a\":{\"c\":2},\"b\":1}"), "pairs bound to their level");
	T_OK(!same_hash("{\"a\":1,\"b\":2}", "{\"a\":2,\"b\":1}"), "values bound to their keys");
	T_OK(!same_hash("[12345678901234567890]", "[12345678901234567891]"), "long integers by their digits");
	T_OK(!same_hash("\"abcdefgh1\"", "\"abcdefgh2\""), "tail bytes count");
	T_OK(!same_hash("\"\"", "[]"), "empty string vs empty array");

	cJSON *r1 = parse("{\"externalId\":\"t\",\"spans\":[],\"violations\":[{\"id\":\"v\"}],\"evaluation\":{\"contentHash\":\"x\"},\"stale\":true}");
	cJSON *r2 = parse("{\"spans\":[],\"externalId\":\"t\"}");
	T_OK(lg_record_content_hash(r1) == lg_record_content_hash(r2), "record hash skips evaluation keys");
	T_OK(lg_json_hash(r1) != lg_json_hash(r2), "plain hash does not skip them");
	cJSON_Delete(r1);
	cJSON_Delete(r2);

	cJSON *a = parse("[12345678901234567890]"), *b = parse("[12345678901234567891]");
	T_OK(!lg_json_equal(a, b), "long integers compared by their digits");
	cJSON_Delete(a);
	cJSON_Delete(b);

	char hex[17];
	T_STR(lg_hash_hex(0xabcULL, hex), "0000000000000abc", "hex is 16 digits");
	T_INT(lg_hash_bytes("a", 1, LG_HASH_SEED), 0xaf63dc4c8601ec8cULL, "FNV-1a of \"a\" (violation ids stay stable)");
	/* Stored checksums depend on these (tests/store_sum.py computes the same). */
	T_INT(lg_hash_data("", 0, LG_HASH_SEED), 0x7c424ff7410964deULL, "data hash of \"\"");
	T_INT(lg_hash_data("a", 1, LG_HASH_SEED), 0x6ea323eb28038b2fULL, "data hash of \"a\"");
	T_INT(lg_hash_data("format", 6, LG_HASH_SEED), 0x6e00a0aacb8850ebULL, "data hash of a short string");
	T_INT(lg_hash_data("0123456789abcdefXYZ", 19, LG_HASH_SEED), 0x356833722fe08cbULL, "data hash: whole words and a tail");
	return t_done();
}
