# lg-store's summaries: stats, violations and filtered counts answered from
# them are what the records themselves give; a store from before summaries
# gets them at its next write; ack and resolve, merges and moved
# timestamps keep them in line; check compares each with its record.
. "$ROOT/tests/lib.sh"
export LG_NOW=2026-11-27T12:00:00Z
NEW="$T/new" OLD="$T/old"
S() { lg-store --db "$NEW" "$@"; }

# 300 traces over three days: agents, models, users, statuses, numbers in
# every form (absent, a string, huge), and violations of every kind.
python3 - >"$T/data" <<'EOF'
import json, random
r = random.Random(7)
for i in range(300):
    rec = {"externalId": "t%03d" % i,
           "timestamp": "2026-11-%02dT%02d:%02d:00.000Z" % (24 + i % 3, i % 24, i % 60),
           "status": r.choice(["success", "error", "warning", "", None]),
           "userId": r.choice(["u1", "u2", None]), "sessionId": r.choice(["s1", "s2", "s3"]),
           "source": {"system": "langfuse", "integration": r.choice(["prod", "dev"])},
           "metadata": {"model": r.choice(["gpt-4o", "claude-3", None]),
                        "tokens": {"total": r.choice([10, 250, "HUGE", "12", None])},
                        "cost": r.choice([0.01, 0.5, 1.25e-7, None])}}
    if i % 5:
        rec["agent"] = {"name": r.choice(["Support", "Coder", "Agent <b>"]), "confidence": 0.8}
    elif i % 2:
        rec["metadata"]["agent_name"] = "Meta"
    if i % 7:
        rec["duration"] = r.choice([120, 5000.5, 0, "slow", -1])
    if i % 3 == 0:
        rec["violations"] = [{"id": "v%03d-%d" % (i, j), "policy": r.choice(["pii", "secrets", "injection"]),
                              "severity": r.choice(["low", "MEDIUM", "high", "critical", "odd"]),
                              "message": "m", "status": "new"} for j in range(1 + i % 4)]
        rec["evaluation"] = {"policies": ["pii", "secrets", "injection"]}
    if i == 9:
        rec["timestamp"] = "2026-11-25T10:00:00+02:00"
    if i == 12:
        del rec["timestamp"]
    # 1e999: a number JSON allows that reads as infinity
    print(json.dumps({k: v for k, v in rec.items() if v is not None}).replace('"HUGE"', "1e999"))
EOF
S put --summary none <"$T/data" || fail setup "put"
expect_status "a new store: check passes with summaries" 0 S check
expect_eq "a new store: a summary for every record" "300" \
	"$(mdb_stat -s summaries "$NEW" | sed -n 's/^ *Entries: //p')"

# A store from before summaries: every sub-database but summaries, and no
# "summary" key in state (73756d6d617279 in mdb_dump's hex).
mkdir -p "$OLD"
for db in records by_time violations stale runs state changes change_ids; do
	mdb_dump -s "$db" "$NEW" | awk '
		/^HEADER=END/ { body = 1; print; next }
		!body { print; next }
		skip { skip = 0; next }
		$0 == " 73756d6d617279" { skip = 1; next }
		{ print }' | mdb_load -s "$db" "$OLD" 2>/dev/null
done
expect_eq "old store: no summaries" "" "$(mdb_dump -l "$OLD" | grep -x summaries)"

# ---- the same answers from the summaries as from the records ----
same() { # LABEL ARGS...: NEW (summaries) and OLD (records) answer alike
	local label=$1 a b
	shift
	a=$(lg-store --db "$NEW" "$@" 2>&1; echo "exit $?")
	b=$(lg-store --db "$OLD" "$@" 2>&1; echo "exit $?")
	expect_eq "same answer: $label" "$b" "$a"
}
for by in "" agent model day hour policy integration user session agent,hour policy,day hour,agent; do
	for filt in "" "--from 2026-11-25" "--agent Support" "--status success --to 2026-11-26" \
		"--severity high" "--policy pii --integration dev" "--min-duration 100 --max-tokens 300" \
		"--user u1 --session s2 --min-cost 0.1"; do
		# shellcheck disable=SC2086
		same "stats ${by:+--by $by} $filt" stats ${by:+--by "$by"} $filt
		# shellcheck disable=SC2086
		same "stats --json ${by:+--by $by} $filt" stats --json ${by:+--by "$by"} $filt
	done
done
for filt in "" "--from 2026-11-25 --limit 7" "--severity medium" "--status new --policy secrets" \
	"--agent Coder --reverse --limit 3" "--integration prod --from 2026-11-26"; do
	# shellcheck disable=SC2086
	same "violations $filt" violations $filt
	# shellcheck disable=SC2086
	same "violations --total $filt" violations --total $filt
done
for filt in "--agent Meta" "--has-violations" "--max-duration 200" "--status error --from 2026-11-25"; do
	# shellcheck disable=SC2086
	same "count $filt" count $filt
	# shellcheck disable=SC2086
	same "export $filt" export $filt
done
expect_eq "violations --total counts past the limit" \
	"$(S violations | wc -l)" "$(S violations --limit 3 --total | tail -n1 | jq .total)"
expect_eq "the old store reads as it is: nothing written" "" "$(mdb_dump -l "$OLD" | grep -x summaries)"

# ---- the next write summarizes a store from before summaries ----
: | lg-store --db "$OLD" put --summary none
expect_eq "old store: put made the summaries" "300" "$(mdb_stat -s summaries "$OLD" | sed -n 's/^ *Entries: //p')"
expect_eq "old store: each as put writes it" "$(mdb_dump -s summaries "$NEW" | sed 1,/HEADER=END/d)" \
	"$(mdb_dump -s summaries "$OLD" | sed 1,/HEADER=END/d)"
expect_eq "old store: marked" " 31" "$(mdb_dump -s state "$OLD" | grep -A1 -x ' 73756d6d617279' | tail -n1 | cut -c1-3)"
expect_status "old store: check passes" 0 lg-store --db "$OLD" check

# ---- ack and resolve change the summary ----
vid=$(S violations --status new --limit 1 | jq -r .id)
new_before=$(S violations --status new --total | tail -n1 | jq .total)
S ack "$vid" >/dev/null
expect_eq "ack: one new violation fewer" "$((new_before - 1))" "$(S violations --status new --total | tail -n1 | jq .total)"
expect_eq "ack: listed as acknowledged" "$vid" "$(S violations --status acknowledged | jq -r .id)"
S resolve "$vid" >/dev/null
expect_eq "resolve: listed as resolved" "$vid" "$(S violations --status resolved | jq -r .id)"
expect_status "ack, resolve: check passes (each summary is its record's)" 0 S check

# ---- merges: a fragment moving the timestamp, one adding violations ----
printf '%s\n' \
	'{"externalId":"t001","timestamp":"2026-11-20T00:00:00.000Z","source":{"integration":"'"$(S get t001 | jq -r .source.integration)"'"}}' \
	'{"externalId":"t002","agent":{"name":"Later","confidence":1},"violations":[{"id":"vx","policy":"pii","severity":"critical","message":"m"}],"evaluation":{"policies":["pii"]},"source":{"integration":"'"$(S get t002 | jq -r .source.integration)"'"}}' |
	S put --summary none
expect_eq "merge: the summary moved with the timestamp" "t001:1" \
	"$(S stats --by agent --json --to 2026-11-21 | jq -r '"t001:\(.groups[0].traces)"')"
expect_eq "merge: the new agent and violation counted" "1:1" \
	"$(S stats --by agent --json --agent Later | jq -r '"\(.groups[0].traces):\(.groups[0].violations.critical)"')"
expect_status "merge: check passes" 0 S check
expect_eq "merge: still one summary a record" "300" "$(mdb_stat -s summaries "$NEW" | sed -n 's/^ *Entries: //p')"

# ---- check: a summary that disagrees with its record (a valid checksum) ----
ts=$(S get t003 | jq -r .timestamp)
ms=$(python3 -c 'import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()*1000))' "$ts")
# a well-formed summary of version 1 (docs/store.md): no numbers, every
# string absent, no violation: not t003's
empty="0100$(printf '0%.0s' $(seq 48))$(printf 'ffffffff%.0s' 1 2 3 4 5 6 7)00000000"
python3 "$ROOT/tests/store_sum.py" --hex --time "$ms" summaries t003 "$empty" | mdb_load -T -s summaries "$NEW"
expect_status "check: a summary unlike its record exit 1" 1 S check
expect_contains "check: names it and says why" "$T/err" "t003: summary disagrees with its record"
# one that is not a summary at all
python3 "$ROOT/tests/store_sum.py" --hex --time "$ms" summaries t003 "01" | mdb_load -T -s summaries "$NEW"
expect_status "check: a malformed summary exit 1" 1 S check
expect_contains "check: says it is malformed" "$T/err" "t003: summary malformed"
expect_status "stats on a malformed summary exit 6" 6 S stats
expect_eq "stats names the summary" "lg-store: db: summary 't003': malformed (the store is damaged: 'lg-store check' lists what is; restore from a backup)" "$(cat "$T/err")"
