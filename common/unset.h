/* Unset values in a LangGuard record are null, never "". Langfuse's v2 rows
 * come from tables whose string columns cannot hold null, so an unset
 * userId, sessionId, release, model or observation name arrives as "";
 * grouping, filtering and policies must see one "unset", not two. */
#ifndef LG_UNSET_H
#define LG_UNSET_H
#include <cjson/cJSON.h>

/* In a record: name, userId, sessionId, release, version; in every span:
 * name, model, statusMessage. Each "" becomes null. */
void lg_record_unset_to_null(cJSON *record);
/* obj[key] = null when it is "". */
void lg_empty_to_null(cJSON *obj, const char *key);
#endif
