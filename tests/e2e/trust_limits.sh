# A hostile server must not be able to exhaust the machine or hold a run
# for ever: body bounds (gzip bombs included), endless paging, Retry-After 0,
# slow drip, the per-run bounds.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 5 3 "$T/ds.json"

# hostile_case NAME ATTACK "SERVER ARGS" "FETCH ARGS": fetch against the
# attack, seconds taken in $TOOK.
hostile_case() {
	start_server --dataset "$T/ds.json" --hostile "$2" $3 || return 1
	_t0=$(date +%s)
	# shellcheck disable=SC2086
	fetch $4
	TOOK=$(( $(date +%s) - _t0 ))
	stop_server
}

hostile_case huge huge-body "--hostile-bytes 67108864" ""
expect_eq "huge body: exit 5" 5 "$FETCH_STATUS"
expect_contains "huge body: page size halved" "$T/err" "response too large; page size now 500"
expect_contains "huge body: the bound named" "$T/err" \
	"a single observation is larger than the response limit (GET /api/public/v2/observations: a response larger than 16777216 bytes (--max-body))"
expect_eq "huge body: run-end failed" "failed 5" "$(tail -1 "$T/out" | jq -r '"\(.status) \(.exitCode)"')"

hostile_case bomb gzip-bomb "--hostile-bytes 67108864" "--max-body 1M"
expect_eq "gzip bomb: exit 5" 5 "$FETCH_STATUS"
expect_contains "gzip bomb: bounded after decoding" "$T/err" "a response larger than 1048576 bytes (--max-body)"

hostile_case endless endless-cursor "" ""
expect_eq "endless cursors: exit 5" 5 "$FETCH_STATUS"
expect_contains "endless cursors: said" "$T/err" "lg-fetch: endless paging: the server sent pages without new rows; giving up on this run"
expect_eq "endless cursors: a handful of requests" 6 "$(tail -1 "$T/out" | jq -r .requests)"

hostile_case cycle cycle-cursor "" ""
expect_eq "cursor cycle: exit 5" 5 "$FETCH_STATUS"
expect_contains "cursor cycle: said" "$T/err" "lg-fetch: endless paging: the server sent a cursor that came before (a cycle)"

hostile_case repeat legacy-repeat "--mode v3" "--api legacy --batch-size 4"
expect_eq "legacy full pages without new rows: exit 5" 5 "$FETCH_STATUS"
expect_eq "legacy full pages without new rows: bounded requests" yes \
	"$(r=$(tail -1 "$T/out" | jq -r .requests); [ "$r" -le 50 ] && echo yes || echo "no: $r")"

hostile_case ra0 retry-after-0 "" "--retries 4"
expect_eq "Retry-After 0: exit 5" 5 "$FETCH_STATUS"
expect_contains "Retry-After 0: counted against --retries" "$T/err" "HTTP 429: Rate limit exceeded (gave up after 4 attempts)"
expect_eq "Retry-After 0: 4 data requests" 5 "$(tail -1 "$T/out" | jq -r .requests)"

hostile_case rapast retry-after-past "" "--retries 3"
expect_contains "Retry-After in the past: counted against --retries" "$T/err" "(gave up after 3 attempts)"

hostile_case drip slow-drip "" "--max-time 2 --retries 2"
expect_eq "slow drip: exit 4" 4 "$FETCH_STATUS"
expect_contains "slow drip: the deadline said" "$T/err" "Operation timed out after"
expect_eq "slow drip: within the deadlines" yes "$([ "$TOOK" -le 12 ] && echo yes || echo "no: ${TOOK}s")"

hostile_case runtime slow-drip "" "--max-run-time 2s"
expect_eq "--max-run-time: exit 1" 1 "$FETCH_STATUS"
expect_eq "--max-run-time: run-end says why" "interrupted by the run time limit (--max-run-time)" "$(tail -1 "$T/out" | jq -r .error)"
expect_eq "--max-run-time: stopped in time" yes "$([ "$TOOK" -le 6 ] && echo yes || echo "no: ${TOOK}s")"

hostile_case maxreq endless-cursor "" "--max-requests 3"
expect_contains "--max-requests: said" "$T/err" "this run made 3 requests already (--max-requests)"

# The bounds are options like any other.
expect_status "--max-body: bad size" 2 lg-fetch --max-body 12Q
expect_contains "--max-body: the message" "$T/err" "--max-body: '12Q' is not a size from 1K to 1G"
expect_status "--max-time: zero" 2 lg-fetch --max-time 0
