# lg-fetch's incremental ranges and --trace-id: a run from a cursor reads
# what is new and, once more, what has become an overlap old (never the
# whole overlap again); --trace-id/--trace-ids read traces whole by id,
# v2 and legacy, without a checkpoint; unknown ids are skipped.
. "$ROOT/tests/lib.sh"
unset LG_CONFIG
export XDG_CONFIG_HOME="$T/none"
python3 "$ROOT/tests/server/gen_dataset.py" --traces 12 --seed 61 --end 2026-11-27T01:00:00Z --span 1h \
	--obs-min 2 --obs-max 4 --out "$T/ds.json"
start_server --dataset "$T/ds.json" --log "$T/req.log" || exit 1
trap 'stop_server' EXIT
export LANGFUSE_PUBLIC_KEY=pk-lf-test LANGFUSE_SECRET_KEY=sk-lf-test LANGFUSE_HOST=$SERVER_URL

# the windows of an incremental run 5 minutes after its cursor
windows() { jq -r 'select(.path == "/api/public/v2/observations") | "\(.query.fromStartTime)-\(.query.toStartTime)"' "$T/req.log" | sort -u | paste -sd' '; }
: >"$T/req.log"
LG_NOW=2026-11-27T02:20:00Z lg-fetch -q --cursor 2026-11-27T02:10:00Z >"$T/inc.out"
# the settled range on a grid of a quarter overlap: [01:00, 01:15) here,
# nothing at the next run (02:25, still 01:15), [01:15, 01:30) at 02:30
expect_eq settle-and-new-ranges \
	"2026-11-27T01:00:00.000Z-2026-11-27T01:15:00.000Z 2026-11-27T02:10:00.000Z-2026-11-27T02:20:00.000Z" "$(windows)"
expect_eq settle-checkpoints "2026-11-27T01:15:00.000Z 2026-11-27T02:20:00.000Z" \
	"$(jq -r 'select(."$lg" == "checkpoint") | .cursor' "$T/inc.out" | paste -sd' ')"
: >"$T/req.log"
LG_NOW=2026-11-27T02:25:00Z lg-fetch -q --cursor 2026-11-27T02:20:00Z >/dev/null
expect_eq settle-not-due "2026-11-27T02:20:00.000Z-2026-11-27T02:25:00.000Z" "$(windows)"
# the new range v2 holds empty is not counted against the legacy API: it
# is counted when it is read again settled
expect_eq new-range-not-counted 0 "$(grep -c '"/api/public/traces"' "$T/req.log")"
: >"$T/req.log"
LG_NOW=2026-11-27T02:30:00Z lg-fetch -q --cursor 2026-11-27T02:25:00Z >/dev/null
expect_eq settle-tiles "2026-11-27T01:15:00.000Z-2026-11-27T01:30:00.000Z 2026-11-27T02:25:00.000Z-2026-11-27T02:30:00.000Z" "$(windows)"
# a run from a cursor whose first window v2 holds rows of trusts v2: no
# legacy count (a backfill-like run counts once); an empty settled one is
# counted (the new one is not)
expect_eq incremental-empty-counted 1 "$(grep -c '"/api/public/traces"' "$T/req.log")"
: >"$T/req.log"
LG_NOW=2026-11-27T02:00:00Z lg-fetch -q --cursor 2026-11-27T01:55:00Z >"$T/inc2.out"
expect_eq incremental-settled-rows yes "$([ "$(grep -vc '"\$lg"' "$T/inc2.out")" -gt 0 ] && echo yes)"
expect_eq incremental-no-legacy-count 0 "$(grep -c '"/api/public/traces"' "$T/req.log")"
: >"$T/req.log"
LG_NOW=2026-11-27T02:30:00Z lg-fetch -q --lookback 3h >/dev/null
expect_eq lookback-legacy-count 1 "$(grep -c '"/api/public/traces"' "$T/req.log")"
# a pause longer than the overlap: one range from cursor - overlap
: >"$T/req.log"
LG_NOW=2026-11-27T03:30:00Z lg-fetch -q --cursor 2026-11-27T02:00:00Z --overlap 30m >/dev/null
expect_eq one-range-after-pause "2026-11-27T01:30:00.000Z-2026-11-27T03:30:00.000Z" "$(windows)"
: >"$T/req.log"
LG_NOW=2026-11-27T03:30:00Z lg-fetch -q --cursor 2026-11-27T02:05:00Z --overlap 30m >/dev/null
expect_eq one-range-on-grid "2026-11-27T01:30:00.000Z-2026-11-27T03:30:00.000Z" "$(windows)"
: >"$T/req.log"
LG_NOW=2026-11-27T02:05:00Z lg-fetch -q --cursor 2026-11-27T02:00:00Z --overlap 0 >/dev/null
expect_eq overlap-0-new-only "2026-11-27T02:00:00.000Z-2026-11-27T02:05:00.000Z" "$(windows)"

# an empty v2 (v3 with the v4 preview) caught by an incremental run: runs
# that read only a new range count nothing; the settled range, which v2
# holds empty, is counted, and it and the rest of the run come from the
# legacy API
stop_server
start_server --dataset "$T/ds.json" --log "$T/req.log" --mode v3-preview || exit 1
export LANGFUSE_HOST=$SERVER_URL
: >"$T/req.log"
LG_NOW=2026-11-27T01:05:00Z lg-fetch -q --cursor 2026-11-27T01:00:00Z >"$T/p1.out"
expect_eq preview-new-only "v2 0 0" "$(head -1 "$T/p1.out" | jq -r .api) $(grep -c '"/api/public/traces"' "$T/req.log") $(grep -vc '"\$lg"' "$T/p1.out")"
LG_NOW=2026-11-27T01:15:00Z lg-fetch --cursor 2026-11-27T01:10:00Z >"$T/p2.out" 2>"$T/p2.err"
expect_eq preview-settled-legacy "legacy $(jq '[.traces[] | select(.timestamp < "2026-11-27T00:15")] | length' "$T/ds.json")" \
	"$(head -1 "$T/p2.out" | jq -r .api) $(grep -vc '"\$lg"' "$T/p2.out")"
expect_contains preview-said-why "$T/p2.err" "v2 observations hold 0 traces in 2026-11-27T00:00:00.000Z..2026-11-27T00:15:00.000Z"
stop_server
start_server --dataset "$T/ds.json" --log "$T/req.log" || exit 1
export LANGFUSE_HOST=$SERVER_URL

# by id
jq -r '.traces[].id' "$T/ds.json" | sort >"$T/all.ids"
id1=$(sed -n 1p "$T/all.ids") id2=$(sed -n 2p "$T/all.ids")
LG_NOW=2026-11-27T06:00:00Z lg-fetch -q --trace-id "$id1" --trace-id no-such-trace --trace-id "$id2" >"$T/f.out"
expect_eq trace-id-v2 "run-start refetch|$id1|$id2|run-end completed" \
	"$(jq -r 'if ."$lg" then "\(."$lg") \(.mode // .status)" else .id end' "$T/f.out" | paste -sd'|')"
expect_eq trace-id-no-checkpoint 0 "$(grep -c '"checkpoint"' "$T/f.out")"
want=$(jq -c --arg i "$id1" '[.observations[] | select(.traceId == $i) | .id] | sort' "$T/ds.json")
expect_eq trace-id-whole "$want" "$(jq -c --arg i "$id1" 'select(.id == $i) | [.observations[].id] | sort' "$T/f.out")"
# several ids go in one request, through v2's filter on the trace id column
# ("any of"); each trace as whole as when asked for alone
v2req() { jq -c 'select(.path == "/api/public/v2/observations") | [.query.traceId, (.query.filter // "null" | fromjson)]' "$T/req.log"; }
: >"$T/req.log"
LG_NOW=2026-11-27T06:00:00Z lg-fetch -q --trace-ids "$T/all.ids" >"$T/b.out"
expect_eq trace-ids-one-request "[null,[{\"type\":\"stringOptions\",\"column\":\"traceId\",\"operator\":\"any of\",\"value\":$(jq -R . "$T/all.ids" | jq -sc .)}]]" "$(v2req)"
expect_eq trace-ids-batch-whole "$(jq -c '[.observations[] | "\(.traceId) \(.id)"] | sort' "$T/ds.json")" \
	"$(jq -s -c '[.[] | select(."$lg" == null) | .id as $t | .observations[] | "\($t) \(.id)"] | sort' "$T/b.out")"
# a server from before the filter ignores it (rows of other traces come):
# the ids are then read one by one, with the same traces out
stop_server
start_server --dataset "$T/ds.json" --log "$T/req.log" --v2-no-filter || exit 1
export LANGFUSE_HOST=$SERVER_URL
printf '%s\n' "$id1" no-such-trace "$id2" >"$T/ids3"
LG_NOW=2026-11-27T06:00:00Z lg-fetch -q --trace-ids "$T/ids3" >"$T/nf.out"
expect_eq trace-ids-no-filter-same "$(jq -c 'select(."$lg" == null)' "$T/f.out")" "$(jq -c 'select(."$lg" == null)' "$T/nf.out")"
expect_eq trace-ids-no-filter-single "\"$id1\" \"no-such-trace\" \"$id2\"" \
	"$(v2req | jq -r '.[0] | select(. != null) | tojson' | paste -sd' ')"
printf '%s\r\n\n%s\n' "$id2" no-such-trace >"$T/ids"
LG_NOW=2026-11-27T06:00:00Z lg-fetch -q --api legacy --trace-ids "$T/ids" >"$T/l.out"
expect_eq trace-ids-legacy "$id2" "$(jq -r 'select(."$lg" == null) | .id' "$T/l.out")"
printf '%s\n' "$id1" | LG_NOW=2026-11-27T06:00:00Z lg-fetch -q --trace-ids - >"$T/s.out"
expect_eq trace-ids-stdin "$id1" "$(jq -r 'select(."$lg" == null) | .id' "$T/s.out")"
expect_status trace-id-with-cursor 2 lg-fetch --trace-id x --cursor 2026-11-27T00:00:00Z
expect_status trace-ids-missing-file 2 lg-fetch --trace-ids "$T/nope"
expect_status trace-id-empty 2 lg-fetch --trace-id ""
