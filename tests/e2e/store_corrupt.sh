# The store corruption campaign: a real store (a sync's records with
# violations, a run and a cursor) damaged at random, round after round:
# bits flipped, the file truncated, whole pages zeroed. After each, every
# read command either prints exactly what the good store prints (exit 0)
# or fails with exit 6 and a message saying the store is damaged; never a
# signal (SIGBUS, SIGSEGV, abort), never a sanitizer report, never altered
# output with exit 0. check may also say exit 1 (indexes disagree).
# Seeded and reproducible: LG_CORRUPT_SEED (printed), LG_CORRUPT_ROUNDS.
. "$ROOT/tests/lib.sh"
SEED=${LG_CORRUPT_SEED:-20261206}
ROUNDS=${LG_CORRUPT_ROUNDS:-15}
echo "store_corrupt: seed $SEED, $ROUNDS rounds (LG_CORRUPT_SEED=$SEED to repeat)"

python3 "$ROOT/tests/server/gen_dataset.py" --traces 150 --seed 7 --format ndjson \
	--end 2026-11-20T00:00:00Z --span 2d --out "$T/traces" || { fail setup "gen_dataset"; exit 0; }
{
	echo '{"$lg":"run-start","run":"r1","integration":"prod","mode":"incremental","startedAt":"2026-11-20T00:00:00.000Z"}'
	lg-map --integration prod <"$T/traces" | lg-detect | lg-policy
	echo '{"$lg":"checkpoint","run":"r1","integration":"prod","cursor":"2026-11-19T23:00:00.000Z"}'
	echo '{"$lg":"run-end","run":"r1","status":"completed","traces":150}'
} >"$T/in"
GOOD="$T/good"
lg-store --db "$GOOD" put --summary none <"$T/in" || { fail setup "put"; exit 0; }
rm -f "$GOOD/lock.mdb"
IDS=$(lg-store --db "$GOOD" export | jq -r .externalId | sed -n '1p;75p;150p')
# The commands, each as one line of arguments; what the good store prints.
{
	echo export
	echo count
	echo "stats --json"
	echo "stats --by model"
	echo violations
	echo "export --stale"
	echo "status prod"
	echo "cursor prod"
	echo check
	for id in $IDS; do echo "get $id"; done
} >"$T/commands"
n=0
while read -r c; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	lg-store --db "$GOOD" $c >"$T/want.$n" 2>&1 || { fail setup "$c on the good store"; exit 0; }
done <"$T/commands"
size=$(stat -c %s "$GOOD/data.mdb")
expect_eq "good store passes check" "ok" "$(sed -n 's/.*: //p' "$T/want.9")"

# The second leaf page of the records zeroed: check walks from the first
# into it and LMDB's own assertion stops it. Exit 6 saying so, with the
# environment closed (under valgrind: nothing of LMDB's left allocated).
# The page is found through LMDB's format as the file holds it (data
# format 1: the meta page with the larger transaction id, its main
# database root, the "records" entry there, that tree's leaves in order).
D="$T/leaf"
rm -rf "$D" && cp -r "$GOOD" "$D"
python3 - "$D/data.mdb" <<'EOF'
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
ps = struct.unpack_from("<I", b, 40)[0]
cur = 1 if struct.unpack_from("<Q", b, ps + 144)[0] > struct.unpack_from("<Q", b, 144)[0] else 0

def nodes(pg):  # the page's flags and its nodes' offsets
    flags, lower = struct.unpack_from("<HH", b, pg * ps + 10)
    return flags, [pg * ps + p for p in struct.unpack_from("<%dH" % ((lower - 16) // 2), b, pg * ps + 16)]

def leaves(pg):  # a tree's leaf pages, in key order
    flags, ns = nodes(pg)
    if not flags & 1:
        return [pg]
    out = []
    for n in ns:
        lo, hi, fl = struct.unpack_from("<HHH", b, n)
        out += leaves(lo | hi << 16 | fl << 32)
    return out

root = None
for pg in leaves(struct.unpack_from("<Q", b, cur * ps + 128)[0]):
    for n in nodes(pg)[1]:
        fl, ks = struct.unpack_from("<HH", b, n + 4)
        if fl & 2 and b[n + 8:n + 8 + ks] == b"records":
            root = struct.unpack_from("<Q", b, n + 8 + ks + 40)[0]
pages = leaves(root)
if len(pages) < 2:
    sys.exit("the records tree has one leaf")
b[pages[1] * ps:(pages[1] + 1) * ps] = bytes(ps)
open(path, "r+b").write(bytes(b))
EOF
expect_status "a records leaf zeroed: check exit 6" 6 lg-store --db "$D" check
expect_contains "  LMDB's assertion" "$T/err" "/data.mdb: LMDB: mdb.c"
expect_contains "  says the store is damaged" "$T/err" "(the store is damaged: restore from a backup)"
rm -rf "$D"

# damage FILE ROUND: one of three kinds, chosen and placed by the round's seed
damage() {
	python3 - "$1" "$SEED" "$2" <<'EOF'
import os, random, sys
path, seed, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed * 100003 + rnd)
size = os.path.getsize(path)
kind = rnd % 3
with open(path, "r+b") as f:
    if kind == 0:
        flips = [(r.randrange(size), r.randrange(8)) for _ in range(r.randint(1, 12))]
        for off, bit in flips:
            f.seek(off)
            b = f.read(1)[0] ^ (1 << bit)
            f.seek(off)
            f.write(bytes([b]))
        print("bit flips at " + ",".join("%d.%d" % x for x in flips))
    elif kind == 1:
        n = r.choice([r.randrange(size), r.randrange(16384), size - r.randrange(1, 8192)])
        f.truncate(n)
        print("truncated to %d of %d bytes" % (n, size))
    else:
        pages = sorted(r.sample(range(size // 4096), r.randint(1, 3)))
        for p in pages:
            f.seek(p * 4096)
            f.write(bytes(4096))
        print("pages zeroed: " + ",".join(map(str, pages)))
EOF
}

ok_rounds=0
for r in $(seq 1 "$ROUNDS"); do
	D="$T/r$r"
	rm -rf "$D" && cp -r "$GOOD" "$D"
	what=$(damage "$D/data.mdb" "$r")
	bad=""
	n=0
	while read -r c; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		timeout 60 lg-store --db "$D" $c >"$T/got" 2>"$T/err" </dev/null
		s=$?
		case $s in
		0)
			# a command that succeeds prints exactly what the good store printed
			cat "$T/err" >>"$T/got"
			cmp -s "$T/got" "$T/want.$n" || bad="$bad; '$c' exit 0 with other output ($(diff "$T/want.$n" "$T/got" | head -c 300))"
			;;
		6)
			grep -qE "damaged|truncated|not a store|an LMDB file|restore from a backup" "$T/err" ||
				bad="$bad; '$c' exit 6 without saying why: $(head -c 300 "$T/err")"
			;;
		1)
			[ "$c" = check ] || bad="$bad; '$c' exit 1: $(head -c 300 "$T/err")"
			;;
		*)
			bad="$bad; '$c' exit $s: $(head -c 300 "$T/err")"
			;;
		esac
	done <"$T/commands"
	if [ -z "$bad" ]; then
		ok_rounds=$((ok_rounds + 1))
	else
		fail "corrupt round $r ($what)" "${bad#; }"
	fi
	rm -rf "$D"
done
expect_eq "every round: correct output or exit 6 with a reason (seed $SEED)" "$ROUNDS" "$ok_rounds"
