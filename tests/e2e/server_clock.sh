# The test server's clock and time-based visibility: --clock-file moves the
# server's now; a row is visible from its start, late traces' rows up to
# --late-minutes later, a long-running root only at its end time.
. "$ROOT/tests/lib.sh"
GEN="$ROOT/tests/server/gen_dataset.py"
AUTH=pk-lf-test:sk-lf-test
python3 "$GEN" --traces 60 --seed 31 --end 2026-11-27T10:00:00Z --span 1h --out "$T/ds.json"
CLOCK="$T/clock"
clock() { printf '%s\n' "$1" >"$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; }
# ids of the v2 rows visible now over the whole dataset, sorted
v2_ids() {
	curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/v2/observations" --data-urlencode limit=1000 \
		--data-urlencode fromStartTime=2026-11-27T08:00:00Z --data-urlencode toStartTime=2026-11-27T20:00:00Z \
		| jq -r '.data[].id' | sort
}
# truth IDS: the dataset's observation ids selected by a jq condition on the row
truth() { jq -r ".observations[] | select($1) | .id" "$T/ds.json" | sort; }

# 1. The clock alone: rows appear as their start passes.
clock 2026-11-27T09:30:00Z
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" || exit 1
expect_eq clock-hides-future "$(truth '.startTime < "2026-11-27T09:30:00"')" "$(v2_ids)"
clock 2026-11-27T10:00:00Z
expect_eq clock-moves "$(truth 'true')" "$(v2_ids)"
n=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/traces" --data-urlencode limit=100 | jq '.data | length')
clock 2026-11-27T09:15:00Z
m=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/traces" --data-urlencode limit=100 | jq '.data | length')
expect_eq clock-legacy-traces "60 less" "$n $([ "$m" -lt 60 ] && [ "$m" -gt 0 ] && echo less || echo "$m")"
stop_server

# 2. Late rows: with --late-minutes 45 every row is visible at most 45
#    minutes after its start, some later than their start, none before.
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" --late-minutes 45 || exit 1
clock 2026-11-27T10:00:00Z
got=$(v2_ids | wc -l) all=$(truth 'true' | wc -l) started=$(truth '.startTime < "2026-11-27T10:00:00"' | wc -l)
if [ "$got" -lt "$started" ] && [ "$got" -gt 0 ]; then pass late-hidden; else fail late-hidden "$got of $started visible"; fi
clock 2026-11-27T10:45:00Z
expect_eq late-visible-after-45m "$(truth 'true')" "$(v2_ids)"
expect_eq late-all-rows "$all" "$(v2_ids | wc -l)"
stop_server

# 3. Long roots: a root of a chosen trace gets an end time up to 5h after its
#    start and is invisible until then; its children are visible before.
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" --long-roots 0.5 --long-root-max 5h --log "$T/log" || exit 1
clock 2026-11-27T10:30:00Z
vis=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/v2/observations" --data-urlencode limit=1000 \
	--data-urlencode fromStartTime=2026-11-27T08:00:00Z --data-urlencode toStartTime=2026-11-27T20:00:00Z)
roots_now=$(jq '[.data[] | select(.parentObservationId == null)] | length' <<<"$vis")
roots_all=$(truth '.parentObservationId == null' | wc -l)
if [ "$roots_now" -gt 0 ] && [ "$roots_now" -lt "$roots_all" ]; then pass long-roots-hidden
else fail long-roots-hidden "$roots_now of $roots_all roots visible"; fi
clock 2026-11-27T15:00:00Z
vis=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/v2/observations" --data-urlencode limit=1000 \
	--data-urlencode fromStartTime=2026-11-27T08:00:00Z --data-urlencode toStartTime=2026-11-27T20:00:00Z)
expect_eq long-roots-visible-at-end "$roots_all" "$(jq '[.data[] | select(.parentObservationId == null)] | length' <<<"$vis")"
long=$(jq '[.data[] | select(.parentObservationId == null and .endTime != null)
	| ((.endTime | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.startTime | sub("\\.[0-9]+Z$"; "Z") | fromdate))
	| select(. >= 1800)] | length' <<<"$vis")
if [ "$long" -gt 0 ]; then pass long-roots-end-later; else fail long-roots-end-later "no root lasts 30m or more"; fi
# the trace of a long root, fetched by traceId, shows its children before the root
# (a root lasting an hour or more, started after 09:00, ends after 10:00)
tid=$(jq -r '[.data[] | select(.parentObservationId != null) | .traceId] as $kids
	| [.data[] | select(.parentObservationId == null and .latency >= 3600 and (.traceId | IN($kids[])))][0].traceId' <<<"$vis")
clock 2026-11-27T10:00:00Z
kids=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/v2/observations" --data-urlencode traceId="$tid" \
	--data-urlencode fromStartTime=2026-11-27T08:00:00Z --data-urlencode toStartTime=2026-11-27T20:00:00Z \
	| jq -c '[.data[] | .parentObservationId == null] | [any, length > 0]')
expect_eq long-root-absent-by-traceid '[false,true]' "$kids"
stop_server

# 4. Usage errors
expect_status bad-long-root-max 2 python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$T/ds.json" --long-root-max 5x
expect_status bad-late-share 2 python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$T/ds.json" --late-share 2
