#!/bin/bash
# `make eval`: lg-detect's accuracy on labelled corpora.
#  1. tests/eval/gen_agent_corpus.py: the agent expressed through every
#     signal (tags, metadata keys, nested OTel attributes, root-span metadata,
#     AGENT observations, multi-agent traces, naming patterns, aliases,
#     conflicts), traces with no agent, and decoys that look like one.
#  2. tests/server/gen_dataset.py --labels: the project's shared dataset.
# Targets: correct agent >= 99% where a signal exists (conflicting traces
# must list the conflict, multi-agent ones agents[]); no agent reported where
# none exists. Also checks that a second run changes nothing.
set -u
: "${ROOT:?}" "${BIN:?}" "${EVAL_DIR:?}"
N=${DETECT_EVAL_TRACES:-20000}
D="$EVAL_DIR/detect"
mkdir -p "$D"
rc=0

score() { # NAME LABELS DETECTED
	python3 - "$@" <<'PY'
import collections, json, sys
name, labels, detected = sys.argv[1:4]
want = {}
for line in open(labels):
    l = json.loads(line)
    a = l.get("agent")
    if isinstance(a, dict):  # gen_dataset.py: {"name", "expressedAs"}
        want[l["traceId"]] = (a.get("name"), a.get("expressedAs") or "none")
    else:
        want[l["traceId"]] = (a, l.get("way", "?"))
per = collections.defaultdict(lambda: [0, 0])
sig_ok = sig_n = none_ok = none_n = 0
wrong = []
for line in open(detected):
    r = json.loads(line)
    if "$lg" in r:
        continue
    name_want, way = want[r["externalId"]]
    got = r["agent"]["name"] if isinstance(r.get("agent"), dict) else None
    ok = got == name_want
    # the trace's shape must show too: disagreement and several agents
    if ok and "conflict" in way:
        ok = bool(r["agent"].get("conflicts"))
    if ok and way == "multi_agent":
        ok = len(r.get("agents") or []) >= 2
    per[way][0] += ok
    per[way][1] += 1
    if name_want is None:
        none_n += 1; none_ok += ok
    else:
        sig_n += 1; sig_ok += ok
    if not ok and len(wrong) < 10:
        wrong.append("    %s: want %s got %s (name %r, tags %s)" % (way, name_want, got, r.get("name"), r.get("tags")))
acc = 100.0 * sig_ok / sig_n if sig_n else 100.0
fp = none_n - none_ok
print("%s: %d traces; with an agent: %d/%d correct = %.2f%% (target >= 99%%); "
      "without: %d/%d reported no agent, false agents %d (target 0)"
      % (name, sig_n + none_n, sig_ok, sig_n, acc, none_ok, none_n, fp))
print("  per way: " + ", ".join("%s %d/%d" % (w, a, b) for w, (a, b) in sorted(per.items())))
for w in wrong:
    print(w)
sys.exit(0 if acc >= 99.0 and fp == 0 else 1)
PY
}

# 1. The project's labelled agent corpus.
python3 "$ROOT/tests/eval/gen_agent_corpus.py" --traces "$N" --seed 7 --out "$D/agents.ndjson" --labels "$D/agents.labels" || exit 1
"$BIN/lg-map" <"$D/agents.ndjson" | "$BIN/lg-detect" --rules "$D/agent_rules.json" >"$D/agents.out" || rc=1
score "agent corpus" "$D/agents.labels" "$D/agents.out" || rc=1
"$BIN/lg-detect" --rules "$D/agent_rules.json" <"$D/agents.out" >"$D/agents.twice" || rc=1
if cmp -s "$D/agents.out" "$D/agents.twice"; then echo "agent corpus: second run identical"; else
	echo "agent corpus: second run changed records (not idempotent)"; rc=1; fi

# 2. The shared dataset, with the one alias its naming needs.
if [ -f "$ROOT/tests/server/gen_dataset.py" ]; then
	python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 3 --format ndjson \
		--out "$D/shared.ndjson" --labels "$D/shared.labels" || exit 1
	echo '{"aliases":{"research-agent":"ResearchAssistant"}}' >"$D/shared_rules.json"
	"$BIN/lg-map" <"$D/shared.ndjson" | "$BIN/lg-detect" --rules "$D/shared_rules.json" >"$D/shared.out" || rc=1
	score "shared dataset" "$D/shared.labels" "$D/shared.out" || rc=1
fi
exit $rc
