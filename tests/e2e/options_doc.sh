#!/usr/bin/env bash
# Every option a tool accepts is in its --help, and its --help and its man
# page name the same options: an option added in one place and forgotten in
# another fails here, whichever place was forgotten.
#   accepted: the longopts tables (lg-sync: one per command, in sync/*.c)
#   help:     every --name in `lg-X --help`
#   man:      every --name a .TP tag line of man/lg-X.1 defines
. "$(dirname "$0")/../lib.sh"

# words LIST: sorted unique words, one line
words() { tr ' ' '\n' | grep -v '^$' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'; }

accepted() { # tool
	case $1 in
	sync) sed -n '/struct option [a-z_]*longopts\[\]/,/};/p' "$ROOT"/sync/*.c |
		grep -oE '\{ *"[a-z][a-z0-9-]*"' | grep -oE '[a-z][a-z0-9-]*' | sed 's/^/--/' ;;
	*) sed -n '/struct option longopts\[\]/,/};/p' "$ROOT/$1/main.c" |
		grep -oE '\{ *"[a-z][a-z0-9-]*"' | grep -oE '[a-z][a-z0-9-]*' | sed 's/^/--/' ;;
	esac
}

# "(lg-fetch --test)" in lg-sync's help names another tool's option.
helped() { "lg-$1" --help 2>&1 | sed -E 's/lg-[a-z]+ --[a-z][a-z0-9-]*//g' | grep -oE -- '--[a-z][a-z0-9-]*'; }

# The tag line after each .TP; \- is a hyphen, \fX a font change.
manned() {
	awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$ROOT/man/lg-$1.1" |
		sed 's/\\-/-/g; s/\\f[BIRP]//g' | grep -oE -- '--[a-z][a-z0-9-]*'
}

# missing A B: words of A not in B
missing() { comm -23 <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') | tr '\n' ' ' | sed 's/ $//'; }

for t in fetch map detect policy store sync ship; do
	a=$(accepted "$t" | words)
	h=$(helped "$t" | words)
	m=$(manned "$t" | words)
	[ -n "$a" ] && [ -n "$h" ] && [ -n "$m" ] ||
		{ fail "lg-$t options found" "accepted [$a] help [$h] man [$m]"; continue; }
	expect_eq "lg-$t: every accepted option is in --help" "" "$(missing "$a" "$h")"
	expect_eq "lg-$t: --help names no option it does not accept" "" "$(missing "$h" "$a")"
	expect_eq "lg-$t: every --help option is in the man page" "" "$(missing "$h" "$m")"
	expect_eq "lg-$t: the man page defines no option --help lacks" "" "$(missing "$m" "$h")"
done

# The check itself can fail: an option the man page lacks is reported.
sed '/^\.TP/,+1{/quarantine/d}' "$ROOT/man/lg-map.1" >"$T/lg-map.1"
m=$(awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$T/lg-map.1" | sed 's/\\-/-/g; s/\\f[BIRP]//g' |
	grep -oE -- '--[a-z][a-z0-9-]*' | words)
expect_eq "a man page without --quarantine is caught" "--quarantine" "$(missing "$(helped map | words)" "$m")"
