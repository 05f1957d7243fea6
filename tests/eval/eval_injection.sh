#!/bin/bash
# Recall per family and false alarms per family of lg-policy's
# prompt-injection scorer and SQL rules on a labelled corpus
# (tests/eval/gen_injection_corpus.py), run through the real binary with
# the built-in policies. A case counts as flagged when its record gets a
# violation of the case's policy. Fails when injection and jailbreak recall
# is under 90%, SQL recall under 90%, or false alarms over 1%.
set -u
: "${ROOT:?}" "${BIN:?}" "${EVAL_DIR:?}"
D="$EVAL_DIR/injection"
mkdir -p "$D"
python3 "$ROOT/tests/eval/gen_injection_corpus.py" --seed 1 --out "$D/corpus.ndjson" --labels "$D/labels.ndjson" || exit 1
"$BIN/lg-policy" < "$D/corpus.ndjson" > "$D/out.ndjson" || { echo "lg-policy failed"; exit 1; }
python3 - "$D/labels.ndjson" "$D/out.ndjson" "$D/misses.txt" <<'PY'
import json, sys
from collections import Counter, OrderedDict
labels = OrderedDict()
for line in open(sys.argv[1]):
    d = json.loads(line)
    labels[d["externalId"]] = d
flagged = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    lab = labels[r["externalId"]]
    hits = [v for v in r.get("violations", []) if v["policy"] == lab["policy"]]
    flagged[r["externalId"]] = hits
n, k = Counter(), Counter()
misses = open(sys.argv[3], "w")
for ext, lab in labels.items():
    f = lab["family"]
    n[f] += 1
    hit = bool(flagged.get(ext))
    k[f] += hit
    if hit != lab["positive"]:
        ev = flagged[ext][0]["evidence"] if hit else {}
        misses.write("%s %s: %r %s\n" % ("FN" if lab["positive"] else "FP", f, lab["text"][:300],
                                         json.dumps({x: ev.get(x) for x in ("score", "signals", "match")}) if hit else ""))
pos = [f for f in n if any(l["family"] == f and l["positive"] for l in labels.values())]
neg = [f for f in n if f not in pos]
print("corpus: %d cases, %d positive in %d families, %d hard negatives in %d families" % (
    len(labels), sum(n[f] for f in pos), len(pos), sum(n[f] for f in neg), len(neg)))
print("%-22s %6s %8s %8s" % ("family", "cases", "flagged", "recall"))
for f in pos:
    print("%-22s %6d %8d %7.1f%%" % (f, n[f], k[f], 100.0 * k[f] / n[f]))
print("%-22s %6s %8s %12s" % ("hard negatives", "cases", "flagged", "false alarms"))
for f in neg:
    print("%-22s %6d %8d %11.1f%%" % (f, n[f], k[f], 100.0 * k[f] / n[f]))
inj_pos = [f for f in pos if f != "sql"]
inj_neg = [f for f in neg if f != "sql-discussion"]
rec_inj = sum(k[f] for f in inj_pos) / max(1, sum(n[f] for f in inj_pos))
rec_sql = k["sql"] / max(1, n["sql"])
fa_inj = sum(k[f] for f in inj_neg) / max(1, sum(n[f] for f in inj_neg))
fa_sql = k["sql-discussion"] / max(1, n["sql-discussion"])
print("injection and jailbreaks: recall %.1f%% (target >= 90%%), false alarms %.1f%% (target <= 1%%)" % (100 * rec_inj, 100 * fa_inj))
print("sql: recall %.1f%% (target >= 90%%), false alarms %.1f%% (target <= 1%%)" % (100 * rec_sql, 100 * fa_sql))
bad = rec_inj < 0.9 or rec_sql < 0.9 or fa_inj > 0.01 or fa_sql > 0.01
if bad:
    print("below target (cases in %s)" % sys.argv[3])
sys.exit(1 if bad else 0)
PY
