# Every input that `make fuzz` once crashed on (tests/fuzz/regress/<target>/)
# is replayed twice: through the fuzz target that found it (its oracle, built
# here with tests/fuzz/replay.c instead of libFuzzer, under ASan+UBSan), and
# through the real binaries listed in tests/fuzz/regress/cases, each with
# its exact exit status and no sanitizer report.
. "$ROOT/tests/lib.sh"
R="$ROOT/tests/fuzz/regress"
CCF=${CC:-cc}
PKGF="libcurl libcjson lmdb libpcre2-8 libhs"

# 1. Through the targets.
for dir in "$R"/*/; do
	t=$(basename "$dir")
	src="$ROOT/tests/fuzz/fuzz_$t.c"
	[ -f "$src" ] || continue
	links=$(sed -n 's/.*fuzz-links:\(.*\)/\1/p' "$src" | sed 's/\*\/.*//' | head -1)
	incs="" objs=""
	for l in $links; do incs="$incs -I$ROOT/$(dirname "$l")"; objs="$objs $ROOT/$l"; done
	# shellcheck disable=SC2086
	if ! (cd "$ROOT" && $CCF -std=c11 -D_GNU_SOURCE -DLG_VERSION='"replay"' -Icommon $incs -O1 -g \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined $(pkg-config --cflags $PKGF) \
		-o "$T/replay_$t" tests/fuzz/replay.c "$src" common/*.c $objs $(pkg-config --libs $PKGF) -lm -lpthread) \
		>"$T/cc_$t.log" 2>&1; then
		fail "fuzz replay build $t" "$(head -c 400 "$T/cc_$t.log")"
		continue
	fi
	for f in "$dir"*; do
		[ -f "$f" ] || continue
		"$T/replay_$t" "$f" >"$T/out" 2>"$T/err"; s=$?
		if [ $s -eq 0 ] && grep -q '^PASS' "$T/out"; then
			pass "fuzz replay $t/$(basename "$f")"
		else
			fail "fuzz replay $t/$(basename "$f")" "exit $s: $(grep -m2 -E 'ERROR|runtime error|differs|changed|model|not' "$T/err" | tr '\n' ' ')"
		fi
	done
done

# 2. Through the real binaries.
n=0
while read -r want file tool args; do
	case $want in ''|'#'*) continue ;; esac
	name="fuzz regress $file ($tool)"
	if [ ! -x "$BIN/$tool" ]; then
		fail "$name" "$tool not built"
		continue
	fi
	if [ ! -f "$R/$file" ]; then
		fail "$name" "input missing"
		continue
	fi
	input="$R/$file"
	case " $args " in *'{}'*) args=${args//\{\}/$R/$file}; input=/dev/null ;; esac
	# shellcheck disable=SC2086
	(cd "$T" && "$BIN/$tool" $args <"$input" >"$T/out" 2>"$T/err"); s=$?
	if grep -qE 'Sanitizer|runtime error' "$T/err"; then
		fail "$name" "sanitizer: $(grep -m1 -E 'ERROR|runtime error' "$T/err")"
	else
		expect_eq "$name exit" "$want" "$s"
	fi
	n=$((n + 1))
done <"$R/cases"
[ "$n" -gt 0 ] || fail "fuzz regress" "no case ran"
