#!/bin/bash
# `make fuzz`: builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang,
# ASan+UBSan), seeds it from tests/data, the Langfuse examples and
# tests/fuzz/regress/, and runs it for FUZZ_SECONDS (default 60) each.
# A crash leaves its input in $FUZZ_OUT/crashes/<target>/; turn it into a
# regression input under tests/fuzz/regress/<target>/ and fix the bug.
# Usage: tests/fuzz/run.sh [TARGET...]      (TARGET: line, json, map, ...)
# Env: FUZZ_SECONDS, FUZZ_OUT (default build/fuzz), FUZZ_JOBS (default 1).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_OUT=${FUZZ_OUT:-$ROOT/build/fuzz}
CC_FUZZ=${CC_FUZZ:-clang}
LG_EXTRA_DEPS="clang libclang-rt-14-dev ${LG_EXTRA_DEPS:-}" scripts/install-deps || exit 2

PKGS="libcurl libcjson lmdb libpcre2-8 libhs"
CFLAGS_F="-std=c11 -D_GNU_SOURCE -DLG_VERSION=\"fuzz\" -Icommon -g -O1 -fno-omit-frame-pointer
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(pkg-config --cflags $PKGS)"
LIBS_F="$(pkg-config --libs $PKGS) -lm"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi

# Seed corpus: every NDJSON line of the test data, every example payload
# (compact), the target's regression inputs, and its own seeds/ if any.
seed() { # target dir
	local t=$1 dir=$2 i=0 f
	mkdir -p "$dir"
	for f in tests/data/*.ndjson tests/data/*.jsonl tests/data/*.json "$ROOT"/../shared/langfuse/examples/*.json; do
		[ -f "$f" ] || continue
		case $f in
		*.json) jq -c . "$f" 2>/dev/null | head -c 1000000 >"$dir/seed-$((i++))" ;;
		*) head -n 200 "$f" | split -l 1 -a 4 - "$dir/seed-$((i++))-" ;;
		esac
	done
	for f in tests/fuzz/regress/"$t"/* tests/fuzz/seeds/"$t"/*; do
		[ -f "$f" ] && cp "$f" "$dir/"
	done
	return 0
}

failed=0 ran=0
summary=""
for t in "${targets[@]}"; do
	src=tests/fuzz/fuzz_$t.c
	if [ ! -f "$src" ]; then
		echo "fuzz: no target '$t'" >&2
		failed=$((failed + 1))
		continue
	fi
	# Tool library sources the target needs: its "fuzz-links:" line.
	links=$(sed -n 's/.*fuzz-links:\(.*\)/\1/p' "$src" | sed 's/\*\/.*//' | head -1)
	incs=""
	for l in $links; do incs+=" -I$(dirname "$l")"; done
	exe=$FUZZ_OUT/bin/fuzz_$t
	mkdir -p "$FUZZ_OUT/bin" "$FUZZ_OUT/crashes/$t"
	# shellcheck disable=SC2086
	if ! $CC_FUZZ $CFLAGS_F $incs -o "$exe" "$src" common/*.c $links $LIBS_F 2>"$FUZZ_OUT/build-$t.log"; then
		echo "fuzz: $t: build failed:" >&2
		tail -20 "$FUZZ_OUT/build-$t.log" >&2
		failed=$((failed + 1))
		continue
	fi
	corpus=$FUZZ_OUT/corpus/$t
	seed "$t" "$corpus"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	[ -f "tests/fuzz/$t.dict" ] || { [ -f tests/fuzz/json.dict ] && dict=(-dict=tests/fuzz/json.dict); }
	echo "== fuzz $t: ${FUZZ_SECONDS}s, $(ls "$corpus" | wc -l) seeds"
	log=$FUZZ_OUT/fuzz-$t.log
	ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
	"$exe" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-max_len="${FUZZ_MAX_LEN:-65536}" -print_final_stats=1 \
		-artifact_prefix="$FUZZ_OUT/crashes/$t/" "$corpus" >"$log" 2>&1
	rc=$?
	ran=$((ran + 1))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		failed=$((failed + 1))
		echo "fuzz $t: FAILED (exit $rc); input in $FUZZ_OUT/crashes/$t/:"
		grep -vE '^(#|INFO|MS:|base unit|stat::|Dictionary|NOTE|  +(NEW_FUNC|#))|^\s*$|^    #' "$log" | head -6 | sed 's/^/    /'
		summary+=$(printf '\n%-10s FAILED' "$t")
	else
		echo "fuzz $t: ok, ${execs:-?} runs, ${cov:-cov: ?}"
		summary+=$(printf '\n%-10s ok  %s runs  %s' "$t" "${execs:-?}" "${cov:-}")
	fi
done
echo "== fuzz summary ($ran run, $failed failed)$summary"
[ $failed -eq 0 ]
