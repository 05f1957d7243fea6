#!/bin/bash
# Recall per secret type and structured-PII format, false alarms on hard
# negatives and secrets shown unmasked in evidence, on the corpus of
# tests/eval/gen_secret_corpus.py (every type of `credentials` and `pii`).
# Targets: recall >= 98% per detector family overall and no type under 90%,
# false alarms <= 1% of negatives, 0 values unmasked.
set -u
: "${ROOT:?}" "${BIN:?}" "${EVAL_DIR:?}"
D="$EVAL_DIR/secrets"
mkdir -p "$D"
python3 "$ROOT/tests/eval/gen_secret_corpus.py" --seed 7 --per-type 12 --out "$D/corpus.ndjson" --labels "$D/labels.ndjson" || exit 1
"$BIN/lg-policy" < "$D/corpus.ndjson" > "$D/out.ndjson" || { echo "lg-policy failed"; exit 1; }
python3 - "$D/labels.ndjson" "$D/out.ndjson" "$D/misses.txt" "$ROOT/policy/builtin.json" <<'PY'
import json, sys
from collections import Counter
labels = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    labels[d["externalId"]] = d
doc = json.load(open(sys.argv[4]))
types = {pt["name"]: p["id"] for p in doc["policies"] if p["id"] in ("credentials", "pii") for pt in p["patterns"]}
hit, total, extra = Counter(), Counter(), Counter()
neg = neg_fa = leaks = 0
misses = open(sys.argv[3], "w")
for line in open(sys.argv[2]):
    r = json.loads(line)
    lab = labels[r["externalId"]]
    vs = [v for v in r.get("violations", []) if v["policy"] in ("credentials", "pii")]
    got = {v["evidence"]["detector"] for v in vs}
    shown = json.dumps([[v["message"], v["evidence"]] for v in vs])
    if lab["value"] and len(lab["value"]) >= 8 and lab["value"] in shown:
        leaks += 1
        misses.write("LEAK %s: %r\n" % (lab["detectors"], lab["text"][:160]))
    if not lab["detectors"]:
        neg += 1
        if got:
            neg_fa += 1
            misses.write("FA %s: %r\n" % (sorted(got), lab["text"][:160]))
        continue
    want = lab["detectors"][0]
    total[want] += 1
    if want in got:
        hit[want] += 1
    else:
        misses.write("MISS %s (got %s): %r\n" % (want, sorted(got), lab["text"][:160]))
    for o in got - {want}:
        extra[o] += 1
untested = sorted(t for t in types if t not in total)
fam = {"credentials": [0, 0], "pii": [0, 0]}
print("%-30s %5s %5s %7s" % ("type", "cases", "found", "recall"))
low = []
for t in sorted(total):
    r = hit[t] / total[t]
    f = fam[types.get(t, "credentials")]
    f[0] += hit[t]
    f[1] += total[t]
    print("%-30s %5d %5d %6.1f%%%s" % (t, total[t], hit[t], 100 * r, "" if r >= 0.9 else "  LOW"))
    if r < 0.9:
        low.append(t)
print("types covered: %d of %d (%s)" % (len(total), len(types), "all" if not untested else "missing: " + ", ".join(untested)))
bad = []
for k, (h, n) in fam.items():
    if n:
        print("%s recall: %d/%d = %.2f%%" % (k, h, n, 100 * h / n))
        if h / n < 0.98:
            bad.append("%s recall" % k)
print("false alarms on %d hard negatives: %d = %.2f%%" % (neg, neg_fa, 100 * neg_fa / max(neg, 1)))
print("extra detectors on positives: %s" % (", ".join("%s %d" % kv for kv in extra.most_common(8)) or "none"))
print("secrets shown unmasked in evidence: %d" % leaks)
if neg_fa > 0.01 * neg:
    bad.append("false alarms")
if leaks:
    bad.append("unmasked evidence")
if low:
    bad.append("types under 90%: " + ", ".join(low))
if untested:
    bad.append("types without cases")
if bad:
    print("below target: " + "; ".join(bad) + " (cases in %s)" % sys.argv[3])
    sys.exit(1)
PY
