# lg-map through the real binary: what is not one input -> one output (the
# quarantine file, closed pipes, full disks, inputs too big to keep as data,
# the version). The input -> output cases (Langfuse's example, bad lines,
# usage errors, odd values, control lines) are data in tests/cases/map/.
. "$ROOT/tests/lib.sh"
EX="$ROOT/tests/data/trace_full.ndjson"

# Bad JSON among good lines: the quarantine file keeps it verbatim after its reason.
{ cat "$EX"; echo '{"id": "x", oops}'; cat "$EX"; } >"$T/mixed.ndjson"
lg-map --quarantine "$T/q" <"$T/mixed.ndjson" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad line exit 1" 1 "$s"
expect_eq "quarantine keeps the line verbatim" '{"id": "x", oops}' "$(sed -n 2p "$T/q")"
expect_eq "quarantine reason" "# <stdin>:2: invalid JSON at byte 13: expected a string key" "$(sed -n 1p "$T/q")"

# The version line carries the build's version, not data.
expect_status "--version exit 0" 0 lg-map --version
expect_contains "--version on stdout" "$T/out" "lg-map "

# Write errors and closed pipes.
for i in $(seq 2000); do cat "$EX"; done >"$T/many.ndjson"
expect_output_errors lg-map "$T/many.ndjson"

# Sizes made here rather than kept as data: a 1 MiB string, a line over 64 KiB.
python3 -c 'import json; print(json.dumps({"id":"big","input":"x"*1048576+"\u00e9","observations":[]}))' >"$T/big.ndjson"
lg-map <"$T/big.ndjson" >"$T/out"; s=$?
expect_eq "1 MiB string exit 0" 0 "$s"
expect_eq "1 MiB string intact" "1048577" "$(jq -r '.input|length' "$T/out")"
python3 -c 'import json; print(json.dumps({"id":"long","metadata":{"blob":"y"*70000},"observations":[]}))' | lg-map >"$T/out"
expect_eq "line over 64 KiB" "70000" "$(jq -r '.metadata.blob|length' "$T/out")"
