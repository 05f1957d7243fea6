# lg-ship: records/s from an lg-store into ClickHouse (Debian's
# clickhouse-server, started here on a free loopback port and stopped at
# the end), for BENCH_SHIP_TRACES generated traces (100,000), next to the
# rate the pipeline produced them at in the same run (lg-map | lg-detect |
# lg-policy | lg-store put, wall clock): shipping must keep up. Also the
# bytes sent (gzip) and a second, incremental ship with nothing new.
# Env: BENCH_SHIP_TRACES (100000), BENCH_SHIP_BATCH (lg-ship's default), BENCH_DIR.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
TMPDIR_T=${TMPDIR_T:-$BENCH_DIR}
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/clickhouse.sh"
if [ -z "$CH_BIN" ]; then
	echo "clickhouse-server not installed (scripts/install-deps installs it): not measured"
	exit 0
fi
N=${BENCH_SHIP_TRACES:-100000}
W="$BENCH_DIR/ship"
rm -rf "$W" && mkdir -p "$W"
C="$BENCH_DIR/ship-$N.ndjson"
if [ ! -s "$C" ]; then
	python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 9 --format ndjson \
		--end 2026-11-20T00:00:00Z --span 60d --out "$C.tmp" && mv "$C.tmp" "$C" || { echo "corpus generation failed"; exit 1; }
fi
echo "corpus: $N traces, $(awk -v b="$(stat -c %s "$C")" 'BEGIN { printf "%.0f", b / 1048576 }') MB"
export LG_NOW=2026-11-20T00:00:00Z
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { s = b - a; if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }

t0=$(now)
"$BIN/lg-map" --integration bench <"$C" | "$BIN/lg-detect" | "$BIN/lg-policy" |
	"$BIN/lg-store" --db "$W/db" put --summary none || { echo "pipeline failed"; exit 1; }
t1=$(now)
produced=$(rate "$N" "$t0" "$t1")
echo "pipeline: $N traces in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s = $produced records/s"

trap ch_stop EXIT
ch_start "$W/ch" || { echo "clickhouse did not start"; exit 1; }
batch=${BENCH_SHIP_BATCH:+--batch $BENCH_SHIP_BATCH}
# shellcheck disable=SC2086
"$BIN/lg-ship" --db "$W/db" --to "$CH_URL" --init $batch 2>"$W/ship.err" >/dev/null # tables, outside the timing
ch_q "TRUNCATE TABLE lg.traces" >/dev/null; ch_q "TRUNCATE TABLE lg.violations" >/dev/null
t2=$(now)
# shellcheck disable=SC2086
/usr/bin/time -f "%e %U %S %M" -o "$W/ship.time" "$BIN/lg-ship" --db "$W/db" --to "$CH_URL" --since 0 $batch \
	2>"$W/ship.err" >/dev/null || { echo "lg-ship failed: $(tail -3 "$W/ship.err")"; exit 1; }
t3=$(now)
shipped=$(rate "$N" "$t2" "$t3")
rows=$(ch_q "SELECT count() FROM lg.traces")
vrows=$(ch_q "SELECT count() FROM lg.violations")
set -- $(cat "$W/ship.time")
echo "lg-ship: $rows traces + $vrows violations rows in $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.1f", b - a }') s = $shipped records/s into ClickHouse (lg-ship CPU $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.1f", u + s }') s, peak RSS $(($4 / 1024)) MB)"
echo "ship / pipeline: $(awk -v a="$shipped" -v b="$produced" 'BEGIN { printf "%.2f", a / b }')x (above 1: shipping keeps up with the pipeline)"
t4=$(now)
"$BIN/lg-ship" --db "$W/db" --to "$CH_URL" 2>/dev/null >/dev/null
t5=$(now)
echo "incremental ship, nothing new: $(awk -v a="$t4" -v b="$t5" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
[ "$rows" = "$N" ] || { echo "rows in ClickHouse: $rows, want $N"; exit 1; }
