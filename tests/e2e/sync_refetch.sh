# Late rows and incomplete traces through lg-sync: the default overlap
# reads a row that arrived 50 minutes late; a root that runs for hours is
# re-fetched by id once it ends; the re-fetch is bounded and gives up after
# refetchHorizon.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
GEN="$ROOT/tests/server/gen_dataset.py"
CLOCK="$T/clock"
clock() { printf '%s\n' "$1" >"$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; }
sync_at() { clock "$1"; LG_NOW=$1 lg-sync run prod --quiet; }
# "id clock" for each trace a request of the log re-fetched by id (the
# traceId parameter, or v2's filter on the trace id column)
asked() { jq -r '[.query.traceId // ((.query.filter // "[]") | fromjson | .[] | select(.column == "traceId") | .value[])]
	as $ids | .clock as $c | $ids[] | "\(.) \($c)"' "$1"; }
# the requests that re-fetched by id
byid() { jq -r 'select(.query.traceId != null or .query.filter != null) | .n' "$1" | wc -l; }
python3 "$GEN" --traces 30 --seed 51 --end 2026-11-27T01:00:00Z --span 1h --obs-min 2 --obs-max 4 --out "$T/ds.json"
clock 2026-11-27T00:00:00Z
# every trace late: half of them whole 50 minutes, half row by row up to 50
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" --seed 3 --log "$T/req.log" \
	--late-minutes 50 --long-roots 0.3 --long-root-max 3h || exit 1
trap 'stop_server' EXIT
umask 077
jq -n --arg h "$SERVER_URL" '{integrations: [{id: "prod", name: "Prod", publicKey: "pk-lf-test",
	secretKey: "sk-lf-test", host: $h, lookback: "1h"}]}' >"$LG_CONFIG"

# runs every 20 minutes for 2 hours: the late rows come in with the overlap
for m in $(seq 20 20 120); do sync_at "$(date -u -d "2026-11-27T00:00:00Z + $m minutes" +%Y-%m-%dT%H:%M:%SZ)" || fail run-$m "exit $?"; done
jq -r '.traces[].id' "$T/ds.json" | sort >"$T/all.ids"
expect_eq late-all-stored "$(cat "$T/all.ids")" "$(lg-store --db "$LG_DB" export | jq -r .externalId | sort)"
# every non-root row is there (the roots that run long are not over yet)
want=$(jq '[.observations[] | select(.parentObservationId != null)] | length' "$T/ds.json")
got=$(lg-store --db "$LG_DB" export | jq -s '[.[].spans[] | select(.parentId != null)] | length')
expect_eq late-rows-read "$want" "$got"
pending=$(lg-sync status prod | jq .data.incomplete.pending)
if [ "$pending" -gt 0 ]; then pass long-roots-pending; else fail long-roots-pending "nothing incomplete at 02:00"; fi
# 4 hours on, every 40 minutes: the long roots have ended and are re-fetched
for m in $(seq 160 40 360); do sync_at "$(date -u -d "2026-11-27T00:00:00Z + $m minutes" +%Y-%m-%dT%H:%M:%SZ)" || fail run-$m "exit $?"; done
expect_eq long-roots-whole '{"pending":0,"gaveUp":0}' "$(lg-sync status prod | jq -c .data.incomplete)"
expect_eq whole-io "" "$(lg-store --db "$LG_DB" export | jq -r --slurpfile ds "$T/ds.json" '
	($ds[0].traces | map({key: .id, value: .output}) | from_entries) as $o
	| select(.incomplete != null or .output != $o[.externalId]) | .externalId')"
n=$(byid "$T/req.log")
if [ "$n" -gt 0 ]; then pass refetched-by-id; else fail refetched-by-id "no traceId request"; fi
# no trace is re-fetched before the overlap's second read had its chance:
# at least 1h15 (an hour on a grid of 15 minutes) after it started
young=$(asked "$T/req.log" | while read -r id at; do
	ts=$(jq -r --arg i "$id" '.traces[] | select(.id == $i) | .timestamp' "$T/ds.json")
	[ $(( $(date -u -d "$at" +%s) - $(date -u -d "$ts" +%s) )) -ge 4500 ] || echo "$id@$at"
done)
expect_eq refetch-after-settle "" "$young"
# the re-fetch's control lines stay out: the cursor is the last run's end
expect_eq refetch-cursor 2026-11-27T06:00:00.000Z "$(lg-store --db "$LG_DB" cursor prod)"

# refetchLimit bounds the ids per run; refetchHorizon gives up
stop_server
rm -rf "$LG_DB"
clock 2026-11-27T00:00:00Z
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" --seed 3 --log "$T/req2.log" --rootless 0.5 || exit 1
jq --arg h "$SERVER_URL" '.integrations[0] += {host: $h, lookback: "2h", refetchLimit: 2, refetchHorizon: "90m"}' "$LG_CONFIG" >"$T/c" &&
	mv "$T/c" "$LG_CONFIG"
sync_at 2026-11-27T01:10:00Z
rootless=$(lg-sync status prod | jq .data.incomplete.pending)
if [ "$rootless" -gt 2 ]; then pass rootless-pending; else fail rootless-pending "$rootless pending"; fi
: >"$T/req2.log"
sync_at 2026-11-27T02:10:00Z
expect_eq refetch-limit 2 "$(asked "$T/req2.log" | wc -l)"
expect_eq refetch-one-request 1 "$(byid "$T/req2.log")"
sync_at 2026-11-27T02:45:00Z
expect_eq horizon-gave-up "{\"pending\":0,\"gaveUp\":$rootless}" "$(lg-sync status prod | jq -c .data.incomplete)"
expect_eq gave-up-stored "$rootless" "$(lg-store --db "$LG_DB" export | jq -r 'select(.incomplete != null) | .externalId' | wc -l)"
LG_NOW=2026-11-27T02:50:00Z lg-sync run prod 2>"$T/line"
expect_contains summary-counts "$T/line" "0 incomplete re-fetched, 0 still incomplete, $rootless given up"

# refetchLimit 0 turns re-fetching off; a bad value is named
jq '.integrations[0].refetchLimit = 0' "$LG_CONFIG" >"$T/c" && mv "$T/c" "$LG_CONFIG"
: >"$T/req2.log"
LG_NOW=2026-11-27T03:00:00Z lg-sync run prod --quiet
expect_eq refetch-off 0 "$(asked "$T/req2.log" | wc -l)"
jq '.integrations[0].refetchLimit = "many"' "$LG_CONFIG" >"$T/c" && mv "$T/c" "$LG_CONFIG"
expect_status bad-refetch-limit 2 lg-sync run prod
expect_contains bad-refetch-limit-named "$T/err" "refetchLimit: must be an integer from 0 to 1000"
jq '.integrations[0] += {refetchLimit: 2, refetchHorizon: "soon"}' "$LG_CONFIG" >"$T/c" && mv "$T/c" "$LG_CONFIG"
expect_status bad-refetch-horizon 2 lg-sync run prod
expect_contains bad-refetch-horizon-named "$T/err" "refetchHorizon: invalid duration 'soon'"

# Scores are read once, with the settled range: an evaluation that comes 40
# minutes after its trace (another window, a later run) still reaches the
# trace stored before it, in a fragment holding only the score; a score
# whose trace lies in the same window is attached directly; none is lost and
# no trace is stored twice.
stop_server
rm -rf "$LG_DB"
python3 "$GEN" --traces 60 --seed 52 --end 2026-11-27T01:00:00Z --span 1h --obs-min 2 --obs-max 3 --out "$T/ds3.json"
jq '(.traces | map({key: .id, value: .timestamp}) | from_entries) as $ts
	| .scores = [.traces[] | {id: ("late-" + .id), projectId: "p", traceId: .id, observationId: null,
		name: "eval", value: 1, source: "EVAL", dataType: "NUMERIC", comment: null, metadata: {},
		environment: "default",
		timestamp: ((.timestamp | sub("\\.[0-9]+Z$"; "Z") | fromdate) + 2400 | todate)}]
	| .scores += [.traces[0:10][] | {id: ("near-" + .id), projectId: "p", traceId: .id, observationId: null,
		name: "fb", value: 0, source: "API", dataType: "NUMERIC", comment: null, metadata: {},
		environment: "default", timestamp: .timestamp}]' "$T/ds3.json" >"$T/ds3s.json"
clock 2026-11-27T00:00:00Z
start_server --dataset "$T/ds3s.json" --clock-file "$CLOCK" --seed 3 --log "$T/req3.log" || exit 1
jq --arg h "$SERVER_URL" '.integrations[0] = {id: "prod", name: "Prod", publicKey: "pk-lf-test",
	secretKey: "sk-lf-test", host: $h, lookback: "1h"}' "$LG_CONFIG" >"$T/c" && mv "$T/c" "$LG_CONFIG"
for m in $(seq 5 5 180); do sync_at "$(date -u -d "2026-11-27T00:00:00Z + $m minutes" +%Y-%m-%dT%H:%M:%SZ)" || fail scores-run-$m "exit $?"; done
expect_eq late-scores-stored "$(jq -r '.scores[] | "\(.traceId) \(.id)"' "$T/ds3s.json" | sort)" \
	"$(lg-store --db "$LG_DB" export | jq -r '.externalId as $t | .scores[]? | "\($t) \(.id)"' | sort)"
expect_eq late-scores-traces "$(jq '.traces | length' "$T/ds3s.json")" "$(lg-store --db "$LG_DB" count)"
expect_eq late-scores-whole "" "$(lg-store --db "$LG_DB" export | jq -r 'select(.timestamp == null or (.spans | length) == 0) | .externalId')"
runs=$(grep -c '"/api/public/projects"' "$T/req3.log")
sreq=$(grep -c '"/api/public/v3/scores"' "$T/req3.log")
if [ "$sreq" -lt "$runs" ]; then pass scores-per-settled-read; else fail scores-per-settled-read "$sreq score requests in $runs runs"; fi
