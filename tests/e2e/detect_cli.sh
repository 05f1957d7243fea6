# lg-detect through the real binary: records from lg-map, control lines,
# rules errors, --explain, and the robustness cases of STYLE.md.
. "$ROOT/tests/lib.sh"
lg-map <"$ROOT/tests/data/trace_full.ndjson" >"$T/rec.json"

# Langfuse's own example names no agent: null, nothing invented, rest intact.
lg-detect <"$T/rec.json" >"$T/out"; s=$?
expect_eq "example exit 0" 0 "$s"
expect_eq "example: agent null" "null" "$(jq -c .agent "$T/out")"
expect_eq "example: no metadata.agent_name" "false" "$(jq -c '.metadata|has("agent_name")' "$T/out")"
expect_eq "example: everything else unchanged" "$(jq -cS 'del(.agent)' "$T/rec.json")" "$(jq -cS 'del(.agent)' "$T/out")"

# The same record with an agent tag and a conflicting metadata key.
jq -c '.tags += ["agent:CustomerService"] | .metadata.agent_name = "cs-bot" | .metadata.agent_version = "2.1.0"' \
	"$T/rec.json" >"$T/tagged.json"
lg-detect <"$T/tagged.json" >"$T/out"
expect_eq "tag wins, conflict listed" \
	'{"name":"CustomerService","source":"tag","key":"agent:CustomerService","confidence":0.75,"version":"2.1.0","conflicts":[{"name":"cs-bot","source":"metadata","key":"metadata.agent_name"}]}' \
	"$(jq -c .agent "$T/out")"
expect_eq "metadata.agent_name follows agent" "CustomerService" "$(jqv "$T/out" .metadata.agent_name)"
echo '{"aliases":{"cs-bot":"CustomerService"}}' >"$T/rules.json"
lg-detect --rules "$T/rules.json" <"$T/tagged.json" >"$T/out"
expect_eq "alias removes the conflict" \
	'{"name":"CustomerService","source":"tag","key":"agent:CustomerService","confidence":0.95,"version":"2.1.0"}' \
	"$(jq -c .agent "$T/out")"

# Twice gives the same bytes.
lg-detect <"$T/tagged.json" >"$T/once"
lg-detect <"$T/once" >"$T/twice"
expect_eq "idempotent" "$(cat "$T/once")" "$(cat "$T/twice")"

# Control lines pass through unchanged and in order; 19-digit ints survive.
{
	echo '{"$lg":"run-start","run":"r1","integration":"prod"}'
	echo '{"externalId":"x1","name":"Billing.refund","n":1234567890123456789}'
	echo '{"$lg":"checkpoint","run":"r1","cursor":"2026-01-01T00:00:00Z"}'
} >"$T/ctl.ndjson"
lg-detect <"$T/ctl.ndjson" >"$T/out"; s=$?
expect_eq "control lines exit 0" 0 "$s"
expect_eq "control lines verbatim and in order" \
'{"$lg":"run-start","run":"r1","integration":"prod"}
{"externalId":"x1","name":"Billing.refund","n":1234567890123456789,"metadata":{"agent_name":"Billing"},"agent":{"name":"Billing","source":"pattern","key":"Agent.operation","confidence":0.5}}
{"$lg":"checkpoint","run":"r1","cursor":"2026-01-01T00:00:00Z"}' "$(cat "$T/out")"

# --explain: one line per record on stderr, saying what fired.
printf '%s\n' '{"externalId":"e1","name":"x","tags":["agent:"],"metadata":{"agent":null}}' \
	'{"externalId":"e2","name":"langchain.invoke"}' \
	'{"externalId":"e3","name":"x","metadata":{"attributes":{"gen_ai.agent.name":"Otel"}}}' >"$T/ex.ndjson"
lg-detect --explain <"$T/ex.ndjson" >"$T/out" 2>"$T/err"
expect_eq "explain lines" \
"lg-detect: <stdin>:1: e1: no agent: no agent tag, metadata key or AGENT observation, and trace name 'x' matched no pattern; tag 'agent:' names no agent
lg-detect: <stdin>:2: e2: no agent: no agent tag, metadata key or AGENT observation, and trace name 'langchain.invoke' matched no pattern; pattern 'Agent.operation' matched 'langchain', not an agent name
lg-detect: <stdin>:3: e3: agent Otel from metadata 'metadata.attributes.gen_ai.agent.name' (confidence 0.90)" "$(cat "$T/err")"
expect_eq "explain leaves stdout as without it" "$(lg-detect <"$T/ex.ndjson")" "$(cat "$T/out")"

# --known: spelling and acceptance of lower-case pattern names.
printf 'travel-planner\n' >"$T/known.txt"
echo '{"externalId":"k1","name":"travel-planner/book"}' | lg-detect --known "$T/known.txt" >"$T/out"
expect_eq "--known name" '{"name":"travel-planner","source":"pattern","key":"agent/operation","confidence":0.6}' "$(jq -c .agent "$T/out")"

# Rules errors: exit 2 before reading input, naming file, rule and PCRE2's words.
echo '{"patterns":[{"name":"svc","regex":"^(?<agent>[a-z]+"}]}' >"$T/bad.json"
echo '{"name":"x"}' | lg-detect --rules "$T/bad.json" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad regex exit 2" 2 "$s"
expect_eq "bad regex message" "lg-detect: $T/bad.json: pattern 'svc': regex error at offset 16: missing closing parenthesis" "$(cat "$T/err")"
expect_eq "bad regex: no output" "" "$(cat "$T/out")"
echo '{"precedence":["tag","magic"]}' >"$T/bad2.json"
expect_status "bad precedence exit 2" 2 lg-detect --rules "$T/bad2.json" </dev/null
expect_eq "bad precedence message" "lg-detect: $T/bad2.json: precedence[1]: unknown source (want tag, metadata, observation or pattern)" "$(cat "$T/err")"
expect_status "missing rules file exit 2" 2 lg-detect --rules "$T/none.json" </dev/null
expect_eq "missing rules file message" "lg-detect: $T/none.json: No such file or directory" "$(cat "$T/err")"
printf '{"a":' >"$T/bad3.json"
expect_status "rules not JSON exit 2" 2 lg-detect --rules "$T/bad3.json" </dev/null
expect_contains "rules not JSON message" "$T/err" "$T/bad3.json: invalid JSON at byte"

# Bad lines: reported with file:line, quarantined, neighbours kept, exit 1.
printf '%s\n' '{"name":"A1.x","tags":["agent:Good1"]}' '{"name": oops}' '[1]' '{"name":"x","tags":["agent:Good2"]}' >"$T/mixed.ndjson"
lg-detect --quarantine "$T/q" "$T/mixed.ndjson" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad line exit 1" 1 "$s"
expect_eq "good lines survive" "Good1 Good2" "$(jq -r .agent.name "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "bad line messages" "lg-detect: $T/mixed.ndjson:2: invalid JSON at byte 10: unexpected character
lg-detect: $T/mixed.ndjson:3: not a JSON object" "$(cat "$T/err")"
expect_eq "quarantine verbatim" '{"name": oops}' "$(sed -n 2p "$T/q")"

# A record over 64 KiB.
python3 -c 'import json; print(json.dumps({"externalId":"big","name":"x","input":"a"*100000,"tags":["agent:Big"]}))' >"$T/big.json"
lg-detect <"$T/big.json" >"$T/out"; s=$?
expect_eq "big line exit 0" 0 "$s"
expect_eq "big line agent" "Big 100000" "$(jq -r '"\(.agent.name) \(.input|length)"' "$T/out")"

# Usage, help, version.
expect_status "unknown option exit 2" 2 lg-detect --bogus
expect_eq "unknown option message" "lg-detect: unknown option '--bogus'
Try 'lg-detect --help'" "$(cat "$T/err")"
expect_status "missing argument exit 2" 2 lg-detect --rules
expect_contains "missing argument message" "$T/err" "requires an argument"
expect_status "--help exit 0" 0 lg-detect --help
expect_contains "--help on stdout" "$T/out" "Usage: lg-detect"
expect_status "--version exit 0" 0 lg-detect --version
expect_contains "--version on stdout" "$T/out" "lg-detect "
expect_status "missing input file exit 6" 6 lg-detect "$T/nope.ndjson"
expect_contains "missing input file named" "$T/err" "nope.ndjson: No such file or directory"

# Write errors and closed pipes.
lg-detect <"$T/tagged.json" >/dev/full 2>"$T/err"; s=$?
expect_eq "/dev/full exit 6" 6 "$s"
expect_contains "/dev/full says write error" "$T/err" "write error"
for i in $(seq 3000); do cat "$T/tagged.json"; done >"$T/many.ndjson"
( lg-detect <"$T/many.ndjson" 2>"$T/err"; echo "$?" >"$T/rc" ) | head -n1 >"$T/first"
expect_eq "| head -n1 gives one record" 1 "$(wc -l <"$T/first" | tr -d ' ')"
expect_eq "| head -n1 is quiet" "" "$(cat "$T/err")"
expect_eq "| head -n1 exit 0" 0 "$(cat "$T/rc")"

# A trace name that is text, not a label, is not pattern-matched.
python3 -c 'print("{\"externalId\":\"long\",\"name\":\"Planner.%s\"}" % ("x" * 2000))' | lg-detect >"$T/out"
expect_eq "long trace name: no pattern" "null" "$(jq -c .agent "$T/out")"
