/* lg_incomplete_reasons / lg_incomplete_apply: why a record is not whole. */
#include <stdlib.h>
#include <string.h>

#include "incomplete.h"
#include "json.h"
#include "t.h"

static char *reasons(const char *rec_text)
{
	lg_json_error e;
	cJSON *rec = lg_json_parse(rec_text, strlen(rec_text), &e);
	if (!rec)
		return strdup("(bad test JSON)");
	lg_incomplete_apply(rec);
	const cJSON *v = lg_json_get(rec, "incomplete");
	char *s = v ? lg_json_to_string(v) : NULL;
	cJSON_Delete(rec);
	return s ? s : strdup("(absent)");
}

static void check(const char *rec, const char *want, const char *name)
{
	char *got = reasons(rec);
	T_STR(got, want, name);
	free(got);
}

#define END "\"endTime\":\"2026-11-27T10:00:01.000Z\""

int main(void)
{
	check("{\"incomplete\":null,\"spans\":[{\"id\":\"r\",\"parentId\":null," END "},{\"id\":\"a\",\"parentId\":\"r\"," END "}]}",
	      "null", "whole: a root, every parent present, every span ended");
	check("{\"incomplete\":null,\"spans\":[]}", "null", "no spans: whole");
	check("{}", "(absent)", "whole without the key: left without it");
	check("{\"spans\":[{\"id\":\"r\"}]}", "[\"open-spans\"]", "incomplete without the key: set");
	check("{\"spans\":[{\"id\":\"a\",\"parentId\":\"r\"," END "}]}", "[\"no-root\",\"orphan-spans\"]",
	      "root not arrived: no root, an orphan");
	check("{\"spans\":[{\"id\":\"r\",\"parentId\":null," END "},{\"id\":\"b\",\"parentId\":\"a\"," END "}]}",
	      "[\"orphan-spans\"]", "a middle span missing");
	check("{\"spans\":[{\"id\":\"r\",\"parentId\":null,\"endTime\":null},{\"id\":\"a\",\"parentId\":\"r\"," END "}]}",
	      "[\"open-spans\"]", "root without an end");
	check("{\"incomplete\":null,\"spans\":[{\"id\":\"r\",\"parentId\":null," END "},{\"id\":\"e\",\"parentId\":\"r\",\"type\":\"event\","
	      "\"endTime\":null}]}", "null", "an event without an end is whole");
	check("{\"incomplete\":null,\"spans\":[{\"id\":\"r\"," END "}]}", "null", "absent parentId is a root");
	check("{\"spans\":[{\"id\":\"a\",\"parentId\":\"x\"}]}", "[\"no-root\",\"orphan-spans\",\"open-spans\"]",
	      "every reason, in order");
	check("{\"incomplete\":[\"no-root\"],\"spans\":[{\"id\":\"r\",\"parentId\":null," END "}]}", "null",
	      "a stale mark is replaced");
	return t_done();
}
