# lg-store's reading side: export/count filters, stats, violations with
# ack/resolve, automatic resolution, check (and what it catches), backup.
. "$ROOT/tests/lib.sh"
DB="$T/db"
export LG_NOW=2026-11-27T12:00:00Z
S() { lg-store --db "$DB" "$@"; }
ids() { jq -r .externalId | tr '\n' ' ' | sed 's/ $//'; }

# Six traces: two agents, two integrations, mixed status and violations.
cat >"$T/data" <<'JSON'
{"externalId":"a1","timestamp":"2026-11-20T10:00:00.000Z","duration":1000,"status":"success","userId":"u1","sessionId":"s1","agent":{"name":"Support","confidence":0.9},"metadata":{"model":"gpt-4o","tokens":{"input":100,"output":50,"total":150},"cost":0.01,"env":"prod","deep":{"k":"v"}},"source":{"system":"langfuse","integration":"prod"},"violations":[{"id":"v-a1-pii","policy":"pii","severity":"critical","message":"email"},{"id":"v-a1-cost","policy":"cost","severity":"low","message":"cost"}],"evaluation":{"policies":["pii","cost"]}}
{"externalId":"a2","timestamp":"2026-11-20T11:00:00.000Z","duration":3000,"status":"error","userId":"u1","sessionId":"s2","agent":{"name":"Support","confidence":0.9},"metadata":{"model":"gpt-4o","tokens":{"input":300,"output":100,"total":400},"cost":0.03,"env":"prod"},"source":{"system":"langfuse","integration":"prod"},"violations":[{"id":"v-a2-inj","policy":"injection","severity":"high","message":"ignore previous"}],"evaluation":{"policies":["pii","cost","injection"]}}
{"externalId":"a3","timestamp":"2026-11-21T09:00:00.000Z","duration":2000,"status":"success","userId":"u2","sessionId":"s3","agent":{"name":"Support","confidence":0.9},"metadata":{"model":"claude-3","tokens":{"input":10,"output":10,"total":20},"cost":0.002,"env":"dev"},"source":{"system":"langfuse","integration":"prod"}}
{"externalId":"b1","timestamp":"2026-11-21T10:00:00.000Z","duration":500,"status":"warning","userId":"u3","sessionId":"s4","agent":{"name":"Coder","confidence":0.6},"metadata":{"model":"claude-3","tokens":{"input":1000,"output":1000,"total":2000},"cost":0.2,"env":"prod"},"source":{"system":"langfuse","integration":"staging"},"violations":[{"id":"v-b1-sec","policy":"secrets","severity":"critical","message":"aws key"}],"evaluation":{"policies":["secrets"]}}
{"externalId":"b2","timestamp":"2026-11-22T00:00:00.000Z","duration":8000,"status":"success","userId":"u3","sessionId":"s4","metadata":{"model":"gpt-4o","tokens":{"input":5,"output":5,"total":10},"cost":0.001,"env":"prod"},"source":{"system":"langfuse","integration":"staging"}}
{"externalId":"b3","timestamp":"2026-11-23T00:00:00.000Z","status":"success","metadata":{"env":"prod"},"source":{"system":"langfuse","integration":"staging"}}
JSON
S put <"$T/data" 2>/dev/null

# ---- export and count filters ----
expect_eq "export all, time order" "a1 a2 a3 b1 b2 b3" "$(S export | ids)"
expect_eq "count all" 6 "$(S count)"
expect_eq "--from/--to half-open" "a3 b1" "$(S export --from 2026-11-21 --to 2026-11-22T00:00:00Z | ids)"
expect_eq "--from as a duration back from now" "b3" "$(S export --from 5d | ids)"
expect_eq "--agent" "a1 a2 a3" "$(S export --agent Support | ids)"
expect_eq "--status" "a2" "$(S export --status error | ids)"
expect_eq "--integration" "b1 b2 b3" "$(S export --integration staging | ids)"
expect_eq "--user" "a1 a2" "$(S export --user u1 | ids)"
expect_eq "--session" "b1 b2" "$(S export --session s4 | ids)"
expect_eq "--has-violations" "a1 a2 b1" "$(S export --has-violations | ids)"
expect_eq "--severity high (at least)" "a1 a2 b1" "$(S export --severity high | ids)"
expect_eq "--severity critical" "a1 b1" "$(S export --severity critical | ids)"
expect_eq "--min-duration/--max-duration" "a2 a3" "$(S export --min-duration 1500 --max-duration 3000 | ids)"
expect_eq "--min-tokens" "a2 b1" "$(S export --min-tokens 400 | ids)"
expect_eq "--max-cost" "a3 b2" "$(S export --max-cost 0.005 | ids)"
expect_eq "--meta KEY=VALUE" "a3" "$(S export --meta env=dev | ids)"
expect_eq "--meta on a path" "a1" "$(S export --meta deep.k=v | ids)"
expect_eq "filters combine" "1" "$(S count --integration prod --status success --min-tokens 100)"
expect_eq "--stale (never evaluated)" "6" "$(S count --stale)"
expect_eq "--stale from its index, in time order" "a1 a2 a3 b1 b2 b3" "$(S export --stale | ids)"
expect_eq "--stale with other filters" "b1 b2" "$(S export --stale --integration staging --to 2026-11-22T12:00:00Z | ids)"
expect_status "bad --severity exit 2" 2 lg-store --db "$DB" export --severity huge
expect_status "bad --from exit 2" 2 lg-store --db "$DB" export --from yesterday
expect_status "--from after --to exit 2" 2 lg-store --db "$DB" count --from 2026-11-22 --to 2026-11-21
expect_status "bad --min-cost exit 2" 2 lg-store --db "$DB" count --min-cost cheap

# ---- paging: --reverse, --limit, --after ----
expect_eq "export --reverse: newest first" "b3 b2 b1 a3 a2 a1" "$(S export --reverse | ids)"
expect_eq "export --limit" "a1 a2" "$(S export --limit 2 | ids)"
# a2's time key: 2026-11-20T11:00:00Z in ms, a colon, its id
expect_eq "export --after a2's key" "a3 b1" "$(S export --after 1795172400000:a2 --limit 2 | ids)"
expect_eq "export --reverse --after a2's key" "a1" "$(S export --reverse --after 1795172400000:a2 | ids)"
expect_eq "export --after with a filter" "a3" "$(S export --after 1795172400000:a2 --agent Support | ids)"
expect_eq "export --after a key between records" "a2 a3" "$(S export --after 1795172400000:a1 --limit 2 | ids)"
expect_eq "export --after before --from starts at --from" "a3 b1" "$(S export --after 1795172400000:a2 --from 2026-11-21 --to 2026-11-22 | ids)"
expect_eq "export --reverse --to --after past --to starts at --to" "b1 a3" "$(S export --reverse --to 2026-11-22 --after 1800000000000:zz --limit 2 | ids)"
pages="" cur=""
for _ in 1 2 3 4; do
	page=$(S export --reverse --limit 2 ${cur:+--after "$cur"})
	[ -n "$page" ] || break
	pages="$pages$(echo "$page" | ids) |"
	last=$(echo "$page" | tail -n1 | jq -r .externalId)
	case $last in
	a1) cur="1795168800000:a1" ;; a3) cur="1795251600000:a3" ;; b2) cur="1795305600000:b2" ;;
	*) cur="" ;;
	esac
done
expect_eq "pages of 2, newest first, each once" "b3 b2 |b1 a3 |a2 a1 |" "$pages"
expect_eq "violations --reverse --limit" "v-b1-sec v-a2-inj" "$(S violations --reverse --limit 2 | jq -r .id | tr '\n' ' ' | sed 's/ $//')"
expect_status "bad --after exit 2" 2 lg-store --db "$DB" export --after nocolon
expect_status "--after with count exit 2" 2 lg-store --db "$DB" count --after 1:a1
expect_eq "stats --by hour" "2026-11-20T10:00:00Z:1 2026-11-20T11:00:00Z:1 2026-11-21T09:00:00Z:1 2026-11-21T10:00:00Z:1 2026-11-22T00:00:00Z:1 2026-11-23T00:00:00Z:1" \
	"$(S stats --by hour --json | jq -r '[.groups[] | "\(.key):\(.traces)"] | sort | join(" ")')"

# ---- stats ----
expect_eq "stats --by agent --json" '{"by":"agent","groups":[{"key":"Support","traces":3,"successRate":0.6667,"avgDuration":2000,"p95Duration":3000,"tokens":570,"cost":0.042,"violations":{"critical":1,"high":1,"medium":0,"low":1,"total":3},"lastSeen":"2026-11-21T09:00:00.000Z"},{"key":"(none)","traces":2,"successRate":1,"avgDuration":8000,"p95Duration":8000,"tokens":10,"cost":0.001,"violations":{"critical":0,"high":0,"medium":0,"low":0,"total":0},"lastSeen":"2026-11-23T00:00:00.000Z"},{"key":"Coder","traces":1,"successRate":0,"avgDuration":500,"p95Duration":500,"tokens":2000,"cost":0.2,"violations":{"critical":1,"high":0,"medium":0,"low":0,"total":1},"lastSeen":"2026-11-21T10:00:00.000Z"}]}' \
	"$(S stats --by agent --json)"
expect_eq "stats --by policy --json (keys, traces)" "cost:1 injection:1 pii:1 secrets:1" \
	"$(S stats --by policy --json | jq -r '[.groups[] | "\(.key):\(.traces)"] | join(" ")')"
expect_eq "stats --by day" "2026-11-20:2 2026-11-21:2 2026-11-22:1 2026-11-23:1" \
	"$(S stats --by day --json | jq -r '[.groups[] | "\(.key):\(.traces)"] | join(" ")')"
expect_eq "stats, whole store, with a filter" '["all",4,0.5]' "$(S stats --json --max-duration 5000 | jq -c '[.groups[0].key, .groups[0].traces, .groups[0].successRate]')"
S stats --by model >"$T/out"
expect_eq "stats table header" "model                      traces  success     avg_ms     p95_ms       tokens     cost_usd  crit  high   med   low" "$(head -n1 "$T/out")"
expect_eq "stats table first row" "gpt-4o                          3    66.7%       4000       8000          560     0.041000     1     1     0     1" "$(sed -n 2p "$T/out")"
expect_status "stats --by bogus exit 2" 2 lg-store --db "$DB" stats --by colour
expect_status "stats --by one level twice exit 2" 2 lg-store --db "$DB" stats --by agent,agent
expect_status "stats --by three levels exit 2" 2 lg-store --db "$DB" stats --by agent,hour,day
# two levels: each agent's traces split by hour, each group as one level's
expect_eq "stats --by agent,hour: the agents, each with its hours" \
	'Support:3:2026-11-21T09:00:00.000Z[2026-11-20T10:00:00Z:1 2026-11-20T11:00:00Z:1 2026-11-21T09:00:00Z:1] (none):2:2026-11-23T00:00:00.000Z[2026-11-22T00:00:00Z:1 2026-11-23T00:00:00Z:1] Coder:1:2026-11-21T10:00:00.000Z[2026-11-21T10:00:00Z:1]' \
	"$(S stats --by agent,hour --json | jq -r '[.groups[] | "\(.key):\(.traces):\(.lastSeen)[\([.groups[] | "\(.key):\(.traces)"] | join(" "))]"] | join(" ")')"
for a in Support Coder; do
	expect_eq "stats --by agent,hour: $a's hours are stats --by hour --agent $a" \
		"$(S stats --by hour --agent "$a" --json | jq -c '.groups')" \
		"$(S stats --by agent,hour --json | jq -c --arg a "$a" '.groups[] | select(.key == $a) | .groups')"
done
expect_eq "stats --by policy,day: a trace under each policy, its violations of that policy" \
	'cost:2026-11-20:1:1 injection:2026-11-20:1:1 pii:2026-11-20:1:1 secrets:2026-11-21:1:1' \
	"$(S stats --by policy,day --json | jq -r '[.groups[] | .key as $p | .groups[] | "\($p):\(.key):\(.traces):\(.violations.total)"] | sort | join(" ")')"
S stats --by agent,model >"$T/out"
expect_eq "stats --by agent,model table: the second level indented" "  gpt-4o                        2    50.0%       2000       3000          550     0.040000     1     1     0     1" "$(sed -n 3p "$T/out")"

# ---- violations, ack, resolve ----
expect_eq "violations, all" "v-a1-pii v-a1-cost v-a2-inj v-b1-sec" "$(S violations | jq -r .id | tr '\n' ' ' | sed 's/ $//')"
expect_eq "violation line carries its trace" '{"id":"v-b1-sec","policy":"secrets","severity":"critical","message":"aws key","status":"new","externalId":"b1","traceTimestamp":"2026-11-21T10:00:00.000Z","agent":"Coder","integration":"staging"}' \
	"$(S violations --policy secrets)"
expect_eq "violations --severity critical --agent Support" "v-a1-pii" "$(S violations --severity critical --agent Support | jq -r .id)"
expect_eq "violations --limit --total: the lines, then all that match" 'v-a1-pii v-a1-cost {"$lg":"violations","total":4}' \
	"$(S violations --limit 2 --total | jq -rc '.id // .' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "violations --total with filters" '{"$lg":"violations","total":2}' "$(S violations --severity critical --total | tail -n1)"
expect_status "--total goes with violations only" 2 lg-store --db "$DB" export --total
S ack v-a1-pii --note "looking into it" >"$T/out"; s=$?
expect_eq "ack exit 0" 0 "$s"
expect_eq "ack prints the violation" '{"id":"v-a1-pii","policy":"pii","severity":"critical","message":"email","status":"acknowledged","acknowledgedAt":"2026-11-27T12:00:00.000Z","notes":"looking into it"}' "$(cat "$T/out")"
expect_eq "violations --status acknowledged" "v-a1-pii" "$(S violations --status acknowledged | jq -r .id)"
expect_eq "violations --status new --total after the ack" '{"$lg":"violations","total":3}' "$(S violations --status new --total | tail -n1)"
S resolve v-a1-pii >/dev/null
expect_eq "resolve keeps the note" "resolved|looking into it|resolved by user" "$(S violations --status resolved | jq -r '"\(.status)|\(.notes)|\(.resolution)"')"
expect_status "ack of a resolved violation exit 1" 1 lg-store --db "$DB" ack v-a1-pii
expect_eq "ack of a resolved violation says so" "lg-store: violation v-a1-pii: already resolved" "$(cat "$T/err")"
expect_status "resolve unknown violation exit 1" 1 lg-store --db "$DB" resolve v-nope
expect_eq "unknown violation message" "lg-store: violation v-nope: not found" "$(cat "$T/err")"
S ack v-a2-inj >/dev/null

# Re-evaluation: pii and injection ran again on a1 and a2; only a new pii
# violation on a2 is found. a1's pii stays resolved by the user, a2's
# injection is resolved automatically, its ack kept in history.
printf '%s\n' \
 '{"externalId":"a1","violations":[],"evaluation":{"policies":["pii","injection"]},"source":{"integration":"prod"}}' \
 '{"externalId":"a2","violations":[{"id":"v-a2-pii","policy":"pii","severity":"medium","message":"phone"}],"evaluation":{"policies":["pii","injection"]},"source":{"integration":"prod"}}' |
	S put 2>"$T/err"
expect_eq "re-evaluation summary" "lg-store: put: 0 ingested, 2 updated, 0 unchanged, 0 failed, 2 stale" "$(cat "$T/err")"
expect_eq "vanished violation resolved automatically" "resolved|no longer detected|2026-11-27T12:00:00.000Z" \
	"$(S violations --policy injection | jq -r '"\(.status)|\(.resolution)|\(.resolvedAt)"')"
expect_eq "user's resolution kept" "resolved by user" "$(S violations --policy pii --agent Support --severity critical | jq -r .resolution)"
expect_eq "policy that did not run keeps its violation" "new" "$(S violations --policy cost | jq -r .status)"
expect_eq "new violation is new" "new" "$(S violations --policy pii --severity medium --status new | jq -r .status)"

# ---- check: passes, and catches a planted inconsistency ----
S check >"$T/out" 2>"$T/err"; s=$?
expect_eq "check exit 0" 0 "$s"
expect_eq "check output" "6 records, 5 violations, 6 stale, 0 runs: ok" "$(cat "$T/out")"

# ---- backup while a writer runs ----
python3 -c '
import json
for i in range(20000):
    print(json.dumps({"externalId":"bk%06d" % i,"timestamp":"2026-10-01T00:00:00.000Z","output":"z" * 200,"source":{"integration":"prod"}}))' >"$T/bulk"
S --batch 200 put <"$T/bulk" 2>/dev/null &
writer=$!
sleep 0.3
S backup "$T/backup.mdb" 2>"$T/err"; s=$?
wait $writer
expect_eq "backup exit 0" 0 "$s"
mkdir -p "$T/restored" && cp "$T/backup.mdb" "$T/restored/data.mdb"
n=$(lg-store --db "$T/restored" count)
expect_eq "backup is a usable store" 1 "$([ "$n" -ge 6 ] && [ "$n" -le 20006 ] && echo 1)"
expect_status "backup passes check" 0 lg-store --db "$T/restored" check
expect_eq "backup has the same a1" "$(S get a1)" "$(lg-store --db "$T/restored" get a1)"
expect_status "backup to a missing directory exit 6" 6 lg-store --db "$DB" backup "$T/no/such/dir/b.mdb"

# Readers never block writers: an export holding its read transaction open
# (its reader is asleep, the pipe is full) while a put commits.
mkfifo "$T/slow"
S export >"$T/slow" &
reader=$!
exec 7<"$T/slow"
sleep 0.2
echo '{"externalId":"during-export","timestamp":"2026-11-24T00:00:00Z","source":{"integration":"prod"}}' | S put 2>/dev/null; s=$?
alive=$(kill -0 "$reader" 2>/dev/null && echo yes || echo no)
expect_eq "put commits while an export is open" "0 yes" "$s $alive"
cat <&7 >"$T/snapshot"
exec 7<&-
wait "$reader"
expect_eq "the export saw its own snapshot" 0 "$(grep -c during-export "$T/snapshot")"
expect_eq "the put is visible to the next reader" during-export "$(S get during-export | jq -r .externalId)"

# Plant index entries that point nowhere with LMDB's own loader, each with
# its checksum. (a stale key is 8 bytes of time, here the epoch, then the
# externalId)
python3 "$ROOT/tests/store_sum.py" --time 0 stale ghost "" | mdb_load -T -s stale "$DB"
python3 "$ROOT/tests/store_sum.py" violations v-ghost nobody | mdb_load -T -s violations "$DB"
S check >"$T/out" 2>"$T/err"; s=$?
expect_eq "check finds planted entries: exit 1" 1 "$s"
expect_eq "check names them" "lg-store: check: v-ghost: violation index entry without a record holding it
lg-store: check: ghost: stale index entry for a record that is not stale" "$(cat "$T/err")"

# A trace that comes in two fragments, each evaluated on its own (a late
# span in a later run): the second evaluation did not see the first's
# input, so the violation found there stays as people left it, and the
# whole record, evaluated again, still has it.
DB="$T/db-fragments"
echo '{"externalId":"f1","timestamp":"2026-11-20T10:00:00.000Z","input":"mail jane.doe@example.org please","output":"ok","spans":[{"id":"s1","name":"root","startTime":"2026-11-20T10:00:00.000Z"}],"source":{"system":"langfuse","integration":"prod"}}' |
	lg-policy | S put 2>/dev/null
vid=$(S violations | jq -r 'select(.policy == "pii") | .id')
S ack "$vid" --note "on it" >/dev/null
echo '{"externalId":"f1","timestamp":"2026-11-20T10:00:00.000Z","spans":[{"id":"s2","name":"late","startTime":"2026-11-20T10:30:00.000Z"}],"source":{"system":"langfuse","integration":"prod"}}' |
	lg-policy | S put 2>/dev/null
expect_eq "a fragment's evaluation leaves an acknowledged violation" "acknowledged" \
	"$(S get f1 | jq -r --arg v "$vid" '.violations[] | select(.id == $v) | .status')"
expect_eq "the merged record is stale" true "$(S get f1 | jq -r .stale)"
S export --stale | lg-policy | S put 2>/dev/null
expect_eq "evaluated whole: still acknowledged, with its note" "acknowledged on it" \
	"$(S get f1 | jq -r --arg v "$vid" '.violations[] | select(.id == $v) | "\(.status) \(.notes)"')"
