#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "text.h"

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

static int key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Length of a secret starting at p (end e), or 0. */
static size_t secret_at(const char *p, const char *e, const char *const *secrets)
{
	size_t left = (size_t)(e - p);
	for (const char *const *s = secrets; s && *s; s++) {
		size_t k = strlen(*s);
		if (k >= 4 && k <= left && memcmp(p, *s, k) == 0)
			return k;
	}
	if (left > 6 && strncasecmp(p, "Basic ", 6) == 0) {
		size_t k = 6;
		while (k < left && b64_char((unsigned char)p[k]))
			k++;
		if (k > 6)
			return k;
	}
	if (left > 6 && memcmp(p, "sk-lf-", 6) == 0) {
		size_t k = 6;
		while (k < left && key_char((unsigned char)p[k]))
			k++;
		return k;
	}
	return 0;
}

void text_clean(const char *in, size_t len, char *out, size_t n, const char *const *secrets)
{
	lg_buf b = { 0 };
	const char *p = in, *e = in + len;
	int oom = 0;
	if (n == 0)
		return;
	while (p < e && !oom) {
		unsigned char c = (unsigned char)*p;
		size_t k = secret_at(p, e, secrets);
		if (k) {
			oom = lg_buf_adds(&b, strncasecmp(p, "Basic ", 6) == 0 ? "Basic ***" : "***");
			p += k;
		} else if (c < 0x20 || c == 0x7f) {
			oom = lg_buf_addc(&b, ' ');
			p++;
		} else if (c == 0xc2 && p + 1 < e && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f) {
			oom = lg_buf_addc(&b, ' '); /* C1 controls: CSI and friends */
			p += 2;
		} else {
			oom = lg_buf_addc(&b, (char)c);
			p++;
		}
	}
	size_t keep = b.len;
	if (keep > n - 1) {
		keep = n >= 4 ? n - 4 : 0;
		while (keep > 0 && ((unsigned char)b.data[keep] & 0xc0) == 0x80)
			keep--;
	}
	memcpy(out, b.data ? b.data : "", keep);
	if (keep < b.len && n >= 4) {
		memcpy(out + keep, "\xe2\x80\xa6", 3);
		keep += 3;
	}
	out[keep] = '\0';
	if (b.data)
		memset(b.data, 0, b.cap);
	lg_buf_free(&b);
}

char *text_base64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}
