# lg-store put through the real binary: upserts, merge, summaries, bad
# lines, conflicts, runs and cursors, stale marking, map growth, and the
# robustness cases every tool must survive.
. "$ROOT/tests/lib.sh"
DB="$T/db"
export LG_NOW=2026-11-27T12:00:00Z
S() { lg-store --db "$DB" "$@"; }

# rec ID TS [EXTRA-JSON]: a small record of integration prod.
rec() {
	jq -nc --arg id "$1" --arg ts "$2" --argjson x "${3:-{\}}" \
		'{externalId:$id,name:"chat",timestamp:$ts,duration:1000,status:"success",tags:["a"],
		  metadata:{env:"test"},spans:[],source:{system:"langfuse",integration:"prod"}} * $x'
}

# content_hash FILE: the evaluation.contentHash lg-policy stamps on each
# record (lg_record_content_hash), taken from lg-policy itself.
content_hash() {
	lg-policy --no-builtin <"$1" | jq -r .evaluation.contentHash
}

# ---- usage ----
expect_status "help exit 0" 0 lg-store --help
expect_contains "help names put" "$T/out" "Usage: lg-store [--db DIR] COMMAND"
expect_status "version exit 0" 0 lg-store --version
expect_eq "version text" "lg-store 0.1.0" "$(cat "$T/out")"
expect_status "unknown option exit 2" 2 lg-store --bogus put
expect_eq "unknown option text" "lg-store: unknown option '--bogus'
Try 'lg-store --help'" "$(cat "$T/err")"
expect_status "no command exit 2" 2 lg-store --db "$DB"
expect_status "unknown command exit 2" 2 lg-store --db "$DB" frobnicate
expect_eq "unknown command text" "lg-store: unknown command 'frobnicate'
Try 'lg-store --help'" "$(cat "$T/err")"
expect_status "get without id exit 2" 2 lg-store --db "$DB" get
expect_status "bad --batch exit 2" 2 lg-store --db "$DB" --batch 0 put
expect_status "bad --summary exit 2" 2 lg-store --db "$DB" --summary yaml put

# ---- first put: new records, nothing on stdout, summary on stderr ----
{ rec t1 2026-11-01T10:00:00.000Z; rec t2 2026-11-01T09:00:00.000Z; rec t3 2026-11-02T00:00:00.000Z; } >"$T/three"
S put <"$T/three" >"$T/out" 2>"$T/err"; s=$?
expect_eq "put exit 0" 0 "$s"
expect_eq "put stdout empty" "" "$(cat "$T/out")"
expect_eq "put summary" "lg-store: put: 3 ingested, 0 updated, 0 unchanged, 0 failed, 3 stale" "$(cat "$T/err")"
expect_eq "db dir is 0700" 700 "$(stat -c %a "$DB")"
expect_eq "data file is 0600" 600 "$(stat -c %a "$DB/data.mdb")"
expect_eq "get returns the record, marked stale" \
	'{"externalId":"t1","name":"chat","timestamp":"2026-11-01T10:00:00.000Z","duration":1000,"status":"success","tags":["a"],"metadata":{"env":"test"},"spans":[],"source":{"system":"langfuse","integration":"prod"},"stale":true}' \
	"$(S get t1)"
expect_status "get missing exit 1" 1 lg-store --db "$DB" get nope
expect_eq "get missing text" "lg-store: nope: not found" "$(cat "$T/err")"
expect_eq "export in timestamp order" "t2 t1 t3" "$(S export | jq -r .externalId | tr '\n' ' ' | sed 's/ $//')"

# ---- re-put: unchanged, no write ----
S --summary json put <"$T/three" >"$T/out" 2>"$T/err"; s=$?
expect_eq "re-put exit 0" 0 "$s"
expect_eq "re-put json summary" '{"ingested":0,"updated":0,"unchanged":3,"failed":0,"stale":3}' "$(cat "$T/out")"
expect_eq "json summary: stderr empty" "" "$(cat "$T/err")"
S --summary none put <"$T/three" >"$T/out" 2>"$T/err"
expect_eq "summary none is silent" "" "$(cat "$T/out" "$T/err")"

# ---- merge through put: tags united, metadata deep-merged, earlier timestamp ----
rec t1 2026-11-01T08:00:00.000Z '{"tags":["b"],"metadata":{"region":"eu"},"name":null}' | S put 2>"$T/err"
expect_eq "merge summary" "lg-store: put: 0 ingested, 1 updated, 0 unchanged, 0 failed, 1 stale" "$(cat "$T/err")"
expect_eq "merged fields" '["a","b"] {"env":"test","region":"eu"} chat 2026-11-01T08:00:00.000Z' \
	"$(S get t1 | jq -c '[.tags, .metadata, .name, .timestamp] | "\(.[0]|tojson) \(.[1]|tojson) \(.[2]) \(.[3])"' -r)"
expect_eq "timestamp change moves the record in export" "t1 t2 t3" "$(S export | jq -r .externalId | tr '\n' ' ' | sed 's/ $//')"
expect_status "check after timestamp move" 0 lg-store --db "$DB" check
expect_eq "check output" "3 records, 0 violations, 3 stale, 0 runs: ok" "$(cat "$T/out")"

# ---- conflict: same externalId from another integration ----
before=$(S get t2)
rec t2 2026-11-01T09:00:00.000Z '{"source":{"integration":"dev"},"name":"other"}' >"$T/conflict"
S put <"$T/conflict" >"$T/out" 2>"$T/err"; s=$?
expect_eq "conflict exit 1" 1 "$s"
expect_eq "conflict message" "lg-store: <stdin>:1: externalId t2 belongs to integration prod, not dev
lg-store: put: 0 ingested, 0 updated, 0 unchanged, 1 failed, 0 stale" "$(cat "$T/err")"
expect_eq "conflict leaves the stored record untouched" "$before" "$(S get t2)"

# ---- bad lines: reported with line numbers, good ones stored, exit 1 ----
{ rec g1 2026-11-03T00:00:00.000Z; echo '{"externalId": oops}'; echo '[1]'; echo '{"name":"no id"}';
  rec g2 2026-11-03T00:00:01.000Z; printf '{"externalId":"%0600d"}\n' 7; } >"$T/mixed"
S -q "$T/q" put <"$T/mixed" >"$T/out" 2>"$T/err"; s=$?
expect_eq "bad lines exit 1" 1 "$s"
expect_eq "bad line messages" "lg-store: <stdin>:2: invalid JSON at byte 16: unexpected character
lg-store: <stdin>:3: not a JSON object
lg-store: <stdin>:4: record without a string \"externalId\"
lg-store: <stdin>:6: externalId longer than 503 bytes
lg-store: put: 2 ingested, 0 updated, 0 unchanged, 4 failed, 2 stale" "$(cat "$T/err")"
expect_eq "good neighbours stored" "g1 g2" "$(S export --from 2026-11-03T00:00:00Z | jq -r .externalId | tr '\n' ' ' | sed 's/ $//')"
expect_eq "quarantine keeps the line and reason" '# <stdin>:2: invalid JSON at byte 16: unexpected character
{"externalId": oops}' "$(head -n2 "$T/q")"

# ---- runs, checkpoints, cursor ----
{
	echo '{"$lg":"run-start","run":"r1","integration":"prod","host":"http://x","mode":"incremental","api":"v2","from":"2026-11-04T00:00:00.000Z","to":"2026-11-04T02:00:00.000Z","startedAt":"2026-11-27T11:00:00.000Z"}'
	rec r1a 2026-11-04T00:10:00.000Z
	echo '{"$lg":"checkpoint","run":"r1","integration":"prod","cursor":"2026-11-04T01:00:00.000Z","window":{"from":"2026-11-04T00:00:00.000Z","to":"2026-11-04T01:00:00.000Z"},"traces":1,"rows":3}'
	rec r1b 2026-11-04T01:10:00.000Z
	rec t3 2026-11-02T00:00:00.000Z
	echo '{"$lg":"checkpoint","run":"r1","integration":"prod","cursor":"2026-11-04T02:00:00.000Z","window":{"from":"2026-11-04T01:00:00.000Z","to":"2026-11-04T02:00:00.000Z"},"traces":2,"rows":4}'
	echo '{"$lg":"run-end","run":"r1","integration":"prod","status":"completed","error":null,"exitCode":0,"traces":3,"rows":7,"requests":2,"retries":0,"throttledSeconds":0,"completedAt":"2026-11-27T11:00:05.000Z"}'
} >"$T/run1"
S put <"$T/run1" 2>"$T/err"; s=$?
expect_eq "run put exit 0" 0 "$s"
expect_eq "run put summary" "lg-store: put: 2 ingested, 0 updated, 1 unchanged, 0 failed, 3 stale" "$(cat "$T/err")"
expect_eq "cursor after run" "2026-11-04T02:00:00.000Z" "$(S cursor prod)"
expect_status "cursor of unknown integration: exit 0" 0 lg-store --db "$DB" cursor nothere
expect_eq "cursor of unknown integration: nothing" "" "$(cat "$T/out")"
expect_eq "status after run" '{"success":true,"data":{"isActive":false,"hasSchedule":false,"lastSync":{"id":"r1","status":"completed","itemsFetched":3,"itemsIngested":2,"startedAt":"2026-11-27T11:00:00.000Z","completedAt":"2026-11-27T11:00:05.000Z","error":null},"incomplete":{"pending":0,"gaveUp":0}}}' \
	"$(S status prod)"
expect_eq "status --active --scheduled" '{"success":true,"data":{"isActive":true,"hasSchedule":true,"lastSync":{"id":"r1","status":"completed","itemsFetched":3,"itemsIngested":2,"startedAt":"2026-11-27T11:00:00.000Z","completedAt":"2026-11-27T11:00:05.000Z","error":null},"incomplete":{"pending":0,"gaveUp":0}}}' \
	"$(S status --active --scheduled prod)"
expect_eq "status of unknown integration" '{"success":true,"data":{"isActive":false,"hasSchedule":false,"lastSync":null,"incomplete":{"pending":0,"gaveUp":0}}}' "$(S status staging)"

# A run that ends without run-end is recorded as failed; the cursor stays
# at its last checkpoint, and never moves backwards.
{
	echo '{"$lg":"run-start","run":"r2","integration":"prod","startedAt":"2026-11-27T11:30:00.000Z"}'
	echo '{"$lg":"checkpoint","run":"r2","integration":"prod","cursor":"2026-11-03T00:00:00.000Z","traces":0,"rows":0}'
	rec r2a 2026-11-04T03:00:00.000Z
} | S put 2>/dev/null
expect_eq "early end: run failed" '{"id":"r2","status":"failed","itemsFetched":0,"itemsIngested":1,"startedAt":"2026-11-27T11:30:00.000Z","completedAt":"2026-11-27T12:00:00.000Z","error":"stream ended early"}' \
	"$(S status prod | jq -c .data.lastSync)"
expect_eq "early end: record after the last checkpoint still stored" "r2a" "$(S get r2a | jq -r .externalId)"
expect_eq "cursor never moves backwards" "2026-11-04T02:00:00.000Z" "$(S cursor prod)"
expect_eq "status without integration: the latest run" "r2" "$(S status | jq -r .data.lastSync.id)"
printf '{"$lg":"checkpoint","run":"r3","integration":"prod","cursor":"yesterday"}\n' | S put >/dev/null 2>"$T/err"
expect_eq "checkpoint with a bad cursor is a bad line" 'lg-store: <stdin>:1: checkpoint without a valid "cursor"' "$(head -n1 "$T/err")"

# ---- new evaluated records: stored as sent, no tree (scan + text hash) ----
EV="$T/dbev"
rec e1 2026-11-10T00:00:00.000Z >"$T/e1"
h1=$(content_hash "$T/e1")
{
	jq -c --arg h "$h1" '. + {violations:[{id:"ve1",policyId:"pii",severity:"high",status:"new"}],
		evaluation:{contentHash:$h,policies:["pii"],evaluatedAt:"2026-11-27T00:00:00Z"}}' "$T/e1"
	rec e2 2026-11-10T01:00:00.000Z '{"evaluation":{"contentHash":"0000000000000000","policies":["pii"]},"violations":[]}'
	rec e3 2026-11-10T02:00:00.000Z '{"evaluation":{"contentHash":"x","policies":["pii"]},"violations":[{"id":"ve3","policyId":"pii"}]}'
	printf '%s\n' '{"externalId":"e4","evaluation":{"contentHash":"x"},"n":01}'
} >"$T/evaluated"
lg-store --db "$EV" put <"$T/evaluated" >"$T/out" 2>"$T/err"; s=$?
expect_eq "evaluated put: a bad line makes exit 1" 1 "$s"
expect_eq "evaluated put: the parser's verdict and the summary" "lg-store: <stdin>:4: invalid JSON at byte 58: expected ',' or '}'
lg-store: put: 3 ingested, 0 updated, 0 unchanged, 1 failed, 2 stale" "$(cat "$T/err")"
expect_eq "hash matches: stored byte for byte as sent" "$(sed -n 1p "$T/evaluated")" "$(lg-store --db "$EV" get e1)"
expect_eq "hash differs: stale appended" "$(sed -n 2p "$T/evaluated" | sed 's/}$/,"stale":true}/')" "$(lg-store --db "$EV" get e2)"
expect_eq "violation without status: tree path gives it status new" "new" "$(lg-store --db "$EV" get e3 | jq -r '.violations[0].status')"
expect_eq "violations indexed to their records" "ve1 e1 ve3 e3" \
	"$(lg-store --db "$EV" violations | jq -r '"\(.id) \(.externalId)"' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "stale index: the mismatched ones" "e2 e3" "$(lg-store --db "$EV" export --stale | jq -r .externalId | tr '\n' ' ' | sed 's/ $//')"
expect_eq "evaluated put: check passes" "3 records, 2 violations, 2 stale, 0 runs: ok" "$(lg-store --db "$EV" check)"

# ---- stale: cleared when the evaluation saw the merged content ----
rec s1 2026-11-05T00:00:00.000Z '{"output":"v1"}' >"$T/s1"
h=$(content_hash "$T/s1")
jq -c --arg h "$h" '. + {evaluation:{contentHash:$h,policies:["pii"],evaluatedAt:"2026-11-27T00:00:00Z"},violations:[]}' "$T/s1" | S put 2>"$T/err"
expect_eq "evaluated record is not stale" "lg-store: put: 1 ingested, 0 updated, 0 unchanged, 0 failed, 0 stale" "$(cat "$T/err")"
expect_eq "not listed by export --stale" "" "$(S export --stale --from 2026-11-05T00:00:00Z)"
rec s1 2026-11-05T00:00:00.000Z '{"output":"v2"}' | S put 2>/dev/null
expect_eq "changed content: stale" "s1 true" "$(S export --stale --from 2026-11-05T00:00:00Z | jq -r '"\(.externalId) \(.stale)"')"
S get s1 | jq -c 'del(.stale, .evaluation)' >"$T/s1b"
h=$(content_hash "$T/s1b")
jq -c --arg h "$h" '. + {evaluation:{contentHash:$h,policies:["pii"],evaluatedAt:"2026-11-27T01:00:00Z"}}' "$T/s1b" | S put 2>/dev/null
expect_eq "re-evaluated: stale cleared" "0" "$(S count --stale --from 2026-11-05T00:00:00Z)"
expect_status "check after stale round trip" 0 lg-store --db "$DB" check

# ---- exact numbers and long lines ----
# (jq would round the number, so the line is written by hand)
echo '{"externalId":"big","timestamp":"2026-11-06T00:00:00.000Z","metadata":{"id19":1234567890123456789,"cost":0.1}}' | S put 2>/dev/null
expect_eq "19-digit integer survives" '1234567890123456789' "$(S get big | grep -o '"id19":[0-9]*' | cut -d: -f2)"
python3 -c 'import json; print(json.dumps({"externalId":"long","timestamp":"2026-11-06T00:00:01Z","output":"x"*200000,"source":{"integration":"prod"}}))' | S put 2>/dev/null
expect_eq "line over 64 KiB stored whole" 200000 "$(S get long | jq -r '.output|length')"

# ---- output errors ----
expect_status "get to /dev/full exit 6" 6 sh -c "lg-store --db '$DB' get t1 >/dev/full"
expect_contains "get to /dev/full says write error" "$T/err" "lg-store: write error"
expect_status "export to /dev/full exit 6" 6 sh -c "lg-store --db '$DB' export >/dev/full"
lg-store --db "$DB" export | head -n1 >"$T/out" 2>"$T/err"
expect_eq "export | head -n1: one line" 1 "$(wc -l <"$T/out" | tr -d ' ')"
bash -c "lg-store --db '$DB' export 2>'$T/err' | head -n1 >/dev/null; exit \${PIPESTATUS[0]}"; s=$?
expect_eq "export | head -n1: exit 0, quiet" "0:" "$s:$(cat "$T/err")"

# ---- storage errors: exit 6, nothing committed is lost ----
: >"$T/afile"
rec x 2026-11-01T00:00:00Z >"$T/x"
expect_status "db under a regular file: exit 6" 6 lg-store --db "$T/afile/db" put <"$T/x"
expect_contains "db error names the directory" "$T/err" "lg-store: db: $T/afile/db:"

# ---- the map grows by itself on MDB_MAP_FULL ----
python3 -c '
import json
for i in range(3000):
    print(json.dumps({"externalId":"m%05d" % i,"timestamp":"2026-10-01T00:00:%02d.000Z" % (i % 60),
                      "output":"y" * 900,"source":{"integration":"grow"}}))' >"$T/grow"
lg-store --db "$T/small" --map-size 256K --batch 500 put <"$T/grow" 2>"$T/err"; s=$?
expect_eq "map growth: exit 0" "0" "$s"
expect_eq "map growth: all stored" 3000 "$(lg-store --db "$T/small" count)"
expect_status "map growth: check" 0 lg-store --db "$T/small" check
# One transaction for all (--batch too large to end it): the 4 MB bound
# on dirty pages and the room check end it early, never MDB_MAP_FULL.
lg-store --db "$T/small2" --map-size 64K --batch 1000000 put <"$T/grow" 2>"$T/err"; s=$?
expect_eq "map growth, one big batch: exit 0, quiet" "0:lg-store: put: 3000 ingested, 0 updated, 0 unchanged, 0 failed, 3000 stale" \
	"$s:$(cat "$T/err")"
expect_status "map growth, one big batch: check" 0 lg-store --db "$T/small2" check
# A record larger than the whole map.
python3 -c 'import json; print(json.dumps({"externalId":"huge","timestamp":"2026-10-02T00:00:00Z","output":"z"*3000000}))' >"$T/huge"
lg-store --db "$T/small3" --map-size 64K put <"$T/huge" 2>"$T/err"; s=$?
expect_eq "a record larger than the map: exit 0" 0 "$s"
expect_eq "a record larger than the map: stored whole" 3000000 "$(lg-store --db "$T/small3" get huge | jq -r '.output|length')"

# ---- idle input: committed before waiting, the writer lock free ----
# A record, a checkpoint, 1100 records, then half a line trickles in
# byte by byte while put applies them, and a pause. put must commit
# before it waits, even in the middle of a line (the pipe is read without
# blocking), so everything before is stored and another writer gets
# through meanwhile. The pause lasts until the test says go (a file), not
# a fixed time, so a slow machine cannot end it before the checks.
for i in 1 2 3; do rec i$i 2026-07-01T00:00:0$i.000Z >"$T/i$i"; done
python3 -c '
import json, sys, time
a, c = open(sys.argv[1]).read(), open(sys.argv[2]).read()
many = "".join(json.dumps({"externalId": "r%04d" % i, "timestamp": "2026-07-01T00:10:00.000Z"}) + "\n" for i in range(1100))
sys.stdout.write("{\"$lg\":\"run-start\",\"run\":\"ri\",\"integration\":\"idle\"}\n" + a + "{\"$lg\":\"checkpoint\",\"run\":\"ri\",\"integration\":\"idle\",\"cursor\":\"2026-07-01T01:00:00.000Z\"}\n" + many)
for ch in c[:60]:
    sys.stdout.write(ch)
    sys.stdout.flush()
    time.sleep(0.001)
import os
for _ in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
sys.stdout.write(c[60:])' "$T/i1" "$T/i2" "$T/idle.go" | lg-store --db "$T/idle" put 2>"$T/idle.err" &
idle_pid=$!
i=0
until [ "$(lg-store --db "$T/idle" count 2>/dev/null)" = 1101 ] || [ $i -ge 1000 ]; do sleep 0.02; i=$((i + 1)); done
expect_eq "idle: records and checkpoint committed while the stream is open" "2026-07-01T01:00:00.000Z 1101" \
	"$(lg-store --db "$T/idle" cursor idle) $(lg-store --db "$T/idle" count)"
lg-store --db "$T/idle" put <"$T/i3" 2>/dev/null
expect_eq "idle: another writer got through while put waited mid-line" "1 1102" \
	"$(kill -0 $idle_pid 2>/dev/null && echo 1) $(lg-store --db "$T/idle" count)"
touch "$T/idle.go"
wait $idle_pid; s=$?
expect_eq "idle: the rest of the line arrives and is stored" "0 1103" "$s $(lg-store --db "$T/idle" count)"

# ---- a line over 64 MiB whose read waits half way: one bad line ----
rec after 2026-07-02T00:00:00.000Z >"$T/after"
python3 -c '
import sys, time
out = sys.stdout.buffer
out.write(b"x" * (65 << 20))
out.flush()
time.sleep(0.5)
out.write(b"y" * 1000 + b"\n")
out.flush()
time.sleep(0.5)
out.write(open(sys.argv[1], "rb").read())' "$T/after" | lg-store --db "$T/longdb" put 2>"$T/err"; s=$?
expect_eq "over-long line through a slow pipe: exit 1" 1 "$s"
expect_eq "over-long line through a slow pipe: reported once, next line numbered 2" \
	"lg-store: <stdin>:1: line longer than 67108864 bytes
lg-store: put: 1 ingested, 0 updated, 0 unchanged, 1 failed, 1 stale" "$(cat "$T/err")"
expect_eq "over-long line through a slow pipe: the next record stored" after "$(lg-store --db "$T/longdb" get after | jq -r .externalId)"

# ---- default directory: $LG_DB, then $XDG_DATA_HOME ----
LG_DB="$T/envdb" lg-store put <"$T/x" 2>/dev/null
expect_eq "LG_DB is the default" 1 "$(lg-store --db "$T/envdb" count)"
env -u LG_DB XDG_DATA_HOME="$T/xdg" lg-store put <"$T/x" 2>/dev/null
expect_eq "XDG_DATA_HOME/langguard/db" 1 "$(lg-store --db "$T/xdg/langguard/db" count)"

# ---- two writers at once ----
python3 -c '
import json
for i in range(2000):
    print(json.dumps({"externalId":"w%05d" % (i % 1500),"timestamp":"2026-09-01T00:00:00.000Z",
                      "tags":["p%d" % (i // 1500)],"source":{"integration":"two"}}))' >"$T/w"
lg-store --db "$T/two" --batch 50 put <"$T/w" 2>"$T/e1" &
p1=$!
lg-store --db "$T/two" --batch 70 put <"$T/w" 2>"$T/e2" &
p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
expect_eq "two writers: both exit 0" "0 0" "$s1 $s2"
expect_eq "two writers: every record once" 1500 "$(lg-store --db "$T/two" count)"
expect_eq "two writers: merged tags" '["p0","p1"]' "$(lg-store --db "$T/two" get w00001 | jq -c .tags)"
expect_status "two writers: check" 0 lg-store --db "$T/two" check

# ---- a full disk (a file size limit): exit 6, what was committed stays ----
python3 -c '
import json
for i in range(3000): print(json.dumps({"externalId":"f%04d" % i,"timestamp":"2026-08-01T00:00:00Z","output":"y" * 3000}))' >"$T/fill"
lg-store --db "$T/full" put <"$T/x" 2>/dev/null
(trap '' XFSZ; ulimit -f 2048; lg-store --db "$T/full" put <"$T/fill" >"$T/out" 2>"$T/err"); s=$?
expect_eq "disk full: exit 6" 6 "$s"
expect_contains "disk full: says so in LMDB's words" "$T/err" "lg-store: db: commit:"
n=$(lg-store --db "$T/full" count)
expect_eq "disk full: earlier commits kept, store consistent" "1 0" \
	"$([ "$n" -ge 1 ] && [ "$n" -lt 3001 ] && echo 1) $(lg-store --db "$T/full" check >/dev/null 2>&1; echo $?)"
expect_eq "disk full: the first record still there" "x" "$(lg-store --db "$T/full" get x | jq -r .externalId)"
