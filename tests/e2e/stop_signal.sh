# A clean stop: SIGTERM/SIGINT end lg-fetch after its last completed window
# (a blocked transfer and a Retry-After wait cut short, a second signal
# kills), lg-fetch | lg-map | lg-store put keeps the cursor at that window's end and
# records the run as failed "interrupted by SIGTERM", a following lg-sync run
# brings every trace exactly once; lg-sync daemon and lg-sync run pass
# SIGTERM on to lg-fetch alone and let the pipeline drain.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db" LG_NOW=2026-11-27T10:00:00Z LG_RETRY_BASE_MS=1
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
trap 'stop_server' EXIT
umask 077

# 60 traces over [07:50, 09:50). A 422 "Request timed out" on windows wider
# than 10 minutes makes lg-fetch narrow its windows to 8m26s: 16 windows,
# each a slow (300 ms) request.
python3 "$ROOT/tests/server/gen_dataset.py" --traces 60 --seed 7 --out "$T/ds.json" \
	--end 2026-11-27T09:50:00Z --span 2h >/dev/null
jq -r '.traces[].id' "$T/ds.json" | sort >"$T/want_ids"
slow_server() { start_server --dataset "$T/ds.json" --public-key pk-lf-s --secret-key sk-lf-stop-secret-0001 "$@"; }
write_config() { # URL
	jq -n --arg h "$1" '{integrations: [
		{id: "prod", publicKey: "pk-lf-s", secretKey: "sk-lf-stop-secret-0001", host: $h,
		 autoSync: true, interval: "1m", lookback: "2h15m"},
		{id: "other", publicKey: "pk-lf-s", secretKey: "sk-lf-stop-secret-0001", host: $h,
		 autoSync: false, lookback: "2h15m"}]}' >"$LG_CONFIG"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_until TENTHS CMD...: polls CMD until it succeeds
wait_until() {
	_n=$1; shift
	_i=0
	until "$@" || [ $_i -ge "$_n" ]; do sleep 0.1; _i=$((_i + 1)); done
}
checkpoints_at_least() { [ "$(grep -c '"checkpoint"' "$1" 2>/dev/null)" -ge "$2" ]; }
# watch PID: SIGKILL after 25 s (times TIME_FACTOR), so a signal that does
# not work fails the test instead of hanging it; unwatch after wait.
# Started when the signal is sent: a slow start (valgrind) is not a stop
# that does not work.
watch() { ( sleep $((25 * TIME_FACTOR)); kill -KILL "$1" ) 2>/dev/null & WATCH=$!; }
unwatch() { kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null; }
# within NAME MS START_MS: the time since START_MS is under MS (times
# TIME_FACTOR: under valgrind a stop is as prompt in processes, not in ms)
within() {
	_el=$(( $(now_ms) - $3 )) _b=$(($2 * TIME_FACTOR))
	if [ "$_el" -lt "$_b" ]; then pass "$1"; else fail "$1" "took ${_el} ms (bound $_b ms)"; fi
}

slow_server --fault-slow-ms 300 --fault-422-window 600 || exit 1
write_config "$SERVER_URL"

# ---- a stop sent before lg-fetch had set its handler: lg-sync starts it
# with the stop signals blocked, so the signal waits, pending, and lg-fetch
# gets it once its handler is set (unblocking them): a clean stop, neither
# lost nor a kill by the default action. Here the signal is pending across
# exec exactly as lg-sync leaves it.
python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.kill(os.getpid(), signal.SIGTERM)
os.execvp("lg-fetch", sys.argv[1:])' lg-fetch --integration prod --lookback 2h15m >"$T/sf.out" 2>"$T/sf.err"
expect_eq pending-stop-exit 1 "$?"
expect_eq pending-stop-run-end '{"status":"failed","error":"interrupted by SIGTERM"}' "$(tail -n1 "$T/sf.out" | jq -c '{status, error}')"
expect_eq pending-stop-nothing-fetched 0 "$(grep -vc '"\$lg"' "$T/sf.out")"
python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.execvp("lg-fetch", sys.argv[1:])' lg-fetch --integration prod --lookback 2h15m --until 2026-11-27T08:00:00Z >"$T/sf.out" 2>"$T/sf.err"
expect_eq blocked-no-stop-runs 0 "$?"

# ---- lg-fetch | lg-map | lg-store put, SIGTERM after the fourth checkpoint
mkfifo "$T/fifo"
tee "$T/fetch.out" <"$T/fifo" | lg-map --integration prod | lg-store --db "$LG_DB" put --summary none 2>"$T/put.err" &
PUTP=$!
lg-fetch --integration prod --lookback 2h15m >"$T/fifo" 2>"$T/fetch.err" &
FP=$!
wait_until 300 checkpoints_at_least "$T/fetch.out" 4
watch "$FP"
t0=$(now_ms)
kill -TERM "$FP"
wait "$FP"
expect_eq pipe-fetch-exit 1 "$?"
unwatch
within pipe-fetch-prompt 3000 "$t0"
wait "$PUTP"
expect_eq pipe-put-exit 0 "$?"
expect_eq pipe-fetch-stderr "lg-fetch: interrupted by SIGTERM" "$(grep -v 'narrowing windows\|retry [0-9]* in' "$T/fetch.err")"
expect_eq pipe-run-end '{"status":"failed","error":"interrupted by SIGTERM","exitCode":1}' \
	"$(tail -n1 "$T/fetch.out" | jq -c '{status, error, exitCode}')"
# The window being read was dropped: nothing between the last checkpoint and run-end.
expect_eq pipe-no-trace-after-checkpoint checkpoint "$(tail -n2 "$T/fetch.out" | head -n1 | jq -r '."$lg"')"
last_cp=$(grep '"checkpoint"' "$T/fetch.out" | tail -n1)
cursor=$(lg-store --db "$LG_DB" cursor prod)
expect_eq pipe-cursor-is-last-checkpoint "$(jq -r .cursor <<<"$last_cp")" "$cursor"
expect_eq pipe-cursor-is-window-end "$(jq -r .window.to <<<"$last_cp")" "$cursor"
if [[ $cursor < 2026-11-27T09:50:00Z ]] && [[ $cursor > 2026-11-27T07:45:00Z ]]; then pass pipe-cursor-mid-range
else fail pipe-cursor-mid-range "cursor $cursor is not inside the range"; fi
expect_eq pipe-run-recorded '{"status":"failed","error":"interrupted by SIGTERM"}' \
	"$(lg-store --db "$LG_DB" status prod | jq -c '.data.lastSync | {status, error}')"
stored=$(lg-store --db "$LG_DB" count)
expect_eq pipe-stored-what-was-emitted "$(grep -vc '"\$lg"' "$T/fetch.out")" "$stored"
if [ "$stored" -gt 0 ] && [ "$stored" -lt 60 ]; then pass pipe-stopped-part-way
else fail pipe-stopped-part-way "$stored of 60 traces stored"; fi

# ---- the next lg-sync run (no faults now) brings every trace, each once
stop_server
slow_server || exit 1
write_config "$SERVER_URL"
expect_status resume-run 0 lg-sync run prod --quiet
lg-store --db "$LG_DB" export | jq -r .externalId | sort >"$T/got_ids"
expect_eq resume-every-trace-once "$(cat "$T/want_ids")" "$(cat "$T/got_ids")"
expect_eq resume-recorded completed "$(lg-sync status prod | jq -r .data.lastSync.status)"

# ---- a transfer blocked on a slow response is cut short
stop_server
slow_server --fault-slow-ms 20000 --log "$T/slow.log" || exit 1
write_config "$SERVER_URL"
lg-fetch --integration prod --lookback 1h >"$T/blocked.out" 2>"$T/blocked.err" &
FP=$!
wait_until 100 grep -q '/api/public/projects' "$T/slow.log"
sleep 0.5 # the data request is on its way (20 s)
watch "$FP"
t0=$(now_ms)
kill -TERM "$FP"
wait "$FP"
expect_eq blocked-exit 1 "$?"
unwatch
within blocked-prompt 3000 "$t0"
expect_eq blocked-lines "run-start run-end" "$(jq -r '."$lg"' "$T/blocked.out" | tr '\n' ' ' | sed 's/ $//')"
expect_eq blocked-error "interrupted by SIGTERM" "$(tail -n1 "$T/blocked.out" | jq -r .error)"

# ---- SIGHUP during a 30 s Retry-After wait (SIGINT is ignored by a
# background job of a script, and lg-fetch leaves it so)
stop_server
slow_server --fault-429-every 1 --retry-after 30 || exit 1
write_config "$SERVER_URL"
lg-fetch --integration prod --lookback 1h >"$T/ra.out" 2>"$T/ra.err" &
FP=$!
wait_until 100 grep -q 'Retry-After' "$T/ra.err"
watch "$FP"
t0=$(now_ms)
kill -HUP "$FP"
wait "$FP"
expect_eq retry-after-exit 1 "$?"
unwatch
within retry-after-prompt 3000 "$t0"
expect_eq retry-after-error "interrupted by SIGHUP" "$(tail -n1 "$T/ra.out" | jq -r .error)"
expect_eq retry-after-throttled-counts-the-wait-done yes \
	"$(tail -n1 "$T/ra.out" | jq -r 'if .throttledSeconds < 30 then "yes" else .throttledSeconds end')"

# ---- a second signal kills at once: both arrive while lg-fetch is stopped
lg-fetch --integration prod --lookback 1h >/dev/null 2>"$T/two.err" &
FP=$!
wait_until 100 grep -q 'Retry-After' "$T/two.err"
watch "$FP"
kill -STOP "$FP"
kill -HUP "$FP"
kill -TERM "$FP"
kill -CONT "$FP"
wait "$FP"
expect_eq second-signal-kills 143 "$?"
unwatch

# ---- lg-sync daemon: SIGTERM during a slow run
stop_server
rm -rf "$LG_DB"
slow_server --fault-slow-ms 300 --fault-422-window 600 || exit 1
write_config "$SERVER_URL"
lg-sync daemon >"$T/daemon.log" 2>"$T/daemon.err" &
DP=$!
cursor_set() { [ -n "$(lg-store --db "$LG_DB" cursor prod 2>/dev/null)" ]; }
wait_until 300 cursor_set
watch "$DP"
t0=$(now_ms)
kill -TERM "$DP"
wait "$DP"
expect_eq daemon-exit 0 "$?"
unwatch
within daemon-prompt 5000 "$t0"
expect_eq daemon-lines 3 "$(wc -l <"$T/daemon.log")"
cursor=$(lg-store --db "$LG_DB" cursor prod)
if sed -n 2p "$T/daemon.log" | grep -qE "^[0-9T:-]+Z prod stopped by SIGTERM: [0-9]+ traces fetched, [0-9]+ stored; the next run resumes from $cursor\$"
then pass daemon-stopped-line; else fail daemon-stopped-line "$(sed -n 2p "$T/daemon.log") (cursor $cursor)"; fi
expect_eq daemon-last-line "lg-sync daemon: stopped" "$(tail -n1 "$T/daemon.log" | cut -d' ' -f2-)"
expect_eq daemon-recorded '{"isActive":false,"status":"failed","error":"interrupted by SIGTERM"}' \
	"$(lg-sync status prod | jq -c '.data | {isActive, status: .lastSync.status, error: .lastSync.error}')"
if [[ $cursor < 2026-11-27T09:50:00Z ]]; then pass daemon-cursor-mid-range; else fail daemon-cursor-mid-range "$cursor"; fi
expect_eq daemon-stored-up-to-cursor "$(lg-store --db "$LG_DB" status prod | jq -r .data.lastSync.itemsIngested)" \
	"$(lg-store --db "$LG_DB" count)"
expect_eq daemon-no-stage-left "" "$(pgrep -f "$LG_DB" || true)"

# ---- lg-sync run: SIGTERM stops the run, the next integration is not started
lg-sync run prod other >"$T/run.out" 2>"$T/run.err" &
RP=$!
before=$cursor
cursor_moved() { [ "$(lg-store --db "$LG_DB" cursor prod 2>/dev/null)" != "$before" ]; }
wait_until 300 cursor_moved
watch "$RP"
t0=$(now_ms)
kill -TERM "$RP"
wait "$RP"
expect_eq run-exit 1 "$?"
unwatch
within run-prompt 5000 "$t0"
expect_contains run-stopped-line "$T/run.err" "prod: stopped by SIGTERM: "
expect_contains run-next-not-started "$T/run.err" "lg-sync: interrupted: other and the rest not synced"
expect_eq run-other-untouched null "$(lg-sync status other | jq -c .data.lastSync)"
expect_eq run-recorded '{"status":"failed","error":"interrupted by SIGTERM"}' \
	"$(lg-sync status prod | jq -c '.data.lastSync | {status, error}')"
lg-store --db "$LG_DB" check >"$T/check.out" 2>&1
expect_eq run-store-consistent 0 "$?"
