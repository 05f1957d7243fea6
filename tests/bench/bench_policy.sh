#!/bin/bash
# `make bench`: lg-policy with every built-in policy against (1) the
# lg-policy of POLICY_BASELINE (default: the commit before the one-pass
# prefilter and the 200+ secret types), built from git into a temporary
# directory with its own built-in set, and (2) `jq -c .`, on the same
# LangGuard records (the shared dataset through lg-map), in the same run.
# Runs alternate (baseline, current) POLICY_BENCH_RUNS times; the medians
# of CPU time (user+sys) are compared, as wall time moves with whatever
# else the machine runs. Target: current <= baseline per trace, and not
# slower than jq.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
D="$BENCH_DIR/policy"
mkdir -p "$D"
N=${POLICY_BENCH_TRACES:-20000}
RUNS=${POLICY_BENCH_RUNS:-5}
BASE=${POLICY_BASELINE:-55727ea}

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

# The baseline lg-policy, built once per commit.
old="$D/baseline-$BASE/bin/lg-policy"
if [ ! -x "$old" ]; then
	rm -rf "$D/baseline-$BASE" && mkdir -p "$D/baseline-$BASE" &&
	git -C "$ROOT" archive "$BASE" | tar -x -C "$D/baseline-$BASE" &&
	make -C "$D/baseline-$BASE" build >"$D/baseline-$BASE.log" 2>&1 ||
		{ echo "bench_policy: could not build lg-policy at $BASE (see $D/baseline-$BASE.log)"; exit 1; }
fi

# cpu CMD...: "USER+SYS_SECONDS PEAK_RSS_KB" of CMD <$f >/dev/null.
cpu() {
	local t
	t=$(mktemp)
	/usr/bin/time -f "%U %S %M" -o "$t" "$@" <"$f" >/dev/null || { rm -f "$t"; return 1; }
	awk '{ printf "%.2f %s\n", $1 + $2, $3 }' "$t"
	rm -f "$t"
}
: >"$D/runs"
for _ in $(seq 1 "$RUNS"); do
	read -r bt bm < <(cpu "$old") || exit 1
	read -r nt nm < <(cpu "$BIN/lg-policy") || exit 1
	echo "$bt $nt $bm $nm" >>"$D/runs"
done
read -r jt jm < <(cpu jq -c .) || exit 1
"$BIN/lg-policy" <"$f" | jq -r '.violations | length' | awk '{n+=$1} END {print n}' >"$D/violations"
"$old" <"$f" | jq -r '.violations | length' | awk '{n+=$1} END {print n}' >"$D/violations.base"
npat() { "$1" --dump-builtin | jq '[.policies[] | select(.kind == "pattern") | .patterns | length] | add'; }
python3 - "$N" "$f" "$jt" "$jm" "$D/runs" "$(cat "$D/violations")" "$(cat "$D/violations.base")" \
	"$(npat "$BIN/lg-policy")" "$(npat "$old")" "$BASE" <<'PY'
import os, statistics, sys
n, path, jt, jm, runs, v, vb, pn, pb, base = sys.argv[1:]
n, jt = int(n), float(jt)
rows = [l.split() for l in open(runs)]
bt = statistics.median(float(r[0]) for r in rows)
nt = statistics.median(float(r[1]) for r in rows)
print("corpus: %d traces, %.1f MB; %d alternating runs, median CPU seconds (user+sys)"
      % (n, os.path.getsize(path) / 1048576, len(rows)))
print("%-38s %8s %12s %10s %12s" % ("", "CPU s", "traces/CPU-s", "us/trace", "peak RSS KB"))
print("%-38s %8.2f %12.0f %10.1f %12s" % ("jq -c .", jt, n / max(jt, .001), 1e6 * jt / n, jm))
print("%-38s %8.2f %12.0f %10.1f %12s" % ("lg-policy %s (%s patterns)" % (base, pb), bt, n / max(bt, .001), 1e6 * bt / n, rows[-1][2]))
print("%-38s %8.2f %12.0f %10.1f %12s" % ("lg-policy now (%s patterns)" % pn, nt, n / max(nt, .001), 1e6 * nt / n, rows[-1][3]))
print("violations: now %s, %s %s" % (v, base, vb))
print("lg-policy now / %s CPU: %.2f (target <= 1.00); / jq: %.2f" % (base, nt / max(bt, .001), nt / max(jt, .001)))
sys.exit(0 if nt <= bt * 1.0 and nt <= jt else 1)
PY
