#!/bin/bash
# lg-sync serve under load, loopback only: BENCH_API_CLIENTS (200) concurrent
# keep-alive clients (wrk, tests/bench/api_load.lua) for BENCH_API_SECONDS
# (30) against an integration's sync status and a page of traces, while a
# sync of that integration started over the API runs (the test server slowed
# so the run spans the load). Prints requests/s, p50/p99/max latency and
# every error; the server's peak RSS (VmHWM) must stay under 32 MB, no
# request may fail, and the sync must complete whole (the store holds every
# trace the test server has). The peer, in the same run: the same load
# against tests/bench/peer/api_peer.js, a plain Node.js http server that
# answers the same URLs with the same bytes and does no query work (the
# ratio says what the store queries cost against bare HTTP).
# Env: BENCH_API_CLIENTS, BENCH_API_SECONDS, BENCH_API_TRACES (3000: the
# synced set), BENCH_API_STORED (5000: stored before the load), BENCH_DIR.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
CLIENTS=${BENCH_API_CLIENTS:-200}
SECS=${BENCH_API_SECONDS:-30}
N=${BENCH_API_TRACES:-3000}
STORED=${BENCH_API_STORED:-5000}
RSS_LIMIT_KB=32768
W="$BENCH_DIR/api"
rm -rf "$W" && mkdir -p "$W"
command -v wrk >/dev/null || { echo "api: wrk not installed (scripts/install-deps: wrk)"; exit 1; }
if ! "$BIN/lg-sync" serve --help >/dev/null 2>&1; then
	echo "api: lg-sync serve not available"
	exit 0
fi
export LG_CONFIG="$W/config.json" LG_DB="$W/db" XDG_CONFIG_HOME="$W/xdg"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST LG_NOW LG_CONSOLE_DIR
END=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT

# start_tsrv NAME ARGS...: the project's Langfuse test server; sets URL.
start_tsrv() {
	local name=$1 i=0
	shift
	python3 "$ROOT/tests/server/langfuse_server.py" --port 0 --port-file "$W/$name.port" "$@" \
		>/dev/null 2>"$W/$name.err" &
	PIDS+=($!)
	while [ ! -s "$W/$name.port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$W/$name.port" ] || { echo "api: test server $name did not start: $(cat "$W/$name.err")"; exit 1; }
	URL="http://127.0.0.1:$(cat "$W/$name.port")"
}

python3 "$ROOT/tests/server/gen_dataset.py" --traces "$STORED" --seed 21 --end "$END" --span 6d \
	--out "$W/stored.json" >/dev/null || exit 1
python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 22 --end "$END" --span 1d \
	--out "$W/live.json" >/dev/null || exit 1
start_tsrv stored --dataset "$W/stored.json" --public-key pk-lf-b --secret-key sk-lf-bench-stored-0001
STORED_URL=$URL
# Each data request of the live sync waits so that the run spans the load
# (PER_REQ: traces per data request of lg-fetch, v2 and score pages
# together, as the test server's log counts them); the script says when
# the run ended before the load did.
PER_REQ=120
SLOW_MS=$(( SECS * 900 / (N / PER_REQ + 1) ))
start_tsrv live --dataset "$W/live.json" --public-key pk-lf-b --secret-key sk-lf-bench-live-0001 \
	--fault-slow-ms "$SLOW_MS" --fault-slow-every 1 --log "$W/live.log"
LIVE_URL=$URL
umask 077
jq -n --arg s "$STORED_URL" --arg l "$LIVE_URL" '{integrations: [
	{id: "stored", publicKey: "pk-lf-b", secretKey: "sk-lf-bench-stored-0001", host: $s, lookback: "7d"},
	{id: "live", publicKey: "pk-lf-b", secretKey: "sk-lf-bench-live-0001", host: $l, lookback: "2d"}]}' >"$LG_CONFIG"
"$BIN/lg-sync" run stored --quiet 2>"$W/stored-run.err" || { echo "api: sync of the stored set failed: $(cat "$W/stored-run.err")"; exit 1; }

"$BIN/lg-sync" serve --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
SPID=$!
PIDS+=($SPID)
i=0
while ! grep -q 'serving http://' "$W/serve.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's|^lg-sync: serving http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$W/serve.err" | head -n1)
[ -n "$PORT" ] || { echo "api: lg-sync serve did not start: $(head -c 400 "$W/serve.err")"; exit 1; }
API="http://127.0.0.1:$PORT"
LG_BENCH_TOKEN=$(head -n1 "$XDG_CONFIG_HOME/langguard/api-token")
LG_BENCH_PATHS="/api/integrations/live/sync/status /api/traces?limit=50"
export LG_BENCH_TOKEN LG_BENCH_PATHS
auth() { curl -s -H "Authorization: Bearer $LG_BENCH_TOKEN" "$@"; }

# The peer's answers: lg-sync serve's own, captured now.
mkdir -p "$W/peer"
n=0
for p in $LG_BENCH_PATHS; do
	echo "$p" >"$W/peer/$n.url"
	auth -o "$W/peer/$n.body" "$API$p"
	n=$((n + 1))
done

# load NAME URL: wrk's figures into $W/NAME.wrk; sets REQS RPS P50 P99 MAX ERRS.
load() {
	wrk -t2 -c"$CLIENTS" -d"${SECS}s" --timeout 10s -s "$ROOT/tests/bench/api_load.lua" "$2" >"$W/$1.wrk" 2>&1
	local l
	l=$(grep '^lg-bench ' "$W/$1.wrk") || { echo "api: wrk $1 failed: $(tail -5 "$W/$1.wrk")"; exit 1; }
	kv() { printf '%s\n' "$l" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	REQS=$(kv requests)
	RPS=$(awk -v n="$REQS" -v s="$(kv seconds)" 'BEGIN { printf "%.0f", n / s }')
	P50=$(kv p50_ms) P99=$(kv p99_ms) MAX=$(kv max_ms)
	ERRS="connect $(kv connect), read $(kv read), write $(kv write), timeout $(kv timeout), non-2xx $(kv status)"
	NERR=$(( $(kv connect) + $(kv read) + $(kv write) + $(kv timeout) + $(kv status) ))
}

rc=0
# The sync starts over the API; the load starts while it runs.
code=$(auth -o "$W/sync.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"mode":"incremental"}' "$API/api/integrations/live/sync")
[ "$code" = 202 ] || { echo "api: POST sync answered $code: $(cat "$W/sync.json")"; exit 1; }
RUN_ID=$(jq -r .data.id "$W/sync.json")
sync_start=$(date +%s.%N)
load lg "$API/"
load_end=$(date +%s.%N)
active_after=$(auth "$API/api/integrations/live/sync/status" | jq -r .data.isActive)
HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SPID/status")
lg_rps=$RPS
printf 'api lg-sync serve   %d clients %ds: %d requests, %s/s, p50 %s ms, p99 %s ms, max %s ms; errors: %s\n' \
	"$CLIENTS" "$SECS" "$REQS" "$RPS" "$P50" "$P99" "$MAX" "$ERRS"
[ "$NERR" -eq 0 ] || { echo "api: $NERR requests failed"; rc=1; }

# The sync completes whole: every trace of the live set stored.
i=0
while [ "$(auth "$API/api/integrations/live/sync/status" | jq -r .data.isActive)" != false ] && [ $i -lt 1200 ]; do
	sleep 0.5; i=$((i + 1))
done
sync_end=$(date +%s.%N)
auth "$API/api/integrations/live/sync/status" >"$W/status.json"
got=$("$BIN/lg-store" count --integration live)
printf 'api sync during the load: run %s %s, %s of %d traces stored, %.0fs (%s at the end of the load)\n' \
	"$RUN_ID" "$(jq -r .data.lastSync.status "$W/status.json")" "$got" "$N" \
	"$(echo "$sync_end - $sync_start" | bc)" "$([ "$active_after" = true ] && echo running || echo done)"
[ "$(jq -r .data.lastSync.id "$W/status.json")" = "$RUN_ID" ] &&
	[ "$(jq -r .data.lastSync.status "$W/status.json")" = completed ] && [ "$got" -eq "$N" ] ||
	{ echo "api: the sync did not complete whole"; rc=1; }
[ "$active_after" = true ] || echo "api: note: the sync ended before the load did"
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null
printf 'api lg-sync serve peak RSS %.1f MB (VmHWM; limit %d MB)\n' "$(echo "$HWM / 1024" | bc -l)" $((RSS_LIMIT_KB / 1024))
[ "$HWM" -lt "$RSS_LIMIT_KB" ] || { echo "api: RSS over the limit"; rc=1; }
if grep -qF "$LG_BENCH_TOKEN" "$W/serve.err"; then echo "api: the token is in the server's log"; rc=1; fi

# The peer, same load, same answers, no queries.
rm -f "$W/peer.port"
node "$ROOT/tests/bench/peer/api_peer.js" "$W/peer.port" "$XDG_CONFIG_HOME/langguard/api-token" "$W/peer" 2>"$W/peer.err" &
PIDS+=($!)
i=0
while [ ! -s "$W/peer.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
load peer "http://127.0.0.1:$(cat "$W/peer.port")/"
printf 'api node peer        %d clients %ds: %d requests, %s/s, p50 %s ms, p99 %s ms, max %s ms; errors: %s\n' \
	"$CLIENTS" "$SECS" "$REQS" "$RPS" "$P50" "$P99" "$MAX" "$ERRS"
printf 'api lg-sync serve / node peer: %.2fx requests/s\n' "$(echo "$lg_rps / $RPS" | bc -l)"
exit $rc
