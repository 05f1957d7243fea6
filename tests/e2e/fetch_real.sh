# lg-fetch and lg-map against v2 rows as the real Langfuse server builds them
# (the test server's real-server switches): the records equal those the
# legacy API gives for the same data, and nothing unset is "".
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 150 11 "$T/ds.json"

# records, with what the two APIs cannot agree on taken out of both: long
# metadata values (v2 cuts them) and span metadata entries equal to the
# trace's (v2 copies trace metadata into the observations of legacy-ingested
# traces; an observation's own equal entry cannot be told apart), and scores
# (a v3 server has no scores API)
records() {
	grep -v '"\$lg"' "$1" | lg-map | jq -S -c 'del(.source) | del(.scores) | del(.. | .prompt_template?)
		| .metadata as $tm | .spans[].metadata |= (if type == "object"
			then with_entries(select(.key as $k | $tm[$k] != .value)) else . end)' | sort
}

start_server --dataset "$T/ds.json" --mode v3 || exit 1
fetch --batch-size 100
expect_eq "legacy reference: exit 0" 0 "$FETCH_STATUS"
records "$T/out" >"$T/want"
stop_server

# "" strings, synthetic roots with copied metadata, stale copies (small pages:
# copies meet at page ends)
start_server --dataset "$T/ds.json" --empty-strings --legacy-ingested 0.5 --stale-duplicates 0.3 \
	--seed 4 || exit 1
fetch --batch-size 40
expect_eq "real v2: exit 0" 0 "$FETCH_STATUS"
same_sets "real v2" "$T/ds.json" "$T/out"
records "$T/out" >"$T/got"
expect_eq "real v2: 150 records" 150 "$(wc -l <"$T/got" | tr -d ' ')"
expect_eq "real v2: records equal the legacy API's" "" "$(diff "$T/want" "$T/got" | head -c 600)"
expect_eq "real v2: no t-<traceId> span" 0 "$(grep -v '"\$lg"' "$T/out" | jq '[.observations[] | select(.id | startswith("t-"))] | length' | jq -s add)"
grep -v '"\$lg"' "$T/out" | lg-map >"$T/rec"
expect_eq 'real v2: no "" userId, sessionId, release, name, span name or model' 0 \
	"$(jq '[.userId, .sessionId, .release, .name, .version, (.spans[] | .name, .model, .statusMessage), .metadata.model] | map(select(. == "")) | length' "$T/rec" | jq -s add)"
expect_eq "real v2: unset users and sessions are null" "yes" \
	"$(jq -s 'map(select(.sessionId == null)) | length > 0' "$T/rec" | sed 's/true/yes/')"
lg-store --db "$T/db" put <"$T/rec" 2>/dev/null
expect_eq 'lg-store stats --by session: unset under (none), never ""' "1 0" \
	"$(lg-store --db "$T/db" stats --by session --json | jq -r '[([.groups[] | select(.key == "(none)")] | length), ([.groups[] | select(.key == "")] | length)] | join(" ")')"
stop_server

# the same switches without the fixes would differ: the server really sends
# "" strings, t-<traceId> rows and older copies
start_server --dataset "$T/ds.json" --empty-strings --legacy-ingested 0.5 --stale-duplicates 0.3 --seed 4 || exit 1
curl -s -u pk-lf-test:sk-lf-test "$SERVER_URL/api/public/v2/observations?limit=1000&fields=core,basic,io&fromStartTime=$SINCE&toStartTime=$END" >"$T/raw"
expect_eq "server: sends \"\" sessionIds, t- rows, older copies" "true true true" \
	"$(jq -r '[(.data | map(select(.sessionId == "")) | length > 0), (.data | map(select(.id | startswith("t-"))) | length > 0), (.data | (map(.id) | length) > (map(.id) | unique | length))] | join(" ")' "$T/raw")"
stop_server

# roots that never arrive: every trace still comes, with null io
start_server --dataset "$T/ds.json" --rootless 0.3 --seed 2 || exit 1
fetch
expect_eq "rootless: exit 0" 0 "$FETCH_STATUS"
curl -s -u pk-lf-test:sk-lf-test "$SERVER_URL/api/public/v2/observations?limit=1000&fromStartTime=$SINCE&toStartTime=$END" >"$T/raw"
expect_eq "rootless: every trace the server has rows of comes" "$(jq -r '.data[].traceId' "$T/raw" | sort -u)" \
	"$(grep -v '"\$lg"' "$T/out" | jq -r .id | sort)"
expect_eq "rootless: traces without a root have null input, output, metadata" "true" \
	"$(grep -v '"\$lg"' "$T/out" | jq -s 'map(select([.observations[] | select(.parentObservationId == null)] | length == 0))
		| (length > 10) and all(has("input") and .input == null and .output == null and .metadata == null)')"
stop_server

# the record contract holds whatever lg-map reads: "" is unset (null)
printf '%s\n' '{"id":"x1","timestamp":"2026-11-26T21:00:00.000Z","name":"","userId":"","sessionId":"","release":"","version":"","observations":[{"id":"o1","type":"GENERATION","name":"","model":"","statusMessage":"","startTime":"2026-11-26T21:00:00.000Z","usageDetails":{"input":1,"output":2,"total":3}},{"id":"o2","type":"GENERATION","name":"llm","model":"gpt-4o","startTime":"2026-11-26T21:00:01.000Z","usageDetails":{"input":1,"output":1,"total":2}}]}' \
	| lg-map >"$T/m"
expect_eq 'lg-map: "" trace fields are null' "null null null null null" \
	"$(jq -r '[.name, .userId, .sessionId, .release, .version] | map(tostring) | join(" ")' "$T/m")"
expect_eq 'lg-map: "" span name, model, statusMessage are null; models list no ""' 'null null null ["gpt-4o"] gpt-4o' \
	"$(jq -r '[(.spans[0] | .name, .model, .statusMessage), (.metadata.models | tojson), .metadata.model] | map(tostring) | join(" ")' "$T/m")"
# records stored before the contract: lg-store still groups "" as unset
printf '%s\n' '{"externalId":"e1","timestamp":"2026-11-20T10:00:00.000Z","userId":"","status":"success","metadata":{}}' \
	'{"externalId":"e2","timestamp":"2026-11-20T11:00:00.000Z","status":"success","metadata":{}}' \
	| lg-store --db "$T/db2" put 2>/dev/null
expect_eq 'lg-store stats --by user: "" and null both under (none)' "(none):2" \
	"$(lg-store --db "$T/db2" stats --by user --json | jq -r '[.groups[] | "\(.key):\(.traces)"] | join(" ")')"

# trace metadata copied into the observations of legacy-ingested traces,
# read in fragments (small windows: --max-rows 20) apart from the synthetic
# root, in the order lg-fetch emits them and the reverse: stored, the
# records equal those of one complete read (copies removed by the merge)
start_server --dataset "$T/ds.json" --legacy-ingested 0.5 --seed 4 || exit 1
stored() { # NAME: $T/NAME.out through lg-map, lg-detect and lg-store, exported
	lg-map <"$T/$1.out" | lg-detect | lg-store --db "$T/db.$1" put 2>/dev/null
	lg-store --db "$T/db.$1" export | jq -S -c 'del(.stale)' | sort
}
fetch
cp "$T/out" "$T/whole.out"
fetch --max-rows 20
cp "$T/out" "$T/frag.out"
{ head -1 "$T/frag.out"; grep -v '"\$lg"' "$T/frag.out" | tac; tail -1 "$T/frag.out"; } >"$T/rev.out"
expect_eq "copied metadata: fragments" yes "$([ "$(grep -vc '"\$lg"' "$T/frag.out")" -gt 160 ] && echo yes)"
stored whole >"$T/whole.rec"
expect_eq "copied metadata: fragments merge as one read" "$(cat "$T/whole.rec")" "$(stored frag)"
expect_eq "copied metadata: in the reverse order too" "$(cat "$T/whole.rec")" "$(stored rev)"
expect_eq "copied metadata: no span keeps a copy" 0 "$(jq -s '[.[] | select(.source.legacyIngested) | .metadata as $tm
	| .spans[].metadata | objects | to_entries[] | select(.value == $tm[.key])] | length' "$T/whole.rec")"
stop_server

# --api auto on a server whose v2 answers 200 but holds nothing (v3 with the
# v4 preview) or only recent rows (backfill running): counted against the
# legacy endpoints, read from them, and said so
start_server --dataset "$T/ds.json" --mode v3-preview || exit 1
fetch --batch-size 100
expect_eq "empty v2: exit 0" 0 "$FETCH_STATUS"
expect_eq "empty v2: legacy used" legacy "$(head -1 "$T/out" | jq -r .api)"
same_sets "empty v2" "$T/ds.json" "$T/out"
expect_contains "empty v2: said why" "$T/err" "v2 observations hold 0 traces in"
LANGFUSE_HOST="$SERVER_URL" lg-fetch --test --since "$SINCE" --until "$END" >"$T/test.out" 2>"$T/test.err"
expect_contains "empty v2: --test names the legacy API and why" "$T/test.out" \
	"API: legacy traces and observations (v2 observations hold 0 traces in the window where the legacy endpoints hold 150"
stop_server
start_server --dataset "$T/ds.json" --v2-missing-before 2026-11-26T23:40:00Z || exit 1
fetch --batch-size 100
expect_eq "partial v2: legacy used" legacy "$(head -1 "$T/out" | jq -r .api)"
same_sets "partial v2" "$T/ds.json" "$T/out"
LANGFUSE_HOST="$SERVER_URL" lg-fetch --test --since "$SINCE" --until "$END" >"$T/test.out" 2>"$T/test.err"
expect_contains "partial v2: --test says v2 is short" "$T/test.out" "API: legacy traces and observations (v2 observations hold"
stop_server
start_server --dataset "$T/ds.json" --log "$T/log.cloud" || exit 1
fetch --batch-size 100
expect_eq "full v2: v2 used" v2 "$(head -1 "$T/out" | jq -r .api)"
expect_eq "full v2: one legacy count, no legacy paging" 1 "$(grep -c '"/api/public/traces"' "$T/log.cloud")"
LANGFUSE_HOST="$SERVER_URL" lg-fetch --test --since "$SINCE" --until "$END" >"$T/test.out" 2>"$T/test.err"
expect_contains "full v2: --test" "$T/test.out" "API: v2 observations (150 traces in the window, as the legacy endpoints)"
stop_server
start_server --dataset "$T/ds.json" --mode v4 --v2-missing-before 2026-11-26T23:00:00Z || exit 1
fetch --batch-size 100
expect_eq "partial v2 on v4 (legacy 404): v2 is all there is" "0 v2" "$FETCH_STATUS $(head -1 "$T/out" | jq -r .api)"
stop_server

# legacy order has no tie-breaker: 250 traces (and their observations) in one
# millisecond, in another order at every request; pages of 100 lose nothing
python3 - "$T/ds.json" "$T/ties.json" <<'PY'
import json, sys
ds = json.load(open(sys.argv[1]))
ds["traces"] = ds["traces"][:250] if len(ds["traces"]) > 250 else ds["traces"]
keep = {t["id"] for t in ds["traces"]}
ds["observations"] = [o for o in ds["observations"] if o["traceId"] in keep]
for t in ds["traces"]:
    t["timestamp"] = "2026-11-26T22:00:00.000Z"
for o in ds["observations"]:
    o["startTime"] = "2026-11-26T22:00:00.000Z"
    o["endTime"] = "2026-11-26T22:00:01.000Z"
json.dump(ds, open(sys.argv[2], "w"))
PY
start_server --dataset "$T/ties.json" --mode v3 --legacy-ties --seed 3 || exit 1
fetch --batch-size 100
expect_eq "legacy ties: exit 0" 0 "$FETCH_STATUS"
same_sets "legacy ties" "$T/ties.json" "$T/out"
stop_server

# scores from /api/public/v3/scores (cursor pages of 100) on their traces
start_server --dataset "$T/ds.json" --log "$T/log.scores" || exit 1
fetch --batch-size 100
expect_eq "scores: exit 0" 0 "$FETCH_STATUS"
jq -r --arg s "$SINCE" --arg e "$END" '.scores[] | select(.timestamp >= $s and .timestamp < $e) | "\(.traceId) \(.id) \(.name)"' "$T/ds.json" | sort >"$T/want_s"
grep -v '"\$lg"' "$T/out" | jq -r '.id as $t | .scores[] | "\(.traceId) \(.id) \(.name)" | select(startswith($t))' | sort >"$T/got_s"
expect_eq "scores: every score of the window on its trace" "$(cat "$T/want_s")" "$(cat "$T/got_s")"
expect_eq "scores: the dataset has some" yes "$([ "$(wc -l <"$T/want_s")" -gt 10 ] && echo yes)"
expect_eq "scores: values as the server sent them" "true" \
	"$(grep -v '"\$lg"' "$T/out" | jq -s '[.[].scores[]] | all(.dataType == "NUMERIC" and (.value | type) == "number" or .dataType == "CATEGORICAL" and .stringValue == .value)')"
expect_eq "scores: one request per window" 1 "$(grep -c '"/api/public/v3/scores"' "$T/log.scores")"
grep -v '"\$lg"' "$T/out" | lg-map >"$T/rec"
expect_eq "scores: in the record" "$(wc -l <"$T/want_s" | tr -d ' ')" "$(jq '.scores // [] | length' "$T/rec" | jq -s add)"
stop_server
start_server --dataset "$T/ds.json" --mode v3 || exit 1
fetch --batch-size 100
expect_eq "scores on v3 (no scores API): exit 0, none" "0 0" "$FETCH_STATUS $(grep -v '"\$lg"' "$T/out" | jq '.scores | length' | jq -s add)"
stop_server
