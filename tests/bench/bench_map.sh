# lg-map throughput next to `jq -c .` on the same corpus, in the same run,
# and lg-map's peak RSS for 20k and 80k traces (it must not grow).
set -eu
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
N=${BENCH_MAP_TRACES:-20000}
C="$BENCH_DIR/map-$N.ndjson"
[ -s "$C" ] || python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 7 --format ndjson --out "$C"
C4="$BENCH_DIR/map-$N-x4.ndjson"
[ -s "$C4" ] || { cat "$C" "$C" "$C" "$C" >"$C4"; }
M="$ROOT/tests/bench/measure.sh"
mb=$(( $(stat -c %s "$C") / 1048576 ))

set -- $("$M" "$C" /dev/null jq -c .)
jq_s=$1
set -- $("$M" "$C" /dev/null "$BIN/lg-map")
map_s=$1 map_rss=$2
set -- $("$M" "$C4" /dev/null "$BIN/lg-map")
map4_s=$1 map4_rss=$2

awk -v n="$N" -v mb="$mb" -v j="$jq_s" -v m="$map_s" -v r1="$map_rss" -v m4="$map4_s" -v r4="$map_rss" -v r4b="$map4_rss" 'BEGIN {
	printf "corpus: %d traces, %d MB\n", n, mb
	printf "jq -c .     %8.0f traces/s  %6.1f MB/s\n", n / j, mb / j
	printf "lg-map      %8.0f traces/s  %6.1f MB/s   %.2fx jq\n", n / m, mb / m, j / m
	printf "lg-map peak RSS: %.1f MB at %d traces, %.1f MB at %d traces (ratio %.2f)\n", r1 / 1024, n, r4b / 1024, 4 * n, r4b / r1
	if (j / m < 1) { print "lg-map: slower than jq"; exit 1 }
}'
