# lg-store never reads damage silently: every value carries a checksum
# checked on every read, a truncated, empty or foreign data.mdb is refused
# before LMDB maps it, and a store written before checksums stays readable
# and is sealed by the next put. Each case damages a real store the way
# the attack did (bytes changed in place, the file cut short or emptied).
. "$ROOT/tests/lib.sh"

rec() { # ID TIME [VIOLATION-ID]
	local v='[]'
	[ -n "${3:-}" ] && v='[{"id":"'$3'","policy":"pii","severity":"high","message":"email"}]'
	printf '{"externalId":"%s","timestamp":"%s","name":"n-%s","status":"success","duration":120,"metadata":{"tokens":{"total":10},"cost":0.5,"model":"m"},"violations":%s,"evaluation":{"policies":["pii"]},"source":{"system":"langfuse","integration":"prod"}}\n' "$1" "$2" "$1" "$v"
}
{
	echo '{"$lg":"run-start","run":"r1","integration":"prod","mode":"incremental","startedAt":"2026-11-27T10:00:00.000Z"}'
	rec alpha-0001 2026-11-27T10:00:00.000Z v-alpha
	rec bravo-0002 2026-11-27T10:01:00.000Z
	rec charlie-0003 2026-11-27T10:02:00.000Z v-charlie
	echo '{"$lg":"checkpoint","run":"r1","integration":"prod","cursor":"2026-11-27T10:02:00.000Z"}'
	echo '{"$lg":"run-end","run":"r1","status":"completed","traces":3}'
} >"$T/in"
GOOD="$T/good"
lg-store --db "$GOOD" put --summary none <"$T/in" || fail setup "put failed"
lg-store --db "$GOOD" export >"$T/good.export"
lg-store --db "$GOOD" status prod >"$T/good.status"

# fresh NAME: a copy of the good store
fresh() { rm -rf "$T/$1" && cp -r "$GOOD" "$T/$1" && echo "$T/$1"; }
# poke FILE TEXT NEW: every TEXT in FILE overwritten by NEW (same length;
# old copies of a page in LMDB's free pages too)
poke() {
	python3 - "$@" <<'EOF' || fail "poke $2" "not found in $1"
import sys
p, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
b = open(p, "rb").read()
if old not in b or len(old) != len(new):
    sys.exit(1)
open(p, "r+b").write(b.replace(old, new))
EOF
}
ADVICE="the store is damaged: 'lg-store check' lists what is; restore from a backup"

# ---- a record changed in place (a letter of its name) ----
D=$(fresh flip)
poke "$D/data.mdb" '"n-bravo-0002"' '"n-bravX-0002"'
for c in export "export --status success" "get bravo-0002"; do
	# shellcheck disable=SC2086
	expect_status "changed record: $c exit 6" 6 lg-store --db "$D" $c
	expect_eq "changed record: $c names it" "lg-store: db: record 'bravo-0002': checksum mismatch ($ADVICE)" "$(cat "$T/err")"
	expect_not_contains "changed record: $c never prints it" "$T/out" "bravX"
done
# stats, violations and count read the summaries, not the records: the
# damage is not in what they answer from (check finds it, below)
for c in "stats --json" "violations --total" count "count --status success"; do
	# shellcheck disable=SC2086
	lg-store --db "$GOOD" $c >"$T/good.answer"
	# shellcheck disable=SC2086
	expect_status "changed record: $c answers from the summaries" 0 lg-store --db "$D" $c
	expect_eq "changed record: $c as from the good store" "$(cat "$T/good.answer")" "$(cat "$T/out")"
done
expect_status "changed record: get of another record still works" 0 lg-store --db "$D" get alpha-0001
expect_eq "changed record: the other record whole" "$(grep alpha-0001 "$T/good.export")" "$(cat "$T/out")"
rec bravo-0002 2026-11-27T10:01:00.000Z >"$T/again"
expect_status "changed record: put merging into it exit 6" 6 lg-store --db "$D" put <"$T/again"
expect_contains "changed record: put names it" "$T/err" "record 'bravo-0002': checksum mismatch"
expect_status "changed record: check exit 6" 6 lg-store --db "$D" check
expect_contains "changed record: check lists it" "$T/err" "lg-store: check: record 'bravo-0002': damaged (checksum mismatch, or outside the file)"
expect_contains "changed record: check says PROBLEMS" "$T/out" "PROBLEMS"

# ---- a summary changed in place: stats, violations and a filtered
# export or count read it, and stop ----
D=$(fresh summary)
python3 - "$D/data.mdb" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# a summary's node: its time key, then its value (version 1 first); in it
# the model "m" as a 4-byte length and the letter
at = b.find(b"bravo-0002\x01")
m = b.find(b"\x01\x00\x00\x00m", at)
assert at >= 0 and 0 < m - at < 200
b[m + 4] = ord("n")
open(p, "wb").write(bytes(b))
EOF
for c in stats "stats --by hour --json" violations "export --status success" "count --agent x"; do
	# shellcheck disable=SC2086
	expect_status "changed summary: $c exit 6" 6 lg-store --db "$D" $c
	expect_eq "changed summary: $c names it" "lg-store: db: summary 'bravo-0002': checksum mismatch ($ADVICE)" "$(cat "$T/err")"
done
expect_status "changed summary: check exit 6" 6 lg-store --db "$D" check
expect_contains "changed summary: check lists it" "$T/err" "lg-store: check: summary 'bravo-0002': damaged (checksum mismatch, or outside the file)"

# ---- an index key changed: export cannot follow it ----
D=$(fresh index)
# the by_time key holds the id after 8 time bytes; change it there
python3 - "$D/data.mdb" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# a by_time key: 8 bytes of time (sign flipped: 0x80 first), then the id
i = b.find(b"charlie-0003", 0)
while i >= 0 and b[i - 8] != 0x80:
    i = b.find(b"charlie-0003", i + 1)
b[i + 11] = ord("9")
open(p, "wb").write(bytes(b))
EOF
expect_status "changed index key: export exit 6" 6 lg-store --db "$D" export
expect_eq "changed index key: names the entry" "lg-store: db: time index entry 'charlie-0009': checksum mismatch ($ADVICE)" "$(cat "$T/err")"

# ---- state and runs: cursor and status ----
D=$(fresh cursor)
poke "$D/data.mdb" 'cursor/prod2026-11-27T10:02' 'cursor/prod2026-11-27T19:02'
expect_status "changed cursor: cursor exit 6" 6 lg-store --db "$D" cursor prod
expect_eq "changed cursor: nothing printed" "" "$(cat "$T/out")"
expect_contains "changed cursor: names it" "$T/err" "state 'cursor/prod': checksum mismatch"
D=$(fresh run)
poke "$D/data.mdb" '"status":"completed"' '"status":"completeX"'
expect_status "changed run: status exit 6" 6 lg-store --db "$D" status prod
expect_eq "changed run: status says unreadable" 'false|false|null' "$(jq -r '"\(.success)|\(.data.storeReadable)|\(.data.lastSync)"' "$T/out")"
expect_contains "changed run: names it" "$T/err" "run 'r1': checksum mismatch"

# ---- the file cut short: caught before LMDB maps it, never SIGBUS ----
D=$(fresh trunc)
truncate -s 12288 "$D/data.mdb"
for c in export count stats violations "get alpha-0001" check "cursor prod" "backup $T/b.mdb"; do
	# shellcheck disable=SC2086
	expect_status "truncated: $c exit 6" 6 lg-store --db "$D" $c
	expect_contains "truncated: $c says so" "$T/err" "lg-store: db: $D/data.mdb: truncated: 12288 bytes, its pages need"
done
expect_status "truncated: put exit 6" 6 lg-store --db "$D" put <"$T/again"
expect_eq "truncated: put left the file alone" 12288 "$(stat -c %s "$D/data.mdb")"
expect_status "truncated: status exit 6" 6 lg-store --db "$D" status prod --active
expect_eq "truncated: status JSON says unreadable" '{"success":false,"error":"the store is unreadable (see the message on stderr; lg-store check)","data":{"isActive":true,"hasSchedule":false,"storeReadable":false,"lastSync":null}}' "$(cat "$T/out")"

# ---- an empty data.mdb is not a new store, unless put --create says so ----
D=$(fresh empty)
: >"$D/data.mdb"
for c in export count "status prod" "cursor prod"; do
	# shellcheck disable=SC2086
	expect_status "empty file: $c exit 6" 6 lg-store --db "$D" $c
	expect_contains "empty file: $c says so" "$T/err" "lg-store: db: $D/data.mdb: empty (0 bytes): not a store"
done
expect_status "empty file: put exit 6" 6 lg-store --db "$D" put <"$T/again"
expect_eq "empty file: put left it empty" 0 "$(stat -c %s "$D/data.mdb")"
expect_status "empty file: put --create makes a store" 0 lg-store --db "$D" put --create --summary none <"$T/again"
expect_eq "empty file: the new store holds the record" 1 "$(lg-store --db "$D" count)"

# ---- foreign files ----
D=$(fresh foreign)
head -c 20000 /dev/urandom >"$D/data.mdb"
sum=$(md5sum <"$D/data.mdb")
expect_status "not LMDB: export exit 6" 6 lg-store --db "$D" export
expect_contains "not LMDB: says so" "$T/err" "lg-store: db: $D/data.mdb: not an LMDB file, or its header is damaged"
expect_status "not LMDB: put exit 6" 6 lg-store --db "$D" put <"$T/again"
expect_eq "not LMDB: file untouched" "$sum" "$(md5sum <"$D/data.mdb")"
mkdir "$T/other"
printf 'k\nv\n' | mdb_load -T -s something "$T/other"
sum=$(md5sum <"$T/other/data.mdb")
expect_status "another program's LMDB: count exit 6" 6 lg-store --db "$T/other" count
expect_eq "another program's LMDB: says so" "lg-store: db: $T/other/data.mdb: an LMDB file, but not a store (no records database)" "$(cat "$T/err")"
expect_status "another program's LMDB: put exit 6" 6 lg-store --db "$T/other" put <"$T/again"
expect_eq "another program's LMDB: untouched" "$sum" "$(md5sum <"$T/other/data.mdb")"

# ---- a store written before checksums: read as it is, sealed by put ----
L="$T/legacy"
mkdir "$L"
load() { # SUBDB [store_sum args]...: one raw entry
	local db=$1
	shift
	python3 "$ROOT/tests/store_sum.py" --raw "$db" "$@" | mdb_load -T -s "$db" "$L"
}
a=$(grep alpha-0001 "$T/good.export")
b=$(grep bravo-0002 "$T/good.export")
load records alpha-0001 "$a"
load records bravo-0002 "$b"
load by_time --time "$(($(date -ud 2026-11-27T10:00:00Z +%s) * 1000))" alpha-0001 ""
load by_time --time "$(($(date -ud 2026-11-27T10:01:00Z +%s) * 1000))" bravo-0002 ""
load violations v-alpha alpha-0001
[ "$(jq .stale <<<"$a")" = true ] && load stale --time "$(($(date -ud 2026-11-27T10:00:00Z +%s) * 1000))" alpha-0001 ""
[ "$(jq .stale <<<"$b")" = true ] && load stale --time "$(($(date -ud 2026-11-27T10:01:00Z +%s) * 1000))" bravo-0002 ""
load state cursor/prod 2026-11-27T10:02:00.000Z
printf '' | mdb_load -T -s runs "$L"
expect_status "legacy store: export exit 0" 0 lg-store --db "$L" export
expect_eq "legacy store: export as stored" "$a
$b" "$(cat "$T/out")"
expect_status "legacy store: check ok" 0 lg-store --db "$L" check
expect_eq "legacy store: cursor" 2026-11-27T10:02:00.000Z "$(lg-store --db "$L" cursor prod)"
expect_eq "legacy store: reading wrote nothing" "" "$(mdb_dump -s state "$L" | grep '^ 666f726d6174$')"
expect_status "legacy store: put seals it" 0 lg-store --db "$L" put --summary none <"$T/again"
expect_eq "legacy store: sealed" " 666f726d6174" "$(mdb_dump -s state "$L" | grep '^ 666f726d6174$')"
expect_eq "legacy store: every record kept" "$a
$b" "$(lg-store --db "$L" export)"
expect_status "legacy store: check after sealing" 0 lg-store --db "$L" check
poke "$L/data.mdb" '"n-alpha-0001"' '"n-alphX-0001"'
expect_status "sealed legacy store: a change is caught" 6 lg-store --db "$L" get alpha-0001

# a legacy store whose record is already damaged is not sealed over it
L2="$T/legacy2"
mkdir "$L2"
python3 "$ROOT/tests/store_sum.py" --raw records alpha-0001 '{"externalId":"alpha-0001",' | mdb_load -T -s records "$L2"
for s in by_time violations stale runs state; do printf '' | mdb_load -T -s "$s" "$L2"; done
expect_status "damaged legacy store: put still stores" 0 lg-store --db "$L2" put --summary none <"$T/again"
expect_contains "damaged legacy store: put names the record" "$T/err" "record 'alpha-0001': written before checksums, and unreadable: the store is left unsealed"
expect_eq "damaged legacy store: not sealed" "" "$(mdb_dump -s state "$L2" | grep '^ 666f726d6174$')"
expect_eq "damaged legacy store: the new record readable" bravo-0002 "$(lg-store --db "$L2" get bravo-0002 | jq -r .externalId)"

# ---- stats never prints inf or nan: 1e999 is infinity, sums can overflow ----
S="$T/stats"
printf '%s\n' \
	'{"externalId":"i1","timestamp":"2026-11-27T10:00:00Z","status":"success","duration":1e999,"metadata":{"tokens":{"total":1e308},"cost":-1e999}}' \
	'{"externalId":"i2","timestamp":"2026-11-27T10:00:01Z","duration":-1e999,"metadata":{"tokens":{"total":1e308},"cost":1e999}}' \
	'{"externalId":"i3","timestamp":"2026-11-27T10:00:02Z","duration":250,"metadata":{"tokens":{"total":5},"cost":0.25}}' |
	lg-store --db "$S" put --summary none
expect_status "stats with infinities: exit 0" 0 lg-store --db "$S" stats
expect_eq "stats with infinities: no inf, no nan" "all 3 33.3% 250 250 - 0.250000" "$(awk 'NR == 2 { print $1, $2, $3, $4, $5, $6, $7 }' "$T/out")"
expect_not_contains "stats table: no inf/nan" "$T/out" "inf"
expect_not_contains "stats table: no nan" "$T/out" "nan"
expect_eq "stats --json: finite values only" '[250,250,null,0.25]' "$(lg-store --db "$S" stats --json | jq -c '.groups[0] | [.avgDuration, .p95Duration, .tokens, .cost]')"
