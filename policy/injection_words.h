/* The prompt-injection scorer's vocabulary (policy/injection.c): each word
 * it knows with its classes, which the signals look for. Data only,
 * included by injection.c alone; a word listed twice gets the classes of
 * both entries. */
#ifndef LG_INJECTION_WORDS_H
#define LG_INJECTION_WORDS_H

enum {
	W_OVR = 1u << 0,        /* override verb, imperative form */
	W_OVRW = 1u << 1,       /* weak override verb (skip, drop) */
	W_FOLLOW = 1u << 2,     /* follow, obey: an override when negated */
	W_NEG = 1u << 3,
	W_OBJ = 1u << 4,        /* what an override targets: instructions, rules */
	W_OBJW = 1u << 5,       /* ... weakly: text, context, everything */
	W_QUAL = 1u << 6,       /* previous, above, all, your */
	W_EXV = 1u << 7,        /* extraction verb: repeat, print, reveal */
	W_EXO = 1u << 8,        /* what is extracted: prompt, instructions */
	W_EXM = 1u << 9,        /* whose: your, system, initial, verbatim */
	W_UNR = 1u << 10,       /* unfiltered, uncensored, amoral */
	W_LIM = 1u << 11,       /* restrictions, filters, limits, ethics */
	W_WITHOUT = 1u << 12,   /* without, no, free */
	W_INTRO = 1u << 13,     /* pretend, roleplay, simulate */
	W_META = 1u << 14,      /* words of texts about attacks */
	W_AI = 1u << 15,        /* ai, assistant, llm, model */
	W_URG = 1u << 16,       /* urgent when in capitals */
	W_ADDR = 1u << 17,      /* attention, note, dear */
	W_TASK = 1u << 18,      /* task, instructions, goal: after "new" */
	W_SAY = 1u << 19,       /* say, print, respond: a redirected output */
	W_IMPER = 1u << 20,     /* may precede an imperative: please, now, you */
	W_ART = 1u << 21,       /* a, an: a generic mention */
	W_MODE = 1u << 22,      /* developer, god, dan: before "mode" */
	W_RULE = 1u << 23,      /* other words that end a signal */
	W_FILL = 1u << 24,      /* the, of, you: may stand between a verb and its object */
	W_OBJU = 1u << 25,      /* the user('s): what an injected text turns the model against */
};

typedef struct {
	const char *w;
	unsigned cls;
} vword;

static const vword vocab[] = {
	{ "ignore", W_OVR }, { "disregard", W_OVR }, { "forget", W_OVR }, { "override", W_OVR | W_URG },
	{ "bypass", W_OVR }, { "neglect", W_OVR }, { "discard", W_OVR }, { "dismiss", W_OVR },
	{ "overlook", W_OVR }, { "abandon", W_OVR }, { "circumvent", W_OVR }, { "nullify", W_OVR },
	{ "overwrite", W_OVR }, { "ignoriere", W_OVR }, { "ignorieren", W_OVR }, { "vergiss", W_OVR },
	{ "vergessen", W_OVR }, { "ignora", W_OVR }, { "ignorar", W_OVR }, { "olvida", W_OVR },
	{ "olvidar", W_OVR }, { "ignorez", W_OVR }, { "oubliez", W_OVR }, { "oublie", W_OVR },
	{ "ignorer", W_OVR },
	{ "skip", W_OVRW }, { "drop", W_OVRW }, { "ditch", W_OVRW }, { "erase", W_OVRW },
	{ "scrap", W_OVRW }, { "break", W_OVRW }, { "delete", W_OVRW }, { "leave", W_OVRW }, { "reset", W_OVRW },
	{ "follow", W_FOLLOW }, { "obey", W_FOLLOW }, { "heed", W_FOLLOW }, { "adhere", W_FOLLOW },
	{ "comply", W_FOLLOW }, { "abide", W_FOLLOW }, { "respect", W_FOLLOW }, { "listen", W_FOLLOW },
	{ "don't", W_NEG }, { "dont", W_NEG }, { "not", W_NEG }, { "never", W_NEG | W_URG },
	{ "stop", W_NEG | W_URG }, { "cease", W_NEG }, { "nicht", W_NEG }, { "no", W_NEG | W_WITHOUT },
	{ "longer", W_NEG },
	{ "instructions", W_OBJ | W_EXO | W_TASK }, { "instruction", W_OBJ | W_EXO | W_TASK },
	{ "directions", W_OBJ }, { "directives", W_OBJ | W_EXO }, { "directive", W_OBJ | W_TASK },
	{ "rules", W_OBJ | W_EXO | W_LIM | W_TASK }, { "rule", W_OBJ },
	{ "prompt", W_OBJ | W_EXO | W_TASK }, { "prompts", W_OBJ | W_EXO },
	{ "guidelines", W_OBJ | W_EXO | W_LIM }, { "guideline", W_OBJ }, { "guidance", W_OBJ },
	{ "commands", W_OBJ }, { "orders", W_OBJ | W_TASK }, { "constraints", W_OBJ | W_LIM },
	{ "restrictions", W_OBJ | W_LIM }, { "guardrails", W_OBJ | W_LIM }, { "policies", W_OBJ | W_LIM },
	{ "policy", W_OBJ | W_LIM | W_TASK }, { "programming", W_OBJ }, { "training", W_OBJ },
	{ "safeguards", W_OBJ | W_LIM }, { "protocols", W_OBJ }, { "anweisungen", W_OBJ },
	{ "anweisung", W_OBJ }, { "befehle", W_OBJ }, { "regeln", W_OBJ }, { "vorgaben", W_OBJ },
	{ "instrucciones", W_OBJ }, { "reglas", W_OBJ }, { "consignes", W_OBJ },
	{ "r\xc3\xa8gles", W_OBJ }, { "indicaciones", W_OBJ },
	{ "text", W_OBJW | W_EXO }, { "context", W_OBJW | W_EXO }, { "content", W_OBJW },
	{ "messages", W_OBJW }, { "message", W_OBJW | W_EXO }, { "input", W_OBJW },
	{ "tasks", W_OBJW }, { "task", W_OBJW | W_TASK }, { "assignments", W_OBJW },
	{ "assignment", W_OBJW | W_TASK }, { "conversation", W_OBJW | W_EXO },
	{ "everything", W_OBJW | W_EXO },
	{ "anything", W_OBJW }, { "said", W_OBJW }, { "told", W_OBJW }, { "learned", W_OBJW },
	{ "taught", W_OBJW }, { "alles", W_OBJW },
	{ "words", W_EXO }, { "configuration", W_EXO }, { "config", W_EXO }, { "setup", W_EXO },
	{ "previous", W_QUAL }, { "prior", W_QUAL }, { "above", W_QUAL | W_EXM }, { "earlier", W_QUAL },
	{ "preceding", W_QUAL }, { "following", W_QUAL }, { "all", W_QUAL }, { "any", W_QUAL },
	{ "every", W_QUAL }, { "original", W_QUAL | W_EXM }, { "initial", W_QUAL | W_EXM },
	{ "foregoing", W_QUAL }, { "former", W_QUAL }, { "aforementioned", W_QUAL },
	{ "before", W_QUAL }, { "existing", W_QUAL }, { "default", W_QUAL }, { "given", W_QUAL },
	{ "system", W_QUAL | W_EXM | W_URG }, { "safety", W_QUAL }, { "your", W_QUAL | W_EXM },
	{ "these", W_QUAL }, { "those", W_QUAL }, { "vorherigen", W_QUAL }, { "vorherige", W_QUAL },
	{ "bisherigen", W_QUAL }, { "obigen", W_QUAL }, { "alle", W_QUAL }, { "anteriores", W_QUAL },
	{ "todas", W_QUAL }, { "todos", W_QUAL }, { "pr\xc3\xa9" "c\xc3\xa9" "dentes", W_QUAL },
	{ "toutes", W_QUAL },
	{ "repeat", W_EXV | W_SAY }, { "print", W_EXV | W_SAY }, { "list", W_EXV }, { "reveal", W_EXV },
	{ "spell", W_EXV }, { "show", W_EXV }, { "output", W_EXV | W_SAY }, { "display", W_EXV },
	{ "tell", W_EXV | W_SAY }, { "give", W_EXV }, { "write", W_EXV | W_SAY }, { "dump", W_EXV },
	{ "leak", W_EXV }, { "disclose", W_EXV }, { "recite", W_EXV }, { "share", W_EXV },
	{ "paste", W_EXV }, { "copy", W_EXV }, { "echo", W_EXV }, { "return", W_EXV },
	{ "provide", W_EXV }, { "expose", W_EXV }, { "enumerate", W_EXV }, { "type", W_EXV },
	{ "hidden", W_EXM }, { "secret", W_EXM }, { "developer", W_EXM | W_MODE }, { "verbatim", W_EXM },
	{ "exact", W_EXM }, { "full", W_EXM }, { "entire", W_EXM }, { "first", W_EXM | W_IMPER },
	{ "complete", W_EXM }, { "internal", W_EXM }, { "confidential", W_EXM },
	{ "underlying", W_EXM },
	{ "unfiltered", W_UNR }, { "uncensored", W_UNR }, { "unrestricted", W_UNR | W_MODE },
	{ "unlimited", W_UNR }, { "limitless", W_UNR }, { "amoral", W_UNR }, { "unethical", W_UNR },
	{ "immoral", W_UNR }, { "jailbroken", W_UNR }, { "unbound", W_UNR }, { "unchained", W_UNR },
	{ "unhinged", W_UNR }, { "lawless", W_UNR }, { "unmoderated", W_UNR }, { "uncontrolled", W_UNR },
	{ "restriction", W_LIM }, { "filters", W_LIM }, { "filter", W_LIM }, { "filtering", W_LIM },
	{ "limits", W_LIM }, { "limitations", W_LIM }, { "boundaries", W_LIM }, { "censorship", W_LIM },
	{ "ethics", W_LIM }, { "morals", W_LIM }, { "morality", W_LIM }, { "restraints", W_LIM },
	{ "principles", W_LIM }, { "disclaimers", W_LIM }, { "disclaimer", W_LIM }, { "caveats", W_LIM }, { "limit", W_LIM }, { "ethical", W_LIM }, { "moral", W_LIM },
	{ "without", W_WITHOUT }, { "zero", W_WITHOUT }, { "free", W_WITHOUT }, { "beyond", W_WITHOUT },
	{ "pretend", W_INTRO }, { "roleplay", W_INTRO }, { "simulate", W_INTRO }, { "emulate", W_INTRO },
	{ "impersonate", W_INTRO }, { "imagine", W_INTRO }, { "behave", W_INTRO },
	{ "injection", W_META }, { "injections", W_META }, { "attacker", W_META }, { "attackers", W_META },
	{ "attack", W_META }, { "attacks", W_META }, { "adversarial", W_META }, { "malicious", W_META },
	{ "mitigate", W_META }, { "mitigation", W_META }, { "defend", W_META }, { "defense", W_META },
	{ "defence", W_META }, { "detect", W_META }, { "detection", W_META }, { "detector", W_META },
	{ "classifier", W_META }, { "researchers", W_META }, { "vulnerability", W_META },
	{ "vulnerable", W_META }, { "owasp", W_META }, { "example", W_META }, { "examples", W_META },
	{ "payload", W_META }, { "payloads", W_META }, { "technique", W_META }, { "techniques", W_META },
	{ "security", W_META }, { "benchmark", W_META }, { "dataset", W_META }, { "jailbreaks", W_META },
	{ "jailbreaking", W_META }, { "phrases", W_META }, { "exploit", W_META },
	{ "ai", W_AI }, { "assistant", W_AI }, { "llm", W_AI }, { "llms", W_AI }, { "model", W_AI },
	{ "chatbot", W_AI }, { "bot", W_AI }, { "agent", W_AI }, { "gpt", W_AI }, { "chatgpt", W_AI },
	{ "claude", W_AI }, { "gemini", W_AI }, { "copilot", W_AI },
	{ "important", W_URG }, { "urgent", W_URG }, { "attention", W_URG | W_ADDR }, { "warning", W_URG },
	{ "critical", W_URG }, { "note", W_URG | W_ADDR }, { "must", W_URG | W_IMPER },
	{ "immediately", W_URG | W_IMPER }, { "now", W_URG | W_IMPER }, { "alert", W_URG },
	{ "priority", W_URG }, { "mandatory", W_URG }, { "attn", W_URG | W_ADDR }, { "emergency", W_URG },
	{ "required", W_URG }, { "admin", W_URG | W_MODE }, { "dear", W_ADDR }, { "hey", W_ADDR | W_IMPER },
	{ "hello", W_ADDR | W_IMPER }, { "hi", W_ADDR | W_IMPER },
	{ "goal", W_TASK }, { "role", W_TASK }, { "objective", W_TASK }, { "mission", W_TASK },
	{ "purpose", W_TASK }, { "job", W_TASK }, { "persona", W_TASK },
	{ "say", W_SAY }, { "respond", W_SAY }, { "reply", W_SAY }, { "answer", W_SAY },
	{ "translate", W_SAY },
	{ "please", W_IMPER }, { "pls", W_IMPER }, { "just", W_IMPER }, { "kindly", W_IMPER },
	{ "simply", W_IMPER }, { "also", W_IMPER }, { "so", W_IMPER }, { "ok", W_IMPER },
	{ "okay", W_IMPER }, { "then", W_IMPER }, { "and", W_IMPER }, { "you", W_IMPER | W_FILL },
	{ "should", W_IMPER }, { "will", W_IMPER }, { "need", W_IMPER }, { "to", W_IMPER },
	{ "want", W_IMPER }, { "i", W_IMPER | W_FILL }, { "completely", W_IMPER }, { "totally", W_IMPER },
	{ "hereby", W_IMPER }, { "is", W_IMPER }, { "always", W_IMPER | W_URG }, { "but", W_IMPER },
	{ "well", W_IMPER },
	{ "done", W_IMPER }, { "great", W_IMPER }, { "good", W_IMPER }, { "thanks", W_IMPER },
	{ "step", W_IMPER }, { "a", W_ART }, { "an", W_ART },
	{ "god", W_MODE }, { "dev", W_MODE }, { "dan", W_MODE }, { "jailbreak", W_MODE },
	{ "evil", W_MODE }, { "opposite", W_MODE }, { "chaos", W_MODE }, { "debug", W_MODE },
	{ "sudo", W_MODE }, { "maintenance", W_MODE },
	/* words that end a signal */
	{ "as", W_RULE }, { "like", W_RULE }, { "on", W_RULE }, { "character", W_RULE },
	{ "responses", W_RULE }, { "answers", W_RULE }, { "replies", W_RULE }, { "outputs", W_RULE },
	{ "paragraphs", W_RULE }, { "mode", W_RULE }, { "for", W_RULE }, { "ego", W_RULE },
	{ "play", W_RULE }, { "playing", W_RULE }, { "confidant", W_RULE }, { "twin", W_RULE },
	{ "version", W_RULE }, { "refuse", W_RULE }, { "refuses", W_RULE }, { "decline", W_RULE },
	{ "censor", W_RULE }, { "bound", W_RULE }, { "restricted", W_RULE }, { "limited", W_RULE },
	{ "constrained", W_RULE }, { "subject", W_RULE }, { "have", W_RULE }, { "obligated", W_RULE },
	{ "from", W_RULE }, { "language", W_RULE }, { "document", W_RULE }, { "chat", W_RULE },
	{ "instead", W_RULE }, { "pwned", W_RULE }, { "hacked", W_RULE }, { "pwnd", W_RULE },
	{ "user", W_RULE }, { "human", W_RULE }, { "root", W_RULE }, { "stan", W_RULE },
	{ "dude", W_RULE }, { "aim", W_RULE }, { "ucar", W_RULE }, { "apophis", W_RULE },
	{ "kevin", W_RULE }, { "betterdan", W_RULE }, { "administrator", W_RULE },
	{ "apply", W_RULE }, { "matter", W_RULE }, { "valid", W_RULE }, { "passwords", W_RULE },
	{ "password", W_RULE }, { "keys", W_RULE }, { "credentials", W_RULE }, { "emails", W_RULE },
	{ "inbox", W_RULE }, { "data", W_RULE }, { "secrets", W_RULE }, { "tokens", W_RULE },
	{ "history", W_RULE }, { "files", W_RULE }, { "request", W_RULE }, { "question", W_RULE },
	{ "immoral", W_UNR }, { "illegal", W_RULE }, { "dangerous", W_RULE }, { "harmful", W_RULE },
	{ "offensive", W_RULE }, { "written", W_RULE }, { "updated", W_RULE }, { "changed", W_RULE },
	{ "replaced", W_RULE }, { "revoked", W_RULE }, { "suspended", W_RULE }, { "lifted", W_RULE },
	{ "disabled", W_RULE }, { "removed", W_RULE }, { "deactivated", W_RULE }, { "overridden", W_RULE },
	{ "the", W_FILL }, { "of", W_FILL }, { "my", W_FILL }, { "this", W_FILL }, { "that", W_FILL },
	{ "its", W_FILL }, { "our", W_FILL }, { "their", W_FILL }, { "we", W_FILL },
	{ "have", W_FILL | W_IMPER },
	{ "has", W_FILL | W_IMPER }, { "been", W_FILL }, { "were", W_FILL }, { "was", W_FILL },
	{ "me", W_FILL },
	{ "us", W_FILL }, { "far", W_FILL }, { "them", W_FILL }, { "what", W_FILL }, { "you've", W_FILL },
	{ "you're", W_FILL }, { "you", W_FILL }, { "i", W_FILL }, { "every", W_FILL }, { "about", W_FILL },
	{ "deine", W_QUAL }, { "ihre", W_QUAL }, { "tus", W_QUAL }, { "vos", W_QUAL }, { "votre", W_QUAL },
	{ "les", W_FILL }, { "las", W_FILL }, { "die", W_FILL }, { "user", W_OBJU }, { "user's", W_OBJU },
	{ "users", W_OBJU }, { "do", W_IMPER }, { "can", W_IMPER }, { "could", W_IMPER },
	{ "would", W_IMPER }, { "from", W_FILL }, { "in", W_FILL }, { "got", W_IMPER }, { "going", W_IMPER },
	{ "und", W_IMPER }, { "anymore", W_IMPER }, { "entirely", W_IMPER }, { "whatsoever", W_IMPER },
	{ "altogether", W_IMPER }, { "new", W_RULE }, { "y", W_IMPER }, { "et", W_IMPER },
};
#endif
