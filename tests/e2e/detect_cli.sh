# lg-detect through the real binary on records from lg-map, bad lines and
# pipes; the input -> output cases (control lines, rules errors, --explain,
# --known, aliases, usage errors) are data in tests/cases/detect/.
. "$ROOT/tests/lib.sh"
lg-map <"$ROOT/tests/data/trace_full.ndjson" >"$T/rec.json"

# Langfuse's own example names no agent: null, nothing invented, rest intact.
lg-detect <"$T/rec.json" >"$T/out"; s=$?
expect_eq "example exit 0" 0 "$s"
expect_eq "example: agent null" "null" "$(jq -c .agent "$T/out")"
expect_eq "example: no metadata.agent_name" "false" "$(jq -c '.metadata|has("agent_name")' "$T/out")"
expect_eq "example: everything else unchanged" "$(jq -cS 'del(.agent)' "$T/rec.json")" "$(jq -cS 'del(.agent)' "$T/out")"

# Twice gives the same bytes.
jq -c '.tags += ["agent:CustomerService"] | .metadata.agent_name = "cs-bot" | .metadata.agent_version = "2.1.0"' \
	"$T/rec.json" >"$T/tagged.json"
lg-detect <"$T/tagged.json" >"$T/once"
lg-detect <"$T/once" >"$T/twice"
expect_eq "idempotent" "$(cat "$T/once")" "$(cat "$T/twice")"

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
