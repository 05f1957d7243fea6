/* Traces' summaries: their layout, built from a record's tree or text,
 * and read back (summary.h). */
#include <math.h>
#include <string.h>

#include "json.h"
#include "query.h"
#include "summary.h"
#include "utf8.h"

/* ---- writing ---- */

static int put_u32(lg_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return lg_buf_add(b, x, 4);
}

static int put_f64(lg_buf *b, double d)
{
	uint64_t u;
	unsigned char x[8];
	memcpy(&u, &d, 8);
	for (int i = 0; i < 8; i++, u >>= 8)
		x[i] = (unsigned char)u;
	return lg_buf_add(b, x, 8);
}

static int put_str(lg_buf *b, const char *s)
{
	if (!s)
		return put_u32(b, SUM_ABSENT);
	size_t n = strlen(s);
	if (n >= SUM_ABSENT)
		return put_u32(b, SUM_ABSENT); /* 4 GB in a field: taken as none */
	return put_u32(b, (uint32_t)n) || lg_buf_add(b, s, n);
}

int summary_encode(const cJSON *rec, lg_buf *out)
{
	const cJSON *md = lg_json_get(rec, "metadata"), *vs = lg_json_get(rec, "violations");
	const char *agent = lg_json_str(lg_json_get(rec, "agent"), "name");
	double d = 0, t = 0, c = 0;
	unsigned has = 0;
	if (!agent)
		agent = lg_json_str(md, "agent_name");
	has |= lg_json_get_num(rec, "duration", &d) ? SUM_DURATION : 0;
	has |= lg_json_get_num(lg_json_get(md, "tokens"), "total", &t) ? SUM_TOKENS : 0;
	has |= lg_json_get_num(md, "cost", &c) ? SUM_COST : 0;
	unsigned char head[2] = { SUMMARY_VERSION, (unsigned char)has };
	if (lg_buf_add(out, head, 2) || put_f64(out, d) || put_f64(out, t) || put_f64(out, c) ||
	    put_str(out, lg_json_str(rec, "timestamp")) || put_str(out, agent) ||
	    put_str(out, lg_json_str(md, "model")) || put_str(out, lg_json_str(rec, "status")) ||
	    put_str(out, lg_json_str(lg_json_get(rec, "source"), "integration")) ||
	    put_str(out, lg_json_str(rec, "userId")) || put_str(out, lg_json_str(rec, "sessionId")))
		return -1;
	uint32_t n = 0;
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next)
		n++;
	if (put_u32(out, n))
		return -1;
	for (const cJSON *v = cJSON_IsArray(vs) ? vs->child : NULL; v; v = v->next) {
		unsigned char vh[2] = { cJSON_IsObject(v) ? SUM_V_OBJECT : 0,
					(unsigned char)query_severity(lg_json_str(v, "severity")) };
		if (lg_buf_add(out, vh, 2) || put_str(out, lg_json_str(v, "policy")) ||
		    put_str(out, lg_json_str(v, "status")))
			return -1;
	}
	return 0;
}

/* ---- from the text ---- */

/* The end of the string at p (its opening quote), in valid JSON. */
static const unsigned char *skip_string(const unsigned char *p, const unsigned char *end, int *escaped)
{
	for (p++; p < end;) {
		p = lg_skip_plain(p, end);
		if (p >= end)
			break;
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			*escaped = 1;
			p += 2;
		} else {
			p++;
		}
	}
	return end;
}

static const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the value at p, in valid JSON. */
static const unsigned char *skip_value(const unsigned char *p, const unsigned char *end)
{
	int esc = 0;
	if (*p == '"')
		return skip_string(p, end, &esc);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' &&
		       *p != '\r')
			p++;
		return p;
	}
	size_t depth = 0;
	while (p < end) {
		unsigned c = *p;
		if (c == '"') {
			p = skip_string(p, end, &esc);
			continue;
		}
		p++;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			break;
	}
	return p;
}

int summary_encode_text(const char *text, size_t len, lg_buf *out)
{
	/* The top-level members summary_encode reads. */
	static const char *const wanted[] = { "agent", "metadata", "violations", "timestamp", "duration",
					      "status", "source", "userId", "sessionId" };
	enum { NWANTED = sizeof wanted / sizeof *wanted };
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	cJSON *rec = cJSON_CreateObject();
	int rc = rec ? 0 : -1, seen[NWANTED] = { 0 };
	p = skip_ws(p, end);
	if (p < end && *p == '{')
		p = skip_ws(p + 1, end);
	while (!rc && p < end && *p == '"') {
		int esc = 0;
		const unsigned char *k = p + 1, *ke = skip_string(p, end, &esc);
		if (esc) {
			rc = 1; /* "ag\u0065nt" is agent too: the parser decides */
			break;
		}
		size_t kn = (size_t)(ke - 1 - k), i;
		p = skip_ws(ke, end);
		p = skip_ws(p + 1, end); /* the colon */
		const unsigned char *v = p;
		p = skip_value(p, end);
		for (i = 0; i < NWANTED; i++)
			if (!seen[i] && strlen(wanted[i]) == kn && memcmp(wanted[i], k, kn) == 0)
				break;
		if (i < NWANTED) {
			/* The first of a key twice is the one lookups find. */
			lg_json_error jerr;
			cJSON *item = lg_json_parse((const char *)v, (size_t)(p - v), &jerr);
			seen[i] = 1;
			if (!item)
				rc = -1;
			else
				cJSON_AddItemToObject(rec, wanted[i], item);
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	if (!rc)
		rc = summary_encode(rec, out);
	cJSON_Delete(rec);
	return rc;
}

/* ---- reading ---- */

typedef struct {
	const unsigned char *p, *end;
	int bad;
} reader;

static uint32_t get_u32(reader *r)
{
	if (r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

static double get_f64(reader *r)
{
	uint64_t u = 0;
	double d;
	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	for (int i = 7; i >= 0; i--)
		u = u << 8 | r->p[i];
	r->p += 8;
	memcpy(&d, &u, 8);
	return d;
}

static sum_str get_str(reader *r)
{
	sum_str s = { NULL, 0 };
	uint32_t n = get_u32(r);
	if (r->bad || n == SUM_ABSENT)
		return s;
	if ((size_t)(r->end - r->p) < n || memchr(r->p, 0, n)) {
		r->bad = 1;
		return s;
	}
	s.s = (const char *)r->p;
	s.n = n;
	r->p += n;
	return s;
}

static int get_u8(reader *r)
{
	if (r->p >= r->end) {
		r->bad = 1;
		return 0;
	}
	return *r->p++;
}

/* One violation from r into v (v may be NULL: checked, then skipped). */
static void get_violation(reader *r, sum_violation *v)
{
	sum_violation x;
	int flags = get_u8(r);
	x.object = flags & SUM_V_OBJECT;
	x.severity = get_u8(r);
	x.policy = get_str(r);
	x.status = get_str(r);
	if ((flags & ~SUM_V_OBJECT) || x.severity > 4)
		r->bad = 1;
	if (v)
		*v = x;
}

int summary_decode(const void *p, size_t n, summary *s)
{
	reader r = { p, (const unsigned char *)p + n, 0 };
	memset(s, 0, sizeof *s);
	if (get_u8(&r) != SUMMARY_VERSION)
		return -1;
	s->has = (unsigned)get_u8(&r);
	s->duration = get_f64(&r);
	s->tokens = get_f64(&r);
	s->cost = get_f64(&r);
	s->timestamp = get_str(&r);
	s->agent = get_str(&r);
	s->model = get_str(&r);
	s->status = get_str(&r);
	s->integration = get_str(&r);
	s->user = get_str(&r);
	s->session = get_str(&r);
	s->nviol = get_u32(&r);
	s->viol = r.p;
	for (size_t i = 0; i < s->nviol && !r.bad; i++)
		get_violation(&r, NULL);
	s->end = r.p;
	return r.bad || r.p != r.end || (s->has & ~(unsigned)(SUM_DURATION | SUM_TOKENS | SUM_COST)) ? -1 : 0;
}

int summary_next_violation(const summary *s, const unsigned char **pos, sum_violation *v)
{
	reader r = { *pos, s->end, 0 };
	if (*pos >= s->end)
		return 0;
	get_violation(&r, v);
	*pos = r.p;
	return !r.bad;
}

int sum_is(sum_str s, const char *want)
{
	return s.s && want && strlen(want) == s.n && memcmp(s.s, want, s.n) == 0;
}

const char *sum_cstr(sum_str s, lg_buf *b, int *oom)
{
	b->len = 0;
	if (!s.s)
		return NULL;
	if (lg_buf_add(b, s.s, s.n) || lg_buf_addc(b, '\0')) {
		*oom = 1;
		return NULL;
	}
	return b->data;
}
