#!/bin/bash
# Precision and recall of lg-policy's detectors on a labelled corpus
# (tests/eval/gen_policy_corpus.py: positives and hard negatives, one case
# per record) and, when the dataset generator is there, on its planted
# sensitive values. Fails when a gated detector is under 95%.
set -u
: "${ROOT:?}" "${BIN:?}" "${EVAL_DIR:?}"
D="$EVAL_DIR/policy"
mkdir -p "$D"
python3 "$ROOT/tests/eval/gen_policy_corpus.py" --seed 1 --out "$D/corpus.ndjson" --labels "$D/labels.ndjson" || exit 1
"$BIN/lg-policy" < "$D/corpus.ndjson" > "$D/out.ndjson" || { echo "lg-policy failed"; exit 1; }
rc=0
python3 - "$D/labels.ndjson" "$D/out.ndjson" "$D/misses.txt" <<'PY' || rc=1
import json, sys
from collections import Counter
GATED = ["email", "card", "ssn", "aws", "github", "openai", "anthropic", "pem", "jwt", "prompt-injection"]
DETECTING = {"pii", "credentials", "prompt-injection"}
labels = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    labels[d["externalId"]] = d
tp, fp, fn = Counter(), Counter(), Counter()
misses = open(sys.argv[3], "w")
for line in open(sys.argv[2]):
    r = json.loads(line)
    lab = labels[r["externalId"]]
    got = {v["evidence"]["detector"] for v in r.get("violations", []) if v["policy"] in DETECTING}
    want = set(lab["detectors"])
    for d in got | want:
        if d in got and d in want:
            tp[d] += 1
        elif d in got:
            fp[d] += 1
            misses.write("FP %s: %r\n" % (d, lab["text"][:200]))
        else:
            fn[d] += 1
            misses.write("FN %s: %r\n" % (d, lab["text"][:200]))
negatives = sum(1 for l in labels.values() if not l["detectors"])
print("corpus: %d cases (%d hard negatives)" % (len(labels), negatives))
print("%-18s %5s %4s %4s %9s %7s" % ("detector", "tp", "fp", "fn", "precision", "recall"))
bad = []
for d in sorted(set(tp) | set(fp) | set(fn), key=lambda d: (d not in GATED, d)):
    p = tp[d] / (tp[d] + fp[d]) if tp[d] + fp[d] else 1.0
    r = tp[d] / (tp[d] + fn[d]) if tp[d] + fn[d] else 1.0
    mark = "" if d not in GATED else ("  gated" if p >= 0.95 and r >= 0.95 else "  BELOW 95%")
    print("%-18s %5d %4d %4d %8.1f%% %6.1f%%%s" % (d, tp[d], fp[d], fn[d], 100 * p, 100 * r, mark))
    if d in GATED and (p < 0.95 or r < 0.95):
        bad.append(d)
for d in GATED:
    if tp[d] == 0:
        bad.append(d + " (no positives)")
if bad:
    print("below target: " + ", ".join(bad) + " (cases in %s)" % sys.argv[3])
    sys.exit(1)
PY
# Cross-check on the dataset generator's planted values (informational).
if [ -f "$ROOT/tests/server/gen_dataset.py" ]; then
	python3 "$ROOT/tests/server/gen_dataset.py" --traces 1000 --seed 7 --format ndjson \
		--out "$D/ds.ndjson" --labels "$D/ds-labels.ndjson" >/dev/null &&
	"$BIN/lg-map" < "$D/ds.ndjson" | "$BIN/lg-policy" > "$D/ds-out.ndjson" &&
	python3 - "$D/ds-labels.ndjson" "$D/ds-out.ndjson" <<'PY'
import json, sys
from collections import Counter
KIND = {"email": "email", "phone_us": "phone", "ssn": "ssn", "credit_card": "card", "iban": "iban", "ip_address": "ip",
        "openai_key": "openai", "aws_access_key": "aws", "github_token": "github", "private_key": "pem", "jwt": "jwt",
        "prompt_injection": "prompt-injection", "sql_drop_table": "drop", "sql_delete_no_where": "delete-without-where"}
labels, planted = {}, set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    labels[d["traceId"]] = {KIND[s["kind"]] for s in d["sensitive"] if s["kind"] in KIND}
    planted |= {s["value"] for s in d["sensitive"] if s["kind"] not in ("prompt_injection", "sql_drop_table", "sql_delete_no_where")}
tp, fp, fn = Counter(), Counter(), Counter()
leaks = 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    if "$lg" in r:
        continue
    shown = json.dumps([[v["message"], v["evidence"]] for v in r["violations"]])
    leaks += sum(1 for v in planted if v in shown)
    got = {v["evidence"]["detector"] for v in r["violations"] if v["policy"] in ("pii", "credentials", "prompt-injection", "sql-injection")}
    want = labels[r["externalId"]]
    for d in got | want:
        (tp if d in got and d in want else fp if d in got else fn)[d] += 1
print("dataset cross-check (gen_dataset.py --traces 1000 --seed 7, per trace):")
for d in sorted(set(tp) | set(fp) | set(fn)):
    p = tp[d] / (tp[d] + fp[d]) if tp[d] + fp[d] else 1.0
    r = tp[d] / (tp[d] + fn[d]) if tp[d] + fn[d] else 1.0
    print("  %-22s tp=%4d fp=%3d fn=%3d precision=%5.1f%% recall=%5.1f%%" % (d, tp[d], fp[d], fn[d], 100 * p, 100 * r))
print("planted secrets and PII shown unmasked in messages or evidence: %d (of %d values)" % (leaks, len(planted)))
sys.exit(1 if leaks else 0)
PY
	[ $? -eq 0 ] || rc=1
fi
exit $rc
