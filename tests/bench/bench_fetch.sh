#!/bin/bash
# Requests per 1,000 traces (5 observations each) that lg-fetch makes against
# the test server, v2 and legacy, next to the minimum number of pages the
# rows need: v2 ceil(rows/1000); legacy ceil(traces/100) + ceil(rows/100).
# Counts data requests from the server's --log (the one /projects request
# that checks credentials is not a page; score pages, not rows, are counted
# apart). The bound: at most 1.1 times the minimum.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
D="$BENCH_DIR/fetch"
rm -rf "$D" && mkdir -p "$D"
N=${BENCH_FETCH_TRACES:-1000}
python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 5 --obs-min 5 --obs-max 5 \
	--end 2026-11-27T00:00:00Z --span 2d --out "$D/ds.json" >/dev/null || exit 1
ROWS=$(jq '.observations | length' "$D/ds.json")
rc=0
for api in v2 legacy; do
	mode=cloud
	rm -f "$D/port" "$D/log.$api"
	python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$D/ds.json" --port 0 --port-file "$D/port" \
		--mode "$mode" --log "$D/log.$api" 2>"$D/server.err" &
	spid=$!
	for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
	start=$(date +%s.%N)
	env -u LG_CONFIG XDG_CONFIG_HOME="$D/xdg" LANGFUSE_PUBLIC_KEY=pk-lf-test LANGFUSE_SECRET_KEY=sk-lf-test \
		LANGFUSE_HOST="http://127.0.0.1:$(cat "$D/port")" \
		"$BIN/lg-fetch" --api "$api" --since 2026-11-24T00:00:00Z --until 2026-11-27T00:00:00Z -q >"$D/out.$api"
	st=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	kill "$spid"; wait "$spid" 2>/dev/null
	got=$(grep -vc '"\$lg"' "$D/out.$api")
	req=$(grep -v '"/api/public/projects"' "$D/log.$api" | grep -vc '"/api/public/v3/scores"')
	sreq=$(grep -c '"/api/public/v3/scores"' "$D/log.$api")
	if [ "$api" = v2 ]; then min=$(( (ROWS + 999) / 1000 )); else min=$(( (N + 99) / 100 + (ROWS + 99) / 100 )); fi
	ratio=$(echo "scale=3; $req / $min" | bc)
	per1k=$(echo "scale=1; $req * 1000 / $N" | bc)
	printf 'fetch %-6s traces %d rows %d: %d requests (%s per 1,000 traces), minimum pages %d, ratio %sx, %d score pages, %.2fs\n' \
		"$api" "$got" "$ROWS" "$req" "$per1k" "$min" "$ratio" "$sreq" "$secs"
	[ "$st" -eq 0 ] && [ "$got" -eq "$N" ] || { echo "fetch $api: exit $st, $got traces"; rc=1; }
	[ "$(echo "$ratio <= 1.1" | bc)" = 1 ] || { echo "fetch $api: ratio $ratio above 1.1"; rc=1; }
done
exit $rc
