# lg-ship into a real ClickHouse (Debian's clickhouse-server on a free
# loopback port, one server for every case): first ship, incremental ship
# after merges and violation acks, kill -9 mid-run then a rerun (nothing
# lost; rows shipped twice collapse under FINAL), ClickHouse down (retries,
# the position stays, exit 4; then it comes back and the ship completes),
# and ClickHouse's counts and sums equal lg-store stats.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/clickhouse.sh"
if [ -z "$CH_BIN" ]; then
	echo "SKIP clickhouse-server is not installed (scripts/install-deps installs it)"
	exit 0
fi
trap ch_stop EXIT
ch_start "$T/ch" || { fail "clickhouse starts" "see above"; exit 0; }
pass "clickhouse starts on 127.0.0.1:$CH_HTTP_PORT"

DB="$T/db"
export LG_NOW=2026-11-27T12:00:00Z
S() { lg-store --db "$DB" "$@"; }
position() { lg-ship --db "$DB" --to "$CH_URL" --position | jq -r .position; }
last() { lg-ship --db "$DB" --to "$CH_URL" --position | jq -r .last; }

expect_eq "schema.sql is what --schema prints" "$(cat "$ROOT/ship/schema.sql")" "$(lg-ship --schema)"

python3 "$ROOT/tests/server/gen_dataset.py" --traces 400 --seed 11 --format ndjson \
	--end 2026-11-20T00:00:00Z --span 40d --out "$T/traces" || { fail setup gen_dataset; exit 0; }
lg-map --integration prod <"$T/traces" | lg-detect | lg-policy >"$T/records"
head -n 300 "$T/records" | S put 2>/dev/null

# ClickHouse's figures next to lg-store stats (all records, one group).
compare() { # NAME
	local want got
	want=$(S stats --json | jq -c '.groups[0] | [.traces, (.tokens | round), (.cost * 1000000 | round),
		.violations.critical, .violations.high, .violations.medium, .violations.low]')
	got=$(ch_q "SELECT count(), round(sum(tokensTotal)), round(sum(cost) * 1000000) FROM lg.traces FINAL" | tr '\t' ',')
	for sev in critical high medium low; do
		got="$got,$(ch_q "SELECT count() FROM lg.violations FINAL WHERE severity = '$sev'")"
	done
	expect_eq "$1: traces, tokens, cost, violations by severity = lg-store stats" "$want" "[$got]"
}

# ---- first ship ----
expect_status "first ship with --init: exit 0" 0 lg-ship --db "$DB" --to "$CH_URL" --init
expect_contains "summary on stderr" "$T/err" "300 records"
expect_eq "position is the store's last change" "$(last)" "$(position)"
expect_eq "traces in ClickHouse" "300" "$(ch_q 'SELECT count() FROM lg.traces FINAL')"
expect_eq "violations in ClickHouse" "$(S violations | wc -l)" "$(ch_q 'SELECT count() FROM lg.violations FINAL')"
compare "first ship"
expect_eq "partitioned by month" "202610 202611" \
	"$(ch_q "SELECT DISTINCT partition FROM system.parts WHERE database = 'lg' AND table = 'traces' AND active ORDER BY partition" | tr '\n' ' ' | sed 's/ $//')"
expect_status "nothing new: exit 0" 0 lg-ship --db "$DB" --to "$CH_URL"
expect_contains "nothing new: 0 records" "$T/err" "0 records"

# ---- incremental: merges, new records, an ack and a resolve ----
before=$(position)
id1=$(head -n 1 "$T/records" | jq -r .externalId)
echo "{\"externalId\":\"$id1\",\"name\":\"renamed-by-merge\",\"source\":{\"integration\":\"prod\"}}" | S put 2>/dev/null
sed -n '301,320p' "$T/records" | S put 2>/dev/null
V=$(S violations | head -n 2 | jq -r .id)
v1=$(echo "$V" | sed -n 1p) v2=$(echo "$V" | sed -n 2p)
S ack "$v1" >/dev/null
S resolve "$v2" --note "known" >/dev/null
changed=$(S changes --since "$before" | grep -vc '"\$lg"')
expect_status "incremental ship: exit 0" 0 lg-ship --db "$DB" --to "$CH_URL"
expect_contains "incremental: only the changed records" "$T/err" "$changed records"
expect_eq "incremental: the merged name" "renamed-by-merge" \
	"$(ch_q "SELECT name FROM lg.traces FINAL WHERE externalId = '$id1'")"
expect_eq "incremental: the ack" "acknowledged" "$(ch_q "SELECT status FROM lg.violations FINAL WHERE violationId = '$v1'")"
expect_eq "incremental: the resolve and its note" "resolved	known" \
	"$(ch_q "SELECT status, notes FROM lg.violations FINAL WHERE violationId = '$v2'")"
expect_eq "incremental: argMax reads the same" "acknowledged" \
	"$(ch_q "SELECT argMax(status, seq) FROM lg.violations WHERE violationId = '$v1'")"
compare "incremental"

# ---- kill -9 mid-run, then a rerun ----
sed -n '321,400p' "$T/records" | S put 2>/dev/null
n0=$(ch_q 'SELECT count() FROM lg.traces')
killed=0
for try in 1 2 3; do
	lg-ship --db "$DB" --to "$CH_URL" --batch 1 >/dev/null 2>"$T/kill.err" &
	pid=$!
	i=0
	while [ "$(ch_q 'SELECT count() FROM lg.traces')" -le "$n0" ] && [ $i -lt 300 ]; do sleep 0.02; i=$((i + 1)); done
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		[ "$(position)" != "$(last)" ] && { killed=1; break; }
	fi
	wait "$pid" 2>/dev/null
	# It finished first: put its position back to ship the same again.
	lg-ship --db "$DB" --to "$CH_URL" --since "$before" --batch 100000 >/dev/null 2>&1
done
expect_eq "kill -9 landed mid-run" 1 "$killed"
p=$(position)
# Every record is in ClickHouse or after the position: none lost by the kill.
S export | jq -r .externalId | sort >"$T/all"
{ ch_q 'SELECT DISTINCT externalId FROM lg.traces'; S changes --since "$p" | jq -r 'select(has("$lg") | not) | .externalId'; } |
	sort -u >"$T/covered"
expect_eq "after the kill: every record in ClickHouse or after the position" "" "$(comm -23 "$T/all" "$T/covered")"
expect_status "rerun after the kill: exit 0" 0 lg-ship --db "$DB" --to "$CH_URL"
expect_eq "rerun: position at the last change" "$(last)" "$(position)"
expect_eq "rerun: every record, once under FINAL" "400" "$(ch_q 'SELECT count() FROM lg.traces FINAL')"
compare "after kill and rerun"
expect_status "ship everything again (--since 0)" 0 lg-ship --db "$DB" --to "$CH_URL" --since 0
expect_eq "shipped twice: more rows than records" "1" "$(ch_q 'SELECT count() > 400 FROM lg.traces')"
expect_eq "shipped twice: once each under FINAL" "400" "$(ch_q 'SELECT count() FROM lg.traces FINAL')"
compare "shipped twice"

# ---- ClickHouse down ----
ch_stop
echo "{\"externalId\":\"$id1\",\"name\":\"while-down\",\"source\":{\"integration\":\"prod\"}}" | S put 2>/dev/null
p=$(position)
expect_status "down: gives up after --retry-for, exit 4" 4 lg-ship --db "$DB" --to "$CH_URL" --retry-for 2s
expect_contains "down: says it retried" "$T/err" "retrying in"
expect_eq "down: the position did not move" "$p" "$(position)"
lg-ship --db "$DB" --to "$CH_URL" --retry-for 5m >"$T/wait.out" 2>"$T/wait.err" &
pid=$!
# Until it says it retries (or ends): a slow start (valgrind) is no failure.
for _ in $(seq 600); do
	grep -q 'retrying in' "$T/wait.err" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
expect_eq "down: still waiting and retrying" "1" "$(kill -0 "$pid" 2>/dev/null && grep -c 'retrying in' "$T/wait.err" | awk '{ print ($1 > 0) }')"
expect_eq "down: the position has not moved meanwhile" "$p" "$(position)"
ch_start "$T/ch" || { fail "clickhouse restarts" "see above"; exit 0; }
wait "$pid"
expect_eq "back up: the waiting ship completes, exit 0" 0 "$?"
expect_eq "back up: position at the last change" "$(last)" "$(position)"
expect_eq "back up: the change shipped" "while-down" "$(ch_q "SELECT name FROM lg.traces FINAL WHERE externalId = '$id1'")"
compare "after the outage"

# ---- lg-sync ships after each completed run when the integration names shipTo ----
export LG_CONFIG="$T/config.json"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
python3 "$ROOT/tests/server/gen_dataset.py" --traces 25 --seed 5 --end 2026-11-27T11:00:00Z --span 2h --out "$T/ds.json"
trap 'stop_server; ch_stop' EXIT
start_server --dataset "$T/ds.json" || exit 0
umask 077
jq -n --arg h "$SERVER_URL" --arg to "$CH_URL/viasync" '{integrations: [{id: "prod", name: "Prod",
	publicKey: "pk-lf-test", secretKey: "sk-lf-test", host: $h, lookback: "1d", shipTo: $to}]}' >"$LG_CONFIG"
expect_status "lg-sync run with shipTo: exit 0" 0 env LG_DB="$T/syncdb" lg-sync run prod
expect_eq "lg-sync's line says what it shipped" "1" \
	"$(grep '^lg-sync: prod: completed: ' "$T/err" | grep -c "; 25 records, .* shipped to 127.0.0.1:$CH_HTTP_PORT/viasync")"
expect_eq "lg-sync shipped every record" "25" "$(ch_q 'SELECT count() FROM viasync.traces FINAL')"
expect_eq "lg-sync: position at the last change" "$(lg-ship --db "$T/syncdb" --to "$CH_URL/viasync" --position | jq .last)" \
	"$(lg-ship --db "$T/syncdb" --to "$CH_URL/viasync" --position | jq .position)"
jq '.integrations[0].shipTo = "ftp://x"' "$LG_CONFIG" >"$T/bad.json"
expect_status "shipTo not http(s): the entry is refused" 2 env LG_CONFIG="$T/bad.json" LG_DB="$T/syncdb" lg-sync run prod
expect_contains "shipTo refused, named" "$T/err" "shipTo"
stop_server
trap ch_stop EXIT

# ---- usage ----
expect_status "no --to: usage" 2 lg-ship --db "$DB"
expect_status "bad URL: usage" 2 lg-ship --db "$DB" --to ftp://x
expect_status "bad database name: usage" 2 lg-ship --db "$DB" --to "$CH_URL/a-b"
expect_status "no store: exit 6" 6 lg-ship --db "$T/none" --to "$CH_URL"
expect_status "a table ClickHouse refuses: exit 5" 5 lg-ship --db "$DB" --to "$CH_URL/nosuchdb" --since 0 --retry-for 1s
