# Six simulated hours of lg-sync: a run every 5 minutes against a server
# whose clock moves with the runs, where rows arrive up to 45 minutes late,
# a fifth of the roots run up to 5 hours (visible only at their end), a
# third of the traces are legacy-ingested, rows have stale copies and some
# traces never get their root. At the end every trace is stored once;
# every trace whose rows were all visible 65 minutes before the end is
# whole, with the truth's input, output and spans (a trace is looked for
# at least hourly); the rootless ones are stored and reported incomplete.
. "$ROOT/tests/lib.sh"
# About a thousand tool processes run here; under ASan each one's exit
# scan for leaks costs more than its work. The same code paths are checked
# for leaks by sync_refetch, fetch_refetch and store_incomplete.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
GEN="$ROOT/tests/server/gen_dataset.py"
AUTH=pk-lf-test:sk-lf-test
T0=2026-11-27T00:00:00Z
# 120 traces over the first 4 hours (their roots end by the 9th hour)
python3 "$GEN" --traces 120 --seed 41 --end 2026-11-27T04:00:00Z --span 4h --out "$T/ds.json"
CLOCK="$T/clock"
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }
clock() { printf '%s\n' "$1" >"$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; }
clock "$T0"
# every real-server switch on: rows up to 45 minutes late, a fifth of the
# roots running up to 5 hours, a third of the traces legacy-ingested
# (synthetic roots, trace metadata in every span), stale duplicates, ""
# strings, traces whose root never comes
start_server --dataset "$T/ds.json" --clock-file "$CLOCK" --seed 5 --log "$T/req.log" \
	--late-minutes 45 --late-share 0.5 --long-roots 0.2 --long-root-max 5h --rootless 0.05 \
	--legacy-ingested 0.33 --stale-duplicates 0.2 --empty-strings --metadata-full-with-io || exit 1
trap 'stop_server' EXIT
umask 077
jq -n --arg h "$SERVER_URL" '{integrations: [{id: "prod", name: "Prod", publicKey: "pk-lf-test",
	secretKey: "sk-lf-test", host: $h, interval: "5m", lookback: "1h"}]}' >"$LG_CONFIG"

# 6 hours, a run every 5 minutes (72 runs), then what the truth says.
fails=0
for m in $(seq 5 5 360); do
	now=$(at "$m")
	clock "$now"
	LG_NOW=$now lg-sync run prod --quiet >"$T/run.out" 2>&1 || { fails=$((fails + 1)); cat "$T/run.out" >>"$T/fails"; }
done
END=$(at 360)
expect_eq soak-runs-ok 0 "$fails"
[ -s "$T/fails" ] && head -5 "$T/fails"

# Truth: the traces with a row visible at the end; the roots visible an
# hour and 5 minutes before it (a trace is re-fetched at least hourly); the
# rootless ones (a trace whose rows v2 serves without any root).
v2_all() { # CLOCK-TIME -> every visible v2 row, one JSON object per line
	clock "$1"
	local cursor="" page
	while :; do
		page=$(curl -sf -G -u "$AUTH" "$SERVER_URL/api/public/v2/observations" --data-urlencode limit=1000 \
			--data-urlencode fromStartTime=2026-11-26T00:00:00Z --data-urlencode toStartTime=2026-11-28T00:00:00Z \
			--data-urlencode fields=core,basic ${cursor:+--data-urlencode cursor="$cursor"}) || return 1
		jq -c '.data[]' <<<"$page"
		cursor=$(jq -r '.meta.cursor // empty' <<<"$page")
		[ -n "$cursor" ] || break
	done
}
v2_all "$END" >"$T/end.rows"
v2_all "$(at 295)" >"$T/settled.rows"
v2_all 2026-11-30T00:00:00Z >"$T/ever.rows"
jq -r '.traceId' "$T/end.rows" | sort -u >"$T/visible.ids"
# whole: every observation of the truth visible (a legacy-ingested trace's
# synthetic root comes with its first row, its real root maybe hours later)
jq -r --slurpfile ds "$T/ds.json" -s '(map(.id) | map({key: ., value: true}) | from_entries) as $seen
	| $ds[0].observations | group_by(.traceId)[] | select(all(.[]; $seen[.id])) | .[0].traceId' \
	"$T/settled.rows" | sort -u >"$T/whole.ids"
jq -r 'select(.parentObservationId == null) | .traceId' "$T/ever.rows" | sort -u >"$T/rooted.ids"
comm -23 "$T/visible.ids" "$T/rooted.ids" >"$T/rootless.ids"
lg-store --db "$LG_DB" export >"$T/store.ndjson"

n_vis=$(wc -l <"$T/visible.ids") n_whole=$(wc -l <"$T/whole.ids") n_rootless=$(wc -l <"$T/rootless.ids")
if [ "$n_whole" -ge 60 ] && [ "$n_rootless" -ge 1 ] && [ "$n_vis" -ge 100 ]; then pass soak-truth
else fail soak-truth "visible $n_vis, whole $n_whole, rootless $n_rootless: the dataset does not exercise the switches"; fi
expect_eq soak-every-trace-once "$(cat "$T/visible.ids")" "$(jq -r .externalId "$T/store.ndjson" | sort)"
expect_eq soak-no-empty-ids "" "$(jq -r 'select(.externalId == "" or any(.spans[]; .id == "" or .parentId == "")) | .externalId' "$T/store.ndjson")"
# real spans only, in every trace: no synthetic root, no span twice
expect_eq soak-real-spans-only "" "$(jq -r 'select(any(.spans[]; .id | startswith("t-"))
	or ((.spans | map(.id) | unique | length) != (.spans | length))) | .externalId' "$T/store.ndjson")"
# whole traces: no incomplete mark, the truth's io, exactly the truth's spans
jq -c --slurpfile ds "$T/ds.json" '
	($ds[0].traces | map({key: .id, value: {input, output}}) | from_entries) as $io
	| ($ds[0].observations | group_by(.traceId) | map({key: .[0].traceId, value: (map(.id) | sort)}) | from_entries) as $spans
	| {id: .externalId, incomplete, io: ({input, output} == $io[.externalId]), spans: ((.spans | map(.id) | sort) == $spans[.externalId])}' \
	"$T/store.ndjson" >"$T/check.ndjson"
bad=$(jq -r --rawfile w "$T/whole.ids" 'select(.id as $i | $w | split("\n") | index($i))
	| select(.incomplete != null or .io != true or .spans != true) | "\(.id) \(.incomplete) io=\(.io) spans=\(.spans)"' "$T/check.ndjson")
expect_eq soak-whole-traces-whole "" "$(head -c 600 <<<"$bad")"
# rootless traces: stored, marked and in the index of incomplete traces
expect_eq soak-rootless-marked "" "$(jq -r --rawfile r "$T/rootless.ids" 'select(.externalId as $i | $r | split("\n") | index($i))
	| select((.incomplete // []) | index("no-root") | not) | .externalId' "$T/store.ndjson")"
lg-store --db "$LG_DB" incomplete prod | jq -r .externalId | sort >"$T/indexed.ids"
expect_eq soak-rootless-indexed "" "$(comm -23 "$T/rootless.ids" "$T/indexed.ids")"
pending=$(lg-sync status prod | jq '.data.incomplete.pending')
if [ "$pending" -ge "$n_rootless" ]; then pass soak-status-counts; else fail soak-status-counts "pending $pending < rootless $n_rootless"; fi
# the long roots were found by re-fetch, within the cap of extra requests
refetches=$(jq -r 'select(.query.traceId != null or .query.filter != null) | .n' "$T/req.log" | wc -l)
if [ "$refetches" -gt 0 ] && [ "$refetches" -le $((72 * 2)) ]; then pass soak-refetch-bounded
else fail soak-refetch-bounded "$refetches re-fetch requests"; fi
printf 'soak: %d traces visible, %d whole, %d rootless, %d requests, %d of them re-fetches\n' \
	"$n_vis" "$n_whole" "$n_rootless" "$(grep -vc '"/api/public/projects"' "$T/req.log")" "$refetches" >&2
