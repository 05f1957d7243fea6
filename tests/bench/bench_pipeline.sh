# The whole pipeline, lg-map | lg-detect | lg-policy | lg-store put, on a
# generated corpus (50,000 traces by default), next to two peers run now on
# the same file: `jq -c .` (one parse and print) and tests/bench/peer/lg-peer.js
# (one Node.js process doing map + agent detection + the same regex
# policies). Prints traces/s and peak RSS per stage, the ratios, lg-fetch
# requests per 1,000 traces (against the test server) and lg-store put
# records/s. A stage that is not built or not implemented is reported as
# "not available", never given a number.
# Env: BENCH_PIPELINE_TRACES (50000), BENCH_FETCH_TRACES (5000), BENCH_DIR.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
N=${BENCH_PIPELINE_TRACES:-50000}
FN=${BENCH_FETCH_TRACES:-5000}
RSS_LIMIT_KB=16384
W="$BENCH_DIR/pipeline"
mkdir -p "$W"
C="$BENCH_DIR/pipeline-$N.ndjson"
if [ ! -s "$C" ]; then
	python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 11 --format ndjson \
		--end 2026-11-20T00:00:00Z --span 2d --out "$C.tmp" && mv "$C.tmp" "$C" || { echo "corpus generation failed"; exit 1; }
fi
mb=$(awk -v b="$(stat -c %s "$C")" 'BEGIN { printf "%.0f", b / 1048576 }')
lines=$(wc -l <"$C")
echo "corpus: $lines traces, $mb MB ($C)"
export LG_NOW=2026-11-20T00:00:00Z   # deterministic evaluatedAt/detectedAt

# run NAME IN OUT CMD...: one timed process; sets T_S (wall s), T_CPU (user+sys
# s), T_RSS (KB), T_RC. Its stderr goes to $W/NAME.err.
# T_ANON: peak anonymous RSS (KB), sampled from /proc every 50 ms: for
# lg-store most of the RSS is LMDB's memory map of the data file (page
# cache the kernel can drop), not memory the process allocated.
run() {
	local name=$1 in=$2 out=$3 f="$W/$1.time" tpid cpid a
	shift 3
	sync # the files written before are not flushed during this one
	/usr/bin/time -f "%e %U %S %M" -o "$f" "$@" <"$in" >"$out" 2>"$W/$name.err" &
	tpid=$!
	T_ANON=0
	while kill -0 "$tpid" 2>/dev/null; do
		cpid=$(ps -o pid= --ppid "$tpid" 2>/dev/null | head -1)
		if [ -n "$cpid" ]; then
			a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$cpid/status" 2>/dev/null)
			[ -n "$a" ] && [ "$a" -gt "$T_ANON" ] && T_ANON=$a
		fi
		sleep 0.05
	done
	wait "$tpid"
	T_RC=$?
	set -- $(tail -1 "$f")
	T_S=$1 T_CPU=$(awk -v u="$2" -v s="$3" 'BEGIN { print u + s }') T_RSS=$4
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.005; printf "%.0f", n / s }'; }
mbs() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# A stage is available when built and it handles a one-trace sample.
SAMPLE="$W/sample.ndjson"
head -n 1 "$C" >"$SAMPLE"
DB="$W/db"
stage_cmd() { # stage -> the command line
	case $1 in
	store) echo "$BIN/lg-store --db $DB put" ;;
	*) echo "$BIN/lg-$1" ;;
	esac
}
declare -A avail why
prev="$SAMPLE"
for s in map detect policy store; do
	if [ ! -x "$BIN/lg-$s" ]; then
		avail[$s]=0 why[$s]="not built"
		continue
	fi
	rm -rf "$DB"
	# shellcheck disable=SC2046
	$(stage_cmd "$s") <"$prev" >"$W/sample.$s" 2>"$W/sample.$s.err"
	rc=$?
	if [ $rc -ne 0 ] || { [ "$s" != store ] && [ ! -s "$W/sample.$s" ]; }; then
		avail[$s]=0 why[$s]="exit $rc: $(head -c 120 "$W/sample.$s.err" | tr '\n' ' ')"
	else
		avail[$s]=1
		[ "$s" != store ] && prev="$W/sample.$s"
	fi
done
rm -rf "$DB"

printf '\n%-34s %10s %9s %10s\n' "" "traces/s" "MB/s" "peak RSS"
run jq "$C" /dev/null jq -c .
jq_s=$T_S
printf '%-34s %10s %9s %8s MB\n' "jq -c . (peer)" "$(rate "$N" "$T_S")" "$(rate "$mb" "$T_S")" "$(mbs "$T_RSS")"
run node "$C" /dev/null node "$ROOT/tests/bench/peer/lg-peer.js" prod
node_s=$T_S
printf '%-34s %10s %9s %8s MB\n' "node lg-peer.js (map+detect+policy)" "$(rate "$N" "$T_S")" "$(rate "$mb" "$T_S")" "$(mbs "$T_RSS")"

# Each stage alone, file to file: its own traces/s and peak RSS.
echo
prev="$C"
rss_bad=0
declare -A st_s
for s in map detect policy store; do
	if [ "${avail[$s]}" != 1 ]; then
		printf '%-34s not available (%s)\n' "lg-$s alone" "${why[$s]}"
		continue
	fi
	out="$W/out.$s"
	[ "$s" = store ] && { out=/dev/null; rm -rf "$DB"; }
	# shellcheck disable=SC2046
	run "$s" "$prev" "$out" $(stage_cmd "$s")
	st_s[$s]=$T_S
	flag=""
	if [ "$T_RSS" -gt $RSS_LIMIT_KB ]; then
		if [ "$s" = store ] && [ "$T_ANON" -le $RSS_LIMIT_KB ]; then
			flag="  (anonymous $(mbs "$T_ANON") MB; the rest is the LMDB map)"
		else
			flag="  OVER 16 MB (anonymous $(mbs "$T_ANON") MB)"
			rss_bad=1
		fi
	fi
	[ "$T_RC" -gt 1 ] && flag="$flag  (exit $T_RC: $(head -c 100 "$W/$s.err"))"
	printf '%-34s %10s %9s %8s MB%s\n' "lg-$s alone" "$(rate "$N" "$T_S")" "$(rate "$mb" "$T_S")" "$(mbs "$T_RSS")" "$flag"
	[ "$s" != store ] && prev="$out"
done
[ "${avail[store]}" = 1 ] && printf '%-34s %10s records/s\n' "lg-store put" "$(rate "$N" "${st_s[store]}")"

# The pipeline in one pipe, as lg-sync runs it: wall time for the whole,
# CPU time and peak RSS per stage.
echo
chain=()
for s in map detect policy store; do
	[ "${avail[$s]}" = 1 ] && chain+=("$s")
done
pipe_s=""
if [ ${#chain[@]} -gt 0 ]; then
	rm -rf "$DB"
	cmd=""
	for s in "${chain[@]}"; do
		c="/usr/bin/time -f '%e %U %S %M' -o '$W/pipe.$s.time' $(stage_cmd "$s") 2>>'$W/pipe.err'"
		cmd="${cmd:+$cmd | }$c"
	done
	[ "${chain[-1]}" = store ] || cmd="$cmd >/dev/null"
	sync
	t0=$(date +%s.%N)
	bash -c "set -o pipefail; $cmd" <"$C"
	prc=$?
	pipe_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	label=$(printf 'lg-%s | ' "${chain[@]}")
	label=${label% | }
	echo "pipeline: $label (exit $prc)"
	vs=""
	# Against node only when the pipe does at least node's work.
	case " ${chain[*]} " in *" map detect policy "*)
		vs=$(awk -v a="$node_s" -v b="$pipe_s" 'BEGIN { printf "  %.2fx node", a / b }') ;;
	esac
	printf '  %-32s %10s traces/s%s  %.2fx jq\n' "whole pipe (wall)" "$(rate "$N" "$pipe_s")" "$vs" \
		"$(awk -v a="$jq_s" -v b="$pipe_s" 'BEGIN { print a / b }')"
	for s in "${chain[@]}"; do
		set -- $(tail -1 "$W/pipe.$s.time")
		cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { print u + s }')
		flag=""
		[ "$4" -gt $RSS_LIMIT_KB ] && [ "$s" != store ] && { flag="  OVER 16 MB"; rss_bad=1; }
		[ "$s" = store ] && [ "$4" -gt $RSS_LIMIT_KB ] && flag="  (LMDB map; anonymous memory: see lg-store alone)"
		printf '  %-32s %10s traces/CPU-s  peak RSS %5s MB%s\n' "lg-$s" "$(rate "$N" "$cpu")" "$(mbs "$4")" "$flag"
	done
fi
for s in map detect policy store; do
	[ "${avail[$s]}" = 1 ] || echo "  lg-$s: not available (${why[$s]})"
done

# Ratios against the Node.js peer. Node does map+detect+policy in one
# process, so the fair C figure is the same three stages piped.
echo
cmp=()
for s in map detect policy; do [ "${avail[$s]}" = 1 ] && cmp+=("$s"); done
if [ ${#cmp[@]} -eq 3 ]; then
	cmd="$BIN/lg-map | $BIN/lg-detect | $BIN/lg-policy >/dev/null"
	sync
	t0=$(date +%s.%N)
	bash -c "$cmd" <"$C" 2>/dev/null
	three_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	ratio=$(awk -v a="$node_s" -v b="$three_s" 'BEGIN { printf "%.2f", a / b }')
	echo "ratio: lg-map|lg-detect|lg-policy $(rate "$N" "$three_s") traces/s = ${ratio}x node (target >= 3x)," \
		"$(awk -v a="$jq_s" -v b="$three_s" 'BEGIN { printf "%.2f", a / b }')x jq -c ."
else
	echo "ratio vs node: not available (needs lg-map, lg-detect and lg-policy; have: ${cmp[*]:-none})"
fi
if [ "${avail[map]}" = 1 ]; then
	echo "ratio: lg-map alone $(awk -v a="$jq_s" -v b="${st_s[map]}" 'BEGIN { printf "%.2f", a / b }')x jq -c ."
fi
[ $rss_bad -eq 0 ] && echo "peak RSS: every stage under 16 MB (lg-store: anonymous memory; its LMDB map is page cache)" ||
	echo "peak RSS: a stage is OVER 16 MB"

# lg-fetch requests per 1,000 traces, against the project's test server.
echo
fetch_ok=0
if [ -x "$BIN/lg-fetch" ] && "$BIN/lg-fetch" --help >/dev/null 2>&1; then
	D="$BENCH_DIR/fetch-$FN.json"
	[ -s "$D" ] || python3 "$ROOT/tests/server/gen_dataset.py" --traces "$FN" --seed 12 --format dataset \
		--end 2026-11-20T00:00:00Z --span 2d --out "$D" >/dev/null 2>&1
	pf="$W/port"
	rm -f "$pf"
	python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$D" --port 0 --port-file "$pf" \
		--public-key pk-lf-bench --secret-key sk-lf-bench --mode cloud >"$W/server.log" 2>&1 &
	spid=$!
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
	if [ -s "$pf" ]; then
		t0=$(date +%s.%N)
		LANGFUSE_PUBLIC_KEY=pk-lf-bench LANGFUSE_SECRET_KEY=sk-lf-bench LANGFUSE_HOST="http://127.0.0.1:$(cat "$pf")" \
			"$BIN/lg-fetch" --quiet --since 2026-11-17T00:00:00Z --until 2026-11-20T00:00:00Z >"$W/fetch.out" 2>"$W/fetch.err"
		frc=$?
		fs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
		endl=$(grep '"\$lg":"run-end"' "$W/fetch.out" | tail -1)
		if [ $frc -eq 0 ] && [ -n "$endl" ]; then
			req=$(printf '%s' "$endl" | jq -r .requests)
			tr=$(printf '%s' "$endl" | jq -r .traces)
			echo "lg-fetch: $tr traces in $req requests = $(awk -v r="$req" -v t="$tr" 'BEGIN { printf "%.1f", t ? 1000 * r / t : 0 }') requests per 1,000 traces ($(rate "$tr" "$fs") traces/s from the test server)"
			fetch_ok=1
		fi
	fi
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
fi
[ $fetch_ok -eq 1 ] || echo "lg-fetch requests per 1,000 traces: not available ($(head -c 160 "$W/fetch.err" 2>/dev/null | tr '\n' ' '))"
exit 0
