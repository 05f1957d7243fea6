#!/bin/bash
# `make bench`: lg-policy with every built-in policy against `jq -c .` on
# the same LangGuard records (the shared dataset through lg-map), in the
# same run: wall time, traces/s, ratio, peak RSS. Target: lg-policy at
# least as fast as that jq pass.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
D="$BENCH_DIR/policy"
mkdir -p "$D"
N=${POLICY_BENCH_TRACES:-20000}

# measure INPUT CMD...: "SECONDS PEAK_RSS_KB" of CMD <INPUT >/dev/null.
measure() { local in=$1; shift; "$ROOT/tests/bench/measure.sh" "$in" /dev/null "$@"; }

f="$D/records.$N.ndjson"
if [ ! -s "$f" ]; then
	if [ -f "$ROOT/tests/server/gen_dataset.py" ]; then
		python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 1 --format ndjson --out "$D/raw.ndjson" &&
		"$BIN/lg-map" <"$D/raw.ndjson" >"$f" || { echo "bench_policy: could not build the corpus"; exit 1; }
	else # the eval corpus, repeated
		python3 "$ROOT/tests/eval/gen_policy_corpus.py" --seed 1 --out "$D/c.ndjson" --labels "$D/c.labels" || exit 1
		for _ in $(seq 1 $((N / 1000 + 1))); do cat "$D/c.ndjson"; done | head -n "$N" >"$f"
	fi
fi
mb=$(python3 -c "import os; print('%.1f' % (os.path.getsize('$f') / 1048576))")
read -r jt jm < <(measure "$f" jq -c .) || exit 1
read -r pt pm < <(measure "$f" "$BIN/lg-policy") || exit 1
"$BIN/lg-policy" <"$f" | jq -r '.violations | length' | awk '{n+=$1} END {print n}' >"$D/violations"
python3 - "$N" "$mb" "$jt" "$pt" "$jm" "$pm" "$(cat "$D/violations")" <<'PY'
import sys
n, mb, jt, pt, jm, pm, v = sys.argv[1:]
n, jt, pt = int(n), float(jt), float(pt)
print("corpus: %d traces, %s MB, %s violations found by %s policies" % (n, mb, v, "all built-in"))
print("%-22s %8s %12s %12s" % ("", "seconds", "traces/s", "peak RSS KB"))
print("%-22s %8.2f %12.0f %12s" % ("jq -c .", jt, n / max(jt, 0.001), jm))
print("%-22s %8.2f %12.0f %12s" % ("lg-policy (built-ins)", pt, n / max(pt, 0.001), pm))
print("lg-policy / jq speed: %.2fx" % (jt / max(pt, 0.001)))
sys.exit(0 if pt <= jt else 1)
PY
