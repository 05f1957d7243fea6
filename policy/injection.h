/* A scored prompt-injection and jailbreak detector: many weak signals
 * (override phrasing, prompt extraction, persona jailbreaks, spoofed roles
 * and chat-template markup, urgency in capitals, addressing the AI,
 * obfuscation by base64 or spaced-out letters) add up to a score from 0
 * to 100 that a policy compares with its threshold. Phrase lists miss
 * paraphrases; a single weak signal ("act as", "ignore") is common in
 * benign text, so none decides alone. */
#ifndef LG_INJECTION_H
#define LG_INJECTION_H
#include <stddef.h>

enum inj_signal {
	INJ_OVERRIDE,   /* ignore / disregard / forget ... previous instructions */
	INJ_EXTRACT,    /* reveal / repeat your system prompt, verbatim */
	INJ_PERSONA,    /* act as / pretend / from now on / stay in character */
	INJ_UNRESTRICT, /* no restrictions, without filters, can do anything */
	INJ_ALTEREGO,   /* DAN, developer mode, "stands for", two responses */
	INJ_ROLE,       /* [system], System note:, <|im_start|>, ### instruction */
	INJ_URGENCY,    /* IMPORTANT, OVERRIDE, ... in capitals */
	INJ_ADDRESS,    /* "note to the AI", "if you are an LLM" */
	INJ_REDIRECT,   /* new instructions, your real task, say "pwned" */
	INJ_BASE64,     /* found again inside decoded base64 */
	INJ_SPACED,     /* found again in s p a c e d - o u t letters */
	INJ_NSIGNALS
};

typedef struct {
	int score;              /* 0..100 */
	unsigned signals;       /* 1u << enum inj_signal, for each signal seen */
	size_t start, end;      /* bytes of s: the strongest signal's text */
} inj_result;

/* The signal's name in evidence ("override", "base64", ...). */
const char *inj_signal_name(int sig);

/* Lowercase words of which at least one occurs in nearly every attack
 * (NULL-terminated): a caller with a substring prefilter skips the full
 * scan of strings that have none; the scan still probes those for
 * obfuscation (long base64 runs, spaced-out letters). */
extern const char *const inj_keywords[];

/* Scores s[0..n) (UTF-8; invalid bytes are tolerated). keyword_seen: 0
 * when the caller knows no inj_keywords entry occurs in s (the cheap
 * path), 1 otherwise. Never allocates; bounded work per byte. */
void inj_scan(const char *s, size_t n, int keyword_seen, inj_result *r);
#endif
