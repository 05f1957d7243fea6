# lg-sync daemon: two cycles of a scheduled integration, backoff after
# consecutive failures, unscheduled integrations left alone, a clean stop on
# SIGTERM, and SIGTERM during a run stopping that run after its last
# completed window (tests/e2e/stop_signal.sh checks the cursor and resume).
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST LG_NOW
SECRET=sk-lf-daemon-secret-0000-7777
python3 "$ROOT/tests/server/gen_dataset.py" --traces 20 --seed 41 --out "$T/ds.json" --end "$(date -u -d '-20 minutes' +%Y-%m-%dT%H:%M:%SZ)" --span 2h
start_server --dataset "$T/ds.json" --public-key pk-lf-d --secret-key "$SECRET" || exit 1
trap 'stop_server; [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null' EXIT
umask 077
jq -n --arg h "$SERVER_URL" --arg k "$SECRET" '{integrations: [
	{id: "prod", publicKey: "pk-lf-d", secretKey: $k, host: $h, autoSync: true, interval: "1s"},
	{id: "broken", publicKey: "pk-lf-d", secretKey: "sk-lf-not-the-key-1234", host: $h, autoSync: true, interval: "1s"},
	{id: "manual", publicKey: "pk-lf-d", secretKey: $k, host: $h, autoSync: false, interval: "1s"}]}' >"$LG_CONFIG"

# wait_for FILE PATTERN COUNT [TENTHS]: until COUNT lines of FILE match
wait_for() {
	_i=0
	while [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -lt "$3" ] && [ $_i -lt "${4:-300}" ]; do sleep 0.1; _i=$((_i + 1)); done
}

lg-sync daemon >"$T/daemon.log" 2>"$T/daemon.err" &
DPID=$!
wait_for "$T/daemon.log" ' prod completed' 2
wait_for "$T/daemon.log" ' broken failed' 2
kill -TERM "$DPID"
wait "$DPID"
expect_eq daemon-exit 0 "$?"
DPID=
prod_runs=$(grep -c ' prod completed: ' "$T/daemon.log")
if [ "$prod_runs" -ge 2 ]; then pass daemon-two-cycles; else fail daemon-two-cycles "$(cat "$T/daemon.log")"; fi
expect_eq daemon-first-line "lg-sync daemon: started (config $LG_CONFIG, db $LG_DB)" "$(head -n1 "$T/daemon.log" | cut -d' ' -f2-)"
expect_eq daemon-last-line "lg-sync daemon: stopped" "$(tail -n1 "$T/daemon.log" | cut -d' ' -f2-)"
expect_not_contains daemon-manual-untouched "$T/daemon.log" " manual "
expect_eq daemon-manual-no-run null "$(lg-sync status manual | jq -c .data.lastSync)"
# One line per run: a timestamp, the id, the outcome, the next time.
if grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z prod completed: [0-9]+ traces fetched, [0-9]+ new, [0-9]+ updated, [0-9]+ unchanged, [0-9]+ re-evaluated in [0-9]+s next in 1s$' "$T/daemon.log"
then pass daemon-line-format; else fail daemon-line-format "$(grep ' prod ' "$T/daemon.log" | head -n1)"; fi
# Backoff: interval 1s doubled per consecutive failure.
expect_eq daemon-backoff-1 1 "$(grep ' broken failed (exit 3): ' "$T/daemon.log" | head -n1 | grep -c '(failures 1) next in 2s$')"
expect_eq daemon-backoff-2 1 "$(grep ' broken failed (exit 3): ' "$T/daemon.log" | sed -n 2p | grep -c '(failures 2) next in 4s$')"
expect_not_contains daemon-no-secret "$T/daemon.log" "not-the-key"
# With a 1s interval the SIGTERM may land during a prod run: that run is
# then stopped (logged so) and recorded as interrupted.
if grep ' prod ' "$T/daemon.log" | tail -n1 | grep -q ' prod stopped by SIGTERM: '; then
	want='{"status":"failed","error":"interrupted by SIGTERM"}'
else
	want='{"status":"completed","error":null}'
fi
expect_eq daemon-status-prod "$want" "$(lg-sync status prod | jq -c '.data.lastSync | {status, error}')"
expect_eq daemon-status-broken '"failed"' "$(lg-sync status broken | jq -c .data.lastSync.status)"

# SIGTERM while a run is in progress: lg-fetch stops it, the run is recorded
# as failed "interrupted by SIGTERM", the daemon logs "stopped" and exits 0.
# Every answer takes 4 s, so the run is still going when a loaded machine
# has seen it active.
stop_server
start_server --dataset "$T/ds.json" --public-key pk-lf-d --secret-key "$SECRET" --fault-slow-ms 4000 --fault-slow-every 1 || exit 1
jq -n --arg h "$SERVER_URL" --arg k "$SECRET" '{integrations: [
	{id: "prod", publicKey: "pk-lf-d", secretKey: $k, host: $h, autoSync: true, interval: "1m"}]}' >"$LG_CONFIG"
before=$(lg-sync status prod | jq -r .data.lastSync.id)
lg-sync daemon >"$T/daemon2.log" 2>&1 &
DPID=$!
i=0
# Up to 30 s: a loaded machine (or valgrind) takes a while to get there.
until [ "$(lg-sync status prod | jq .data.isActive)" = true ] || [ $i -ge 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$DPID"
wait "$DPID"
expect_eq term-mid-run-exit 0 "$?"
DPID=
# The daemon's own lines (timestamped). Under valgrind the SIGTERM can reach
# lg-fetch before it has set its handler (it starts far slower): it dies of
# the signal and bash adds "Terminated"; the run is still recorded as
# interrupted (checked below).
n=$(grep -c '^[0-9]\{4\}-' "$T/daemon2.log")
expect_eq term-mid-run-lines 3 "$n$([ "$n" = 3 ] || printf ': %s' "$(tr '\n' '|' <"$T/daemon2.log")")"
expect_contains term-mid-run-stopped "$T/daemon2.log" " prod stopped by SIGTERM: "
after=$(lg-sync status prod | jq -c '.data | {isActive, s: .lastSync.status, e: .lastSync.error}')
expect_eq term-mid-run-status '{"isActive":false,"s":"failed","e":"interrupted by SIGTERM"}' "$after"
if [ "$(lg-sync status prod | jq -r .data.lastSync.id)" != "$before" ]; then pass term-mid-run-new-run
else fail term-mid-run-new-run "no new run recorded"; fi
