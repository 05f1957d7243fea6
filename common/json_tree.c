/* Reading and changing lg_json trees: lookups, paths, setting members,
 * numbers that print exactly, equality (common/json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

cJSON *lg_json_get(const cJSON *obj, const char *key)
{
	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	for (cJSON *c = obj->child; c; c = c->next)
		if (c->string && c->string[0] == key[0] && strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

const char *lg_json_string(const cJSON *item)
{
	return item && cJSON_IsString(item) ? item->valuestring : NULL;
}

const char *lg_json_str(const cJSON *obj, const char *key)
{
	return lg_json_string(lg_json_get(obj, key));
}

int lg_json_num(const cJSON *item, double *out)
{
	if (!item || !cJSON_IsNumber(item))
		return 0;
	*out = item->valuedouble;
	return 1;
}

int lg_json_get_num(const cJSON *obj, const char *key, double *out)
{
	return lg_json_num(lg_json_get(obj, key), out);
}

int lg_json_is_null(const cJSON *item)
{
	return !item || cJSON_IsNull(item);
}

cJSON *lg_json_path(const cJSON *root, const char *path)
{
	cJSON *cur = (cJSON *)(uintptr_t)root; /* lookups never write */
	const char *p = path;
	char key[256];
	while (cur && *p) {
		if (*p == '[') {
			char *e;
			long idx = strtol(p + 1, &e, 10);
			if (*e != ']' || !cJSON_IsArray(cur) || idx < 0)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
			p = e + 1;
		} else {
			if (*p == '.')
				p++;
			size_t n = strcspn(p, ".[");
			if (n == 0 || n >= sizeof key)
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = lg_json_get(cur, key);
			p += n;
		}
	}
	return cur;
}

int lg_json_set(cJSON *obj, const char *key, cJSON *val)
{
	if (!val)
		return -1;
	if (!obj || !cJSON_IsObject(obj)) {
		cJSON_Delete(val);
		return -1;
	}
	cJSON *old = lg_json_get(obj, key);
	if (!old)
		return cJSON_AddItemToObject(obj, key, val) ? 0 : (cJSON_Delete(val), -1);
	char *k = strdup(key);
	if (!k) {
		cJSON_Delete(val);
		return -1;
	}
	if (!(val->type & cJSON_StringIsConst))
		cJSON_free(val->string);
	val->type &= ~cJSON_StringIsConst;
	val->string = k;
	cJSON_ReplaceItemViaPointer(obj, old, val);
	return 0;
}

cJSON *lg_json_obj(cJSON *obj, const char *key)
{
	cJSON *o = lg_json_get(obj, key);
	if (o && cJSON_IsObject(o))
		return o;
	o = cJSON_CreateObject();
	if (lg_json_set(obj, key, o))
		return NULL;
	return o;
}

cJSON *lg_json_int(int64_t v)
{
	cJSON *n = cJSON_CreateNumber((double)v);
	char tmp[24], *d = tmp + sizeof tmp - 1;
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (!n)
		return NULL;
	*d = '\0';
	do
		*--d = (char)('0' + m % 10);
	while ((m /= 10) != 0);
	if (v < 0)
		*--d = '-';
	n->valuestring = strdup(d);
	if (!n->valuestring) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

cJSON *lg_json_int_d(double v)
{
	if (v != v)
		return lg_json_int(0);
	if (v >= 9223372036854775807.0)
		return lg_json_int(INT64_MAX);
	if (v <= -9223372036854775808.0)
		return lg_json_int(INT64_MIN);
	return lg_json_int((int64_t)v);
}

cJSON *lg_json_double(double v)
{
	return cJSON_CreateNumber(v);
}

cJSON *lg_json_take(cJSON *obj, const char *key)
{
	cJSON *it = lg_json_get(obj, key);
	return it ? cJSON_DetachItemViaPointer(obj, it) : NULL;
}

int lg_json_equal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	int ta = a->type & 0xFF, tb = b->type & 0xFF;
	if (ta != tb)
		return 0;
	switch (ta) {
	case cJSON_Number:
		if (a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0)
			return 1;
		/* Two long integers that a double can't tell apart still differ. */
		if (a->valuestring && b->valuestring && strlen(a->valuestring) > 15 &&
		    !strpbrk(a->valuestring, ".eE") && !strpbrk(b->valuestring, ".eE"))
			return 0;
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
	case cJSON_Raw:
		return a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Array: {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!lg_json_equal(x, y))
				return 0;
		return !x && !y;
	}
	case cJSON_Object: {
		int na = 0, nb = 0;
		for (const cJSON *x = a->child; x; x = x->next)
			na++;
		for (const cJSON *y = b->child; y; y = y->next)
			nb++;
		if (na != nb)
			return 0;
		for (const cJSON *x = a->child; x; x = x->next)
			if (!lg_json_equal(x, lg_json_get(b, x->string ? x->string : "")))
				return 0;
		return 1;
	}
	default:
		return 1;
	}
}
