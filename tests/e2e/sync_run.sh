# lg-sync run against the test server: first sync, incremental sync picking
# up new and late traces, backfill over a range, two integrations side by side.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
GEN="$ROOT/tests/server/gen_dataset.py"

# merge FILE... : one server dataset holding every trace of the inputs
merge() { jq -s '{project: .[0].project, traces: (map(.traces) | add),
	observations: (map(.observations) | add), scores: (map(.scores // []) | add)}' "$@"; }
ids_of() { jq -r '.traces[].id' "$@" | sort; }
stored_ids() { lg-store --db "$LG_DB" export | jq -r --arg i "$1" 'select(.source.integration == $i) | .externalId' | sort; }
last_sync() { lg-sync status "$1" | jq -rc "$2"; }

# prod: 40 traces over the 6 hours before 09:30; the first sync is at 10:00.
python3 "$GEN" --traces 40 --seed 11 --out "$T/a.json" --end 2026-11-27T09:30:00Z --span 6h
cp "$T/a.json" "$T/prod.json"
start_server --dataset "$T/prod.json" --public-key pk-lf-prod --secret-key sk-lf-prod-secret-0001 || exit 1
PROD_PID=$SERVER_PID PROD_URL=$SERVER_URL
# staging: 20 recent traces and 15 from three days ago; lookback 1d.
python3 "$GEN" --traces 20 --seed 21 --out "$T/s1.json" --end 2026-11-27T09:00:00Z --span 4h
python3 "$GEN" --traces 15 --seed 22 --out "$T/s2.json" --end 2026-11-24T12:00:00Z --span 2h
merge "$T/s1.json" "$T/s2.json" >"$T/staging.json"
start_server --dataset "$T/staging.json" --public-key pk-lf-stg --secret-key sk-lf-stg-secret-0002 || exit 1
STG_PID=$SERVER_PID STG_URL=$SERVER_URL
trap 'kill $PROD_PID $STG_PID 2>/dev/null' EXIT

umask 077
jq -n --arg p "$PROD_URL" --arg s "$STG_URL" '{integrations: [
	{id: "prod", name: "Production", publicKey: "pk-lf-prod", secretKey: "sk-lf-prod-secret-0001",
	 host: $p, autoSync: true, interval: "5m", lookback: "7d", overlap: "30m", batchSize: 100},
	{id: "staging", name: "Staging", publicKey: "pk-lf-stg", secretKey: "sk-lf-stg-secret-0002",
	 host: $s, autoSync: false, lookback: "1d"}]}' >"$LG_CONFIG"

# 1. First sync of prod: every trace, run recorded, cursor set.
LG_NOW=2026-11-27T10:00:00Z expect_status first-sync 0 lg-sync run prod
expect_eq first-sync-ids "$(ids_of "$T/a.json")" "$(stored_ids prod)"
expect_eq first-sync-status '{"integration":"prod","isActive":false,"hasSchedule":true,"status":"completed","itemsFetched":40,"itemsIngested":40}' \
	"$(last_sync prod '.data | {integration, isActive, hasSchedule} + (.lastSync | {status, itemsFetched, itemsIngested})')"
expect_contains first-sync-summary "$T/err" "lg-sync: prod: completed: 40 traces fetched, 40 new, 0 updated, 0 unchanged, 0 re-evaluated in "
C1=$(lg-store --db "$LG_DB" cursor prod)
if [[ $C1 > 2026-11-27T09:30:00 ]] && [[ $C1 < 2026-11-27T10:00:00.001 ]]; then pass first-sync-cursor
else fail first-sync-cursor "cursor [$C1] not in (last trace, now]"; fi
expect_eq first-sync-quiet "" "$(LG_NOW=2026-11-27T10:00:00Z lg-sync run prod --quiet 2>&1)"

# 2. Incremental: 10 new traces after the cursor, 3 late ones that arrived
#    with timestamps 10 minutes before the cursor (inside the 30m overlap).
python3 "$GEN" --traces 10 --seed 12 --out "$T/b.json" --end 2026-11-27T10:40:00Z --span 30m
LATE_END=$(date -u -d "$C1 - 5 minutes" +%Y-%m-%dT%H:%M:%SZ)
python3 "$GEN" --traces 3 --seed 13 --out "$T/late.json" --end "$LATE_END" --span 10m
merge "$T/a.json" "$T/b.json" "$T/late.json" >"$T/prod.json.new" && mv "$T/prod.json.new" "$T/prod.json"
LG_NOW=2026-11-27T11:00:00Z expect_status incremental 0 lg-sync run prod
expect_eq incremental-ids "$(ids_of "$T/a.json" "$T/b.json" "$T/late.json")" "$(stored_ids prod)"
expect_eq incremental-status completed "$(last_sync prod '.data.lastSync.status')"
C2=$(lg-store --db "$LG_DB" cursor prod)
if [[ $C2 > $C1 ]] && [[ $C2 > 2026-11-27T10:40:00 ]]; then pass incremental-cursor
else fail incremental-cursor "cursor [$C2] did not move past [$C1] and the new traces"; fi
# Nothing new: same records, still completed, cursor moves with now.
LG_NOW=2026-11-27T11:30:00Z expect_status incremental-idle 0 lg-sync run prod
expect_eq incremental-idle-count 53 "$(stored_ids prod | wc -l)"

# 3. Two integrations side by side: each has its own records and cursor.
CP=$(lg-store --db "$LG_DB" cursor prod)
LG_NOW=2026-11-27T10:15:00Z expect_status staging-first 0 lg-sync run staging
expect_eq staging-first-ids "$(ids_of "$T/s1.json")" "$(stored_ids staging)"
expect_eq staging-leaves-prod 53 "$(stored_ids prod | wc -l)"
CS=$(lg-store --db "$LG_DB" cursor staging)
expect_eq prod-cursor-own "$CP" "$(lg-store --db "$LG_DB" cursor prod)"
if [[ $CS < 2026-11-27T10:15:00.001 ]] && [[ $CS > 2026-11-27T09:00:00 ]]; then pass staging-cursor
else fail staging-cursor "staging cursor [$CS]"; fi
expect_eq status-all-ids 'prod
staging' "$(lg-sync status | jq -r .data.integration)"

# 4. Backfill over a range picks up the old traces; the cursor stays.
LG_NOW=2026-11-27T10:20:00Z expect_status backfill-range 0 lg-sync run staging --since 2026-11-24T09:00:00Z --until 2026-11-24T13:00:00Z
expect_eq backfill-range-ids "$(ids_of "$T/s1.json" "$T/s2.json")" "$(stored_ids staging)"
expect_eq backfill-range-cursor "$CS" "$(lg-store --db "$LG_DB" cursor staging)"
expect_eq backfill-range-fetched 15 "$(last_sync staging '.data.lastSync.itemsFetched')"
# --mode backfill re-reads the lookback and upserts: nothing duplicated.
LG_NOW=2026-11-27T10:25:00Z expect_status backfill-mode 0 lg-sync run staging --mode backfill
expect_eq backfill-mode-count 35 "$(stored_ids staging | wc -l)"
expect_eq backfill-mode-fetched 20 "$(last_sync staging '.data.lastSync.itemsFetched')"

# 5. Run every integration at once (no ID): both complete.
LG_NOW=2026-11-27T12:00:00Z expect_status run-all 0 lg-sync run
expect_contains run-all-prod "$T/err" "lg-sync: prod: completed"
expect_contains run-all-staging "$T/err" "lg-sync: staging: completed"
