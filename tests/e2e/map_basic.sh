# lg-map through the real binary: exact values on Langfuse's own example,
# and the robustness cases every filter must survive (bad lines, big and
# odd values, closed pipes, full disks).
. "$ROOT/tests/lib.sh"
EX="$ROOT/tests/data/trace_full.ndjson"

lg-map --integration prod --host https://cloud.langfuse.com <"$EX" >"$T/rec.json"; s=$?
expect_eq "example exit 0" 0 "$s"
expect_eq "externalId" "12ea412956f99347b0503c1144acd0ec" "$(jqv "$T/rec.json" .externalId)"
expect_eq "duration ms from latency" "2779" "$(jqv "$T/rec.json" .duration)"
expect_eq "tokens" "13 81 94" "$(jqv "$T/rec.json" '"\(.metadata.tokens.input) \(.metadata.tokens.output) \(.metadata.tokens.total)"')"
expect_eq "cost" "0.000842499999" "$(jqv "$T/rec.json" .metadata.cost)"
expect_eq "model" "gpt-4o" "$(jqv "$T/rec.json" .metadata.model)"
expect_eq "span types" "span,llm" "$(jqv "$T/rec.json" '[.spans[].type]|join(",")')"
expect_eq "span parent" "3344aabdd4e66110" "$(jqv "$T/rec.json" '.spans[1].parentId')"
expect_eq "span duration" "2776" "$(jqv "$T/rec.json" '.spans[1].duration')"
expect_eq "status" "success" "$(jqv "$T/rec.json" .status)"
expect_eq "langfuse metadata kept" "user@langfuse.com" "$(jqv "$T/rec.json" .metadata.email)"
expect_eq "tags" "llama-index,rag" "$(jqv "$T/rec.json" '.tags|join(",")')"
expect_eq "userId sessionId" "user_123 session_abc" "$(jqv "$T/rec.json" '"\(.userId) \(.sessionId)"')"
expect_eq "source" "langfuse prod https://cloud.langfuse.com/project/cloramnkj0002jz088vzn1ja4/traces/12ea412956f99347b0503c1144acd0ec" \
	"$(jqv "$T/rec.json" '"\(.source.system) \(.source.integration) \(.source.htmlPath)"')"
expect_eq "latency breakdown" '{"totalMs":2779,"llmMs":2776,"retrievalMs":0,"toolMs":0,"otherMs":3,"ttftMs":null}' \
	"$(jq -c .metadata.latency "$T/rec.json")"

# Bad JSON among good lines: good ones out, error names the line, exit 1.
{ cat "$EX"; echo '{"id": "x", oops}'; cat "$EX"; } >"$T/mixed.ndjson"
lg-map --quarantine "$T/q" <"$T/mixed.ndjson" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad line exit 1" 1 "$s"
expect_eq "good lines survive a bad neighbour" 2 "$(wc -l <"$T/out" | tr -d ' ')"
expect_eq "bad line message" "lg-map: <stdin>:2: invalid JSON at byte 13: expected a string key" "$(cat "$T/err")"
expect_eq "quarantine keeps the line verbatim" '{"id": "x", oops}' "$(sed -n 2p "$T/q")"
expect_eq "quarantine reason" "# <stdin>:2: invalid JSON at byte 13: expected a string key" "$(sed -n 1p "$T/q")"

printf '[1,2]\n{"name":"no id"}\n' | lg-map >"$T/out" 2>"$T/err"; s=$?
expect_eq "non-object and id-less exit 1" 1 "$s"
expect_eq "non-object and id-less messages" "lg-map: <stdin>:1: not a JSON object
lg-map: <stdin>:2: trace has no \"id\"" "$(cat "$T/err")"

# Usage, help, version.
expect_status "unknown option exit 2" 2 lg-map --bogus
expect_eq "unknown option message" "lg-map: unknown option '--bogus'
Try 'lg-map --help'" "$(cat "$T/err")"
expect_status "missing argument exit 2" 2 lg-map --integration
expect_contains "missing argument message" "$T/err" "requires an argument"
expect_status "--help exit 0" 0 lg-map --help
expect_contains "--help on stdout" "$T/out" "Usage: lg-map"
expect_status "--version exit 0" 0 lg-map --version
expect_contains "--version on stdout" "$T/out" "lg-map "
expect_status "missing file exit 6" 6 lg-map "$T/nope.ndjson"
expect_contains "missing file named" "$T/err" "nope.ndjson: No such file or directory"

# Write errors and closed pipes.
lg-map <"$EX" >/dev/full 2>"$T/err"; s=$?
expect_eq "/dev/full exit 6" 6 "$s"
expect_contains "/dev/full says write error" "$T/err" "write error"
for i in $(seq 2000); do cat "$EX"; done >"$T/many.ndjson"
( lg-map <"$T/many.ndjson" 2>"$T/err"; echo "$?" >"$T/rc" ) | head -n1 >"$T/first"
expect_eq "| head -n1 gives one record" 1 "$(wc -l <"$T/first" | tr -d ' ')"
expect_eq "| head -n1 is quiet" "" "$(cat "$T/err")"
expect_eq "| head -n1 exit 0" 0 "$(cat "$T/rc")"

# Fidelity: 19-digit ids, big strings, deep nesting, unicode and \u0000.
echo '{"id":1234567890123456789,"metadata":{"n":12345678901234567890123,"f":1.10},"observations":[]}' | lg-map >"$T/out"
expect_eq "19-digit integer id kept" '"1234567890123456789"' "$(grep -o '"externalId":"[0-9]*"' "$T/out" | cut -d: -f2)"
expect_contains "big integer in metadata kept" "$T/out" '"n":12345678901234567890123'
expect_contains "number spelling kept" "$T/out" '"f":1.10'
python3 -c 'import json; print(json.dumps({"id":"big","input":"x"*1048576+"\u00e9","observations":[]}))' >"$T/big.ndjson"
lg-map <"$T/big.ndjson" >"$T/out"; s=$?
expect_eq "1 MiB string exit 0" 0 "$s"
expect_eq "1 MiB string intact" "1048577" "$(jq -r '.input|length' "$T/out")"
python3 -c '
import json
d = v = {}
for i in range(300):
    v["k"] = {}
    v = v["k"]
v["leaf"] = "bottom"
print(json.dumps({"id":"deep","metadata":d,"observations":[]}))' >"$T/deep.ndjson"
lg-map <"$T/deep.ndjson" >"$T/out"; s=$?
expect_eq "deep metadata exit 0" 0 "$s"
expect_eq "deep metadata intact" "300 bottom" "$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["metadata"]; n = 0
while "k" in v: v = v["k"]; n += 1
print(n, v["leaf"])' "$T/out")"
printf '{"id":"u","input":"caf\\u00e9 \\ud83d\\ude00 \xe2\x82\xac a\\u0000b","observations":[]}\n' | lg-map >"$T/out"
expect_eq "unicode preserved" "true" "$(jq '.input == "caf\u00e9 \ud83d\ude00 \u20ac a\u0000b"' "$T/out")"
expect_contains "\\u0000 preserved" "$T/out" 'a\u0000b'
printf '{"id":"crlf","observations":[]}\r\n' | lg-map >"$T/out"
expect_eq "CRLF accepted" "crlf" "$(jqv "$T/out" .externalId)"
python3 -c 'import json; print(json.dumps({"id":"long","metadata":{"blob":"y"*70000},"observations":[]}))' | lg-map >"$T/out"
expect_eq "line over 64 KiB" "70000" "$(jq -r '.metadata.blob|length' "$T/out")"

# Control lines pass through unchanged, in order; run-start names the integration.
{ echo '{"$lg":"run-start","run":"r1","integration":"staging","host":"http://h:1"}'; cat "$EX"; echo '{"$lg":"checkpoint","cursor":"2025-06-06T00:00:00.000Z", "extra" : [1,2]}'; } | lg-map --integration prod >"$T/out"
expect_eq "control line 1 verbatim" '{"$lg":"run-start","run":"r1","integration":"staging","host":"http://h:1"}' "$(sed -n 1p "$T/out")"
expect_eq "control line 3 verbatim" '{"$lg":"checkpoint","cursor":"2025-06-06T00:00:00.000Z", "extra" : [1,2]}' "$(sed -n 3p "$T/out")"
expect_eq "run-start integration wins" "staging" "$(sed -n 2p "$T/out" | jq -r .source.integration)"
expect_eq "run-start host prefixes htmlPath" "http://h:1/project/cloramnkj0002jz088vzn1ja4/traces/12ea412956f99347b0503c1144acd0ec" "$(sed -n 2p "$T/out" | jq -r .source.htmlPath)"

# TraceWithDetails shape: observation ids only; latency -1 -> from spans.
echo '{"id":"ids","latency":2.5,"totalCost":0.25,"observations":["o1","o2"]}' | lg-map >"$T/out"
expect_eq "id-only observations kept" '["o1","o2"]' "$(jq -c .observationIds "$T/out")"
expect_eq "id-only: cost from totalCost" "0.25" "$(jqv "$T/out" .metadata.cost)"
echo '{"id":"nolat","latency":-1,"observations":[{"id":"a","type":"SPAN","startTime":"2025-01-01T00:00:00.000Z","endTime":"2025-01-01T00:00:01.500Z"},{"id":"b","type":"GENERATION","level":"ERROR","startTime":"2025-01-01T00:00:00.500Z","endTime":"2025-01-01T00:00:03.000Z","usage":{"input":7,"output":3,"total":10},"calculatedTotalCost":0.5}]}' | lg-map >"$T/out"
expect_eq "duration from span times when latency is -1" "3000" "$(jqv "$T/out" .duration)"
expect_eq "error level -> status error" "error" "$(jqv "$T/out" .status)"
expect_eq "tokens from usage" "10" "$(jqv "$T/out" .metadata.tokens.total)"
expect_eq "cost from calculatedTotalCost" "0.5" "$(jqv "$T/out" .metadata.cost)"
echo '{"id":"types","observations":[{"id":"1","type":"RETRIEVER"},{"id":"2","type":"TOOL"},{"id":"3","type":"AGENT"},{"id":"4","type":"EVENT"},{"id":"5","type":"EMBEDDING"},{"id":"6","type":"GENERATION","promptTokens":4,"completionTokens":6,"totalCost":0.01,"providedModelName":"m1"}]}' | lg-map >"$T/out"
expect_eq "span type mapping" "retrieval,tool,agent,event,embedding,llm" "$(jqv "$T/out" '[.spans[].type]|join(",")')"
expect_eq "legacy token fields and providedModelName" "4 6 10 m1 0.01" "$(jqv "$T/out" '.spans[5] | "\(.tokens.input) \(.tokens.output) \(.tokens.total) \(.model) \(.cost)"')"

# Files as arguments, several at once, with "-" for stdin.
lg-map "$EX" - <"$EX" >"$T/out"; s=$?
expect_eq "file and stdin arguments" "0 2" "$s $(wc -l <"$T/out" | tr -d ' ')"
