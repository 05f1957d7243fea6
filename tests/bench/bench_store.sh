# lg-store: `put` of new records and of unchanged re-puts in records/s, next
# to LMDB's own loader (`mdb_load`, which commits every 100 records) loading
# the same key/value pairs into the same sub-database in the same run; `get`
# latency; peak RSS of `put` (GNU time %M, as every stage is measured)
# for N/4, N and 4N records: it must stay flat, under 16 MB.
# Env: BENCH_STORE_TRACES (10000), BENCH_STORE_BIG (1: also 4N records; 0
# skips that corpus, which takes a minute to generate), BENCH_DIR. Times
# are the best of three.
set -u
: "${ROOT:?}" "${BIN:?}" "${BENCH_DIR:?}"
N=${BENCH_STORE_TRACES:-10000}
SMALL=$((N / 4))
BIG=$((N * 4))
[ "${BENCH_STORE_BIG:-1}" = 1 ] || BIG=
W="$BENCH_DIR/store"
rm -rf "$W" && mkdir -p "$W"
command -v mdb_load >/dev/null || { echo "mdb_load not installed (scripts/install-deps: lmdb-utils)"; exit 1; }

# corpus N: records as lg-map makes them from N generated Langfuse traces.
corpus() {
	local c="$BENCH_DIR/store-$1.records"
	if [ ! -s "$c" ]; then
		python3 "$ROOT/tests/server/gen_dataset.py" --traces "$1" --seed 5 --format ndjson \
			--end 2026-11-20T00:00:00Z --span 2d --out "$W/traces" &&
			"$BIN/lg-map" --integration bench <"$W/traces" >"$c.tmp" && mv "$c.tmp" "$c" &&
			rm -f "$W/traces" || { echo "corpus generation failed" >&2; exit 1; }
	fi
	echo "$c"
}
C=$(corpus "$N") || exit 1
head -n "$SMALL" "$C" >"$W/small.records"
echo "corpus: $(wc -l <"$C") records, $(awk -v b="$(stat -c %s "$C")" 'BEGIN { printf "%.0f", b / 1048576 }') MB"

# timed NAME CMD... (stdin from $IN): sets T_S (wall seconds) and T_RSS (KB).
timed() {
	local f="$W/$1.time"
	shift
	/usr/bin/time -f "%e %M" -o "$f" "$@" <"$IN" >/dev/null 2>"$W/err" || { echo "failed: $*"; cat "$W/err"; exit 1; }
	set -- $(tail -1 "$f")
	T_S=$1 T_RSS=$2
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.005; printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
IN="$C"
timed put-new "$BIN/lg-store" --db "$W/db" put
new_s=$T_S new_rss=$T_RSS
timed put-same "$BIN/lg-store" --db "$W/db" put
same_s=$T_S

# pairs DB OUT: the key/value pairs of DB's records (externalId -> the stored
# record) in mdb_dump's "print" format, with a map as large as DB's map.
pairs() {
	local mapsize=$(( $(stat -c %s "$1/data.mdb") * 2 ))
	"$BIN/lg-store" --db "$1" export |
	python3 -c '
import json, sys
def esc(b):
    return "".join("\\\\" if c == 92 else chr(c) if 32 <= c < 127 else "\\%02x" % c for c in b)
out = sys.stdout
out.write("VERSION=3\nformat=print\ntype=btree\nmapsize=%s\nHEADER=END\n" % sys.argv[1])
for line in sys.stdin.buffer:
    line = line.rstrip(b"\n")
    key = json.loads(line)["externalId"].encode()
    out.write(" " + esc(key) + "\n " + esc(line) + "\n")
out.write("DATA=END\n")' "$mapsize" >"$2"
}
pairs "$W/db" "$W/pairs"

# all_pairs DB INPUT OUT: every key/value pair put wrote into DB (records and
# the by_time, violations and stale indexes; runs and state), in print
# format with one "database=" section each, in the order put wrote them:
# records and their index keys in INPUT's order. What mdb_load does with
# it is what put's B-tree work is; put also reads and checks JSON.
all_pairs() {
	local mapsize=$(( $(stat -c %s "$1/data.mdb") * 2 ))
	mdb_dump -a "$1" | python3 -c '
import json, sys
order = {}
with open(sys.argv[2], "rb") as f:
    for i, line in enumerate(f):
        order.setdefault(json.loads(line)["externalId"].encode(), i)
dbs, name, pairs, key, data = [], None, [], None, False
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("database="):
        name = line[9:]
    elif line == "HEADER=END":
        data, pairs = True, []
    elif line == "DATA=END":
        dbs.append((name, pairs)); data = False
    elif data:
        b = bytes.fromhex(line[1:])
        if key is None:
            key = b
        else:
            pairs.append((key, b)); key = None
def rank(db, k, v):
    if db == "records": return order.get(k, 0)
    if db in ("by_time", "stale"): return order.get(k[8:], 0)
    if db == "violations": return order.get(v, 0)
    return 0
def esc(b):
    return "".join("\\\\" if c == 92 else chr(c) if 32 <= c < 127 else "\\%02x" % c for c in b)
out = sys.stdout
for db, pairs in dbs:
    out.write("VERSION=3\nformat=print\ndatabase=%s\ntype=btree\nmapsize=%s\nHEADER=END\n" % (db, sys.argv[1]))
    for k, v in sorted(pairs, key=lambda p: rank(db, p[0], p[1])):
        out.write(" " + esc(k) + "\n " + esc(v) + "\n")
    out.write("DATA=END\n")' "$mapsize" "$2" >"$3"
}
# Best of three, runs interleaved so a busy machine hurts both alike.
load_s=999999 new100_s=999999
for i in 1 2 3; do
	rm -rf "$W/mdb" "$W/dbnew" "$W/db100" && mkdir -p "$W/mdb"
	IN="$W/pairs"
	timed mdb_load mdb_load -s records "$W/mdb"
	load_s=$(min "$load_s" "$T_S") load_rss=$T_RSS
	IN="$C"
	timed put-new "$BIN/lg-store" --db "$W/dbnew" put
	new_s=$(min "$new_s" "$T_S")
	timed put-new-100 "$BIN/lg-store" --db "$W/db100" --batch 100 put
	new100_s=$(min "$new100_s" "$T_S")
	timed put-same "$BIN/lg-store" --db "$W/dbnew" put
	same_s=$(min "$same_s" "$T_S")
done
n=$(wc -l <"$C")
loaded=$(mdb_stat -s records "$W/mdb" | awk '/Entries:/ { print $2 }')
[ "$loaded" = "$n" ] || echo "warning: mdb_load stored $loaded of $n pairs"

# The same records after lg-detect | lg-policy (what a sync stores): each
# carries evaluation.contentHash, so put parses it and hashes it.
have_policy=0
if "$BIN/lg-detect" <"$C" 2>/dev/null | "$BIN/lg-policy" >"$W/evaluated" 2>/dev/null && [ -s "$W/evaluated" ]; then
	have_policy=1 eval_s=999999 eval_same_s=999999 eval_load_s=999999
	IN="$W/evaluated"
	timed put-eval "$BIN/lg-store" --db "$W/dbeval" put
	pairs "$W/dbeval" "$W/eval.pairs"
	all_pairs "$W/dbeval" "$W/evaluated" "$W/eval.all"
	eval_all_s=999999
	for i in 1 2 3; do
		rm -rf "$W/dbeval" "$W/mdbeval" "$W/mdball" && mkdir -p "$W/mdbeval" "$W/mdball"
		IN="$W/eval.pairs"
		timed mdb_load-eval mdb_load -s records "$W/mdbeval"
		eval_load_s=$(min "$eval_load_s" "$T_S")
		IN="$W/eval.all"
		timed mdb_load-all mdb_load "$W/mdball"
		eval_all_s=$(min "$eval_all_s" "$T_S")
		IN="$W/evaluated"
		timed put-eval "$BIN/lg-store" --db "$W/dbeval" put
		eval_s=$(min "$eval_s" "$T_S")
		timed put-eval-same "$BIN/lg-store" --db "$W/dbeval" put
		eval_same_s=$(min "$eval_same_s" "$T_S")
	done
	eval_stale=$("$BIN/lg-store" --db "$W/dbeval" count --stale)
fi

# Peak RSS of put into a fresh database, input through a pipe as in a
# pipeline: N/4, N and 4N records.
rss_of() { # INPUT -> KB
	rm -rf "$W/dbrss"
	/usr/bin/time -f "%M" -o "$W/rss.time" sh -c 'cat "$1" | "$2" --db "$3" put 2>/dev/null' sh \
		"$1" "$BIN/lg-store" "$W/dbrss" || { echo "failed: put $1"; exit 1; }
	tail -1 "$W/rss.time"
}
rss_small=$(rss_of "$W/small.records") rss_n=$(rss_of "$C") rss_big=
if [ -n "$BIG" ]; then
	CB=$(corpus "$BIG") || exit 1
	rss_big=$(rss_of "$CB")
fi

# get: 200 lookups of random stored ids, one process each (as a script would).
"$BIN/lg-store" --db "$W/db" export | python3 -c '
import json, random, sys
ids = [json.loads(l)["externalId"] for l in sys.stdin]
random.seed(3)
print("\n".join(random.choice(ids) for _ in range(200)))' >"$W/ids"
start=$(date +%s%N)
while read -r id; do "$BIN/lg-store" --db "$W/db" get "$id" >/dev/null || exit 1; done <"$W/ids"
get_ms=$(awk -v ns="$(( $(date +%s%N) - start ))" 'BEGIN { printf "%.2f", ns / 200 / 1e6 }')
start=$(date +%s%N)
while read -r id; do /bin/true "$id"; done <"$W/ids"
spawn_ms=$(awk -v ns="$(( $(date +%s%N) - start ))" 'BEGIN { printf "%.2f", ns / 200 / 1e6 }')

printf '%-44s %10s records/s\n' "lg-store put, new records (default batch 500)" "$(rate "$n" "$new_s")"
printf '%-44s %10s records/s\n' "lg-store put, new records (--batch 100)" "$(rate "$n" "$new100_s")"
printf '%-44s %10s records/s\n' "mdb_load, same pairs (commits per 100)" "$(rate "$n" "$load_s")"
printf '%-44s %10s x mdb_load\n' "put new / mdb_load" "$(ratio "$load_s" "$new_s")"
printf '%-44s %10s x mdb_load\n' "put new --batch 100 / mdb_load" "$(ratio "$load_s" "$new100_s")"
printf '%-44s %10s records/s\n' "lg-store put, unchanged re-put" "$(rate "$n" "$same_s")"
if [ "$have_policy" = 1 ]; then
	printf '%-44s %10s records/s (%s x mdb_load; %s left stale)\n' "put new, after lg-detect|lg-policy" \
		"$(rate "$n" "$eval_s")" "$(ratio "$load_s" "$eval_s")" "$eval_stale"
	printf '%-44s %10s records/s (put: %s x this)\n' "mdb_load, the evaluated records' pairs" \
		"$(rate "$n" "$eval_load_s")" "$(ratio "$eval_load_s" "$eval_s")"
	allpairs=$(mdb_stat -a "$W/mdball" | awk '/Entries:/ { n += $2 } END { print n }')
	printf '%-44s %10s records/s (put: %s x this; %s pairs in 7 trees)\n' \
		"mdb_load, every pair put wrote for them" "$(rate "$n" "$eval_all_s")" "$(ratio "$eval_all_s" "$eval_s")" "$allpairs"
	printf '%-44s %10s records/s\n' "put unchanged re-put, after lg-policy" "$(rate "$n" "$eval_same_s")"
else
	echo "put after lg-detect|lg-policy: not available (lg-policy not built)"
fi
printf '%-44s %10s ms (fork+exec of /bin/true: %s ms)\n' "lg-store get, one process per lookup" "$get_ms" "$spawn_ms"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '%-44s %10s MB for %s records, %s MB for %s%s; mdb_load %s MB for %s\n' "lg-store put peak RSS" \
	"$(mb "$rss_small")" "$SMALL" "$(mb "$rss_n")" "$n" "${rss_big:+, $(mb "$rss_big") MB for $BIG}" \
	"$(mb "$load_rss")" "$n"
echo "db size: lg-store $(du -sh "$W/db" | cut -f1) (records + indexes), mdb_load $(du -sh "$W/mdb" | cut -f1) (records only)"
