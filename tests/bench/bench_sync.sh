#!/bin/bash
# Requests per 1,000 traces in a steady incremental sync: lg-sync every 5
# minutes for 4 simulated hours (traces start in the first 3) against a
# server whose clock moves with the runs, with the real server's lateness
# (a fifth of the traces up to 15 minutes late), 1% of roots running up to
# 2 hours and 0.5% of traces whose root never comes. Counts the data
# requests (all but /projects): the window reads (new and settled: v2
# observations, v3 scores, legacy counts) and the re-fetches of incomplete
# traces by id. BENCH_SYNC_INTEGRATION (JSON) adds keys to the integration,
# e.g. '{"overlap":"0s","refetchLimit":0}' for the cost of no late-row
# handling at all.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
D="$BENCH_DIR/sync"
rm -rf "$D" && mkdir -p "$D"
N=${BENCH_SYNC_TRACES:-8000}
T0=2026-11-27T00:00:00Z
python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 9 --obs-min 5 --obs-max 5 \
	--end 2026-11-27T03:00:00Z --span 3h --out "$D/ds.json" >/dev/null || exit 1
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }
clock() { printf '%s\n' "$1" >"$D/clock.tmp" && mv "$D/clock.tmp" "$D/clock"; }
clock "$T0"
python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$D/ds.json" --port 0 --port-file "$D/port" \
	--clock-file "$D/clock" --log "$D/req.log" --late-minutes 15 --late-share 0.2 \
	--long-roots 0.01 --long-root-max 2h --rootless 0.005 2>"$D/server.err" &
spid=$!
for _ in $(seq 1200); do [ -s "$D/port" ] && break; sleep 0.05; done
extra=${BENCH_SYNC_INTEGRATION:-'{}'}
(umask 077; jq -n --arg h "http://127.0.0.1:$(cat "$D/port")" --argjson x "$extra" '{integrations: [{id: "b",
	name: "bench", publicKey: "pk-lf-test", secretKey: "sk-lf-test", host: $h, lookback: "1h"} + $x]}' \
	>"$D/config.json")
export LG_CONFIG="$D/config.json" LG_DB="$D/db"
start=$(date +%s.%N)
rc=0
for m in $(seq 5 5 240); do
	now=$(at "$m")
	clock "$now"
	LG_NOW=$now "$BIN/lg-sync" run b --quiet >>"$D/runs.out" 2>&1 || { echo "run at $now failed"; rc=1; }
done
secs=$(echo "$(date +%s.%N) - $start" | bc)
kill "$spid"; wait "$spid" 2>/dev/null
stored=$("$BIN/lg-store" --db "$D/db" count)
data=$(grep -vc '"/api/public/projects"' "$D/req.log")
byid=$(jq -r 'select(.query.traceId != null or .query.filter != null) | .n' "$D/req.log" | wc -l)
windows=$((data - byid))
pending=$("$BIN/lg-store" --db "$D/db" status b | jq -c .data.incomplete)
per() { echo "$1 * 1000 / $stored" | bc -l; }
kinds=$(jq -r 'select(.path != "/api/public/projects")
	| if .query.traceId or .query.filter then "id" elif .path == "/api/public/v3/scores" then "scores"
	  elif .path == "/api/public/v2/observations" then "v2" else "legacy" end' "$D/req.log" | sort | uniq -c |
	awk '{printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1}')
printf 'sync: %d traces (5 observations each), 48 runs over 4 simulated hours in %.1fs: %d data requests = %.1f per 1,000 traces (windows %.1f, re-fetch by id %.1f; %s); incomplete at the end %s\n' \
	"$stored" "$secs" "$data" "$(per "$data")" "$(per "$windows")" "$(per "$byid")" "$kinds" "$pending"
[ "$stored" -eq "$N" ] || { echo "sync: $stored of $N traces stored"; rc=1; }
exit $rc
