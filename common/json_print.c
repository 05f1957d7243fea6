/* The printer of lg_json: compact text, numbers as they were parsed
 * (common/json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

static const char hexd[] = "0123456789abcdef";

int lg_json_print_string(lg_buf *b, const char *s, size_t n)
{
	if (lg_buf_reserve(b, n + 2))
		return -1;
	b->data[b->len++] = '"';
	size_t run = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		while (n - i >= 8) {
			uint64_t m = lg_has_special(lg_load8(u + i));
			if (m) {
				i += lg_first_flagged(m);
				break;
			}
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (lg_buf_add(b, s + run, i - run))
			return -1;
		char e[6] = { '\\', 0 };
		size_t el = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			e[1] = 'u'; e[2] = '0'; e[3] = '0';
			e[4] = hexd[c >> 4]; e[5] = hexd[c & 15];
			el = 6;
		}
		if (lg_buf_add(b, e, el))
			return -1;
		run = i + 1;
	}
	if (lg_buf_add(b, s + run, n - run))
		return -1;
	return lg_buf_addc(b, '"');
}

static int print_number(lg_buf *b, const cJSON *item)
{
	if (item->valuestring)
		return lg_buf_adds(b, item->valuestring);
	double d = item->valuedouble;
	char tmp[32];
	if (isnan(d) || isinf(d))
		return lg_buf_add(b, "null", 4);
	if (d == (double)(long long)d && fabs(d) < 1e15) {
		snprintf(tmp, sizeof tmp, "%lld", (long long)d);
	} else {
		snprintf(tmp, sizeof tmp, "%1.15g", d);
		if (strtod(tmp, NULL) != d)
			snprintf(tmp, sizeof tmp, "%1.17g", d);
	}
	return lg_buf_adds(b, tmp);
}

static int print_value(lg_buf *b, const cJSON *item, int depth)
{
	if (depth > LG_JSON_MAX_DEPTH * 2)
		return -1;
	switch (item->type & 0xFF) {
	case cJSON_NULL: return lg_buf_add(b, "null", 4);
	case cJSON_False: return lg_buf_add(b, "false", 5);
	case cJSON_True: return lg_buf_add(b, "true", 4);
	case cJSON_Number: return print_number(b, item);
	case cJSON_String:
		return item->valuestring ? lg_json_print_string(b, item->valuestring, strlen(item->valuestring))
					 : lg_buf_add(b, "null", 4);
	case cJSON_Raw: return item->valuestring ? lg_buf_adds(b, item->valuestring) : lg_buf_add(b, "null", 4);
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (item->type & 0xFF) == cJSON_Object;
		if (lg_buf_addc(b, obj ? '{' : '['))
			return -1;
		for (const cJSON *c = item->child; c; c = c->next) {
			if (c != item->child && lg_buf_addc(b, ','))
				return -1;
			if (obj) {
				const char *k = c->string ? c->string : "";
				if (lg_json_print_string(b, k, strlen(k)) || lg_buf_addc(b, ':'))
					return -1;
			}
			if (print_value(b, c, depth + 1))
				return -1;
		}
		return lg_buf_addc(b, obj ? '}' : ']');
	}
	default:
		return lg_buf_add(b, "null", 4);
	}
}

int lg_json_print(lg_buf *b, const cJSON *item)
{
	return item ? print_value(b, item, 0) : lg_buf_add(b, "null", 4);
}

char *lg_json_to_string(const cJSON *item)
{
	lg_buf b = { 0 };
	if (lg_json_print(&b, item) || !lg_buf_cstr(&b)) {
		lg_buf_free(&b);
		return NULL;
	}
	return b.data;
}
