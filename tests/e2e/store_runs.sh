# lg-store runs: the recorded sync runs, newest first, per integration,
# with their errors (what the console's integrations page lists).
. "$ROOT/tests/lib.sh"
export LG_DB="$T/db"

expect_status runs-no-store 0 lg-store runs
expect_eq runs-no-store-empty "" "$(cat "$T/out")"

run() { # ID INTEGRATION STATUS [ERROR]
	echo "{\"\$lg\":\"run-start\",\"run\":\"$1\",\"integration\":\"$2\",\"mode\":\"incremental\",\"startedAt\":\"2026-12-0${1:7:1}T10:00:00.000Z\"}"
	if [ -n "${4:-}" ]; then
		echo "{\"\$lg\":\"run-end\",\"run\":\"$1\",\"integration\":\"$2\",\"status\":\"$3\",\"error\":\"$4\"}"
	else
		echo "{\"\$lg\":\"run-end\",\"run\":\"$1\",\"integration\":\"$2\",\"status\":\"$3\",\"traces\":0}"
	fi
}
{
	run 2026120T100000Z-aaaaa prod completed
	run 2026120T200000Z-bbbbb dev failed "HTTP 401 from Langfuse"
	run 2026120T300000Z-ccccc prod failed "timeout after 30s"
} | lg-store put 2>"$T/put.err" || fail runs-put "$(cat "$T/put.err")"

expect_status runs-all 0 lg-store runs
expect_eq runs-newest-first "2026120T300000Z-ccccc 2026120T200000Z-bbbbb 2026120T100000Z-aaaaa" \
	"$(jq -r .id "$T/out" | xargs)"
expect_status runs-prod 0 lg-store runs prod
expect_eq runs-one-integration "2026120T300000Z-ccccc:failed:timeout after 30s 2026120T100000Z-aaaaa:completed:null" \
	"$(jq -r '"\(.id):\(.status):\(.error)"' "$T/out" | xargs)"
expect_status runs-limit 0 lg-store runs prod --limit 1
expect_eq runs-limit-one "2026120T300000Z-ccccc" "$(jq -r .id "$T/out" | xargs)"
expect_status runs-unknown 0 lg-store runs nosuch
expect_eq runs-unknown-empty "" "$(cat "$T/out")"
expect_status runs-limit-bad 2 lg-store runs --limit 0
expect_status runs-two-operands 2 lg-store runs a b
