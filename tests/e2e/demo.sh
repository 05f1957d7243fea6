# scripts/demo (what `make demo` runs after building): exit 0 and the summary
# built from a real sync of 600 generated traces through every tool.
. "$ROOT/tests/lib.sh"
unset LG_CONFIG LG_DB LG_NOW LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share"
mkdir -p "$HOME"

BIN="$BIN" TMPDIR="$T" expect_status demo-exit 0 bash "$ROOT/scripts/demo"
cp "$T/out" "$T/demo.out"
for s in "== 1. A sample Langfuse project: 600 traces" "== 2. lg-sync add + lg-sync run" "== 3. lg-sync status demo" \
	"== 4. Traces per agent" "== 5. Violations by severity and policy"; do
	expect_contains "demo-section-${s:3:2}" "$T/demo.out" "$s"
done
expect_contains demo-run-line "$T/demo.out" "lg-sync: demo: completed: 600 traces fetched, 600 new, "

# The status JSON printed by section 3.
sed -n '/^== 3\./,/^== 4\./p' "$T/demo.out" | sed '1d;$d' >"$T/status.json"
expect_eq demo-status '{"integration":"demo","isActive":false,"hasSchedule":true,"status":"completed","itemsFetched":600,"itemsIngested":600,"error":null}' \
	"$(jq -c '.data | {integration, isActive, hasSchedule} + (.lastSync | {status, itemsFetched, itemsIngested, error})' "$T/status.json")"

# Traces per agent: the six agents of the generator, counts adding up to 600.
sed -n '/^== 4\./,/^== 5\./p' "$T/demo.out" | sed '1,2d;$d' | sed '/^$/d' >"$T/agents.txt"
expect_eq demo-agents "BillingAgent CodeReviewer CustomerService ResearchAssistant SupportTriage TravelPlanner" \
	"$(awk '$1 != "(none)" {print $1}' "$T/agents.txt" | sort | xargs)"
expect_eq demo-agent-total 600 "$(awk '{n += $2} END {print n}' "$T/agents.txt")"
if awk '{ if ($3 !~ /^[0-9]+\.[0-9]%$/ || $4 !~ /^[0-9]+\.[0-9][0-9][0-9][0-9]$/) bad = 1 } END { exit bad }' "$T/agents.txt"
then pass demo-agent-columns; else fail demo-agent-columns "$(head -3 "$T/agents.txt")"; fi
expect_eq demo-agent-costly 1 "$(awk '$4 > 0.5 {n++} END {print (n > 0)}' "$T/agents.txt")"

# Violations: PII, secrets and injections were planted, so there are
# critical ones, and every row names a severity and a policy.
sed -n '/^== 5\./,/^== 6\./p' "$T/demo.out" | sed '1,2d;$d' >"$T/violations.txt"
if grep -qE '^critical +[a-z0-9_-]+ +[1-9][0-9]* +[1-9]' "$T/violations.txt"; then pass demo-critical
else fail demo-critical "$(head -5 "$T/violations.txt")"; fi
total=$(sed -n 's/^Total: \([0-9]*\) violations.*/\1/p' "$T/violations.txt")
if [ "${total:-0}" -ge 50 ]; then pass demo-violations-total; else fail demo-violations-total "total [$total]"; fi
expect_eq demo-rows-add-up "$total" "$(awk 'NF == 4 && $3 ~ /^[0-9]+$/ {n += $3} END {print n + 0}' "$T/violations.txt")"

# It ends with the console's URL, which answered before the demo stopped it.
expect_eq demo-console-url 1 "$(grep -cE '^Console: http://127\.0\.0\.1:[0-9]+/$' "$T/demo.out")"
expect_contains demo-console-section "$T/demo.out" "== 6. The web console (lg-sync serve)"

# It cleaned up: no server left, no demo directory, nothing in HOME.
expect_eq demo-cleanup "" "$(ls -d "$T"/lg-demo.* 2>/dev/null)"
expect_eq demo-home-untouched "" "$(find "$HOME" -mindepth 1 | head -n1)"
