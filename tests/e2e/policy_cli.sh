#!/bin/bash
# lg-policy end to end: what is not one input -> one output (the built-in
# dump reloaded, the quarantine file, write errors, closed pipes, a line made
# here, the pipeline from lg-map, the version). The input -> output cases
# (usage, --list, --self-test, policy file errors, exact records, --fail-on,
# --explain, custom policies, the injection scorer) are data in
# tests/cases/policy/.
. "$ROOT/tests/lib.sh"
export LG_NOW=2026-11-27T10:00:00Z
P=lg-policy

# ---- the version line carries the build's version, not data
expect_status version 0 $P --version
expect_contains version-text "$T/out" "lg-policy "

# ---- dump, reload the dump
$P --list > "$T/list1"
$P --dump-builtin > "$T/builtin.json"
expect_eq dump-is-json "12" "$(jq '.policies | length' "$T/builtin.json")"
$P --no-builtin --policies "$T/builtin.json" --list > "$T/list2"
expect_eq dump-reloads "$(cat "$T/list1")" "$(cat "$T/list2")"

# ---- stream contract: quarantine, write errors, head, a long line
{
	echo '{"$lg":"run-start","run":"r1","integration":"prod"}'
	echo '{"externalId":"a","output":"fine"}'
	echo '{"externalId":'
	echo '{"externalId":"b","output":"mail jane@example.com"}'
	echo '{"$lg":"checkpoint","run":"r1","cursor":"2026-01-01T00:00:00Z"}'
} > "$T/mixed.ndjson"
expect_status bad-line 1 $P -q "$T/q.txt" "$T/mixed.ndjson"
expect_eq quarantine "# $T/mixed.ndjson:3: invalid JSON at byte 15: unexpected end of input
{\"externalId\":" "$(cat "$T/q.txt")"
for i in $(seq 1 200); do echo '{"externalId":"h'$i'","output":"x"}'; done > "$T/many.ndjson"
expect_output_errors $P "$T/many.ndjson"
python3 -c 'import json; print(json.dumps({"externalId":"long","output":"a"*70000+" jane@example.com"}))' > "$T/long.ndjson"
expect_status long-line 0 $P "$T/long.ndjson"
expect_eq long-line-offset '70001' "$(jq -c '.violations[0].evidence.start' "$T/out")"

# ---- the whole pipeline on Langfuse's example trace (a copy in tests/data)
lg-map <"$ROOT/tests/data/trace_full.ndjson" | $P > "$T/pipe.ndjson"; s=$?
expect_eq pipeline-status 0 "$s"
expect_eq pipeline-email-in-metadata '["metadata.email"]' "$(jq -c '[.violations[].evidence.location]' "$T/pipe.ndjson")"
