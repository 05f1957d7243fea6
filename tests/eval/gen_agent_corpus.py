#!/usr/bin/env python3
"""Labelled corpus for lg-detect: Langfuse traces (TraceWithFullDetails, one
per line, input for lg-map) whose agent is expressed through every signal
lg-detect knows, plus traces with no agent and decoys that look like one.

Usage: gen_agent_corpus.py --traces N --seed S --out TRACES --labels LABELS
Labels: one JSON line per trace {"traceId", "agent": NAME|null, "way": how}.
Also writes, next to LABELS, the rules file the corpus assumes (aliases).
python3 standard library only; deterministic for a given seed."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from synth import Rand, corpus_args  # noqa: E402

AGENTS = ["CustomerService", "ResearchAssistant", "BillingAgent", "CodeReviewer", "TravelPlanner",
          "SupportTriage", "Onboarding", "FraudWatch", "DataAnalyst", "SalesCopilot", "HRHelper",
          "LegalReviewer", "InventoryBot", "Scheduler", "Translator", "QAChecker"]
# Agents some teams name in lower case or kebab case in tags and metadata.
ODD_NAMES = ["travel-bot", "ops_agent", "kb-search", "summarizer-v2", "agent-007"]
ALIASES = {"cs-bot": "CustomerService", "billing-v1": "BillingAgent", "research-agent": "ResearchAssistant"}
OPS = ["plan_trip", "handle_inquiry", "refund", "search", "summarize", "review_pr", "classify", "route",
       "book_hotel", "escalate", "answer", "draft"]
PLAIN_NAMES = ["chat", "rag-query", "qa-pipeline", "support-reply", "chat-completion", "handle-request",
               "assistant-turn", "docs-answer", "llama-index-trace"]
DECOY_NAMES = ["openai.chat.completions", "v1.2.3", "langchain.invoke", "OpenAI.complete",
               "llama_index.query", "gpt-4o/completion", "HTTP/request", "RunnableSequence",
               "anthropic.messages.create", "api/v2", "litellm.completion", "chain:run", "step.1",
               "2025.06.1", "LangGraph.invoke", "[DEBUG] run", "json.loads", "agent:", "agent:plan",
               "invoke_agent", "invoke_agent ", "invoke_agent openai"]

# (way, weight): how the agent is expressed; "none*" are traces without one.
WAYS = [("tag", 10), ("tag_eq", 3), ("tag_case", 2), ("md_agent_name", 6), ("md_agentName", 4),
        ("md_agent", 4), ("md_agent_obj", 2), ("md_dotted", 2), ("md_agent_id", 2), ("otel_flat", 3),
        ("otel_attr", 6), ("otel_attr_obj", 1), ("root_span_md", 3), ("observation", 6),
        ("observation_root", 3), ("invoke_agent", 3), ("multi_agent", 4), ("pattern_dot", 4),
        ("pattern_slash", 3), ("pattern_colon", 2), ("pattern_bracket", 2), ("pattern_lower", 3),
        ("otel_span_name", 3),
        ("alias_tag", 2), ("alias_pattern", 2), ("tag_and_md_agree", 3), ("tag_vs_md_conflict", 2),
        ("odd_name_tag", 2), ("odd_name_md", 2),
        ("none", 12), ("none_decoy_name", 8), ("none_decoy_tag", 4), ("none_decoy_md", 4),
        ("none_generic_agent_span", 3)]


class Gen(Rand):
    def __init__(self, seed):
        super().__init__(seed)
        self.t0 = 1767225600000  # 2026-01-01T00:00:00Z
        self.seen = []           # agents already expressed through a strong signal
        self.n = 0

    def iso(self, ms):
        import datetime
        d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)

    def obs(self, tid, otype, name, parent, start, dur, metadata=None, model=None):
        o = {"id": self.hexid(64), "traceId": tid, "type": otype, "name": name,
             "startTime": self.iso(start), "endTime": self.iso(start + dur),
             "parentObservationId": parent, "metadata": metadata or {}, "level": "DEFAULT",
             "statusMessage": None, "input": None, "output": None, "model": model, "version": None}
        if model:
            o["usageDetails"] = {"input": self.r.randint(10, 900), "output": self.r.randint(5, 400)}
            o["costDetails"] = {"total": round(self.r.random() / 100, 6)}
        return o

    def trace(self):
        r = self.r
        self.n += 1
        way = r.choices([w for w, _ in WAYS], [k for _, k in WAYS])[0]
        if way in ("pattern_lower", "alias_pattern") and not self.seen:
            way = "tag"
        tid = self.hexid(128)
        ts = self.t0 + self.n * 1000
        agent = r.choice(AGENTS)
        name = r.choice(PLAIN_NAMES)
        tags = r.sample(["rag", "beta", "langchain", "prod", "mobile", "agentic", "agents"], r.randint(0, 2))
        md = {"request_id": self.hexid(64), "region": r.choice(["us-east-1", "eu-west-1"])}
        root_md = {}
        spans = []
        label = agent
        root = self.obs(tid, "SPAN", name, None, ts, 1500)
        gen_parent = root["id"]

        if way == "tag":
            tags.append("agent:" + agent)
        elif way == "tag_eq":
            tags.append("agent=" + agent)
        elif way == "tag_case":
            tags.append(r.choice(["Agent:", "AGENT:", "Agent="]) + agent)
        elif way == "md_agent_name":
            md["agent_name"] = agent
            if r.random() < 0.5:
                md["agent_version"] = "%d.%d.0" % (r.randint(1, 3), r.randint(0, 9))
        elif way == "md_agentName":
            md["agentName"] = agent
        elif way == "md_agent":
            md["agent"] = agent
        elif way == "md_agent_obj":
            md["agent"] = {"name": agent, "version": "1.0"}
        elif way == "md_dotted":
            md["agent.name"] = agent
        elif way == "md_agent_id":
            md["agent_id"] = agent
        elif way == "otel_flat":
            md["gen_ai.agent.name"] = agent
        elif way == "otel_attr":
            md["attributes"] = {"gen_ai.agent.name": agent, "gen_ai.system": "openai",
                                "gen_ai.operation.name": "invoke_agent"}
            md["resourceAttributes"] = {"service.name": "agents", "telemetry.sdk.language": "python"}
        elif way == "otel_attr_obj":
            md["attributes"] = {"gen_ai": {"agent": {"name": agent}}}
        elif way == "root_span_md":
            root_md["agent_name"] = agent
        elif way == "observation":
            a = self.obs(tid, "AGENT", agent, root["id"], ts + 1, 1400)
            spans.append(a)
            gen_parent = a["id"]
        elif way == "observation_root":
            root["type"], root["name"] = "AGENT", agent
        elif way == "invoke_agent":
            a = self.obs(tid, "AGENT", "invoke_agent " + agent, root["id"], ts + 1, 1400)
            spans.append(a)
            gen_parent = a["id"]
        elif way == "multi_agent":
            a = self.obs(tid, "AGENT", agent, root["id"], ts + 1, 1400)
            t = self.obs(tid, "TOOL", "delegate", a["id"], ts + 2, 900)
            subs = r.sample([x for x in AGENTS if x != agent], r.randint(1, 3))
            # sub-agents listed before their parent: order in spans[] must not matter
            for i, s in enumerate(subs):
                spans.append(self.obs(tid, "AGENT", s, t["id"] if i % 2 else a["id"], ts + 3 + i, 200))
            spans += [t, a]
            gen_parent = a["id"]
        elif way == "pattern_dot":
            name = "%s.%s" % (agent, r.choice(OPS))
        elif way == "pattern_slash":
            name = "%s/%s" % (agent, r.choice(OPS))
        elif way == "pattern_colon":
            name = "%s: %s" % (agent, r.choice(OPS))
        elif way == "pattern_bracket":
            name = "[%s] %s" % (agent, r.choice(OPS).replace("_", " "))
        elif way == "otel_span_name":
            if r.random() < 0.3:
                agent = label = r.choice(ODD_NAMES)
            name = "invoke_agent " + agent
        elif way == "pattern_lower":
            agent = label = r.choice(self.seen)
            low = agent.lower() if r.random() < 0.5 else \
                "".join("-" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(agent))
            name = "%s%s%s" % (low, r.choice([".", "/"]), r.choice(OPS))
        elif way == "alias_tag":
            alias = r.choice(sorted(ALIASES))
            tags.append("agent:" + alias)
            label = ALIASES[alias]
        elif way == "alias_pattern":
            alias = r.choice(sorted(ALIASES))
            name = "%s/%s" % (alias, r.choice(OPS))
            label = ALIASES[alias]
        elif way == "tag_and_md_agree":
            tags.append("agent:" + agent)
            md["agent_name"] = agent
        elif way == "tag_vs_md_conflict":
            tags.append("agent:" + agent)
            md["agent_name"] = r.choice([x for x in AGENTS if x != agent])
        elif way == "odd_name_tag":
            agent = label = r.choice(ODD_NAMES)
            tags.append("agent:" + agent)
        elif way == "odd_name_md":
            agent = label = r.choice(ODD_NAMES)
            md["agent_name"] = agent
        elif way == "none":
            label = None
        elif way == "none_decoy_name":
            name = r.choice(DECOY_NAMES)
            label = None
        elif way == "none_decoy_tag":
            tags.append(r.choice(["agent:", "agent=", "agent: ", "agent:none", "agent:unknown", "agents",
                                  "agent-v2", "mode:agent", "agentic"]))
            label = None
        elif way == "none_decoy_md":
            md.update(r.choice([{"agent": None}, {"agent_name": ""}, {"agentName": None},
                                {"agent_type": "react"}, {"agent": {"type": "react"}},
                                {"agent_name": "null"}, {"attributes": {"gen_ai.system": "openai"}},
                                {"agent_count": 3}]))
            label = None
        elif way == "none_generic_agent_span":
            a = self.obs(tid, "AGENT", r.choice(["AgentExecutor", "agent", "invoke_agent", "LangGraph"]),
                         root["id"], ts + 1, 1400)
            spans.append(a)
            gen_parent = a["id"]
            label = None

        if label and way not in ("alias_tag", "alias_pattern", "pattern_lower", "odd_name_tag", "odd_name_md",
                                 "otel_span_name") \
                and not way.startswith("pattern") and label not in self.seen:
            self.seen.append(label)
        root["metadata"] = root_md
        root["name"] = root["name"] if root["type"] == "AGENT" else name
        gen = self.obs(tid, "GENERATION", "OpenAI-generation", gen_parent, ts + 5, 1200,
                       model=r.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"]))
        observations = [root] + spans + [gen]
        trace = {"id": tid, "timestamp": self.iso(ts), "name": name, "input": "question %d" % self.n,
                 "output": "answer", "sessionId": None, "release": None, "version": None,
                 "userId": "user_%03d" % r.randrange(500), "metadata": md, "tags": tags, "public": False,
                 "environment": "production", "htmlPath": "/project/p1/traces/" + tid, "latency": 1.5,
                 "totalCost": gen["costDetails"]["total"], "observations": observations, "scores": []}
        return trace, {"traceId": tid, "agent": label, "way": way}


def main():
    a = corpus_args(__doc__, ("--traces", {"type": int, "required": True}))
    g = Gen(a.seed)
    with open(a.out, "w") as out, open(a.labels, "w") as lab:
        for _ in range(a.traces):
            t, l = g.trace()
            out.write(json.dumps(t, separators=(",", ":")) + "\n")
            lab.write(json.dumps(l, separators=(",", ":")) + "\n")
    with open(os.path.join(os.path.dirname(os.path.abspath(a.labels)), "agent_rules.json"), "w") as f:
        json.dump({"aliases": ALIASES}, f)


if __name__ == "__main__":
    main()
