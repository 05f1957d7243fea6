# Helpers shared by tests/e2e/fetch_*.sh (sourced after tests/lib.sh). Named
# .bash so that tests/run.sh, which runs every *.sh, does not run it alone.
unset LG_CONFIG
export XDG_CONFIG_HOME="$T/xdg" HOME="$T/home"
export LANGFUSE_PUBLIC_KEY=pk-lf-test LANGFUSE_SECRET_KEY=sk-lf-test
export LG_RETRY_BASE_MS=1
END=2026-11-27T00:00:00Z
SINCE=2026-11-26T20:00:00Z

# gen N SEED FILE [extra gen_dataset args]: a dataset over [END-2h, END)
gen() {
	_n=$1 _s=$2 _f=$3; shift 3
	python3 "$ROOT/tests/server/gen_dataset.py" --traces "$_n" --seed "$_s" --out "$_f" \
		--end "$END" --span 2h "$@" >/dev/null
}

# fetch ARGS...: lg-fetch against the running server, stdout $T/out, stderr $T/err
fetch() {
	LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" "$@" >"$T/out" 2>"$T/err"
	FETCH_STATUS=$?
}

# same_sets NAME DATASET OUT: trace ids, observation ids (no duplicate within
# the run), observation count, tokens and cost of OUT equal the dataset's.
same_sets() {
	_name=$1 _ds=$2 _out=$3
	jq -r '.traces[].id' "$_ds" | sort >"$T/want_t"
	jq -r '.observations[].id' "$_ds" | sort >"$T/want_o"
	grep -v '"\$lg"' "$_out" | jq -r '.id' | sort -u >"$T/got_t"
	grep -v '"\$lg"' "$_out" | jq -r '.observations[].id' | sort >"$T/got_o"
	expect_eq "$_name: trace ids" "$(cat "$T/want_t")" "$(cat "$T/got_t")"
	expect_eq "$_name: observation ids, each once" "$(cat "$T/want_o")" "$(cat "$T/got_o")"
	_w=$(jq -c '[.observations[]] | [length, (map(.usageDetails.total // 0) | add), (map(.calculatedTotalCost // 0) | add * 1e6 | round)]' "$_ds")
	_g=$(grep -v '"\$lg"' "$_out" | jq -s -c '[.[].observations[]] | [length, (map(.usageDetails.total // 0) | add), (map(.calculatedTotalCost // 0) | add * 1e6 | round)]')
	expect_eq "$_name: observations, tokens, cost" "$_w" "$_g"
}

# control NAME OUT: run-start first, run-end last and completed, checkpoints
# in order, counts consistent.
control() {
	_name=$1 _out=$2
	expect_eq "$_name: run-start first" "run-start" "$(head -1 "$_out" | jq -r '."$lg"')"
	expect_eq "$_name: run-end completed last" "run-end completed 0" \
		"$(tail -1 "$_out" | jq -r '[."$lg", .status, .exitCode] | join(" ")')"
	expect_eq "$_name: run-end counts the traces" "$(grep -vc '"\$lg"' "$_out")" "$(tail -1 "$_out" | jq -r .traces)"
	expect_eq "$_name: checkpoints ascend to the end" "$END" \
		"$(grep '"checkpoint"' "$_out" | jq -r .cursor | sort -c && grep '"checkpoint"' "$_out" | tail -1 | jq -r .cursor | sed 's/\.000Z$/Z/')"
}
