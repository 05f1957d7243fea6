# The HTTP API of lg-sync serve (docs/api.md), endpoint by endpoint, against
# a real server on a free loopback port with the project's Langfuse test
# server behind it: the seed's exact shapes, paging, every error status, a
# sync started over HTTP and followed through status, a violation
# acknowledged over HTTP and seen by lg-store, a policy toggle kept in the
# config and obeyed by the next run.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/api_lib.bash"
api_setup
GEN="$ROOT/tests/server/gen_dataset.py"

python3 "$GEN" --traces 30 --seed 7 --out "$T/p.json" --end "$(date -u -d '-20 minutes' +%Y-%m-%dT%H:%M:%SZ)" --span 6h
# Every request of the Langfuse server takes 0.4 s: a run lasts long enough
# to be seen running.
start_server --dataset "$T/p.json" --public-key pk-lf-api --secret-key sk-lf-api-secret-0001 \
	--fault-slow-ms 400 --fault-slow-every 1 || exit 1
echo sk-lf-m-secret >"$T/key"
jq -n --arg k "$T/key" --arg u "$SERVER_URL" '{integrations: [
	{id: "prod", name: "Production", publicKey: "pk-lf-api", secretKey: "sk-lf-api-secret-0001",
	 host: $u, autoSync: true, interval: "5m", lookback: "7d", batchSize: 10},
	{id: "broken", name: "Broken", publicKey: "pk-lf-x", secretKey: "sk-lf-x", host: "no-scheme.example"},
	{id: "manual", name: "Manual", publicKey: "pk-lf-m", secretKeyFile: $k, host: $u, autoSync: false}]}' \
	>"$LG_CONFIG"
start_api || exit 1

# ---- health, auth ----
req GET /api/health
expect_eq "health without a token" '200 {"success":true,"data":{"status":"ok","version":"0.1.0"}}' "$CODE $(body .)"
req GET /api/integrations
expect_error "no token: 401" 401 unauthorized
expect_contains "401 says the scheme" "$T/headers" 'WWW-Authenticate: Bearer realm="lg"'
req GET /api/integrations -H "Authorization: Bearer ${TOKEN%?}x"
expect_error "wrong token: 401" 401 unauthorized
req GET /api/integrations -H "Authorization: Bearer ${TOKEN}x"
expect_error "token with a byte more: 401" 401 unauthorized
req GET /api/integrations -H "Authorization: Basic $TOKEN"
expect_error "another scheme: 401" 401 unauthorized
req GET /api/nothing-here
expect_error "unknown route without a token: 401, not 404" 401 unauthorized
expect_eq "token file 0600" 600 "$(stat -c %a "$XDG_CONFIG_HOME/langguard/api-token")"
expect_eq "token: 64 hex digits" 1 "$(grep -cE '^[0-9a-f]{64}$' "$XDG_CONFIG_HOME/langguard/api-token")"

# ---- integrations ----
areq GET /api/integrations
expect_eq "integrations: 200" 200 "$CODE"
expect_eq "integrations: prod, masked" '{"id":"prod","secretKey":"sk-lf-…0001","secretKeySource":"inline","valid":true,"isActive":false,"host":"'"$SERVER_URL"'","batchSize":10}' \
	"$(body '.data[0] | {id, secretKey, secretKeySource, valid, isActive, host, batchSize}')"
expect_eq "integrations: a bad entry listed with its reason, no path" '{"id":"broken","valid":false,"error":"integrations[1].host: no-scheme.example: scheme required (http:// or https://)"}' \
	"$(body '.data[1]')"
expect_eq "integrations: a key file is not shown" '{"secretKeySource":"file","secretKeyFile":null}' \
	"$(body '.data[2] | {secretKeySource, secretKeyFile}')"
expect_not_contains "integrations: no secret in the answer" "$T/body" "sk-lf-api-secret-0001"

# ---- status before the first sync: the seed's shape ----
areq GET /api/integrations/prod/sync/status
expect_eq "status before any run" '200 {"success":true,"data":{"isActive":false,"hasSchedule":true,"lastSync":null}}' "$CODE $(body .)"
areq GET /api/integrations/nosuch/sync/status
expect_error "status of an unknown integration: 404" 404 not_found
areq GET /api/integrations/broken/sync/status
expect_error "status of an invalid integration: 404" 404 not_found
areq GET /api/traces
expect_eq "traces before any store: empty" '200 {"traces":[],"nextCursor":null}' "$CODE $(body .data)"

# ---- a sync over HTTP, followed through status ----
areq POST /api/integrations/prod/sync -d '{"mode":"incremental","limit":100}'
expect_eq "sync: 202" 202 "$CODE"
RUN=$(body -r .data.id)
expect_eq "sync: the answer" '{"integration":"prod","mode":"incremental","limit":100,"status":"running"}' \
	"$(body '.data | {integration, mode, limit, status}')"
areq GET /api/integrations/prod/sync/status
expect_eq "status right after 202: active" true "$(body .data.isActive)"
areq POST /api/integrations/prod/sync
expect_error "second sync while one runs: 409" 409 sync_in_progress
expect_eq "409 names the running id" "\"$RUN\"" "$(body .error.runId)"
expect_eq "lg-sync status agrees: active" true "$(lg-sync status prod 2>/dev/null | jq .data.isActive)"
for _ in $(seq 600); do
	areq GET /api/integrations/prod/sync/status
	[ "$(body .data.isActive)" = false ] && break
	sleep 0.1
done
expect_eq "status after the run: the seed's shape, exactly" \
	"{\"success\":true,\"data\":{\"isActive\":false,\"hasSchedule\":true,\"lastSync\":{\"id\":\"$RUN\",\"status\":\"completed\",\"itemsFetched\":30,\"itemsIngested\":30,\"completedAt\":\"X\"}}}" \
	"$(jq -c '.data.lastSync.completedAt |= (if test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$") then "X" else . end)' "$T/body")"
expect_eq "the store recorded the run under the id 202 gave" "$RUN" "$(lg-store status prod | jq -r .data.lastSync.id)"
expect_eq "every trace stored" 30 "$(lg-store count)"

areq POST /api/integrations/nosuch/sync
expect_error "sync of an unknown integration: 404" 404 not_found
areq POST /api/integrations/prod/sync -d '{"mode":"sideways"}'
expect_error "sync: bad mode: 400" 400 bad_request
areq POST /api/integrations/prod/sync -d '{"limit":0}'
expect_error "sync: limit 0: 400" 400 bad_request
areq POST /api/integrations/prod/sync -d '{"limit":1.5}'
expect_error "sync: limit 1.5: 400" 400 bad_request
areq POST /api/integrations/prod/sync -d '{"mode":'
expect_error "sync: bad JSON: 400" 400 bad_json
areq POST /api/integrations/prod/sync -d '[1]'
expect_error "sync: not an object: 400" 400 bad_json
areq GET /api/integrations/prod/sync
expect_error "GET on the sync route: 405" 405 method_not_allowed
expect_contains "405 says what is allowed" "$T/headers" "Allow: POST"
areq DELETE /api/traces
expect_error "DELETE: 405" 405 method_not_allowed

# A run another process holds (lg-sync run, cron) is a 409 too.
exec 8>"$LG_DB/sync-prod.lock"
flock -x 8
areq POST /api/integrations/prod/sync
expect_error "sync while another process holds the lock: 409" 409 sync_in_progress
flock -u 8
exec 8>&-

# ---- traces ----
all=$(lg-store export --reverse | jq -r .externalId)
areq GET "/api/traces?limit=7"
expect_eq "traces: a page of 7, newest first" "$(echo "$all" | head -n7)" "$(body -r '.data.traces[].externalId')"
expect_eq "traces: summary view" '[false,false,false,true]' "$(body '.data.traces[0] | [has("input"), has("output"), has("spans"), (.spanCount | type == "number")]')"
expect_eq "traces: no total unless asked" false "$(body '.data | has("total")')"
got="" cursor="" pages=0
while :; do
	if [ -n "$cursor" ]; then areq GET /api/traces -G --data-urlencode "cursor=$cursor" -d limit=7 -d total=true
	else areq GET "/api/traces?limit=7&total=true"; fi
	[ "$CODE" = 200 ] || { fail "traces: paging" "status $CODE"; break; }
	got="$got$(body -r '.data.traces[].externalId')"$'\n'
	pages=$((pages + 1))
	cursor=$(body -r '.data.nextCursor // empty')
	[ -n "$cursor" ] || break
	[ $pages -lt 10 ] || break
done
expect_eq "traces: 5 pages of 7 hold every trace once, in order" "$all" "$(printf '%s' "$got" | sed '/^$/d')"
expect_eq "traces: total is every match" 30 "$(body .data.total)"
areq GET "/api/traces?order=asc&view=full&limit=1"
expect_eq "traces: oldest first, full records" "$(lg-store export --limit 1 | jq -c '{externalId, spans: (.spans | length)}')" \
	"$(body '.data.traces[0] | {externalId, spans: (.spans | length)}')"
agent=$(lg-store export | jq -r '.agent.name // empty' | head -n1)
areq GET /api/traces -G --data-urlencode "agent=$agent" -d limit=1000 -d total=true
expect_eq "traces: agent filter, as lg-store export" "$(lg-store export --agent "$agent" --reverse | jq -r .externalId)" "$(body -r '.data.traces[].externalId')"
expect_eq "traces: total with a filter" "$(lg-store count --agent "$agent")" "$(body .data.total)"
areq GET "/api/traces?severity=high&limit=1000"
expect_eq "traces: severity filter" "$(lg-store export --severity high --reverse | jq -r .externalId)" "$(body -r '.data.traces[].externalId')"
areq GET "/api/traces?since=2h&limit=1000"
expect_eq "traces: since as a duration" "$(lg-store export --from 2h --reverse | jq -r .externalId)" "$(body -r '.data.traces[].externalId')"
areq GET "/api/traces?since=yesterday"
expect_error "traces: bad since: 400" 400 bad_request
areq GET "/api/traces?limit=0"
expect_error "traces: limit 0: 400" 400 bad_request
areq GET "/api/traces?limit=1001"
expect_error "traces: limit 1001: 400" 400 bad_request
areq GET "/api/traces?hasViolations=yes"
expect_error "traces: bad hasViolations: 400" 400 bad_request
expect_eq "traces: bad hasViolations: named" '"hasViolations: want true or false"' "$(body .error.message)"
areq GET "/api/traces?total=1"
expect_error "traces: bad total: 400" 400 bad_request
expect_eq "traces: bad total: named" '"total: want true or false"' "$(body .error.message)"
areq GET "/api/traces?cursor=garbage"
expect_error "traces: a cursor it did not give: 400" 400 bad_request
areq GET "/api/traces?severity=huge"
expect_error "traces: bad severity: 400" 400 bad_request
areq GET "/api/traces?agent=%zz"
expect_error "traces: bad escape: 400" 400 bad_request

# Answers are kept until the store changes: a record put by another
# process shows up in the very next answer to the same request.
areq GET "/api/traces?limit=1000&total=true"
areq GET "/api/traces?limit=1000&total=true"
n0=$(body .data.total)
areq GET "/api/stats"
echo '{"externalId":"api-new-1","timestamp":"2030-01-01T00:00:00Z","status":"success"}' | lg-store put 2>/dev/null
areq GET "/api/traces?limit=1000&total=true"
expect_eq "a record put meanwhile: the same request sees it first" "$((n0 + 1)) \"api-new-1\"" "$(body '.data.total, .data.traces[0].externalId' | tr '\n' ' ' | sed 's/ $//')"
areq GET "/api/stats"
expect_eq "stats see it too" "$((n0 + 1))" "$(body '.data.groups[0].traces')"
all=$(lg-store export --reverse | jq -r .externalId)
id=$(echo "$all" | sed -n 2p)
areq GET "/api/traces/$id"
expect_eq "one trace: the stored record" "$(lg-store get "$id" | jq -c .)" "$(body .data)"
areq GET /api/traces/no-such-trace
expect_error "unknown trace: 404" 404 not_found
areq GET /api/traces/-rf
expect_error "an id like an option is an id: 404" 404 not_found
areq GET /api/traces/a%00b
expect_error "a NUL in an id: 400" 400 bad_request
areq GET "/api/traces/$(printf 'x%.0s' $(seq 504))"
expect_error "an id over 503 bytes: 400" 400 bad_request

# ---- stats ----
areq GET "/api/stats?by=agent"
expect_eq "stats by agent: lg-store's JSON" "$(lg-store stats --by agent --json)" "$(body .data)"
areq GET "/api/stats?by=hour&since=7d"
expect_eq "stats by hour" "$(lg-store stats --by hour --from 7d --json)" "$(body .data)"
areq GET /api/stats
expect_eq "stats of everything" '"all"' "$(body '.data.groups[0].key')"
areq GET "/api/stats?by=agent,hour&since=7d"
expect_eq "stats by agent,hour: each agent's hours, lg-store's JSON" "$(lg-store stats --by agent,hour --from 7d --json)" "$(body .data)"
expect_eq "stats by agent,hour: groups within groups" "true" "$(body '.data.groups[0].groups | length > 0')"
areq GET "/api/stats?by=colour"
expect_error "stats: bad by: 400" 400 bad_request
areq GET "/api/stats?by=agent,agent"
expect_error "stats: one key twice: 400" 400 bad_request
areq GET "/api/stats?by=agent,colour"
expect_error "stats: a bad second key: 400" 400 bad_request

# ---- violations ----
areq GET "/api/policies/violations?limit=1000"
expect_eq "violations: total = lg-store violations" "$(lg-store violations | wc -l)" "$(body .total)"
expect_eq "violations: the seed's keys" '["createdAt","evidence","id","message","policyId","policyName","severity","status","traceId"]' \
	"$(body '.violations[0] | [keys[] | select(. as $k | ["id","policyId","policyName","severity","traceId","message","evidence","status","createdAt"] | index($k))] | sort')"
expect_eq "violations: top-level keys" '["nextCursor","total","violations"]' "$(body 'keys')"
areq GET "/api/policies/violations?severity=critical&status=new&limit=2"
crit=$(lg-store violations --severity critical --status new | wc -l)
expect_eq "violations: filtered total, a page of 2" "$crit 2" "$(body -r '"\(.total) \(.violations | length)"')"
expect_eq "violations: nextCursor" '"2"' "$(body .nextCursor)"
areq GET "/api/policies/violations?severity=critical&status=new&limit=2&cursor=2"
expect_eq "violations: second page" "$(lg-store violations --severity critical --status new --reverse | sed -n 3,4p | jq -r .id)" "$(body -r '.violations[].id')"
# total=false: the page without the count; one line past it says
# whether there is a next page.
areq GET "/api/policies/violations?severity=critical&status=new&limit=2&total=false"
expect_eq "violations: total=false: a page of 2" \
	"$(lg-store violations --severity critical --status new --reverse | head -n2 | jq -r .id)" "$(body -r '.violations[].id')"
expect_eq "violations: total=false: no total, nextCursor" '["nextCursor","violations"] "2"' "$(body 'keys') $(body .nextCursor)"
areq GET "/api/policies/violations?severity=critical&status=new&limit=$crit&total=false"
expect_eq "violations: total=false: the last page" "$crit null" "$(body -r '"\(.violations | length) \(.nextCursor)"')"
areq GET "/api/policies/violations?total=yes"
expect_error "violations: bad total: 400" 400 bad_request
areq GET "/api/policies/violations?cursor=x"
expect_error "violations: bad cursor: 400" 400 bad_request
VID=$(lg-store violations --severity critical | head -n1 | jq -r .id)
VTRACE=$(lg-store violations --severity critical | head -n1 | jq -r .externalId)
areq GET "/api/policies/violations/by-trace/$VTRACE"
expect_eq "by-trace: every violation of the trace" "$(lg-store get "$VTRACE" | jq -c '[.violations[].id]')" "$(body '[.violations[].id]')"
expect_eq "by-trace: traceId and total" "\"$VTRACE\" $(lg-store get "$VTRACE" | jq '.violations | length')" "$(body -r '"\"\(.violations[0].traceId)\" \(.total)"')"
areq GET /api/policies/violations/by-trace/no-such-trace
expect_error "by-trace of an unknown trace: 404" 404 not_found

areq GET "/api/policies/violations?status=acknowledged"
expect_eq "no acknowledged violation yet (this answer is kept)" 0 "$(body .total)"
areq PATCH "/api/policies/violations/$VID" -d '{"status":"acknowledged","notes":"Investigating with security team"}'
expect_eq "PATCH acknowledged: 200" '200 "acknowledged" "Investigating with security team"' "$CODE $(body -r '"\"\(.data.status)\" \"\(.data.notes)\""')"
expect_eq "lg-store violations sees it" '{"status":"acknowledged","notes":"Investigating with security team"}' \
	"$(lg-store violations | jq -c --arg v "$VID" 'select(.id == $v) | {status, notes}')"
areq GET "/api/policies/violations?status=acknowledged"
expect_eq "the list sees it" "\"$VID\"" "$(body '.violations[0].id')"
notes=$(head -c 4096 /dev/zero | tr '\0' n)
areq PATCH "/api/policies/violations/$VID" -d "{\"status\":\"acknowledged\",\"notes\":\"$notes\"}"
expect_eq "PATCH notes of 4096 bytes" "200 4096" "$CODE $(body -r '.data.notes | length')"
areq PATCH "/api/policies/violations/$VID" -d "{\"status\":\"acknowledged\",\"notes\":\"${notes}n\"}"
expect_error "PATCH notes of 4097 bytes: 400" 400 bad_request
areq PATCH "/api/policies/violations/$VID" -d '{"status":"resolved"}'
expect_eq "PATCH resolved" '200 "resolved" "resolved by user"' "$CODE $(body -r '"\"\(.data.status)\" \"\(.data.resolution)\""')"
areq PATCH "/api/policies/violations/$VID" -d '{"status":"acknowledged"}'
expect_error "acknowledging a resolved violation: 409" 409 already_resolved
areq PATCH /api/policies/violations/no-such-violation -d '{"status":"acknowledged"}'
expect_error "PATCH of an unknown violation: 404" 404 not_found
areq PATCH "/api/policies/violations/$VID" -d '{"status":"new"}'
expect_error "PATCH status new: 400" 400 bad_request
areq PATCH "/api/policies/violations/$VID" -d '{"status":"acknowledged","notes":5}'
expect_error "PATCH notes not a string: 400" 400 bad_request
areq PATCH "/api/policies/violations/$VID" -d 'status=acknowledged'
expect_error "PATCH a form body: 400" 400 bad_json

# ---- policies and the toggle ----
areq GET /api/policies
expect_eq "policies: lg-policy's list" "$(lg-policy --list | cut -f1 | tr '\n' ' ')" "$(body -r '[.data[].id] | join(" ")') "
expect_eq "policies: a row" '{"id":"pii","name":"PII Data Detection","severity":"critical","category":"security","kind":"pattern","enabled":true}' "$(body '.data[] | select(.id == "pii")')"
areq POST /api/policies/pii/toggle -d '{"enabled":false}'
expect_eq "toggle off: 200" '200 {"success":true,"data":{"id":"pii","enabled":false}}' "$CODE $(body .)"
expect_eq "toggle kept in the config" '{"enabled":false}' "$(jq -c .policies.pii "$LG_CONFIG")"
expect_eq "config stays 0600" 600 "$(stat -c %a "$LG_CONFIG")"
expect_eq "the config's integrations untouched" prod,broken,manual "$(jq -r '[.integrations[].id] | join(",")' "$LG_CONFIG")"
areq GET /api/policies
expect_eq "policies: pii now off" false "$(body '.data[] | select(.id == "pii") | .enabled')"
areq POST /api/policies/no-such-policy/toggle -d '{"enabled":false}'
expect_error "toggle of an unknown policy: 404" 404 not_found
areq POST /api/policies/pii/toggle -d '{"enabled":"no"}'
expect_error "toggle: enabled not a boolean: 400" 400 bad_request
areq POST /api/policies/pii/toggle
expect_error "toggle without a body: 400" 400 bad_json
# The next run evaluates without pii: its violations are neither added nor
# resolved (they stay as stored), and lg-policy saw --disable pii.
before=$(lg-store violations --policy pii | wc -l)
expect_status "a run after the toggle" 0 lg-sync run prod --mode backfill --quiet
expect_eq "pii's violations stay as they were" "$before" "$(lg-store violations --policy pii | wc -l)"
expect_eq "the run's records do not list pii as evaluated" 0 \
	"$(lg-store export | jq -r 'select(.evaluation.policies | index("pii")) | .externalId' | wc -l | tr -d ' ')"
areq POST /api/policies/pii/toggle -d '{"enabled":true}'
expect_eq "toggle back on" '{"enabled":true}' "$(jq -c .policies.pii "$LG_CONFIG")"

# ---- the access log: one line per request, never the token ----
expect_contains "access log line" "$T/api.err" '"GET /api/integrations/prod/sync/status" 200 '
expect_not_contains "no token in the log" "$T/api.err" "$TOKEN"
expect_not_contains "no secret in the log" "$T/api.err" "sk-lf-api-secret-0001"
stop_api
expect_eq "exit 0 on SIGTERM" 0 "$API_RC"
expect_contains "stops on SIGTERM" "$T/api.err" "lg-sync: serve: stopped by SIGTERM"
