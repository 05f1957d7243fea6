/* lg-detect's decision: every signal, precedence, conflicts, aliases,
 * nested OTel keys, multi-agent traces, the null case, rules errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detect/detect.h"
#include "json.h"
#include "../../detect/rules.h"
#include "t.h"

static char *tmpdir;

/* Writes text to a file in the test's scratch directory; returns its path. */
static const char *write_tmp(const char *name, const char *text)
{
	static char path[4][512];
	static int slot;
	char *p = path[slot++ % 4];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

/* Runs detection over one record; returns the whole record, compact. */
static char *detect_json(detect_rules *r, const char *json)
{
	lg_json_error je;
	cJSON *rec = lg_json_parse(json, strlen(json), &je);
	detector d;
	detect_init(&d, r);
	if (!rec || detect_record(&d, rec, NULL)) {
		detect_free(&d);
		cJSON_Delete(rec);
		return strdup("(error)");
	}
	detect_free(&d);
	char *s = lg_json_to_string(rec);
	cJSON_Delete(rec);
	return s;
}

/* Just the agent value of the detected record. */
static char *agent_of(detect_rules *r, const char *json)
{
	char *all = detect_json(r, json);
	lg_json_error je;
	cJSON *rec = lg_json_parse(all, strlen(all), &je);
	char *s = rec ? lg_json_to_string(lg_json_get(rec, "agent")) : strdup("(unparsable)");
	cJSON_Delete(rec);
	free(all);
	return s;
}

static char *field_of(detect_rules *r, const char *json, const char *path)
{
	char *all = detect_json(r, json);
	lg_json_error je;
	cJSON *rec = lg_json_parse(all, strlen(all), &je);
	const cJSON *v = rec ? lg_json_path(rec, path) : NULL;
	char *s = v ? lg_json_to_string(v) : strdup("(absent)");
	cJSON_Delete(rec);
	free(all);
	return s;
}

#define AGENT(r, in, want, name) do { char *g_ = agent_of((r), (in)); T_STR(g_, (want), (name)); free(g_); } while (0)
#define FIELD(r, in, path, want, name) do { char *g_ = field_of((r), (in), (path)); T_STR(g_, (want), (name)); free(g_); } while (0)

static void fresh(detect_rules *r)
{
	char err[512];
	rules_free(r);
	if (rules_init(r, err, sizeof err))
		printf("FAIL rules_init: %s\n", err);
}

static void test_signals(detect_rules *r)
{
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"prod\",\"agent:CustomerService\"]}",
	      "{\"name\":\"CustomerService\",\"source\":\"tag\",\"key\":\"agent:CustomerService\",\"confidence\":0.95}",
	      "tag agent:NAME");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"Agent=Billing\"]}",
	      "{\"name\":\"Billing\",\"source\":\"tag\",\"key\":\"Agent=Billing\",\"confidence\":0.95}",
	      "tag agent=NAME, prefix case-insensitive");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent: Spaced \"]}",
	      "{\"name\":\"Spaced\",\"source\":\"tag\",\"key\":\"agent: Spaced \",\"confidence\":0.95}",
	      "tag name trimmed");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"Router\"}}",
	      "{\"name\":\"Router\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9}",
	      "metadata agent_name");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agentName\":\"Router\"}}",
	      "{\"name\":\"Router\",\"source\":\"metadata\",\"key\":\"metadata.agentName\",\"confidence\":0.9}",
	      "metadata agentName");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent\":\"Router\"}}",
	      "{\"name\":\"Router\",\"source\":\"metadata\",\"key\":\"metadata.agent\",\"confidence\":0.9}",
	      "metadata agent");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent\":{\"name\":\"Router\",\"version\":3}}}",
	      "{\"name\":\"Router\",\"source\":\"metadata\",\"key\":\"metadata.agent.name\",\"confidence\":0.9,\"version\":\"3\"}",
	      "metadata agent.name as nested object, version as number text");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent.name\":\"Router\"}}",
	      "{\"name\":\"Router\",\"source\":\"metadata\",\"key\":\"metadata.agent.name\",\"confidence\":0.9}",
	      "metadata dotted key agent.name");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_id\":\"agent-7\"}}",
	      "{\"name\":\"agent-7\",\"source\":\"metadata\",\"key\":\"metadata.agent_id\",\"confidence\":0.9}",
	      "metadata agent_id");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"gen_ai.agent.name\":\"Otel\"}}",
	      "{\"name\":\"Otel\",\"source\":\"metadata\",\"key\":\"metadata.gen_ai.agent.name\",\"confidence\":0.9}",
	      "metadata gen_ai.agent.name");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"attributes\":{\"gen_ai.agent.id\":\"otel-id\"}}}",
	      "{\"name\":\"otel-id\",\"source\":\"metadata\",\"key\":\"metadata.attributes.gen_ai.agent.id\",\"confidence\":0.9}",
	      "nested OTel attributes gen_ai.agent.id");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"attributes\":{\"gen_ai\":{\"agent\":{\"name\":\"Deep\"}}}}}",
	      "{\"name\":\"Deep\",\"source\":\"metadata\",\"key\":\"metadata.attributes.gen_ai.agent.name\",\"confidence\":0.9}",
	      "nested OTel attributes as objects");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"Sales\",\"agent_version\":\"2.1.0\"}}",
	      "{\"name\":\"Sales\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9,\"version\":\"2.1.0\"}",
	      "agent_version -> version");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{},\"spans\":[{\"id\":\"r\",\"parentId\":null,\"type\":\"span\",\"metadata\":{\"agentName\":\"RootAgent\",\"agentVersion\":\"1\"}}]}",
	      "{\"name\":\"RootAgent\",\"source\":\"metadata\",\"key\":\"spans[0].metadata.agentName\",\"confidence\":0.9,\"version\":\"1\"}",
	      "metadata on the root span");
	AGENT(r, "{\"name\":\"x\",\"spans\":[{\"id\":\"a\",\"parentId\":null,\"type\":\"span\",\"name\":\"root\"},{\"id\":\"b\",\"parentId\":\"a\",\"type\":\"agent\",\"observationType\":\"AGENT\",\"name\":\"Planner\"}]}",
	      "{\"name\":\"Planner\",\"source\":\"observation\",\"key\":\"spans[1].name\",\"confidence\":0.8}",
	      "AGENT observation");
	AGENT(r, "{\"name\":\"x\",\"spans\":[{\"id\":\"b\",\"type\":\"agent\",\"name\":\"invoke_agent Travel\"}]}",
	      "{\"name\":\"Travel\",\"source\":\"observation\",\"key\":\"spans[0].name\",\"confidence\":0.8}",
	      "AGENT observation with OTel invoke_agent prefix");
	AGENT(r, "{\"name\":\"x\",\"spans\":[{\"id\":\"r\",\"type\":\"span\"},{\"id\":\"b\",\"parentId\":\"r\",\"type\":\"agent\",\"name\":\"AgentExecutor\",\"metadata\":{\"attributes\":{\"gen_ai.agent.name\":\"Tutor\"}}}]}",
	      "{\"name\":\"Tutor\",\"source\":\"observation\",\"key\":\"spans[1].metadata.attributes.gen_ai.agent.name\",\"confidence\":0.8}",
	      "generic AGENT observation name falls back to its metadata");
	AGENT(r, "{\"name\":\"Concierge.plan_trip\"}",
	      "{\"name\":\"Concierge\",\"source\":\"pattern\",\"key\":\"Agent.operation\",\"confidence\":0.5}",
	      "pattern Agent.operation, unknown name");
	AGENT(r, "{\"name\":\"Refunds/refund\"}",
	      "{\"name\":\"Refunds\",\"source\":\"pattern\",\"key\":\"agent/operation\",\"confidence\":0.5}",
	      "pattern agent/operation");
	AGENT(r, "{\"name\":\"Payouts: run\"}",
	      "{\"name\":\"Payouts\",\"source\":\"pattern\",\"key\":\"agent:operation\",\"confidence\":0.5}",
	      "pattern agent:operation");
	AGENT(r, "{\"name\":\"[Research Bot] summarise paper\"}",
	      "{\"name\":\"Research Bot\",\"source\":\"pattern\",\"key\":\"[Agent] operation\",\"confidence\":0.5}",
	      "pattern [Agent] operation");
	AGENT(r, "{\"name\":\"invoke_agent travel_desk\"}",
	      "{\"name\":\"travel_desk\",\"source\":\"pattern\",\"key\":\"invoke_agent Agent\",\"confidence\":0.6}",
	      "pattern OTel span name invoke_agent NAME, any name");
	AGENT(r, "{\"name\":\"invoke_agent openai\"}", "null", "invoke_agent with a vendor name");
}

static void test_null_and_decoys(detect_rules *r)
{
	static const char *const decoys[] = {
		"{\"name\":\"plain\"}",
		"{\"name\":\"x\",\"tags\":[\"agent:\",\"agent=  \",\"agents\",\"my-agent:x\"]}",
		"{\"name\":\"x\",\"metadata\":{\"agent\":null,\"agent_name\":\"\",\"agentName\":42}}",
		"{\"name\":\"x\",\"metadata\":{\"agent_name\":\"unknown\"}}",
		"{\"name\":\"openai.chat.completions\"}",
		"{\"name\":\"v1.2.3\"}",
		"{\"name\":\"langchain.invoke\"}",
		"{\"name\":\"OpenAI.complete\"}",
		"{\"name\":\"HTTP/request\"}",
		"{\"name\":\"x\",\"spans\":[{\"id\":\"a\",\"type\":\"agent\",\"name\":\"AgentExecutor\"}]}",
		"{\"tags\":null,\"metadata\":\"text\",\"spans\":{}}",
	};
	for (size_t i = 0; i < sizeof decoys / sizeof *decoys; i++) {
		char name[64];
		snprintf(name, sizeof name, "no agent for decoy %zu", i);
		AGENT(r, decoys[i], "null", name);
	}
	FIELD(r, "{\"name\":\"plain\"}", "metadata", "(absent)", "no agent: metadata not created");
	FIELD(r, "{\"name\":\"x\",\"metadata\":\"text\",\"tags\":[\"agent:A1x\"]}", "metadata", "\"text\"",
	      "non-object metadata left alone");
}

static void test_precedence_and_conflicts(detect_rules *r, detect_rules *custom)
{
	const char *all = "{\"name\":\"Pat.op\",\"tags\":[\"agent:Tagged\"],\"metadata\":{\"agent_name\":\"Meta\"},"
			  "\"spans\":[{\"id\":\"a\",\"type\":\"agent\",\"name\":\"Obs\"}]}";
	AGENT(r, all,
	      "{\"name\":\"Tagged\",\"source\":\"tag\",\"key\":\"agent:Tagged\",\"confidence\":0.75,\"conflicts\":["
	      "{\"name\":\"Meta\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\"},"
	      "{\"name\":\"Obs\",\"source\":\"observation\",\"key\":\"spans[0].name\"},"
	      "{\"name\":\"Pat\",\"source\":\"pattern\",\"key\":\"Agent.operation\"}]}",
	      "tag beats the rest, each disagreeing source listed");
	AGENT(custom, all,
	      "{\"name\":\"Obs\",\"source\":\"observation\",\"key\":\"spans[0].name\",\"confidence\":0.6,\"conflicts\":["
	      "{\"name\":\"Meta\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\"}]}",
	      "precedence from the rules file; disabled sources ignored");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:Same\"],\"metadata\":{\"agent_name\":\"same\"}}",
	      "{\"name\":\"Same\",\"source\":\"tag\",\"key\":\"agent:Same\",\"confidence\":0.95}",
	      "agreement (case-insensitive) is no conflict");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:customer-service\"],\"metadata\":{\"agent_name\":\"CustomerService\"}}",
	      "{\"name\":\"customer-service\",\"source\":\"tag\",\"key\":\"agent:customer-service\",\"confidence\":0.95}",
	      "agreement ignores separators");
	AGENT(r, "{\"name\":\"salesdesk.quote\",\"metadata\":{\"agent_name\":\"SalesDesk\"}}",
	      "{\"name\":\"SalesDesk\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9}",
	      "lower-case pattern name agrees with a stronger signal of the same record");
	AGENT(custom, "{\"name\":\"salesdesk2.quote\",\"metadata\":{\"agent_name\":\"SalesDesk2\"}}",
	      "{\"name\":\"SalesDesk2\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9}",
	      "pattern source off: no pattern candidate at all");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"A1x\",\"gen_ai.agent.name\":\"B2y\"}}",
	      "{\"name\":\"A1x\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.7,\"conflicts\":["
	      "{\"name\":\"B2y\",\"source\":\"metadata\",\"key\":\"metadata.gen_ai.agent.name\"}]}",
	      "two metadata keys disagreeing");
	FIELD(r, "{\"name\":\"x\",\"tags\":[\"agent:Tagged\"],\"metadata\":{\"agent_name\":\"Meta\",\"k\":1}}",
	      "metadata", "{\"agent_name\":\"Tagged\",\"k\":1}", "metadata.agent_name follows the winner");
}

static void test_multi_agent(detect_rules *r)
{
	const char *tr = "{\"name\":\"x\",\"spans\":["
			 "{\"id\":\"w\",\"parentId\":\"t\",\"type\":\"agent\",\"name\":\"Writer\",\"startTime\":\"2025-01-01T00:00:03Z\"},"
			 "{\"id\":\"t\",\"parentId\":\"o\",\"type\":\"tool\",\"name\":\"delegate\"},"
			 "{\"id\":\"r\",\"parentId\":\"o\",\"type\":\"agent\",\"name\":\"Researcher\",\"startTime\":\"2025-01-01T00:00:02Z\"},"
			 "{\"id\":\"o\",\"parentId\":null,\"type\":\"agent\",\"name\":\"Orchestrator\",\"startTime\":\"2025-01-01T00:00:01Z\"}]}";
	AGENT(r, tr, "{\"name\":\"Orchestrator\",\"source\":\"observation\",\"key\":\"spans[3].name\",\"confidence\":0.8}",
	      "outermost AGENT observation wins wherever it sits in spans[]");
	FIELD(r, tr, "agents", "[\"Orchestrator\",\"Researcher\",\"Writer\"]", "agents[] lists every AGENT observation");
	FIELD(r, "{\"name\":\"x\",\"tags\":[\"agent:Planner\",\"agent:Executor\",\"agent:planner\"]}", "agents",
	      "[\"Planner\",\"Executor\"]", "several agent tags: agents[], deduplicated");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:Planner\",\"agent:Executor\"]}",
	      "{\"name\":\"Planner\",\"source\":\"tag\",\"key\":\"agent:Planner\",\"confidence\":0.95}",
	      "several agent tags are no conflict");
	FIELD(r, "{\"name\":\"x\",\"tags\":[\"agent:Solo\"]}", "agents", "(absent)", "one agent: no agents[]");
	const char *cyc = "{\"name\":\"x\",\"spans\":[{\"id\":\"a\",\"parentId\":\"b\",\"type\":\"agent\",\"name\":\"Ax1\"},"
			  "{\"id\":\"b\",\"parentId\":\"a\",\"type\":\"agent\",\"name\":\"Bx1\"}]}";
	AGENT(r, cyc, "{\"name\":\"Ax1\",\"source\":\"observation\",\"key\":\"spans[0].name\",\"confidence\":0.8}",
	      "parent cycle terminates");
}

static void test_aliases_known(detect_rules *r)
{
	char err[512];
	const char *rf = write_tmp("alias.json", "{\"aliases\":{\"cs-bot\":\"CustomerService\"},\"known\":[\"TravelDesk\"]}");
	T_INT(rules_load(r, rf, err, sizeof err), 0, "rules with aliases load");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:CS-Bot\"]}",
	      "{\"name\":\"CustomerService\",\"source\":\"tag\",\"key\":\"agent:CS-Bot\",\"confidence\":0.95}",
	      "alias resolves a tag (case-insensitive)");
	AGENT(r, "{\"name\":\"customerservice.plan_trip\"}",
	      "{\"name\":\"CustomerService\",\"source\":\"pattern\",\"key\":\"Agent.operation\",\"confidence\":0.6}",
	      "pattern resolves to the known spelling at full pattern confidence");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"traveldesk\"}}",
	      "{\"name\":\"TravelDesk\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9}",
	      "known name gives the spelling");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:cs-bot\"],\"metadata\":{\"agent_name\":\"CustomerService\"}}",
	      "{\"name\":\"CustomerService\",\"source\":\"tag\",\"key\":\"agent:cs-bot\",\"confidence\":0.95}",
	      "alias and its target agree");

	/* Names learned from strong signals in earlier records. */
	detector d;
	detect_init(&d, r);
	lg_json_error je;
	const char *a = "{\"name\":\"x\",\"tags\":[\"agent:FlightBooker\"]}";
	const char *b = "{\"name\":\"flightbooker.search\"}";
	cJSON *ra = lg_json_parse(a, strlen(a), &je), *rb = lg_json_parse(b, strlen(b), &je);
	detect_record(&d, ra, NULL);
	detect_record(&d, rb, NULL);
	char *s = lg_json_to_string(lg_json_get(rb, "agent"));
	T_STR(s, "{\"name\":\"FlightBooker\",\"source\":\"pattern\",\"key\":\"Agent.operation\",\"confidence\":0.6}",
	      "pattern resolves to a name learned from an earlier tag");
	free(s);
	cJSON_Delete(ra);
	cJSON_Delete(rb);
	detect_free(&d);

	const char *kf = write_tmp("known.txt", "# agents\n  Alpha One \n\nbeta\n");
	T_INT(rules_load_known(r, kf, err, sizeof err), 0, "known file (lines) loads");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"agent:alpha one\"]}",
	      "{\"name\":\"Alpha One\",\"source\":\"tag\",\"key\":\"agent:alpha one\",\"confidence\":0.95}",
	      "known file spelling");
	AGENT(r, "{\"name\":\"beta.run\"}",
	      "{\"name\":\"beta\",\"source\":\"pattern\",\"key\":\"Agent.operation\",\"confidence\":0.6}",
	      "known lowercase name accepted by a pattern");
	const char *kj = write_tmp("known.json", "[\"Gamma\"]");
	T_INT(rules_load_known(r, kj, err, sizeof err), 0, "known file (JSON) loads");
	AGENT(r, "{\"name\":\"gamma/x\"}",
	      "{\"name\":\"Gamma\",\"source\":\"pattern\",\"key\":\"agent/operation\",\"confidence\":0.6}",
	      "known JSON name");
}

static void test_idempotent(detect_rules *r)
{
	static const char *const in[] = {
		"{\"name\":\"x\",\"tags\":[\"agent:T1x\"],\"metadata\":{\"agent_name\":\"M1x\"},\"agent\":{\"name\":\"Stale\"}}",
		"{\"name\":\"x\",\"tags\":[\"agent:T1x\",\"agent:T2x\"]}",
		"{\"name\":\"Pat.op\"}",
		"{\"name\":\"x\",\"spans\":[{\"id\":\"a\",\"type\":\"agent\",\"name\":\"Obs\"}],\"metadata\":{\"agent_name\":\"M1x\"}}",
	};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		char name[64];
		char *once = detect_json(r, in[i]);
		char *twice = detect_json(r, once);
		snprintf(name, sizeof name, "second run gives the same record %zu", i);
		T_STR(twice, once, name);
		free(once);
		free(twice);
	}
	/* A stale agent and its metadata.agent_name go when the signal goes. */
	FIELD(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"Old\",\"k\":1},\"agent\":{\"name\":\"Old\",\"source\":\"tag\",\"key\":\"agent:Old\"}}",
	      "metadata", "{\"k\":1}", "our own metadata.agent_name removed when no signal is left");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"agent_name\":\"Old\"},\"agent\":{\"name\":\"Old\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\"}}",
	      "{\"name\":\"Old\",\"source\":\"metadata\",\"key\":\"metadata.agent_name\",\"confidence\":0.9}",
	      "a user's metadata.agent_name stays a signal");
}

static void test_rules_errors(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "{\"patterns\":[{\"name\":\"bad\",\"regex\":\"(?<agent>[a-z\"}]}", "pattern 'bad': regex error at offset 13: missing terminating ] for character class" },
		{ "{\"patterns\":[\"^x(y)$\"]}", "pattern 'patterns[0]': no named group (?<agent>...)" },
		{ "{\"precedence\":[\"tag\",\"vibes\"]}", "precedence[1]: unknown source (want tag, metadata, observation or pattern)" },
		{ "{\"precedence\":[\"tag\",\"tag\"]}", "precedence[1]: 'tag' listed twice" },
		{ "{\"aliases\":{\"x\":1}}", "aliases.x: must map a name to a non-empty string" },
		{ "{\"confidence\":{\"tag\":2}}", "confidence.tag: must be a number from 0 to 1" },
		{ "{\"colour\":1}", "unknown key 'colour'" },
		{ "{\"metadataKeys\":[\"\"]}", "metadataKeys[0]: must be a non-empty string" },
		{ "[1]", "must hold a JSON object" },
		{ "{", "invalid JSON at byte 2" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		detect_rules r;
		char err[512], want[600], name[64];
		rules_init(&r, err, sizeof err);
		const char *path = write_tmp("bad.json", cases[i].text);
		int rc = rules_load(&r, path, err, sizeof err);
		snprintf(want, sizeof want, "%s: %s", path, cases[i].want);
		snprintf(name, sizeof name, "rules error %zu", i);
		T_INT(rc, -1, name);
		if (strncmp(err, want, strlen(want)) == 0)
			printf("PASS %s text\n", name);
		else
			printf("FAIL %s text: got [%s] want prefix [%s]\n", name, err, want), t_failed++;
		rules_free(&r);
	}
	detect_rules r;
	char err[512];
	rules_init(&r, err, sizeof err);
	T_INT(rules_load(&r, "/nonexistent/rules.json", err, sizeof err), -1, "missing rules file");
	T_STR(err, "/nonexistent/rules.json: No such file or directory", "missing rules file message");
	rules_free(&r);
}

static void test_user_patterns(detect_rules *r)
{
	char err[512];
	const char *rf = write_tmp("pat.json",
		"{\"defaultPatterns\":false,\"patterns\":[{\"name\":\"svc\",\"regex\":\"^svc-(?<agent>[a-z]+)-\",\"anyName\":true}],"
		"\"metadataKeys\":[\"bot\"],\"tagPrefixes\":[\"bot:\"],\"confidence\":{\"pattern\":0.55,\"conflictPenalty\":0.1}}");
	T_INT(rules_load(r, rf, err, sizeof err), 0, "user patterns load");
	AGENT(r, "{\"name\":\"svc-billing-7\"}",
	      "{\"name\":\"billing\",\"source\":\"pattern\",\"key\":\"svc\",\"confidence\":0.55}",
	      "user pattern with anyName");
	AGENT(r, "{\"name\":\"CustomerService.plan\"}", "null", "defaultPatterns false drops the built-ins");
	AGENT(r, "{\"name\":\"x\",\"metadata\":{\"bot\":\"Extra\"}}",
	      "{\"name\":\"Extra\",\"source\":\"metadata\",\"key\":\"metadata.bot\",\"confidence\":0.9}",
	      "extra metadata key");
	AGENT(r, "{\"name\":\"x\",\"tags\":[\"BOT:Tagger\"],\"metadata\":{\"bot\":\"Extra\"}}",
	      "{\"name\":\"Tagger\",\"source\":\"tag\",\"key\":\"BOT:Tagger\",\"confidence\":0.85,\"conflicts\":["
	      "{\"name\":\"Extra\",\"source\":\"metadata\",\"key\":\"metadata.bot\"}]}",
	      "extra tag prefix, configured conflict penalty");
}

int main(void)
{
	char tmpl[] = "/tmp/lg-detect-unit.XXXXXX";
	tmpdir = mkdtemp(tmpl);
	detect_rules r, custom;
	char err[512];
	memset(&r, 0, sizeof r);
	fresh(&r);
	test_signals(&r);
	test_null_and_decoys(&r);

	rules_init(&custom, err, sizeof err);
	const char *pf = write_tmp("prec.json", "{\"precedence\":[\"observation\",\"metadata\"]}");
	T_INT(rules_load(&custom, pf, err, sizeof err), 0, "precedence rules load");
	test_precedence_and_conflicts(&r, &custom);
	rules_free(&custom);

	test_multi_agent(&r);
	test_idempotent(&r);
	test_aliases_known(&r);
	fresh(&r);
	test_user_patterns(&r);
	rules_free(&r);
	test_rules_errors();

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("FAIL cleanup\n");
	return t_done();
}
