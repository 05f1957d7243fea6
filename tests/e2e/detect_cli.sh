# lg-detect through the real binary: what is not one input -> one output
# (running twice, the quarantine file, closed pipes, full disks, a line made
# here, the version). The input -> output cases (Langfuse's example, control
# lines, bad lines, rules errors, --explain, --known, aliases, usage errors)
# are data in tests/cases/detect/.
. "$ROOT/tests/lib.sh"
lg-map <"$ROOT/tests/data/trace_full.ndjson" >"$T/rec.json"

# Twice gives the same bytes.
jq -c '.tags += ["agent:CustomerService"] | .metadata.agent_name = "cs-bot" | .metadata.agent_version = "2.1.0"' \
	"$T/rec.json" >"$T/tagged.json"
lg-detect <"$T/tagged.json" >"$T/once"
lg-detect <"$T/once" >"$T/twice"
expect_eq "idempotent" "$(cat "$T/once")" "$(cat "$T/twice")"

# Bad lines: the quarantine file keeps them verbatim.
printf '%s\n' '{"name":"A1.x","tags":["agent:Good1"]}' '{"name": oops}' '[1]' '{"name":"x","tags":["agent:Good2"]}' >"$T/mixed.ndjson"
lg-detect --quarantine "$T/q" "$T/mixed.ndjson" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad line exit 1" 1 "$s"
expect_eq "quarantine verbatim" '{"name": oops}' "$(sed -n 2p "$T/q")"

# A record over 64 KiB.
python3 -c 'import json; print(json.dumps({"externalId":"big","name":"x","input":"a"*100000,"tags":["agent:Big"]}))' >"$T/big.json"
lg-detect <"$T/big.json" >"$T/out"; s=$?
expect_eq "big line exit 0" 0 "$s"
expect_eq "big line agent" "Big 100000" "$(jq -r '"\(.agent.name) \(.input|length)"' "$T/out")"

# The version line carries the build's version, not data.
expect_status "--version exit 0" 0 lg-detect --version
expect_contains "--version on stdout" "$T/out" "lg-detect "

# Write errors and closed pipes.
for i in $(seq 3000); do cat "$T/tagged.json"; done >"$T/many.ndjson"
expect_output_errors lg-detect "$T/many.ndjson"
