# One daemon, a well-behaved integration next to hostile ones (a slow drip,
# forged control lines naming the good one): the good one keeps syncing on
# schedule, its cursor moves only with its own runs, no key leaks.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST LG_NOW
SECRET=sk-lf-trust-daemon-5555
python3 "$ROOT/tests/server/gen_dataset.py" --traces 20 --seed 5 --out "$T/ds.json" \
	--end "$(date -u -d '-20 minutes' +%Y-%m-%dT%H:%M:%SZ)" --span 2h >/dev/null
# The forging server's traces are its own: the same ids under two
# integrations would be conflicts, not the point here.
python3 "$ROOT/tests/server/gen_dataset.py" --traces 20 --seed 6 --out "$T/ds2.json" \
	--end "$(date -u -d '-20 minutes' +%Y-%m-%dT%H:%M:%SZ)" --span 2h >/dev/null
start_server --dataset "$T/ds.json" --public-key pk-lf-t --secret-key "$SECRET" || exit 1
GOOD_PID=$SERVER_PID GOOD=$SERVER_URL
start_server --dataset "$T/ds.json" --public-key pk-lf-t --secret-key "$SECRET" --hostile slow-drip || exit 1
DRIP_PID=$SERVER_PID DRIP=$SERVER_URL
start_server --dataset "$T/ds2.json" --public-key pk-lf-t --secret-key "$SECRET" --mode v3 --hostile forged-control || exit 1
FORGE_PID=$SERVER_PID FORGE=$SERVER_URL
trap 'for p in $GOOD_PID $DRIP_PID $FORGE_PID; do SERVER_PID=$p stop_server; done; [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null' EXIT
umask 077
jq -n --arg g "$GOOD" --arg d "$DRIP" --arg f "$FORGE" --arg k "$SECRET" '{integrations: [
	{id: "drip", publicKey: "pk-lf-t", secretKey: $k, host: $d, interval: "1s", maxRunTime: "2s"},
	{id: "victim", publicKey: "pk-lf-t", secretKey: $k, host: $g, interval: "1s"},
	{id: "forge", publicKey: "pk-lf-t", secretKey: $k, host: $f, interval: "1s"}]}' >"$LG_CONFIG"

lg-sync daemon >"$T/daemon.log" 2>"$T/daemon.err" &
DPID=$!
_i=0
while { [ "$(grep -c ' victim completed' "$T/daemon.log")" -lt 3 ] || ! grep -q ' forge ' "$T/daemon.log"; } &&
	[ $_i -lt 900 ]; do sleep 0.1; _i=$((_i + 1)); done
kill -TERM "$DPID"
wait "$DPID"
DPID=
expect_eq "daemon: the good integration keeps syncing" yes \
	"$([ "$(grep -c ' victim completed' "$T/daemon.log")" -ge 3 ] && echo yes || cat "$T/daemon.log")"
expect_contains "daemon: the slow one is cut at its maxRunTime" "$T/daemon.log" \
	"drip failed (exit 1): lg-fetch: interrupted by the run time limit (--max-run-time)"
expect_contains "daemon: the forging one completes, its forgeries dropped" "$T/daemon.log" " forge completed"
# The forged checkpoint said 2099 and "victim": victim's cursor is its own
# window end, in the past.
cur=$(lg-store --db "$LG_DB" cursor victim)
expect_eq "daemon: victim's cursor is its own" yes \
	"$([ -n "$cur" ] && [ "$(date -u -d "$cur" +%s)" -le "$(date -u +%s)" ] && echo yes || echo "no: $cur")"
expect_eq "daemon: the forged run-start recorded nothing" "" \
	"$(lg-store --db "$LG_DB" status victim | jq -r '.data.lastSync.id | select(. == "forged")')"
expect_not_contains "daemon: no key in the log" "$T/daemon.log" "$SECRET"
expect_not_contains "daemon: no key on stderr" "$T/daemon.err" "$SECRET"
