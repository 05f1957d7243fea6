# lg-fetch through every fault of the test server: no loss, no duplicate
# within a run, one stderr line per retry.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 120 11 "$T/ds.json"

# fault_case NAME "SERVER ARGS" "FETCH ARGS"
fault_case() {
	_n=$1
	rm -f "$T/log"
	start_server --dataset "$T/ds.json" --log "$T/log" $2 || return 1
	# shellcheck disable=SC2086
	fetch $3
	expect_eq "$_n: exit status" "0" "$FETCH_STATUS"
	same_sets "$_n" "$T/ds.json" "$T/out"
	control "$_n" "$T/out"
	stop_server
}

fault_case "429 Retry-After" "--fault-429-every 3 --retry-after 1" "--batch-size 200"
expect_eq "429: waited Retry-After" "ok" "$(tail -1 "$T/out" | jq -r 'if .throttledSeconds >= 1 and .retries >= 1 then "ok" else tostring end')"
expect_eq "429: one stderr line per retry" "$(tail -1 "$T/out" | jq -r .retries)" "$(grep -c 'retry' "$T/err")"
expect_contains "429: says Retry-After" "$T/err" "HTTP 429: Rate limit exceeded; retry 1 in 1.0s (Retry-After)"

fault_case "5xx" "--fault-5xx-every 2" "--batch-size 150"
expect_contains "5xx: 502 retried" "$T/err" "HTTP 502"
fault_case "524" "--fault-524-every 3" "--batch-size 150"
fault_case "422 wide windows" "--fault-422-window 1800" ""
expect_eq "422: every answered window at most 30 minutes" "true" \
	"$(grep '"status":200' "$T/log" | grep v2/observations | jq -s 'all(.[]; (.query.toStartTime | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.query.fromStartTime | sub("\\.[0-9]+Z$"; "Z") | fromdate) <= 1800)')"
fault_case "cut bodies" "--fault-cut-every 3" "--batch-size 150"
fault_case "invalid JSON bodies" "--fault-invalid-json-every 3" "--batch-size 150"
fault_case "duplicate rows" "--duplicate-rows 0.3" "--batch-size 100"
fault_case "payload too large" "--max-body-bytes 60000" ""
expect_contains "payload too large: smaller pages" "$T/err" "response too large; page size now"
fault_case "slow responses" "--fault-slow-ms 2500 --fault-slow-every 4" "--batch-size 150 --timeout 1"
fault_case "row bound splits windows" "" "--max-rows 100"
expect_eq "row bound: several checkpoints" "yes" "$([ "$(grep -c '"checkpoint"' "$T/out")" -gt 3 ] && echo yes)"
fault_case "legacy with 5xx and cut bodies" "--mode v3 --fault-5xx-every 3 --fault-cut-every 5" "--batch-size 50"
fault_case "legacy with 422 wide windows" "--mode v3 --fault-422-window 3600" ""

# retries exhausted: exit 5, run-end failed with the reason
start_server --dataset "$T/ds.json" --fault-5xx-every 1 || exit 1
fetch --retries 3
expect_eq "retries exhausted: exit 5" "5" "$FETCH_STATUS"
expect_eq "retries exhausted: run-end failed" "failed 5" "$(tail -1 "$T/out" | jq -r '[.status, .exitCode] | join(" ")')"
expect_contains "retries exhausted: says so" "$T/err" "gave up after 3 attempts"
stop_server

# Retry-After beyond --max-wait: exit 5 at once
start_server --dataset "$T/ds.json" --fault-429-every 1 --retry-after 120 || exit 1
fetch --max-wait 10s
expect_eq "Retry-After too long: exit 5" "5" "$FETCH_STATUS"
expect_contains "Retry-After too long: says so" "$T/err" "the server asks to wait 120s"
stop_server
