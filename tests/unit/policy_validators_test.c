/* Validators, masking, model matching and UTF-8 counting of lg-policy. */
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"
#include "t.h"

static const char *masked(int kind, const char *s)
{
	static lg_buf b;
	b.len = 0;
	pol_mask(&b, kind, s, strlen(s));
	return lg_buf_cstr(&b);
}

#define V(k, s) pol_validate(k, s, strlen(s))

int main(void)
{
	/* Luhn with issuer prefixes */
	T_OK(V(V_LUHN, "4111 1111 1111 1111"), "luhn visa spaced");
	T_OK(V(V_LUHN, "5500-0000-0000-0004"), "luhn mastercard dashed");
	T_OK(V(V_LUHN, "378282246310005"), "luhn amex 15");
	T_OK(V(V_LUHN, "6011111111111117"), "luhn discover");
	T_OK(!V(V_LUHN, "4111111111111112"), "luhn: 16 digits failing the checksum");
	T_OK(!V(V_LUHN, "9111111111111110"), "luhn: valid checksum, no issuer starts with 9");
	T_OK(!V(V_LUHN, "411111111111"), "luhn: 12 digits too short");
	T_OK(!V(V_LUHN, "37828224631000"), "luhn: amex prefix needs 15 digits");

	/* SSN area/group/serial */
	T_OK(V(V_SSN, "536-22-8841"), "ssn valid");
	T_OK(!V(V_SSN, "000-12-3456"), "ssn area 000");
	T_OK(!V(V_SSN, "666-12-3456"), "ssn area 666");
	T_OK(!V(V_SSN, "912-12-3456"), "ssn area 9xx");
	T_OK(!V(V_SSN, "536-00-3456"), "ssn group 00");
	T_OK(!V(V_SSN, "536-22-0000"), "ssn serial 0000");
	T_OK(!V(V_SSN, "078-05-1120"), "ssn the Woolworth wallet number");
	T_OK(!V(V_SSN, "111-11-1111"), "ssn one digit repeated");
	T_OK(!V(V_SSN, "2023-01-15"), "ssn: a date is not nine digits");

	/* IBAN mod 97 */
	T_OK(V(V_IBAN, "DE89 3704 0044 0532 0130 00"), "iban DE");
	T_OK(V(V_IBAN, "GB82WEST12345698765432"), "iban GB compact");
	T_OK(!V(V_IBAN, "DE89 3704 0044 0532 0130 01"), "iban bad checksum");
	T_OK(!V(V_IBAN, "DE89"), "iban too short");

	/* IPv4 */
	T_OK(V(V_IPV4, "203.0.113.45"), "ipv4 valid");
	T_OK(!V(V_IPV4, "256.1.1.1"), "ipv4 octet > 255");
	T_OK(!V(V_IPV4, "0.0.0.0"), "ipv4 unspecified");
	T_OK(!V(V_IPV4, "01.2.3.4"), "ipv4 leading zero");
	T_OK(!V(V_IPV4, "1.2.3"), "ipv4 three parts");

	/* IPv6 */
	T_OK(V(V_IPV6, "2001:db8:85a3::8a2e:370:7334"), "ipv6 compressed");
	T_OK(V(V_IPV6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"), "ipv6 full");
	T_OK(V(V_IPV6, "fe80::1ff:fe23:4567:890a"), "ipv6 link-local with interface id");
	T_OK(!V(V_IPV6, "::1"), "ipv6 loopback");
	T_OK(!V(V_IPV6, "::"), "ipv6 unspecified");
	T_OK(!V(V_IPV6, "a::b"), "ipv6: too little to be an address");
	T_OK(!V(V_IPV6, "00:1A:2B:3C:4D:5E"), "ipv6: a MAC address");
	T_OK(!V(V_IPV6, "10:30:45"), "ipv6: a time of day");
	T_OK(!V(V_IPV6, "1:2:3:4:5:6:7:8:9"), "ipv6: nine groups");

	/* email, JWT, phone */
	T_OK(V(V_EMAIL, "jane.doe@example.co.uk"), "email valid");
	T_OK(!V(V_EMAIL, "icon@2x.png"), "email: image file name");
	T_OK(!V(V_EMAIL, "jane..doe@example.com"), "email: double dot");
	T_OK(V(V_JWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.abc"), "jwt header with alg");
	T_OK(!V(V_JWT, "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.abc"), "jwt: header without alg or typ");
	T_OK(V(V_PHONE, "(415) 555-2671"), "phone 10 digits");
	T_OK(!V(V_PHONE, "555-5555"), "phone 7 digits");
	T_OK(!V(V_PHONE, "111-111-1111"), "phone one digit repeated");

	/* masking never shows the whole value */
	T_STR(masked(MASK_EMAIL, "jane@example.com"), "j***@example.com", "mask email");
	T_STR(masked(MASK_IP, "2001:db8:85a3::8a2e:370:7334"), "2001:db8:*::*:*:*", "mask ipv6: two groups kept");
	T_STR(masked(MASK_DIGITS, "4111-1111-1111-1111"), "****-****-****-1111", "mask card");
	T_STR(masked(MASK_DIGITS, "536-22-8841"), "***-**-8841", "mask ssn");
	T_STR(masked(MASK_IP, "203.0.113.45"), "203.0.*.*", "mask ip");
	T_STR(masked(MASK_SECRET, "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"), "sk-p…(44 chars)…6789", "mask secret");
	T_STR(masked(MASK_SECRET, "short-secret"), "…(12 chars)…", "mask short secret shows nothing");
	T_STR(masked(MASK_SECRET, "-----BEGIN RSA PRIVATE KEY-----\nMIIEabcdefghijklmnop\n-----END RSA PRIVATE KEY-----"),
	      "-----BEGIN RSA PRIVATE KEY-----…(82 chars)…", "mask pem shows its header only");
	T_STR(masked(MASK_NONE, "DROP TABLE x"), "DROP TABLE x", "mask none");

	/* models: a name covers its versions; globs; provider prefix */
	T_OK(pol_model_matches("gpt-4o", "gpt-4o-2024-08-06"), "model dated version");
	T_OK(pol_model_matches("gpt-4o", "openai/gpt-4o"), "model provider prefix");
	T_OK(pol_model_matches("GPT-4o", "gpt-4o"), "model case-insensitive");
	T_OK(!pol_model_matches("gpt-4", "gpt-4o"), "model gpt-4 does not cover gpt-4o");
	T_OK(!pol_model_matches("gpt-4o", "gpt-4"), "model shorter name");
	T_OK(pol_model_matches("claude-3-*", "claude-3-haiku-20240307"), "model glob");

	/* UTF-8 and entropy */
	T_INT(pol_utf8_count("h\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 10), 4, "utf8 count: 1, 2, 3 and 4 byte characters");
	T_OK(pol_entropy("aaaaaaaa", 8) == 0, "entropy of one repeated byte is 0");
	T_OK(pol_entropy("abcdefgh", 8) > 2.9, "entropy of 8 distinct bytes is 3");

	/* provider tokens: placeholders, typed runs and published examples refused */
	T_OK(V(V_TOKEN, "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"), "token: random body with XXxX");
	T_OK(!V(V_TOKEN, "ghp_xxxxZq8Xv2Lm4Np6Rt8Vw0Yb2Dc4Ef6Gh8Ij0K"), "token: xxxx placeholder");
	T_OK(!V(V_TOKEN, "sk_live_YOUR_KEY_abcdEFGH12345678901234"), "token: YOUR_ placeholder");
	T_OK(!V(V_TOKEN, "npm_aaaaaaaaaaZq8Xv2Lm4Np6Rt8Vw0Yb2Dc4Ef6"), "token: run of one character");
	T_OK(!V(V_TOKEN, "npm_0123456789Zq8Xv2Lm4Np6Rt8Vw0Yb2Dc4Ef6"), "token: ascending run");
	T_OK(!V(V_TOKEN, "AKIAIOSFODNN7EXAMPLE"), "token: AWS documentation example");
	T_OK(!V(V_TOKEN, "sk_test_4eC39HqLyjWDarjtT1zdp7dc"), "token: Stripe documentation example");
	/* generic assigned values */
	T_OK(V(V_SECRET, "5vSQXEZY3lEX7bwR2DRGD1qSo7JPRbgU"), "secret: random base62");
	T_OK(V(V_SECRET, "Tr0ub4dor&3x"), "secret: a typed password with digits and symbols");
	T_OK(!V(V_SECRET, "self.api_key"), "secret: an identifier");
	T_OK(!V(V_SECRET, "get_token_from_env"), "secret: a function name");
	T_OK(!V(V_SECRET, "1234567890123"), "secret: a number");
	T_OK(!V(V_SECRET, "${API_KEY}"), "secret: a variable reference");
	T_OK(!V(V_SECRET, "<your-api-key>"), "secret: an angle-bracket placeholder");
	T_OK(!V(V_SECRET, "changeme123"), "secret: changeme");
	T_OK(!V(V_SECRET, "/etc/app/secret.key"), "secret: a path");
	T_OK(!V(V_SECRET, "password123"), "secret: a stop-word password");
	T_OK(!V(V_SECRET, "short1"), "secret: under 8 characters");
	/* passwords in URIs and Basic credentials */
	T_OK(V(V_PASSWORD, "s3cr3tPw"), "password: a real one");
	T_OK(!V(V_PASSWORD, "password"), "password: the word password");
	T_OK(!V(V_PASSWORD, "${DB_PASS}"), "password: a variable");
	T_OK(!V(V_PASSWORD, "****"), "password: stars");
	T_OK(V(V_BASIC, "YWxhZGRpbjpvcGVuc2VzYW1l"), "basic: aladdin:opensesame");
	T_OK(!V(V_BASIC, "dXNlcjpwYXNzd29yZA=="), "basic: user:password is a placeholder");
	T_OK(!V(V_BASIC, "bm9jb2xvbmhlcmU="), "basic: no colon");
	/* JWT: signed, or unsigned only with alg none */
	T_OK(V(V_JWT, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0."), "jwt: alg none, empty signature");
	T_OK(!V(V_JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0."), "jwt: HS256 without its signature is cut, not flagged");
	return t_done();
}
