#!/bin/bash
# `make bench`: lg-detect against `jq -c .` on the same LangGuard records
# (the shared dataset through lg-map), at two sizes: wall time, ratio, peak
# RSS. Target: lg-detect at least as fast as jq; RSS flat in the input size.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
D="$BENCH_DIR/detect"
mkdir -p "$D"
SIZES=${DETECT_BENCH_SIZES:-"5000 20000"}

# measure INPUT CMD...: "SECONDS PEAK_RSS_KB" of CMD <INPUT >/dev/null.
measure() { local in=$1; shift; "$ROOT/tests/bench/measure.sh" "$in" /dev/null "$@"; }

gen() { # N OUT
	if [ -f "$ROOT/tests/server/gen_dataset.py" ]; then
		python3 "$ROOT/tests/server/gen_dataset.py" --traces "$1" --seed 1 --format ndjson --out "$D/raw.ndjson"
	else
		python3 "$ROOT/tests/eval/gen_agent_corpus.py" --traces "$1" --seed 1 --out "$D/raw.ndjson" --labels "$D/raw.labels"
	fi || return 1
	"$BIN/lg-map" <"$D/raw.ndjson" >"$2"
}

rc=0
printf '%-8s %10s %10s %10s %8s %12s %12s\n' traces MB "jq s" "detect s" "speedup" "jq RSS KB" "detect RSS KB"
for n in $SIZES; do
	f="$D/records.$n.ndjson"
	[ -s "$f" ] || gen "$n" "$f" || { echo "bench_detect: could not build the corpus"; exit 1; }
	mb=$(( $(wc -c <"$f") / 1048576 ))
	read -r jt jm < <(measure "$f" jq -c .) || exit 1
	read -r dt dm < <(measure "$f" "$BIN/lg-detect") || exit 1
	ratio=$(python3 -c "print('%.2f' % ($jt / max($dt, 0.001)))")
	printf '%-8s %10s %10s %10s %7sx %12s %12s\n' "$n" "$mb" "$jt" "$dt" "$ratio" "$jm" "$dm"
	python3 -c "import sys; sys.exit(0 if $dt <= $jt else 1)" || { echo "lg-detect slower than jq -c . at $n traces"; rc=1; }
done
exit $rc
