/* Validators that turn a regex candidate into a finding (Presidio's idea:
 * pattern, then checksum), entropy, masking of evidence, model matching. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

size_t pol_utf8_count(const char *s, size_t n)
{
	size_t c = 0, i = 0;
	/* 8 bytes at a time: a continuation byte (10xxxxxx) has bit 7 set
	 * and bit 6 clear; x << 1 brings each byte's bit 6 to its bit 7. */
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		/* the marked high bits, moved to bit 0 of each byte and summed
		 * by one multiply (no popcount instruction without -mpopcnt) */
		uint64_t cont = (x & ~(x << 1) & 0x8080808080808080u) >> 7;
		c += 8 - (size_t)((cont * 0x0101010101010101u) >> 56);
	}
	for (; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

double pol_entropy(const char *s, size_t n)
{
	unsigned counts[256] = { 0 };
	double h = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		counts[(unsigned char)s[i]]++;
	for (int i = 0; i < 256; i++) {
		if (!counts[i])
			continue;
		double p = (double)counts[i] / (double)n;
		h -= p * log2(p);
	}
	return h;
}

/* Digits of s (separators dropped) into d; returns how many, -1 if more
 * than cap or a character other than a digit, space, '-' or '.'. */
static int digits_of(const char *s, size_t n, char *d, int cap)
{
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (k >= cap)
				return -1;
			d[k++] = s[i];
		} else if (s[i] != ' ' && s[i] != '-' && s[i] != '.') {
			return -1;
		}
	}
	return k;
}

int pol_luhn(const char *s, size_t n)
{
	char d[32];
	int k = digits_of(s, n, d, 32), sum = 0;
	if (k < 12 || k > 19)
		return 0;
	for (int i = 0; i < k; i++) {
		int v = d[k - 1 - i] - '0';
		if (i % 2) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	if (sum % 10)
		return 0;
	/* Issuer prefixes of the networks people actually carry: a random
	 * 16-digit order number passes Luhn one time in ten, not this. */
	int p2 = (d[0] - '0') * 10 + d[1] - '0';
	int p4 = p2 * 100 + (d[2] - '0') * 10 + d[3] - '0';
	if (p4 == 5019 || p4 == 4571)                   /* Dankort (and Visa/Dankort) */
		return k == 16;
	if (d[0] == '4')
		return k == 13 || k == 16 || k == 19;
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return k == 16;
	if (p4 >= 2200 && p4 <= 2204)                   /* Mir */
		return k >= 16;
	if (p2 == 34 || p2 == 37)
		return k == 15;
	if (d[0] == '1')                                /* UATP */
		return k == 15;
	if (p4 == 6011 || p2 == 65 || (p4 >= 6440 && p4 <= 6499) || (p2 >= 62 && p2 <= 64))
		return k >= 16;
	if (p2 == 35)
		return k >= 16;
	if (p2 == 36 || p2 == 38 || (p2 == 30 && d[2] <= '5'))
		return k >= 14;
	/* Maestro: 50, 56-69 (what the rules above left), 12-19 digits */
	if (p2 == 50 || (p2 >= 56 && p2 <= 69))
		return k >= 12;
	if (p2 == 81 || p2 == 82 || p4 == 9792)         /* RuPay, Troy */
		return k == 16;
	return 0;
}

/* Area 001-899 except 666, group 01-99, serial 0001-9999 (SSA rules), and
 * not the numbers printed in advertising. */
int pol_ssn_ok(const char *s, size_t n)
{
	char d[16];
	if (digits_of(s, n, d, 9) != 9)
		return 0;
	int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + d[2] - '0';
	int group = (d[3] - '0') * 10 + d[4] - '0';
	int serial = atoi(d + 5);
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	if (memcmp(d, "078051120", 9) == 0 || memcmp(d, "219099999", 9) == 0)
		return 0;
	/* All one digit (111-11-1111) or a straight run is a placeholder. */
	int same = 1;
	for (int i = 1; i < 9; i++)
		same &= d[i] == d[0];
	return !same && memcmp(d, "123456789", 9) != 0;
}

int pol_iban_ok(const char *s, size_t n)
{
	char c[40];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (!isalnum((unsigned char)s[i]) || k >= 34)
			return 0;
		c[k++] = (char)toupper((unsigned char)s[i]);
	}
	if (k < 15 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]) ||
	    !isdigit((unsigned char)c[2]) || !isdigit((unsigned char)c[3]))
		return 0;
	/* mod 97 of the rearranged number, digit by digit (ISO 13616). */
	unsigned rem = 0;
	for (size_t i = 0; i < k; i++) {
		char ch = c[(i + 4) % k];
		if (isdigit((unsigned char)ch))
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
	}
	return rem == 1;
}

int pol_ipv4_ok(const char *s, size_t n)
{
	int parts[4], k = 0, v = -1, len = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (v < 0 || v > 255 || k >= 4 || (len > 1 && s[i - len] == '0'))
				return 0;
			parts[k++] = v;
			v = -1;
			len = 0;
		} else if (isdigit((unsigned char)s[i])) {
			v = v > 255 ? 256 : (v < 0 ? 0 : v * 10) + s[i] - '0';  /* no overflow on long runs */
			len++;
		} else {
			return 0;
		}
	}
	if (k != 4)
		return 0;
	/* 0.0.0.0, broadcast and netmasks say nothing about a person. */
	if (parts[0] == 0 || parts[0] == 255)
		return 0;
	return 1;
}

int pol_ipv6_ok(const char *s, size_t n)
{
	char buf[48];
	unsigned char a[16];
	size_t hex = 0;
	if (n < 2 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		hex += isxdigit((unsigned char)s[i]) != 0;
	/* "::", "::1", "a::b": unspecified, loopback, or too little of an
	 * address to say anything about a person (and common in code). */
	static const unsigned char loop[16] = { [15] = 1 };
	if (hex < 4 || memcmp(a, loop, 16) == 0)
		return 0;
	return 1;
}

static int email_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (!at || at == s)
		return 0;
	size_t local = (size_t)(at - s);
	if (s[0] == '.' || s[local - 1] == '.' || memmem(s, local, "..", 2))
		return 0;
	const char *dot = NULL;
	for (const char *p = s + n; p > at; p--)
		if (p[-1] == '.') {
			dot = p - 1;
			break;
		}
	if (!dot)
		return 0;
	/* icon@2x.png is a file name, not an address. */
	static const char *const files[] = { "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "css", NULL };
	size_t tl = (size_t)(s + n - dot - 1);
	for (int i = 0; files[i]; i++)
		if (tl == strlen(files[i]) && strncasecmp(dot + 1, files[i], tl) == 0)
			return 0;
	return 1;
}

static int b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-' || c == '_') return c == '-' ? 62 : 63;
	return -1;
}

static int ci_contains(const char *s, size_t n, const char *w);
static int has_run(const char *s, size_t n, size_t len);

/* A JWT's header decodes to a JSON object naming its algorithm. */
static int jwt_ok(const char *s, size_t n)
{
	char hdr[256];
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '.' && k < sizeof hdr - 1; i++) {
		int v = b64url_val((unsigned char)s[i]);
		if (v < 0)
			return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			hdr[k++] = (char)((acc >> bits) & 0xFF);
		}
	}
	hdr[k] = '\0';
	if (hdr[0] != '{' || !(strstr(hdr, "\"alg\"") || strstr(hdr, "\"typ\"")))
		return 0;
	/* No signature: only an unsigned token (alg none) is complete so. */
	return s[n - 1] != '.' || ci_contains(hdr, k, "\"none\"");
}

/* A phone number has 10 to 15 digits and is not all one digit. */
static int phone_ok(const char *s, size_t n)
{
	int k = 0, same = 1;
	char first = 0;
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i])) {
			if (!k)
				first = s[i];
			same &= s[i] == first;
			k++;
		}
	return k >= 10 && k <= 15 && !same;
}

/* A US ITIN: 9XX-XX-XXXX with group 50-65, 70-88, 90-92 or 94-99 (IRS). */
static int itin_ok(const char *s, size_t n)
{
	char d[16];
	if (digits_of(s, n, d, 9) != 9 || d[0] != '9')
		return 0;
	int g = (d[3] - '0') * 10 + d[4] - '0';
	return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94;
}

/* An ABA routing number: 9 digits, weights 3 7 1, sum divisible by 10. */
static int aba_ok(const char *s, size_t n)
{
	char d[16];
	static const int w[9] = { 3, 7, 1, 3, 7, 1, 3, 7, 1 };
	int sum = 0, same = 1;
	if (digits_of(s, n, d, 9) != 9)
		return 0;
	for (int i = 0; i < 9; i++) {
		sum += w[i] * (d[i] - '0');
		same &= d[i] == d[0];
	}
	return sum % 10 == 0 && !same;
}

/* An account, passport or licence number: 6 to 17 digits (letters and
 * separators aside), not one digit repeated or a straight run. */
static int account_ok(const char *s, size_t n)
{
	char d[24];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i])) {
			if (k >= 17)
				return 0;
			d[k++] = s[i];
		}
	return k >= 6 && !has_run(d, k, 6);
}

/* ---- secrets ------------------------------------------------------- */

/* Keys printed in providers' own documentation and tutorials: public, so
 * not a leak (and the commonest false alarm of a scanner). */
static const char *const public_examples[] = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
	"sk_test_26PHem9AhJZvU623DfE1x4sd", "rk_test_26PHem9AhJZvU623DfE1x4sd",
	"whsec_1234567890abcdef", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
	"ghp_16C7e42F292c6912E7710c838347Ae178B4a", "EAACEdEose0cBA",
	"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",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	NULL,
};

/* Words that mark a value as a stand-in, wherever they occur in it. */
static const char *const placeholder_parts[] = {
	"example", "****", "####", "....", "sample", "dummy", "placeholder",
	"redacted", "your_", "your-", "yourapi", "yourkey", "yoursecret", "yourtoken", "<", ">",
	"${", "{{", "$(", "%s", "%(", "changeme", "change_me", "change-me", "replace_me", "replaceme",
	"insert_", "enter_", "fake", "notreal", "not_real", "todo", "fixme", "lorem", "ipsum",
	"process.env", "os.environ", "getenv", "env[", "secrets.", "vault:", "ssm:", "arn:", NULL,
};

/* Whole values that say nothing. */
static const char *const placeholder_words[] = {
	"password", "passwd", "secret", "token", "apikey", "api_key", "null", "none", "nil",
	"undefined", "true", "false", "empty", "string", "required", "optional", "hidden",
	"masked", "default", "test", "testing", "admin", "root", "user", "username", "pass",
	"letmein", "qwerty", "hunter2", "abc123", "pass123", "password1", "password123",
	"secret123", "p@ssw0rd", "p@ssword", "mypassword", "mysecret", "supersecret", NULL,
};

static int ci_contains(const char *s, size_t n, const char *w)
{
	size_t m = strlen(w);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, w, m) == 0)
			return 1;
	return 0;
}

/* A run of one character, or of consecutive ones (123456, abcdef), this
 * long or longer: typed by a person, not drawn at random. */
static int has_run(const char *s, size_t n, size_t len)
{
	size_t same = 1, up = 1, down = 1;
	for (size_t i = 1; i < n; i++) {
		same = s[i] == s[i - 1] ? same + 1 : 1;
		up = s[i] == s[i - 1] + 1 ? up + 1 : 1;
		down = s[i] == s[i - 1] - 1 ? down + 1 : 1;
		if (same >= len || up >= len || down >= len)
			return 1;
	}
	return 0;
}

static int placeholder(const char *s, size_t n)
{
	char small[512], *lo = n < sizeof small ? small : malloc(n + 1);
	int found = 0;
	if (!lo)
		return 0;
	for (int i = 0; public_examples[i] && !found; i++) {
		size_t m = strlen(public_examples[i]);
		found = m <= n && memmem(s, n, public_examples[i], m) != NULL;
	}
	/* xxxx or XXXX, not a random XXxX */
	found = found || memmem(s, n, "xxxx", 4) || memmem(s, n, "XXXX", 4);
	for (size_t i = 0; i < n; i++)
		lo[i] = (char)tolower((unsigned char)s[i]);
	for (int i = 0; placeholder_parts[i] && !found; i++)
		found = memmem(lo, n, placeholder_parts[i], strlen(placeholder_parts[i])) != NULL;
	if (lo != small)
		free(lo);
	return found;
}

int pol_token_ok(const char *s, size_t n)
{
	return !placeholder(s, n) && !has_run(s, n, 8);
}

static int placeholder_word(const char *s, size_t n)
{
	for (int i = 0; placeholder_words[i]; i++)
		if (strlen(placeholder_words[i]) == n && strncasecmp(s, placeholder_words[i], n) == 0)
			return 1;
	return 0;
}

/* A value assigned to a secret-sounding name: flagged when it could be a
 * credential, not when it is code (identifiers, calls, paths), a number, a
 * placeholder or a typed pattern. The entropy wanted grows with length:
 * eight random characters carry at most 3 bits each. */
int pol_secret_ok(const char *s, size_t n)
{
	int digits = 0, letters = 0, other = 0, upper = 0, lower = 0;
	if (n < 8 || n > 256 || placeholder(s, n) || placeholder_word(s, n) || has_run(s, n, 6))
		return 0;
	if (s[0] == '$' || s[0] == '%')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isdigit(c))
			digits++;
		else if (isalpha(c)) {
			letters++;
			upper += isupper(c) != 0;
			lower += islower(c) != 0;
		} else if (c != '_' && c != '.')
			other++;
	}
	if (!letters || (!digits && !other))   /* a number, or an identifier like self.api_key */
		return 0;
	if ((s[0] == '/' || s[0] == '.' || s[0] == '~') && !upper)  /* a path: ./run.sh, /etc/app/key */
		return 0;
	if (!digits && !upper && n < 20)       /* kebab-or-snake words: my-secret-name */
		return 0;
	double want = n < 12 ? 2.5 : n < 20 ? 3.0 : 3.3;
	return pol_entropy(s, n) >= want;
}

int pol_password_ok(const char *s, size_t n)
{
	if (n < 3 || placeholder(s, n) || placeholder_word(s, n) || has_run(s, n, 6))
		return 0;
	/* :PASSWORD@, :pw@, :[password]@, :****@ */
	if (s[0] == '[' || (s[0] == '*' && s[1] == '*') || s[0] == '$' || s[0] == '%' || s[0] == '{')
		return 0;
	return !(n <= 4 && (ci_contains(s, n, "pw") || ci_contains(s, n, "pwd") || ci_contains(s, n, "pass")));
}

/* "Basic dXNlcjpwYXNz": base64 of user:password with a real password. */
int pol_basic_ok(const char *s, size_t n)
{
	char out[192];
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '=' && k < sizeof out - 1; i++) {
		int v = s[i] == '+' ? 62 : s[i] == '/' ? 63 : b64url_val((unsigned char)s[i]);
		if (v < 0 || s[i] == '-' || s[i] == '_')
			return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (char)((acc >> bits) & 0xFF);
		}
	}
	const char *colon = memchr(out, ':', k);
	if (!colon || colon == out)
		return 0;
	for (size_t i = 0; i < k; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] == 0x7F)
			return 0;
	size_t pl = k - (size_t)(colon + 1 - out);
	return pol_password_ok(colon + 1, pl);
}

int pol_validate(int validator, const char *s, size_t n)
{
	switch (validator) {
	case V_LUHN: return pol_luhn(s, n);
	case V_SSN: return pol_ssn_ok(s, n);
	case V_IBAN: return pol_iban_ok(s, n);
	case V_IPV4: return pol_ipv4_ok(s, n);
	case V_IPV6: return pol_ipv6_ok(s, n);
	case V_EMAIL: return email_ok(s, n);
	case V_JWT: return jwt_ok(s, n);
	case V_PHONE: return phone_ok(s, n);
	case V_TOKEN: return pol_token_ok(s, n);
	case V_SECRET: return pol_secret_ok(s, n);
	case V_PASSWORD: return pol_password_ok(s, n);
	case V_BASIC: return pol_basic_ok(s, n);
	case V_ITIN: return itin_ok(s, n);
	case V_ABA: return aba_ok(s, n);
	case V_ACCOUNT: return account_ok(s, n);
	default: return 1;
	}
}

/* "sk-p…(51 chars)…3kF2": enough to recognise a key, never enough to use. */
static int mask_secret(lg_buf *b, const char *s, size_t n)
{
	size_t chars = pol_utf8_count(s, n);
	if (n < 16)
		return lg_buf_printf(b, "…(%zu chars)…", chars);
	if (memcmp(s, "-----", 5) == 0) { /* PEM: show the header line only */
		size_t h = 5;
		while (h < n && h < 64 && s[h] != '\n' && memcmp(s + h, "-----", 5 < n - h ? 5 : n - h) != 0)
			h++;
		if (h + 5 <= n && memcmp(s + h, "-----", 5) == 0)
			h += 5;
		return lg_buf_add(b, s, h) || lg_buf_printf(b, "…(%zu chars)…", chars);
	}
	return lg_buf_add(b, s, 4) || lg_buf_printf(b, "…(%zu chars)…", chars) ||
	       lg_buf_add(b, s + n - 4, 4);
}

/* "j***@example.com" */
static int mask_email(lg_buf *b, const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (!at || at == s)
		return mask_secret(b, s, n);
	size_t first = 1;       /* the first character whole, however many bytes */
	while (first < (size_t)(at - s) && ((unsigned char)s[first] & 0xC0) == 0x80)
		first++;
	return lg_buf_add(b, s, first) || lg_buf_adds(b, "***") ||
	       lg_buf_add(b, at, (size_t)(s + n - at));
}

/* "****-****-****-1111": every digit or letter but the last four. */
static int mask_digits(lg_buf *b, const char *s, size_t n)
{
	size_t alnum = 0, seen = 0;
	for (size_t i = 0; i < n; i++)
		alnum += isalnum((unsigned char)s[i]) != 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (isalnum((unsigned char)c) && ++seen <= (alnum > 4 ? alnum - 4 : alnum))
			c = '*';
		if (lg_buf_addc(b, c))
			return -1;
	}
	return 0;
}

/* "192.168.*.*"; "2001:db8:*:*:*" (a "::" kept as it is) */
static int mask_ip(lg_buf *b, const char *s, size_t n)
{
	if (memchr(s, ':', n)) {
		int colons = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == ':') {
				colons++;
				if (lg_buf_addc(b, ':'))
					return -1;
				continue;
			}
			if (colons < 2) {
				if (lg_buf_addc(b, s[i]))
					return -1;
				continue;
			}
			while (i + 1 < n && s[i + 1] != ':')
				i++;
			if (lg_buf_addc(b, '*'))
				return -1;
		}
		return 0;
	}
	int dots = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		if (lg_buf_addc(b, dots >= 2 && s[i] != '.' ? '*' : s[i]))
			return -1;
		if (dots >= 2 && s[i] != '.')
			while (i + 1 < n && s[i + 1] != '.')
				i++;
	}
	return 0;
}

int pol_mask(lg_buf *b, int mask, const char *s, size_t n)
{
	switch (mask) {
	case MASK_SECRET: return mask_secret(b, s, n);
	case MASK_EMAIL: return mask_email(b, s, n);
	case MASK_DIGITS: return mask_digits(b, s, n);
	case MASK_IP: return mask_ip(b, s, n);
	default: return lg_buf_add(b, s, n);
	}
}

/* "gpt-4o" names gpt-4o and its versions: the same name followed by '-',
 * '@' or ':' and anything (gpt-4o-2024-08-06, gpt-4o-mini, gpt-4o:latest),
 * but not gpt-4o1 or gpt-4 for "gpt-4o". A pattern with '*', '?' or '[' is
 * a glob. A provider prefix on the model ("openai/gpt-4o") is ignored.
 * Case-insensitive. */
int pol_model_matches(const char *pattern, const char *model)
{
	const char *slash = strrchr(model, '/');
	if (slash && !strchr(pattern, '/'))
		model = slash + 1;
	if (strpbrk(pattern, "*?["))
		return fnmatch(pattern, model, FNM_CASEFOLD) == 0;
	size_t n = strlen(pattern);
	if (strncasecmp(pattern, model, n) != 0)
		return 0;
	return model[n] == '\0' || model[n] == '-' || model[n] == '@' || model[n] == ':';
}
