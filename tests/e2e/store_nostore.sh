# lg-store on a --db without a store: only put creates one; the reading
# commands say "no store at DIR" (exit 6) and create nothing; status and
# cursor answer as lg-sync needs before a first run (lastSync null, no
# cursor, exit 0).
. "$ROOT/tests/lib.sh"
NO="$T/none"
mkdir "$T/emptydir"

for c in count export stats violations check "get t1" "ack v1" "resolve v1" "backup $T/b.mdb"; do
	# shellcheck disable=SC2086
	expect_status "no store: $c exit 6" 6 lg-store --db "$NO" $c
	expect_eq "no store: $c says so" "lg-store: no store at $NO" "$(cat "$T/err")"
	expect_eq "no store: $c prints nothing" "" "$(cat "$T/out")"
done
expect_eq "no store: nothing created" "" "$(ls -A "$T" | grep -x none)"
expect_status "no store: an empty directory too" 6 lg-store --db "$T/emptydir" count
expect_eq "empty directory: message" "lg-store: no store at $T/emptydir" "$(cat "$T/err")"
expect_eq "empty directory: left empty" "" "$(ls -A "$T/emptydir")"
expect_status "no store: status exit 0" 0 lg-store --db "$NO" status prod --active
expect_eq "no store: status, lastSync null" '{"success":true,"data":{"isActive":true,"hasSchedule":false,"lastSync":null,"incomplete":{"pending":0,"gaveUp":0}}}' "$(cat "$T/out")"
expect_status "no store: cursor exit 0" 0 lg-store --db "$NO" cursor prod
expect_eq "no store: cursor prints nothing" "" "$(cat "$T/out")$(cat "$T/err")"
expect_status "no store: usage errors first" 2 lg-store --db "$NO" get
expect_eq "no store: status created nothing" "" "$(ls -A "$T" | grep -x none)"

# put creates it; then the same commands work
echo '{"externalId":"t1","timestamp":"2026-11-27T10:00:00.000Z","source":{"system":"langfuse","integration":"prod"}}' >"$T/rec"
expect_status "put creates the store" 0 lg-store --db "$NO" put --summary none <"$T/rec"
expect_status "after put: count" 0 lg-store --db "$NO" count
expect_eq "after put: count is 1" 1 "$(cat "$T/out")"
expect_status "after put: get" 0 lg-store --db "$NO" get t1
expect_eq "after put: status without a run" null "$(lg-store --db "$NO" status prod | jq -c .data.lastSync)"
