#!/usr/bin/env bash
# Golden cases as data: tests/cases/<tool>/<name>.in is the standard input of
# `lg-<tool>`, run in tests/cases/<tool>/ (so files a case names, and the
# messages naming them, are relative), with the arguments of <name>.args
# (one per line; absent = none). The case passes when standard output equals
# <name>.out, standard error equals <name>.err (absent = empty) and the exit
# status equals <name>.status (absent = 0). "Now" is LG_NOW below, so times
# in outputs are data; <name>.env (VAR=value lines) sets a case's own
# environment on top. Any other file in the folder is a fixture a case names
# (rules, policies).
# LG_CASES_UPDATE=1 rewrites .out, .err and .status from what the tools print
# now: for a deliberate change of output; review the diff before committing.
. "$(dirname "$0")/../lib.sh"

export LG_NOW=2026-11-27T10:00:00Z

for in in "$ROOT"/tests/cases/*/*.in; do
	[ -f "$in" ] || continue
	dir=$(dirname "$in") base=${in%.in} name="$(basename "$dir")/$(basename "$base")"
	tool=lg-$(basename "$dir")
	args=()
	env=()
	[ -f "$base.args" ] && mapfile -t args <"$base.args"
	[ -f "$base.env" ] && mapfile -t env <"$base.env"
	(cd "$dir" && env "${env[@]}" "$tool" "${args[@]}" <"$in" >"$T/out" 2>"$T/err"); s=$?
	if [ "${LG_CASES_UPDATE:-0}" = 1 ]; then
		cp "$T/out" "$base.out"
		if [ -s "$T/err" ]; then cp "$T/err" "$base.err"; else rm -f "$base.err"; fi
		if [ "$s" -ne 0 ]; then echo "$s" >"$base.status"; else rm -f "$base.status"; fi
	fi
	want_s=0
	[ -f "$base.status" ] && want_s=$(cat "$base.status")
	want_err=/dev/null
	[ -f "$base.err" ] && want_err=$base.err
	if [ ! -f "$base.out" ]; then
		fail "$name" "no $name.out"
	elif [ "$s" != "$want_s" ]; then
		fail "$name" "exit $s, want $want_s; stderr: $(head -c 300 "$T/err")"
	elif ! cmp -s "$T/out" "$base.out"; then
		fail "$name" "stdout differs: $(diff "$base.out" "$T/out" | head -c 400)"
	elif ! cmp -s "$T/err" "$want_err"; then
		fail "$name" "stderr differs: $(diff "$want_err" "$T/err" | head -c 400)"
	else
		pass "$name"
	fi
done
