/* The prompt-injection and jailbreak scorer (injection.h). One pass over
 * the string turns it into normalised words (ASCII lowercase, leetspeak
 * digits, Cyrillic and fullwidth look-alikes mapped to Latin, zero-width
 * characters dropped: injection_text.h) kept in a small ring; each word
 * that can end a signal looks back a few words within its clause. Markup
 * is matched at '<', '[', '#' in the same pass, which also collects runs
 * of single letters; those and base64 runs are decoded (injection_text.c)
 * and scored again (one level deep, a bounded number of bytes). Nothing
 * is allocated. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "injection.h"
#include "injection_text.h"

#define RING 16
#define LOOK 8                  /* words looked back within a clause */
#define WORD_MAX 24
#define MAX_RUNS 8              /* base64 / spaced runs decoded per string */
#define DECODE_MAX 3072         /* bytes decoded per run */
#define DEPTH_MAX 1             /* decoded text is scored, not decoded again */

static const char *const names[INJ_NSIGNALS] = {
	"override", "extraction", "persona", "unrestricted", "alter-ego", "role-markup",
	"urgency", "addresses-ai", "redirect", "base64", "spaced-out",
};

const char *inj_signal_name(int sig)
{
	return sig >= 0 && sig < INJ_NSIGNALS ? names[sig] : "?";
}

const char *const inj_keywords[] = {
	/* override verbs (stems) and the words they act on */
	"ignor", "disregard", "forget", "overrid", "bypass", "skip", "neglect", "discard", "dismiss",
	"overlook", "circumvent", "abandon", "nullif", "overwrit", "directive", "guideline", "prompt", "rules",
	/* instructions alone are in most system prompts: only with a qualifier */
	"previous instruction", "prior instruction", "above instruction", "earlier instruction",
	"preceding instruction", "original instruction", "all instruction", "any instruction", "your instruction",
	"system instruction", "hidden instruction", "secret instruction", "real instruction", "instructions above",
	"instructions you", "instructions given", "instructions were", "instructions no", "instructions before",
	"internal instruction", "confidential instruction", "full instruction", "exact instruction",
	"complete instruction", "entire instruction", "initial instruction", "underlying instruction",
	"developer instruction",
	"don't follow", "do not follow", "stop follow", "no longer",
	/* extraction */
	"verbatim", "above", "initial", "beginning of", "were you told", "you were told", "were you given",
	"you were given",
	/* persona, alter egos, no limits */
	"pretend", "act as", "simulat", "roleplay", "role-play", "role play", "from now on", "you are now",
	"you're now", " dan", "character", "developer mode", "dev mode", "god mode", "dan mode",
	"jailbreak mode", "evil mode", "unrestricted mode", "unfiltered mode", "uncensored mode", "opposite mode",
	"sudo mode", "debug mode", "admin mode", "chaos mode", "maintenance mode", "jailbr", "unfilter", "uncensor", "unrestrict",
	"restriction", "amoral", "anything", "refuse", "no matter how", "stands for", "two response",
	"two different", "alter ego", "persona", "\xf0\x9f\x94\x93", "\xf0\x9f\x94\x92",
	/* markup, addressing the AI, redirection */
	"<|", "[inst", "<<sys", "[system", "system:", "system note", "system message", "system override",
	"###", "<system", "[admin", "admin note", "_of_turn>", "note to", "if you are an", "ai:", "agent:", "pwned",
	"new task", "new instruction", "your real", "your true", "your actual", "base64", "decode",
	/* leetspeak of the commonest words */
	"1gn0r", "ign0r", "1gnor", "pr3v", "1nstruct", "f0rg", "forg3", "d1sr", "r3v3", "rul3", "pr0mpt",
	/* German, Spanish, French */
	"vergiss", "anweisung", "olvida", "instrucciones", "oublie",
	NULL,
};

/* ---- vocabulary (injection_words.h) ------------------------------ */

#include "injection_words.h"

/* Open addressing over the vocabulary, filled on first use; a word
 * listed twice gets the classes of both entries. */
#define NVOCAB (sizeof vocab / sizeof *vocab)
#define VT_SIZE 1024
static short vtab[VT_SIZE];
static unsigned vcls[NVOCAB];
static unsigned char vlen[NVOCAB];
static int vtab_ready;

static uint32_t word_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

static void vtab_build(void)
{
	memset(vtab, -1, sizeof vtab);
	for (size_t i = 0; i < NVOCAB; i++) {
		const char *w = vocab[i].w;
		uint32_t h = word_hash(w, strlen(w)) & (VT_SIZE - 1);
		while (vtab[h] >= 0 && strcmp(vocab[vtab[h]].w, w) != 0)
			h = (h + 1) & (VT_SIZE - 1);
		if (vtab[h] < 0)
			vtab[h] = (short)i;
		vcls[vtab[h]] |= vocab[i].cls;
		vlen[i] = (unsigned char)strlen(w);
	}
	inj_text_init();
	vtab_ready = 1;
}

static unsigned word_class(const char *w, size_t n)
{
	uint32_t h = word_hash(w, n) & (VT_SIZE - 1);
	for (; vtab[h] >= 0; h = (h + 1) & (VT_SIZE - 1)) {
		if (vlen[vtab[h]] == n && memcmp(vocab[vtab[h]].w, w, n) == 0)
			return vcls[vtab[h]];
	}
	return 0;
}

/* ---- scan state ---------------------------------------------------- */

typedef struct {
	char w[WORD_MAX];       /* normalised; "" when longer than WORD_MAX - 1 */
	unsigned cls;
	size_t s, e;            /* bytes of the string */
	unsigned char brk;      /* a clause break before it */
	unsigned char quote;    /* a quote mark right before it */
	unsigned char caps;     /* written in capitals, 2+ letters */
	unsigned char colon;    /* the next non-blank byte is ':' */
	unsigned char single;   /* one letter */
	unsigned char comma;    /* a comma right after it: a clause may start */
	unsigned char cap1;     /* written with a capital first letter */
} tok;

typedef struct {
	const char *s;
	size_t n;
	int depth;
	size_t nt;              /* words seen; t[i % RING] */
	int w[INJ_NSIGNALS];    /* points per signal */
	unsigned char fp[64];   /* points per feature: each counts once, its best */
	int best;               /* strongest single feature and its text */
	size_t bs, be;
	unsigned meta;          /* distinct meta words (bits by hash) */
	unsigned urgent;        /* distinct urgent capitals (bits by hash) */
	int caps_run;
	span runs[MAX_RUNS];    /* base64 candidates */
	size_t nruns;
	span spaced[MAX_RUNS];  /* runs of single letters */
	size_t nspaced;
	int single_run;
	size_t single_from, single_to;
	tok t[RING];            /* last: not cleared, a word is written before it is read */
} scan;

static const int caps_of[INJ_NSIGNALS] = {
	[INJ_OVERRIDE] = 90, [INJ_EXTRACT] = 80, [INJ_PERSONA] = 30, [INJ_UNRESTRICT] = 60,
	[INJ_ALTEREGO] = 80, [INJ_ROLE] = 60, [INJ_URGENCY] = 30, [INJ_ADDRESS] = 30,
	[INJ_REDIRECT] = 40, [INJ_BASE64] = 100, [INJ_SPACED] = 100,
};

/* Adds a feature (id < 64) to a signal: a feature seen twice counts
 * once, with its better points. */
static void feat(scan *c, int id, int sig, int pts, size_t s, size_t e)
{
	if (pts <= c->fp[id])
		return;
	c->w[sig] += pts - c->fp[id];
	c->fp[id] = (unsigned char)pts;
	if (pts > c->best) {
		c->best = pts;
		c->bs = s;
		c->be = e;
	}
}

static tok *at(scan *c, size_t i)
{
	return &c->t[i % RING];
}

/* Most comparisons fail on the first letter: test it before strcmp. */
static inline int is(const tok *t, const char *w)
{
	return t->w[0] == w[0] && strcmp(t->w, w) == 0;
}

/* The word k places before word i, within its clause (NULL at a break). */
static tok *back(scan *c, size_t i, size_t k)
{
	if (k > i || k >= RING)
		return NULL;
	for (size_t j = 0; j < k; j++)
		if (at(c, i - j)->brk)
			return NULL;
	return at(c, i - k);
}

/* Is the word at i said to the model (an imperative), or described
 * ("attackers tell the model to ignore ...")? Only words that can lead
 * into an order may come before it in its clause. */
static int imperative(scan *c, size_t i)
{
	/* "... sk-proj-xxxx Disregard your ...": a capital starts a sentence
	 * that lost its full stop */
	if (at(c, i)->cap1 && !at(c, i)->caps)
		return 1;
	for (size_t k = 1; k <= 4; k++) {
		tok *p = back(c, i, k);
		/* a new clause: after a comma, "and", "then" */
		if (!p || p->comma || is(p, "and") || is(p, "then") || is(p, "und") || is(p, "y") || is(p, "et"))
			return 1;
		if (!(p->cls & (W_IMPER | W_NEG)) && !is(p, "now") && !is(p, "from"))
			return 0;
		if (p->quote)
			return 0;
	}
	return 1;
}

/* Weight of phrasing that quotes or describes instead of ordering. */
static int said(scan *c, size_t i, int pts)
{
	tok *v = at(c, i);
	if (!v->quote && imperative(c, i))
		return pts;
	/* "if a user asks you to ignore ...": a defence describing an attack */
	for (size_t k = 1; k <= 6; k++) {
		tok *p = back(c, i, k);
		if (!p)
			break;
		if (is(p, "asks") || is(p, "ask") || is(p, "tells") || is(p, "requests") || is(p, "tries") ||
		    is(p, "attempts") || is(p, "trying") || is(p, "wants") || is(p, "asked") || is(p, "told"))
			return pts / 5;
	}
	return pts / 2;
}

/* ---- signals ending at word i (with one word of look-ahead) -------- */

/* Is the word negated: "don't follow", "do not have to obey", "no
 * longer need to follow"? */
static int negated(scan *c, size_t v)
{
	for (size_t k = 1; k <= 3; k++) {
		tok *p = back(c, v, k);
		/* "Stop, ignore ...": a negation before a comma is another clause's */
		if (!p || p->comma)
			return 0;
		if (p->cls & W_NEG)
			return 1;
		if (!is(p, "to") && !is(p, "have") && !is(p, "need") && !is(p, "required") && !is(p, "must"))
			return 0;
	}
	return 0;
}

/* Nouns that make "context", "text", "rules" part of a compound noun
 * ("context window", "rules engine", "text field"). */
static int compound_head(const tok *t)
{
	static const char *const heads[] = {
		"window", "windows", "engine", "manual", "menu", "switch", "switches", "box", "field", "fields",
		"editor", "file", "files", "template", "templates", "engineering", "length", "size", "format",
		"page", "section", "set", "sheet", "document", "version", "builder", "library", "panel", "cache",
		"column", "columns", "table", "wrapping", "processing", "message", "messages", "bar", "area", NULL,
	};
	for (int k = 0; heads[k]; k++)
		if (is(t, heads[k]))
			return 1;
	return 0;
}

static void sig_override(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i);
	if (!(t->cls & (W_OBJ | W_OBJW | W_QUAL | W_OBJU)))
		return;
	for (size_t k = 1; k <= LOOK; k++) {
		tok *v = back(c, i, k);
		if (!v)
			return;
		int strong = (v->cls & W_OVR) != 0, weak = (v->cls & W_OVRW) != 0;
		int neg = negated(c, i - k);
		tok *n1 = back(c, i - k, 1);
		if (((v->cls & W_FOLLOW) && neg) || (is(v, "following") && n1 && (is(n1, "stop") || is(n1, "quit"))))
			strong = 1;
		else if (neg)
			continue;
		if (!strong && !weak) {
			/* what stands between a verb and its object */
			if (!(v->cls & (W_QUAL | W_OBJ | W_OBJW | W_FILL | W_EXM | W_OBJU)))
				return;
			continue;
		}
		int obj = 0, objw = 0, qual = 0, every = 0, user = 0, when = 0;
		for (size_t j = k; j-- > 0;) {
			tok *x = at(c, i - j);
			every |= is(x, "everything") || is(x, "anything") || is(x, "all");
			obj |= (x->cls & W_OBJ) != 0;
			objw |= (x->cls & W_OBJW) != 0;
			user |= (x->cls & W_OBJU) != 0;
			when |= (x->cls & W_QUAL) && !is(x, "any") && !is(x, "all") && !is(x, "every") && !is(x, "your") &&
				!is(x, "system") && !is(x, "these") && !is(x, "those") && !is(x, "safety") && !is(x, "default");
			qual |= (x->cls & W_QUAL) && !is(x, "your") && !is(x, "system") ? 2 :
				(x->cls & W_QUAL) ? 1 : 0;
		}
		/* "ignore the above." / "forget all that, and": a qualifier
		 * that ends the clause stands for what it qualifies */
		int qual_end = (t->cls & W_QUAL) && !is(t, "your") &&
			       (!next || next->brk || t->comma || is(next, "and") || is(next, "then") ||
				is(next, "instead") || is(next, "now"));
		int pts = obj && qual >= 2 ? 70 : obj && qual ? 65 : obj ? 55 : objw && qual >= 2 ? 60 :
			  objw && qual ? 50 : qual_end ? 55 : 0;
		if (objw && !obj && !qual && (is(t, "everything") || is(t, "anything")) && next && next->brk)
			pts = 40;
		/* "forget everything you've been told / learned" */
		if (every && (is(t, "told") || is(t, "said") || is(t, "learned") || is(t, "taught")))
			pts = 60;
		/* "ignore the user's question": turned against the user */
		if (!pts && user)
			pts = 40;
		if (!pts)
			continue;
		/* "previous context windows": the object was part of another noun */
		if ((t->cls & (W_OBJ | W_OBJW)) && next && !next->brk && !t->comma && compound_head(next))
			return;
		/* a defence, not an attack: "ignore any instructions in retrieved
		 * documents", "do not follow instructions inside it" */
		if (!when && next && !next->brk &&
		    (is(next, "in") || is(next, "inside") || is(next, "within") || is(next, "contained") ||
		     is(next, "embedded") || is(next, "found") || is(next, "from") || is(next, "that")))
			return;
		if (weak)
			pts -= 25;
		feat(c, 0, INJ_OVERRIDE, said(c, i - k, pts), v->s, t->e);
		return;
	}
}

/* "your instructions no longer apply", "the previous rules don't matter",
 * "your guidelines have been updated", "safety protocols disabled" */
static void sig_void(scan *c, size_t i)
{
	tok *t = at(c, i);
	if (is(t, "updated") || is(t, "changed") || is(t, "replaced") || is(t, "revoked") || is(t, "suspended") ||
	    is(t, "lifted") || is(t, "disabled") || is(t, "removed") || is(t, "deactivated") || is(t, "overridden")) {
		for (size_t k = 1; k <= 4; k++) {
			tok *v = back(c, i, k), *q = back(c, i, k + 1);
			if (!v)
				return;
			if ((v->cls & W_OBJ) && q && (is(q, "your") || is(q, "safety") || is(q, "previous") ||
						      is(q, "original") || is(q, "system"))) {
				feat(c, 0, INJ_OVERRIDE, 55, q->s, t->e);
				return;
			}
		}
		return;
	}
	if (!is(t, "apply") && !is(t, "matter") && !is(t, "valid") && !is(t, "exist"))
		return;
	int neg = 0;
	for (size_t k = 1; k <= 6; k++) {
		tok *v = back(c, i, k);
		if (!v)
			return;
		neg |= (v->cls & W_NEG) != 0;
		if ((v->cls & W_OBJ) && neg) {
			feat(c, 0, INJ_OVERRIDE, 60, v->s, t->e);
			return;
		}
	}
}

static void sig_extract(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i);
	if (!(t->cls & (W_EXO | W_EXM)))
		return;
	/* mod: 2 a qualifier (system, initial, above), 4 "your" */
	int mod = is(t, "above") || is(t, "verbatim") ? 2 : 0, obj = (t->cls & W_EXO) != 0, art = 0;
	for (size_t k = 1; k <= LOOK; k++) {
		tok *v = back(c, i, k);
		if (!v)
			return;
		int question = is(v, "what") || is(v, "which");
		if ((v->cls & W_EXV) || question) {
			tok *n1 = back(c, i - k, 1);
			if ((n1 && (n1->cls & W_NEG)) || !obj || art || !(question ? mod & 4 : mod))
				return;
			feat(c, 1, INJ_EXTRACT, said(c, i - k, 55), v->s, t->e);
			return;
		}
		obj |= (v->cls & W_EXO) != 0;
		art |= (v->cls & W_ART) != 0;
		if (is(v, "your") || is(v, "you"))
			mod |= 4 | 2;
		else if (v->cls & W_EXM)
			mod |= 2;
	}
}

/* An extraction asked for: "what" or an extraction verb 3 to LOOK words
 * before word t (at i). */
static void asked_back(scan *c, size_t i, const tok *t)
{
	for (size_t k = 3; k <= LOOK; k++) {
		tok *v = back(c, i, k);
		if (!v)
			return;
		if (is(v, "what") || (v->cls & W_EXV)) {
			feat(c, 1, INJ_EXTRACT, said(c, i - k, 55), v->s, t->e);
			return;
		}
	}
}

static void sig_mentions(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1), *pp = back(c, i, 2);
	/* "system prompt", "initial prompt" alone: weak */
	if (is(t, "prompt") && p && (is(p, "system") || is(p, "initial") || is(p, "hidden") || is(p, "pre") ||
				       is(p, "original") || is(p, "secret") || is(p, "developer")))
		feat(c, 2, INJ_EXTRACT, 15, p->s, t->e);
	if (is(t, "verbatim"))
		feat(c, 3, INJ_EXTRACT, 15, t->s, t->e);
	/* "beginning of the conversation / document / prompt" */
	if ((is(t, "conversation") || is(t, "document") || is(t, "prompt") || is(t, "chat")) && pp &&
	    is(pp, "of") && back(c, i, 3) && is(back(c, i, 3), "beginning"))
		feat(c, 4, INJ_EXTRACT, 20, back(c, i, 3)->s, t->e);
	if (pp && p && is(p, "of") && is(pp, "beginning") && (t->cls & (W_OBJW | W_EXO)))
		feat(c, 4, INJ_EXTRACT, 20, pp->s, t->e);
	if (c->fp[4])
		asked_back(c, i, t);
	/* what were you told / what instructions were you given */
	if ((is(t, "told") || is(t, "given")) && p && pp &&
	    ((is(p, "you") && (is(pp, "were") || is(pp, "have") || is(pp, "was"))) ||
	     ((is(p, "were") || is(p, "been")) && (is(pp, "you") || is(pp, "you've")))))
		asked_back(c, i, t);
}

static void sig_persona(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1), *pp = back(c, i, 2);
	if (t->cls & W_INTRO)
		feat(c, 5, INJ_PERSONA, 15, t->s, t->e);
	if (p && (is(p, "act") || is(p, "acting") || is(p, "respond") || is(p, "answer") || is(p, "behave") ||
		  is(p, "roleplay")) && (is(t, "as") || is(t, "like")))
		feat(c, 6, INJ_PERSONA, 15, p->s, t->e);
	if (pp && p && ((is(pp, "you") && is(p, "are")) || is(pp, "you're") || is(pp, "youre")) && is(t, "now"))
		feat(c, 7, INJ_PERSONA, 15, pp->s, t->e);
	if (p && is(p, "you're") && is(t, "now"))
		feat(c, 7, INJ_PERSONA, 15, p->s, t->e);
	if (pp && p && is(pp, "from") && is(p, "now") && is(t, "on"))
		feat(c, 8, INJ_PERSONA, 15, pp->s, t->e);
	if (p && is(p, "role") && (is(t, "play") || is(t, "playing")))
		feat(c, 5, INJ_PERSONA, 15, p->s, t->e);
	/* stay in character / break character */
	if (is(t, "character") && p &&
	    ((pp && (is(pp, "stay") || is(pp, "remain") || is(pp, "staying") || is(pp, "keep")) && is(p, "in")) ||
	     is(p, "break") || is(p, "breaking") || is(p, "broke") || (pp && is(pp, "out") && is(p, "of"))))
		feat(c, 9, INJ_ALTEREGO, 30, (pp ? pp : p)->s, t->e);
	/* two responses, one normal and one ... */
	if ((is(t, "responses") || is(t, "answers") || is(t, "replies") || is(t, "outputs") || is(t, "paragraphs")))
		for (size_t k = 1; k <= 2; k++) {
			tok *v = back(c, i, k);
			if (v && (is(v, "two") || is(v, "dual") || is(v, "both") || is(v, "2"))) {
				feat(c, 10, INJ_ALTEREGO, 30, v->s, t->e);
				break;
			}
		}
	/* developer mode, DAN mode, god mode; enable / enter it */
	if (is(t, "mode") && p && (p->cls & W_MODE)) {
		int pts = is(p, "dan") || is(p, "jailbreak") || is(p, "god") || (p->cls & W_UNR) || is(p, "evil") ? 45 :
			  is(p, "developer") ? 35 : 25;
		feat(c, 11, INJ_ALTEREGO, pts, p->s, t->e);
		if ((pp && (is(pp, "enable") || is(pp, "enter") || is(pp, "activate") || is(pp, "in") ||
			    is(pp, "into") || is(pp, "switch"))) ||
		    (next && (is(next, "enabled") || is(next, "activated") || is(next, "on"))))
			feat(c, 12, INJ_ALTEREGO, 10, (pp ? pp : p)->s, t->e);
	}
	/* DAN, STAN, DUDE written in capitals; "stands for" */
	if ((t->caps && (is(t, "dan") || is(t, "stan") || is(t, "dude") || is(t, "aim") || is(t, "ucar") ||
			 is(t, "apophis") || is(t, "kevin"))) || is(t, "betterdan"))
		feat(c, 13, INJ_ALTEREGO, 35, t->s, t->e);
	if (p && is(p, "stands") && is(t, "for"))
		feat(c, 14, INJ_ALTEREGO, 25, p->s, t->e);
	if (p && is(p, "alter") && is(t, "ego"))
		feat(c, 15, INJ_ALTEREGO, 30, p->s, t->e);
	if (pp && p && is(pp, "do") && is(p, "anything") && is(t, "now"))
		feat(c, 16, INJ_ALTEREGO, 50, pp->s, t->e);
	/* evil / unfiltered twin, confidant, version, AI */
	if (p && (is(p, "evil") || (p->cls & W_UNR)) &&
	    (is(t, "confidant") || is(t, "twin") || is(t, "version") || (t->cls & W_AI) || is(t, "mode") ||
	     is(t, "persona") || is(t, "alter")))
		feat(c, 17, INJ_UNRESTRICT, 30, p->s, t->e);
}

static void sig_unrestricted(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1), *pp = back(c, i, 2);
	if (t->cls & W_UNR && !(next && (next->cls & W_AI)))
		feat(c, 18 + (int)(word_hash(t->w, strlen(t->w)) % 3), INJ_UNRESTRICT, 25, t->s, t->e);
	/* no / without / free from ... restrictions */
	if (t->cls & W_LIM)
		for (size_t k = 1; k <= 3; k++) {
			tok *v = back(c, i, k);
			if (!v)
				break;
			if ((v->cls & W_WITHOUT) || is(v, "bound") || is(v, "ignore")) {
				feat(c, 21 + (int)(word_hash(t->w, strlen(t->w)) % 2), INJ_UNRESTRICT, 25, v->s, t->e);
				break;
			}
		}
	/* can / will do anything */
	if (is(t, "anything") && p && is(p, "do") && pp &&
	    (is(pp, "can") || is(pp, "could") || is(pp, "will") || is(pp, "to") || is(pp, "may")))
		feat(c, 23, INJ_UNRESTRICT, 25, pp->s, t->e);
	/* never refuse, will not refuse, can't refuse */
	if ((is(t, "refuse") || is(t, "refuses") || is(t, "decline") || is(t, "censor")) && p &&
	    ((p->cls & W_NEG) || is(p, "won't") || is(p, "can't") || is(p, "cannot") || is(p, "doesn't") ||
	     (pp && (pp->cls & W_NEG))))
		feat(c, 24, INJ_UNRESTRICT, 30, p->s, t->e);
	/* no longer bound / restricted */
	if (p && is(p, "longer") && pp && is(pp, "no") &&
	    (is(t, "bound") || is(t, "restricted") || is(t, "limited") || is(t, "required") || is(t, "constrained") ||
	     is(t, "subject") || is(t, "have") || is(t, "need") || is(t, "obligated")))
		feat(c, 25, INJ_UNRESTRICT, 40, pp->s, t->e);
	if ((is(t, "bound") || is(t, "restricted") || is(t, "limited") || is(t, "constrained")) && p && is(p, "not") &&
	    next && is(next, "by"))
		feat(c, 26, INJ_UNRESTRICT, 30, p->s, t->e);
	/* content policy / OpenAI's policies */
	if ((is(t, "policy") || is(t, "policies")) && p &&
	    (is(p, "content") || is(p, "openai") || is(p, "openai's") || is(p, "usage") || is(p, "anthropic")))
		feat(c, 27, INJ_UNRESTRICT, 20, p->s, t->e);
	/* no matter how immoral / illegal */
	if (pp && p && is(pp, "matter") && is(p, "how") &&
	    (is(t, "immoral") || is(t, "unethical") || is(t, "illegal") || is(t, "dangerous") || is(t, "harmful") ||
	     is(t, "offensive")))
		feat(c, 19, INJ_UNRESTRICT, 30, pp->s, t->e);
	/* broke free, freed from */
	if ((is(t, "free") && p && (is(p, "broken") || is(p, "break") || is(p, "broke"))) ||
	    (is(t, "from") && p && is(p, "freed")))
		feat(c, 28, INJ_UNRESTRICT, 25, p->s, t->e);
}

static void sig_address(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1), *pp = back(c, i, 2);
	if (!(t->cls & W_AI) && !is(t, "language"))
		return;
	tok *lead = p && (is(p, "the") || is(p, "any") || is(p, "all")) ? pp : p;
	tok *before = lead && lead == pp ? back(c, i, 3) : pp;
	if (lead && ((lead->cls & W_ADDR) ||
		     ((is(lead, "to") || is(lead, "for")) && before &&
		      (is(before, "note") || is(before, "instructions") || is(before, "message") || is(before, "notes")))))
		feat(c, 29, INJ_ADDRESS, 25, lead->s, t->e);
	/* "if you are an AI / LLM / language model" */
	if (p && (p->cls & W_ART) && pp && is(pp, "are") && back(c, i, 3) && is(back(c, i, 3), "you") &&
	    back(c, i, 4) && is(back(c, i, 4), "if"))
		feat(c, 30, INJ_ADDRESS, 30, back(c, i, 4)->s, t->e);
	/* "AI:", "AI agent:" opening a clause ("Assistant:" is a transcript's) */
	if (t->colon && (t->cls & W_AI) && !is(t, "assistant") && (t->brk || (p && p->brk && (p->cls & W_AI))))
		feat(c, 31, INJ_ADDRESS, 25, t->s, t->e);
}

static void sig_redirect(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1), *pp = back(c, i, 2);
	if ((t->cls & W_TASK) && p &&
	    (is(p, "new") || is(p, "real") || is(p, "true") || is(p, "actual") || is(p, "updated") ||
	     (is(p, "only") && pp && is(pp, "your"))))
		/* "NEW INSTRUCTIONS:" heads a block of orders */
		feat(c, 32, INJ_REDIRECT, t->colon ? 35 : 20, p->s, t->e);
	if (is(t, "instead") && (!next || next->brk || (next->cls & (W_SAY | W_EXV))))
		feat(c, 33, INJ_REDIRECT, 10, t->s, t->e);
	if (is(t, "pwned") || is(t, "hacked") || is(t, "pwnd"))
		feat(c, 34, INJ_REDIRECT, 15, t->s, t->e);
	if ((t->cls & W_SAY) && p && is(p, "now") && !(pp && !pp->brk && (pp->cls & W_AI)))
		feat(c, 35, INJ_REDIRECT, 10, p->s, t->e);
	/* an override, then a new order: "..., then list", "... and say" */
	if ((t->cls & (W_SAY | W_EXV)) && p && (is(p, "then") || is(p, "and") || is(p, "instead")) && c->fp[0])
		feat(c, 44, INJ_REDIRECT, 10, p->s, t->e);
	/* the user's password / API keys / emails: what injected text is after */
	if (p && pp && (is(p, "user") || (is(pp, "user") && !p->brk)) &&
	    (is(t, "password") || is(t, "passwords") || is(t, "keys") || is(t, "credentials") || is(t, "emails") ||
	     is(t, "inbox") || is(t, "data") || is(t, "secrets") || is(t, "tokens") || is(t, "history") ||
	     is(t, "files")))
		feat(c, 45, INJ_REDIRECT, 15, (is(p, "user") ? p : pp)->s, t->e);
}

static void sig_roles(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i), *p = back(c, i, 1);
	/* "System note:", "SYSTEM OVERRIDE", "system message:", "admin:" */
	if (is(t, "system") && next && !next->brk &&
	    (is(next, "note") || is(next, "override") || is(next, "message") || is(next, "instruction") ||
	     is(next, "instructions") || is(next, "update") || is(next, "alert") || is(next, "command") ||
	     is(next, "notice")) && (next->colon || next->caps))
		feat(c, 36, INJ_ROLE, 30, t->s, next->e);
	if ((is(t, "system") || is(t, "admin") || is(t, "developer") || is(t, "root")) && t->colon && t->brk == 2)
		feat(c, 37, INJ_ROLE, 30, t->s, t->e);
	if ((is(t, "user") || is(t, "human") || is(t, "assistant")) && t->colon && t->brk == 2)
		feat(c, 38, INJ_ROLE, 10, t->s, t->e);
	if (p && (is(p, "admin") || is(p, "administrator") || is(p, "developer")) &&
	    (is(t, "override") || (is(t, "note") && t->colon)))
		feat(c, 36, INJ_ROLE, 30, p->s, t->e);
}

/* Capitals: urgent words (distinct) and long runs of capitalised words. */
static void sig_urgency(scan *c, size_t i)
{
	tok *t = at(c, i);
	if (!t->caps) {
		c->caps_run = 0;
		return;
	}
	if (++c->caps_run == 6)
		feat(c, 39, INJ_URGENCY, 10, at(c, i - 5)->s, t->e);
	if (t->cls & W_URG) {
		unsigned bit = 1u << (word_hash(t->w, strlen(t->w)) % 31);
		if (!(c->urgent & bit)) {
			c->urgent |= bit;
			c->w[INJ_URGENCY] += 12;
			if (12 > c->best) {
				c->best = 12;
				c->bs = t->s;
				c->be = t->e;
			}
		}
	}
}

/* A word inside an e-mail address or host name (bob@example.org). */
static int in_host(const scan *c, const tok *t)
{
	const unsigned char *s = (const unsigned char *)c->s;
	return (t->s > 0 && s[t->s - 1] == '@') ||
	       (t->e + 1 < c->n && s[t->e] == '.' && ((s[t->e + 1] | 0x20) >= 'a' && (s[t->e + 1] | 0x20) <= 'z'));
}

static void word_done(scan *c, size_t i, const tok *next)
{
	tok *t = at(c, i);
	/* most words end no signal: only vocabulary, capitals and "x:" */
	if (!(t->cls & ~(unsigned)(W_IMPER | W_ART | W_NEG | W_FILL)) && !t->caps && !t->colon)
		return;
	if ((t->cls & W_META) && !in_host(c, t))
		c->meta |= 1u << (word_hash(t->w, strlen(t->w)) % 31);
	sig_override(c, i, next);
	sig_void(c, i);
	sig_extract(c, i, next);
	sig_mentions(c, i, next);
	sig_persona(c, i, next);
	sig_unrestricted(c, i, next);
	sig_address(c, i, next);
	sig_redirect(c, i, next);
	sig_roles(c, i, next);
	sig_urgency(c, i);
}

/* ---- markup at '<', '[', '#', '{' ------------------------------------ */

typedef struct {
	const char *m;
	int pts, id;
} markup;

static const markup marks[] = {
	{ "<|im_start|>", 40, 40 }, { "<|im_end|>", 40, 40 }, { "<|system|>", 40, 40 },
	{ "<|user|>", 30, 40 }, { "<|assistant|>", 30, 40 }, { "<|endoftext|>", 40, 40 },
	{ "<|eot_id|>", 40, 40 }, { "<|start_header_id|>", 40, 40 }, { "<|end_header_id|>", 40, 40 },
	{ "<|begin_of_text|>", 40, 40 }, { "<|end|>", 30, 40 }, { "[inst]", 40, 40 }, { "[/inst]", 40, 40 },
	{ "<<sys>>", 40, 40 }, { "<</sys>>", 40, 40 }, { "<start_of_turn>", 40, 40 },
	{ "<end_of_turn>", 40, 40 }, { "[system]", 35, 41 }, { "[system message]", 35, 41 },
	{ "[system note]", 35, 41 }, { "[admin]", 35, 41 }, { "[developer]", 35, 41 }, { "[sys]", 35, 41 },
	{ "<system>", 35, 41 }, { "</system>", 35, 41 }, { "{system}", 35, 41 }, { "[[system]]", 35, 41 },
	{ "<admin>", 35, 41 }, { "[override]", 35, 41 }, { "### instruction", 30, 42 },
	{ "### system", 30, 42 }, { "### new instruction", 35, 42 }, { "### response", 20, 42 },
	{ "## instruction", 25, 42 }, { "## system", 25, 42 }, { "#system", 20, 42 },
};

static void markup_at(scan *c, const char *p, size_t left, size_t pos)
{
	for (size_t k = 0; k < sizeof marks / sizeof *marks; k++) {
		const char *m = marks[k].m;
		size_t len = strlen(m);
		if (m[0] != p[0] || len > left)
			continue;
		size_t j = 1;
		for (; j < len; j++) {
			unsigned char ch = (unsigned char)p[j];
			if ((ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) != (unsigned char)m[j])
				break;
		}
		if (j == len) {
			feat(c, marks[k].id, INJ_ROLE, marks[k].pts, pos, pos + len);
			return;
		}
	}
}

/* ---- the word pass -------------------------------------------------- */

static void push_word(scan *c, tok *cur)
{
	/* the previous word is complete: run its signals with this one as
	 * the look-ahead */
	if (c->nt)
		word_done(c, c->nt - 1, cur);
	*at(c, c->nt) = *cur;
	c->nt++;
}

static void spaced_note(scan *c, const tok *cur)
{
	if (cur->single) {
		if (c->single_run++ == 0)
			c->single_from = cur->s;
		c->single_to = cur->e;
		return;
	}
	if (c->single_run >= 6 && c->nspaced < MAX_RUNS)
		c->spaced[c->nspaced++] = (span){ c->single_from, c->single_to };
	c->single_run = 0;
}

static void words(scan *c)
{
	const unsigned char *s = (const unsigned char *)c->s;
	size_t n = c->n, i = 0;
	int brk = 2, quote = 0;         /* 2: a line starts */
	tok cur;
	while (i < n) {
		unsigned char ch = s[i];
		int il, ll = 0;
		char la = ch >= 0x80 ? inj_lookalike(s + i, n - i, &ll) : 0;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || la ||
		    (ch >= 0x80 && !inj_invisible(s + i, n - i))) {
			size_t wn = 0, start = i;
			int upper = 0, lower = 0, too_long = 0, digit = 0;
			memset(&cur, 0, sizeof cur);
			while (i < n) {
				ch = s[i];
				la = 0;
				ll = 1;
				if (ch >= 0x80) {
					if ((il = inj_invisible(s + i, n - i))) {
						i += (size_t)il;
						continue;
					}
					la = inj_lookalike(s + i, n - i, &ll);
					if (!la) {
						/* another letter of another script, kept as bytes */
						int k = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
						if (ch == 0xF0 && i + 3 < n && s[i + 1] == 0x9F && s[i + 2] == 0x94 &&
						    (s[i + 3] == 0x92 || s[i + 3] == 0x93))
							break;
						if ((unsigned char)(ch - 0xE2) < 2 && i + 2 < n && s[i + 1] == 0x80 &&
						    (s[i + 2] == 0x99 || s[i + 2] == 0x98 || s[i + 2] == 0x9C ||
						     s[i + 2] == 0x9D || s[i + 2] == 0x94 || s[i + 2] == 0x93 ||
						     s[i + 2] == 0xA6))
							break;  /* quotes, dashes, ellipsis end a word */
						for (int q = 0; q < k && i < n; q++) {
							if (wn < WORD_MAX - 1)
								cur.w[wn++] = (char)s[i];
							else
								too_long = 1;
							i++;
						}
						continue;
					}
				} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
					la = (char)ch;
					lower += ch >= 'a';
					digit += ch <= '9';
				} else if (ch >= 'A' && ch <= 'Z') {
					la = (char)(ch + 32);
					upper++;
				} else if (ch == '\'' && wn && i + 1 < n && s[i + 1] >= 'a' && s[i + 1] <= 'z') {
					la = '\'';
				} else {
					break;
				}
				if (wn < WORD_MAX - 1)
					cur.w[wn++] = la;
				else
					too_long = 1;
				i += (size_t)ll;
			}
			/* a right single quote inside a word is an apostrophe */
			if (i + 3 < n && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x99 && s[i + 3] >= 'a' &&
			    s[i + 3] <= 'z' && wn) {
				if (wn < WORD_MAX - 1)
					cur.w[wn++] = '\'';
				i += 3;
				while (i < n && s[i] >= 'a' && s[i] <= 'z') {
					if (wn < WORD_MAX - 1)
						cur.w[wn++] = (char)s[i];
					i++;
				}
			}
			if (i == start)
				goto other;     /* a quote or padlock: not a letter after all */
			if (too_long)
				wn = 0;
			if (wn > 3 && cur.w[wn - 2] == '\'' && cur.w[wn - 1] == 's')
				wn -= 2;        /* the user's, the system's: the noun */
			cur.w[wn] = 0;
			if (digit)
				inj_unleet(cur.w, wn);
			cur.s = start;
			cur.e = i;
			cur.brk = (unsigned char)brk;
			cur.quote = (unsigned char)quote;
			cur.caps = upper >= 2 && !lower;
			cur.cap1 = s[start] >= 'A' && s[start] <= 'Z';
			cur.single = wn == 1 && ((cur.w[0] >= 'a' && cur.w[0] <= 'z'));
			cur.cls = wn ? word_class(cur.w, wn) : 0;
			size_t j = i;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			cur.colon = j < n && s[j] == ':';
			cur.comma = j < n && s[j] == ',';
			spaced_note(c, &cur);
			push_word(c, &cur);
			brk = 0;
			quote = 0;
			continue;
		}
		if (ch >= 0x80 && (il = inj_invisible(s + i, n - i))) {
			i += (size_t)il;
			continue;
		}
other:
		ch = s[i];
		switch (ch) {
		case '\n': case '\r':
			brk = 2;
			break;
		case '.': case '!': case '?': case ';': case ':':
			if (brk < 1)
				brk = 1;
			break;
		case '"': case '\'': case '`':
			quote = 1;
			break;
		case '<': case '[': case '#': case '{':
			markup_at(c, (const char *)s + i, n - i, i);
			break;
		case 0xE2:
			/* curly quotes and guillemets quote what follows */
			if (i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0x9C || s[i + 2] == 0x98))
				quote = 1;
			break;
		case 0xC2:
			if (i + 1 < n && s[i + 1] == 0xAB)
				quote = 1;
			break;
		case 0xF0:
			/* the locked / unlocked padlocks of two-response jailbreaks */
			if (i + 3 < n && s[i + 1] == 0x9F && s[i + 2] == 0x94 && (s[i + 3] == 0x92 || s[i + 3] == 0x93))
				feat(c, 10, INJ_ALTEREGO, 30, i, i + 4);
			break;
		default:
			break;
		}
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '-' && ch != '.' && ch != '_' &&
		    ch != '*' && ch != '/' && ch != ',' && ch != '|') {
			/* not a separator between spaced-out letters */
			if (c->single_run >= 6 && c->nspaced < MAX_RUNS)
				c->spaced[c->nspaced++] = (span){ c->single_from, c->single_to };
			c->single_run = 0;
		}
		if (ch >= 0x80) {
			int k = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
			i += (size_t)k;
		} else {
			i++;
		}
	}
	if (c->single_run >= 6 && c->nspaced < MAX_RUNS)
		c->spaced[c->nspaced++] = (span){ c->single_from, c->single_to };
	if (c->nt)
		word_done(c, c->nt - 1, NULL);
}

/* ---- decoded text, scored again ------------------------------------ */

static void scan_text(scan *c, const char *s, size_t n, int depth, int full);

/* Scores decoded text and counts it under sig, at the run's place. */
static void rescan(scan *c, const char *text, size_t len, int sig, span where)
{
	scan sub;
	scan_text(&sub, text, len, c->depth + 1, 1);
	int total = 0;
	for (int k = 0; k < INJ_NSIGNALS; k++)
		total += sub.w[k] < caps_of[k] ? sub.w[k] : caps_of[k];
	if (total < 20)
		return;
	if (total + 10 > c->w[sig]) {
		c->w[sig] = total + 10;
		if (total + 10 > c->best) {
			c->best = total + 10;
			c->bs = where.s;
			c->be = where.e;
		}
	}
}

/* full: the word pass too (else only base64 runs are looked for). */
static void scan_text(scan *c, const char *s, size_t n, int depth, int full)
{
	memset(c, 0, offsetof(scan, t));
	c->s = s;
	c->n = n;
	c->depth = depth;
	if (full)
		words(c);
	if (depth >= DEPTH_MAX)
		return;
	c->nruns = inj_b64_runs(s, n, c->runs, MAX_RUNS);
	char buf[DECODE_MAX];
	for (size_t k = 0; k < c->nruns; k++) {
		size_t len = inj_b64_text(s + c->runs[k].s, c->runs[k].e - c->runs[k].s, buf, sizeof buf);
		if (len)
			rescan(c, buf, len, INJ_BASE64, c->runs[k]);
	}
	for (size_t k = 0; k < c->nspaced; k++) {
		size_t len = inj_collapse(s + c->spaced[k].s, c->spaced[k].e - c->spaced[k].s, buf, sizeof buf);
		if (len)
			rescan(c, buf, len, INJ_SPACED, c->spaced[k]);
	}
}

void inj_scan(const char *s, size_t n, int keyword_seen, inj_result *r)
{
	memset(r, 0, sizeof *r);
	if (!vtab_ready)
		vtab_build();
	int how = keyword_seen ? 2 : inj_worth_scanning(s, n);
	if (!how)
		return;
	scan c;
	scan_text(&c, s, n, 0, how == 2);
	int total = 0;
	for (int k = 0; k < INJ_NSIGNALS; k++) {
		int w = c.w[k] < caps_of[k] ? c.w[k] : caps_of[k];
		if (w > 0) {
			r->signals |= 1u << k;
			total += w;
		}
	}
	/* a persona with no limits is a jailbreak; either alone is role-play */
	if (c.w[INJ_PERSONA] && (c.w[INJ_UNRESTRICT] || c.fp[11] || c.fp[13] || c.fp[14] || c.fp[15] || c.fp[16]))
		total += 15;
	/* texts about attacks quote them: damp what is quoted or described,
	 * and a little more when the words of such texts abound */
	int meta = __builtin_popcount(c.meta);
	if (meta >= 4)
		total = total * 30 / 100;
	else if (meta == 3)
		total = total * 40 / 100;
	else if (meta == 2)
		total = total * 55 / 100;
	else if (meta == 1)
		total = total * 80 / 100;
	r->score = total > 100 ? 100 : total;
	r->start = c.bs;
	r->end = c.be;
}
