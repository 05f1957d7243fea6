# Forged control lines: a server (or a file) must not be able to move
# another integration's cursor or record runs for it.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 20 3 "$T/ds.json"
DB="$T/db"
S() { lg-store --db "$DB" "$@"; }

# ---- lg-fetch: a legacy server slips "$lg" objects among its traces ----
start_server --dataset "$T/ds.json" --mode v3 --hostile forged-control || exit 1
fetch --api legacy
expect_eq "forged: lg-fetch exit 0" 0 "$FETCH_STATUS"
expect_eq "forged: only lg-fetch's three kinds of control line" "checkpoint run-end run-start" \
	"$(grep '"\$lg"' "$T/out" | jq -r '."$lg"' | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "forged: every control line is lg-fetch's own" "default" \
	"$(grep '"\$lg"' "$T/out" | jq -r .integration | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "forged: the real traces all there" 20 "$(grep -vc '"\$lg"' "$T/out")"
expect_eq "forged: counted in run-end" 2 "$(tail -1 "$T/out" | jq -r .forged)"
expect_contains "forged: a warning names the object" "$T/err" \
	'warning: trace forged-checkpoint from the server has a "$lg" key (a forged control line); dropped'
# The whole pipeline: the victim's cursor never appears.
lg-map <"$T/out" | S put --integration default 2>"$T/put.err"
expect_eq "forged: victim has no cursor" "" "$(S cursor victim)"
expect_eq "forged: own cursor at the run's end" "2026-11-27T00:00:00.000Z" "$(S cursor default)"
stop_server

# ---- lg-store put: checkpoints bound to their run ----
start='{"$lg":"run-start","run":"r1","integration":"prod","from":"2026-11-01T00:00:00.000Z","to":"2026-11-02T00:00:00.000Z"}'
cp() { printf '{"$lg":"checkpoint","run":"%s","integration":"%s","cursor":"%s"}\n' "$1" "$2" "$3"; }
{
	echo "$start"
	cp r1 prod 2026-11-01T06:00:00.000Z
	cp r1 victim 2026-11-01T07:00:00.000Z
	cp r1 prod 2099-01-01T00:00:00.000Z
	cp r1 prod 2026-10-01T00:00:00.000Z
	cp r9 prod 2026-11-01T08:00:00.000Z
	echo '{"$lg":"run-end","run":"r1","integration":"prod","status":"completed","traces":0}'
	cp r1 prod 2026-11-01T09:00:00.000Z
} >"$T/cps"
S put <"$T/cps" 2>"$T/err"; s=$?
expect_eq "put: refused checkpoints make exit 1" 1 "$s"
expect_eq "put: the messages" 'lg-store: <stdin>:3: checkpoint for integration victim in a run of prod
lg-store: <stdin>:4: checkpoint cursor 2099-01-01T00:00:00.000Z outside the run'"'"'s range
lg-store: <stdin>:5: checkpoint cursor 2026-10-01T00:00:00.000Z outside the run'"'"'s range
lg-store: <stdin>:6: checkpoint of run r9 inside run r1
lg-store: <stdin>:8: checkpoint outside a run (no run-start before it)' "$(grep -v 'put:' "$T/err")"
expect_eq "put: only the run's own checkpoint moved the cursor" "2026-11-01T06:00:00.000Z" "$(S cursor prod)"
expect_eq "put: the victim untouched" "" "$(S cursor victim)"

# A run-end outside its run cannot rewrite another integration's run.
S status prod | jq -r .data.lastSync.id >"$T/before"
printf '{"$lg":"run-end","run":"r1","integration":"victim","status":"failed","error":"forged"}\n' | S put 2>"$T/err"; s=$?
expect_eq "foreign run-end: exit 1" 1 "$s"
expect_contains "foreign run-end: refused" "$T/err" "run-end for run r1 of integration prod refused: it names victim"
expect_eq "foreign run-end: the run unchanged" "completed" "$(S status prod | jq -r '.data.lastSync | select(.id == "r1") | .status')"
expect_eq "foreign run-end: no victim run" "null" "$(S status victim | jq -c .data.lastSync)"

# A run without a range still cannot put its cursor in the future.
{
	echo '{"$lg":"run-start","run":"r2","integration":"prod"}'
	cp r2 prod 2099-01-01T00:00:00.000Z
} | S put 2>"$T/err"
expect_contains "put: future cursor refused" "$T/err" "checkpoint cursor 2099-01-01T00:00:00.000Z is in the future"
expect_eq "put: future cursor not stored" "2026-11-01T06:00:00.000Z" "$(S cursor prod)"

# --integration binds the stream: another integration's run-start is refused,
# so its checkpoints find no run.
{
	echo '{"$lg":"run-start","run":"r3","integration":"victim","from":"2026-11-01T00:00:00.000Z","to":"2026-11-30T00:00:00.000Z"}'
	cp r3 victim 2026-11-20T00:00:00.000Z
	echo '{"$lg":"run-end","run":"r3","integration":"victim","status":"completed"}'
} | S put --integration prod 2>"$T/err"
expect_eq "put --integration: refused" 'lg-store: <stdin>:1: run-start for integration victim, not prod (--integration)
lg-store: <stdin>:2: checkpoint outside a run (no run-start before it)
lg-store: <stdin>:3: run-end for integration victim, not prod (--integration)' "$(grep -v 'put:' "$T/err")"
expect_eq "put --integration: no victim run" "null" "$(S status victim | jq -c .data.lastSync)"

# --no-control: records only.
{
	echo "$start"
	echo '{"externalId":"nc1","timestamp":"2026-11-01T01:00:00.000Z"}'
	cp r1 prod 2026-11-01T12:00:00.000Z
} | S put --no-control 2>"$T/err"; s=$?
expect_eq "put --no-control: exit 0" 0 "$s"
expect_eq "put --no-control: record stored" nc1 "$(S get nc1 | jq -r .externalId)"
expect_eq "put --no-control: cursor unmoved" "2026-11-01T06:00:00.000Z" "$(S cursor prod)"
expect_contains "put --no-control: says so" "$T/err" "2 control lines ignored (--no-control)"

# ---- recovery: lg-store cursor --reset, lg-sync cursor --reset ----
expect_status "cursor --reset: exit 0" 0 lg-store --db "$DB" cursor prod --reset 2026-10-15T00:00:00Z
expect_eq "cursor --reset: backwards" "2026-10-15T00:00:00.000Z" "$(S cursor prod)"
expect_status "cursor --reset: bad time is a usage error" 2 lg-store --db "$DB" cursor prod --reset yesterday
expect_status "cursor --reset: no store" 6 lg-store --db "$T/none" cursor prod --reset 2026-10-15T00:00:00Z
expect_status "--reset without cursor" 2 lg-store --db "$DB" status --reset 2026-10-15T00:00:00Z
expect_status "lg-sync cursor --reset: exit 0" 0 lg-sync --db "$DB" cursor default --reset 2026-10-16T00:00:00Z
expect_eq "lg-sync cursor --reset: set" "2026-10-16T00:00:00.000Z" "$(S cursor default)"
expect_status "lg-sync cursor: prints it" 0 lg-sync --db "$DB" cursor default
expect_eq "lg-sync cursor: the value" "2026-10-16T00:00:00.000Z" "$(cat "$T/out")"
expect_status "lg-sync cursor: unknown integration" 2 lg-sync --db "$DB" cursor nosuch --reset 2026-10-16T00:00:00Z
