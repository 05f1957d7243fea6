# lg-fetch against each server generation: the emitted trace and observation
# ids equal the dataset's exactly, and both APIs give lg-map the same records.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 150 7 "$T/ds.json"

for mode in cloud v4 v3 v3-html sunset; do
	start_server --dataset "$T/ds.json" --mode "$mode" --log "$T/log.$mode" || exit 1
	fetch --batch-size 100
	expect_eq "$mode: exit status" "0" "$FETCH_STATUS"
	same_sets "$mode auto" "$T/ds.json" "$T/out"
	control "$mode auto" "$T/out"
	want=v2; case $mode in v3*) want=legacy ;; esac
	expect_eq "$mode: api chosen" "$want" "$(head -1 "$T/out" | jq -r .api)"
	cp "$T/out" "$T/out.$mode"
	stop_server
done

# v3 pages: traces by keyset stepping, observations in bulk (never per trace)
expect_eq "v3: no request per trace" "0" "$(grep -c '/api/public/traces/' "$T/log.v3")"
expect_eq "v3: traces ascending with a fixed toTimestamp" "timestamp.asc $END" \
	"$(grep '"/api/public/traces"' "$T/log.v3" | jq -r '[.query.orderBy, .query.toTimestamp] | join(" ")' | sort -u | sed 's/\.000Z$/Z/')"

# legacy and v2 map to the same records (v2 truncates long metadata values;
# a v3 server has no scores API, so its records come without scores)
for m in cloud v3; do
	grep -v '"\$lg"' "$T/out.$m" | lg-map | jq -S -c 'del(.source) | del(.. | .prompt_template?) | del(.scores)' | sort >"$T/map.$m"
done
expect_eq "lg-map records from v2" "150" "$(wc -l <"$T/map.cloud" | tr -d ' ')"
expect_eq "v2 and legacy give lg-map the same records" "" "$(cmp "$T/map.cloud" "$T/map.v3" 2>&1)"

# --api legacy on a sunset server: 410 explained, exit 5, run-end failed
start_server --dataset "$T/ds.json" --mode sunset || exit 1
fetch --api legacy
expect_eq "sunset legacy: exit 5" "5" "$FETCH_STATUS"
expect_contains "sunset legacy: explained" "$T/err" "the legacy read API is gone for this organization"
expect_eq "sunset legacy: run-end failed" "failed 5" "$(tail -1 "$T/out" | jq -r '[.status, .exitCode] | join(" ")')"
stop_server

# --api v2 on a v3 server: 404 explained, exit 5
start_server --dataset "$T/ds.json" --mode v3 || exit 1
fetch --api v2
expect_eq "v3 with --api v2: exit 5" "5" "$FETCH_STATUS"
expect_contains "v3 with --api v2: explained" "$T/err" "try --api legacy"
stop_server
# --api legacy on v4: 404 explained
start_server --dataset "$T/ds.json" --mode v4 || exit 1
fetch --api legacy
expect_eq "v4 with --api legacy: exit 5" "5" "$FETCH_STATUS"
expect_contains "v4 with --api legacy: explained" "$T/err" "try --api v2"
stop_server

# htmlPath and projectId for lg-map's links
start_server --dataset "$T/ds.json" || exit 1
fetch --limit 1 --max-rows 50
expect_eq "htmlPath and projectId" "ok" \
	"$(grep -v '"\$lg"' "$T/out" | head -1 | jq -r 'if .htmlPath == "/project/\(.projectId)/traces/\(.id)" and (.projectId | length) > 0 then "ok" else "bad" end')"
n=$(grep -vc '"\$lg"' "$T/out")
expect_eq "--limit stops at the first window end with a trace" "yes completed" \
	"$([ "$n" -ge 1 ] && [ "$n" -lt 150 ] && echo yes) $(tail -1 "$T/out" | jq -r .status)"
expect_eq "--limit: the last checkpoint follows the last trace" "checkpoint" "$(tail -2 "$T/out" | head -1 | jq -r '."$lg"')"
stop_server
