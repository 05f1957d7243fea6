#!/bin/sh
# measure.sh IN OUT CMD...: runs CMD with stdin=IN and stdout=OUT, prints
# "<seconds> <peak_rss_kb>" of that process (GNU time; a small parent, so the
# RSS is the command's own). Shared by every bench script.
in=$1 out=$2; shift 2
f=$(mktemp)
/usr/bin/time -f "%e %M" -o "$f" "$@" <"$in" >"$out"
rc=$?
cat "$f"; rm -f "$f"
[ "$rc" -le 1 ]
