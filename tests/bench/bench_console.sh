# The console on a big store: how long each page takes to show its data
# (a full load: HTML, scripts, the API calls, the drawing) in headless
# chromium against lg-sync serve, and what each API call the pages make
# costs on its own (curl: the first, and the median of 5).
# Env: BENCH_CONSOLE_TRACES (100000 traces over 30 days up to this hour;
# the store is kept in BENCH_DIR for the day), BENCH_CONSOLE_RUNS (5 loads
# per page), BENCH_CONSOLE_PAGES (the pages loaded, comma-separated:
# agents, violations, traces, trace, integrations; all when unset),
# BENCH_DIR.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
N=${BENCH_CONSOLE_TRACES:-100000}
. "$ROOT/tests/console_lib.sh"
[ -x "$CHROMIUM" ] || { echo "chromium not installed (scripts/install-deps): console bench not run"; exit 0; }

W="$BENCH_DIR/console"
STORE="$W/store-$N-$(date -u +%F)"
mkdir -p "$W"
console_deps "$W/npm.log" || { echo "npm ci failed in tests/browser: $(tail -3 "$W/npm.log")"; exit 1; }
export LG_DB="$STORE/db" LG_CONFIG="$W/config.json" HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config"
if [ ! -f "$STORE/done" ]; then
	rm -rf "$W"/store-* && mkdir -p "$STORE"
	echo "generating $N traces over 30 days into $STORE (once a day)"
	python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 11 --format ndjson --span 30d \
		--end "$(date -u +%Y-%m-%dT%H:00:00Z)" --out - |
		"$BIN/lg-map" --integration bench | "$BIN/lg-detect" | "$BIN/lg-policy" |
		"$BIN/lg-store" put --integration bench >/dev/null 2>"$W/put.err" ||
		{ echo "store generation failed: $(tail -3 "$W/put.err")"; exit 1; }
	touch "$STORE/done"
fi
rm -f "$LG_CONFIG"
echo sk-lf-bench-0000-secret | "$BIN/lg-sync" add bench --name Bench --public-key pk-lf-bench \
	--host http://127.0.0.1:9 >/dev/null 2>&1
echo "store: $("$BIN/lg-store" count) traces, $(du -sm "$LG_DB" | cut -f1) MB"

console_serve "$BIN/lg-sync" "$W"; started=$?
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null' EXIT
[ $started -eq 0 ] || { echo "lg-sync serve did not start: $(head -c 300 "$W/serve.err")"; exit 1; }

# The calls the pages make, one at a time: the first, and the median of 5
# (lg-sync serve keeps the answer to a request without a relative time
# until the store changes: the first is then the cost, the rest the cache).
api() { # LABEL PATH?QUERY
	local i t ts="" first=
	for i in 1 2 3 4 5; do
		t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$URL$2")
		ts="$ts $t"
		first=${first:-$t}
	done
	printf 'api %-44s first %6.0f ms, median %6.0f ms\n' "$1" "$(echo "$first" | awk '{print $1 * 1000}')" \
		"$(echo "$ts" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 3p | awk '{print $1 * 1000}')"
}
AGENT=$("$BIN/lg-store" stats --by agent --json --from 24h | jq -r '[.groups[].key | select(. != "(none)")][0]')
A=$(printf %s "$AGENT" | jq -sRr @uri)
api "stats by agent, 24h" "/api/stats?by=agent&since=24h"
api "stats by agent,hour, 24h (timeline)" "/api/stats?by=agent,hour&since=24h"
api "stats by hour, one agent, 24h" "/api/stats?by=hour&agent=$A&since=24h"
api "traces, one agent, limit 1" "/api/traces?agent=$A&limit=1"
api "stats by policy, 24h" "/api/stats?by=policy&since=24h"
api "stats by policy, 7d" "/api/stats?by=policy&since=7d"
api "stats by day, 7d" "/api/stats?by=day&since=7d"
api "violations, 24h, limit 100" "/api/policies/violations?since=24h&limit=100"
api "violations, 7d, limit 100" "/api/policies/violations?since=7d&limit=100"
api "traces, 24h, limit 50" "/api/traces?since=24h&limit=50"
api "stats by agent, 7d (filter names)" "/api/stats?by=agent&since=7d"
api "stats by agent, all time" "/api/stats?by=agent"

LG_URL="$URL" LG_TOKEN="$TOKEN" LG_STORE="$BIN/lg-store" LG_CHROMIUM="$CHROMIUM" LG_MODE=bench \
	LG_BENCH_COMMIT="cursor bench-commit --reset 2026-01-01T00:00:00Z" \
	LG_BENCH_RUNS="${BENCH_CONSOLE_RUNS:-5}" LG_BENCH_PAGES="${BENCH_CONSOLE_PAGES:-}" TMPDIR_T="$W" node "$BROWSER/console.mjs" | grep -v '^PASS'
