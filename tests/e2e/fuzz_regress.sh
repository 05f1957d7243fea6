# Replays every input that `make fuzz` once crashed on (tests/fuzz/regress/)
# through the real binaries: each must give its exact exit status and no
# sanitizer report.
. "$ROOT/tests/lib.sh"
R="$ROOT/tests/fuzz/regress"
n=0
while read -r want file tool args; do
	case $want in ''|'#'*) continue ;; esac
	name="fuzz regress $file ($tool)"
	if [ ! -x "$BIN/$tool" ]; then
		echo "skip $name: $tool not built"
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
	if grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$T/err"; then
		fail "$name" "sanitizer: $(grep -m1 -E 'ERROR|runtime error' "$T/err")"
	else
		expect_eq "$name exit" "$want" "$s"
	fi
	n=$((n + 1))
done <"$R/cases"
[ "$n" -gt 0 ] || fail "fuzz regress" "no case ran"
