# Crash safety: a stream of records and checkpoints fed to `lg-store put`
# is killed with SIGKILL at random moments, again and again. After every
# kill: `check` passes, and the stored cursor is never ahead of stored data
# (every trace fragment of a window before the cursor is in the store).
# Each attempt resumes from the stored cursor, as lg-sync would; at the end
# every trace is stored exactly once with the totals of the whole trace.
. "$ROOT/tests/lib.sh"
DB="$T/db"
KILLS=${STORE_CRASH_KILLS:-24}
cat >"$T/gen.py" <<'PY'
# gen.py make FILE | feed FILE CURSOR RUN K MARK | verify FILE CURSOR EXPORT | final FILE EXPORT
# 40 windows of 10 minutes, 30 traces each; every 5th trace has a second
# fragment (more spans) in the next window. FILE: "window<TAB>record" lines.
import json, random, sys, time
from datetime import datetime, timedelta, timezone
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
W, PER = 40, 30
def iso(t): return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
def wstart(w): return BASE + timedelta(minutes=10 * w)
def parse(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
def span(tid, k, t, tin, tout):
    return {"id": "%s-s%d" % (tid, k), "parentId": None, "type": "llm", "name": "gen",
            "startTime": iso(t), "endTime": iso(t + timedelta(seconds=1)), "duration": 1000,
            "model": "gpt-4o", "tokens": {"input": tin, "output": tout, "total": tin + tout},
            "cost": 0.001, "level": "DEFAULT"}
def record(tid, spans):
    return {"externalId": tid, "name": "chat", "timestamp": spans[0]["startTime"], "duration": 1000,
            "status": "success", "tags": [], "spans": spans,
            "metadata": {"tokens": {"input": 0, "output": 0, "total": sum(s["tokens"]["total"] for s in spans)}},
            "source": {"system": "langfuse", "integration": "crash"}}
def make(path):
    rnd = random.Random(7)
    out = []
    for w in range(W):
        for i in range(PER):
            tid = "tr-%02d-%02d" % (w, i)
            t0 = wstart(w) + timedelta(seconds=rnd.randrange(0, 500))
            out.append((w, record(tid, [span(tid, k, t0 + timedelta(seconds=k), 10 + k, 5) for k in range(3)])))
            if i % 5 == 0:
                t1 = wstart(w + 1) + timedelta(seconds=rnd.randrange(0, 500))
                out.append((w + 1, record(tid, [span(tid, 3 + k, t1 + timedelta(seconds=k), 100, 50) for k in range(2)])))
    out.sort(key=lambda p: p[0])
    with open(path, "w") as f:
        for w, r in out:
            f.write("%d\t%s\n" % (w, json.dumps(r)))
def load(path):
    return [(int(w), json.loads(r)) for w, r in (l.split("\t", 1) for l in open(path))]
mode, path = sys.argv[1], sys.argv[2]
if mode == "make":
    make(path); sys.exit(0)
if mode == "feed":
    # Resume one window before the cursor (the overlap an incremental sync
    # re-reads). The first K lines go at full speed, then MARK is created
    # and the rest trickles, so the kill lands after about K lines.
    cursor, run, k, mark = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
    n = [0]
    first = 0 if not cursor else max(0, int((parse(cursor) - BASE).total_seconds() // 600) - 1)
    lines = [(int(w), r) for w, r in (l.split("\t", 1) for l in open(path))]
    def out(s):
        sys.stdout.write(s)
        n[0] += 1
        if n[0] == k:
            sys.stdout.flush()
            open(mark, "w").close()
        if n[0] >= k:
            sys.stdout.flush()
            time.sleep(0.003)
    body = [json.dumps({"$lg": "run-start", "run": run, "integration": "crash", "mode": "incremental",
                        "startedAt": "2026-11-27T00:00:00.000Z"}) + "\n"]
    for w in range(first, W + 1):
        body += [r for lw, r in lines if lw == w]
        body.append(json.dumps({"$lg": "checkpoint", "run": run, "integration": "crash",
                                "cursor": iso(wstart(w + 1)), "traces": PER, "rows": PER * 3}) + "\n")
    body.append(json.dumps({"$lg": "run-end", "run": run, "integration": "crash", "status": "completed",
                            "error": None, "traces": PER * W, "completedAt": "2026-11-27T00:01:00.000Z"}) + "\n")
    # At least 10 lines (30 ms) still to come when MARK appears.
    if k > 0:
        k = max(1, min(k, len(body) - 10))
    try:
        for line in body:
            out(line)
    except BrokenPipeError:
        pass
    sys.exit(0)
frags = load(path)
stored = {}
for line in open(sys.argv[-1]):
    r = json.loads(line)
    if r["externalId"] in stored:
        print("duplicate " + r["externalId"]); sys.exit(1)
    stored[r["externalId"]] = r
if mode == "verify":
    cursor = parse(sys.argv[3]) if sys.argv[3] else BASE
    for fw, rec in frags:
        if wstart(fw + 1) <= cursor:
            have = {s["id"] for s in stored.get(rec["externalId"], {}).get("spans", [])}
            if not {s["id"] for s in rec["spans"]} <= have:
                print("cursor %s ahead of data: %s incomplete" % (sys.argv[3], rec["externalId"])); sys.exit(1)
    print("ok")
else:
    whole = {}
    for fw, rec in frags:
        n, tok = whole.get(rec["externalId"], (0, 0))
        whole[rec["externalId"]] = (n + len(rec["spans"]), tok + sum(s["tokens"]["total"] for s in rec["spans"]))
    bad = [t for t, (n, tok) in whole.items()
           if t not in stored or len(stored[t]["spans"]) != n or stored[t]["metadata"]["tokens"]["total"] != tok]
    print("%d stored, %d expected, %d wrong" % (len(stored), len(whole), len(bad)))
PY

S() { lg-store --db "$DB" --map-size 256K --batch 7 "$@"; }
python3 "$T/gen.py" make "$T/frags"

kills=0 attempt=0 bad_check=0 ahead=0 progress=0
while [ $kills -lt "$KILLS" ] && [ $attempt -lt $((KILLS * 2)) ]; do
	attempt=$((attempt + 1))
	cur=$(S cursor crash 2>/dev/null)
	rm -f "$T/fifo" "$T/mark" && mkfifo "$T/fifo"
	python3 "$T/gen.py" feed "$T/frags" "$cur" "run-$attempt" $((1 + RANDOM % 120)) "$T/mark" >"$T/fifo" &
	feeder=$!
	# Started directly (not through S, a function) so $! is lg-store itself.
	lg-store --db "$DB" --map-size 256K --batch 7 put <"$T/fifo" 2>/dev/null &
	put_pid=$!
	i=0
	while [ ! -e "$T/mark" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	# Every third attempt waits for a checkpoint to be stored before the
	# kill, so kills land after checkpoints too however slowly lg-store
	# starts on a loaded machine; the others kill wherever the timing falls.
	if [ $((attempt % 3)) -eq 0 ]; then
		i=0
		while [ "$(S cursor crash 2>/dev/null)" = "$cur" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	fi
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", (r % 25) / 1000 }')"
	kill -9 "$put_pid" 2>/dev/null && kills=$((kills + 1))
	wait "$put_pid" 2>/dev/null
	kill "$feeder" 2>/dev/null
	wait "$feeder" 2>/dev/null
	# (Killed before it created the store, as under valgrind's slow start:
	# nothing to check, and no cursor.)
	[ -e "$DB/data.mdb" ] || continue
	S check >"$T/check.out" 2>"$T/check.err" || { bad_check=$((bad_check + 1)); cat "$T/check.err" >&2; }
	now=$(S cursor crash)
	[ "$now" != "$cur" ] && progress=$((progress + 1))
	S export >"$T/export"
	python3 "$T/gen.py" verify "$T/frags" "$now" "$T/export" >"$T/verify" || { ahead=$((ahead + 1)); cat "$T/verify" >&2; }
done
expect_eq "killed with SIGKILL at least $KILLS times" 1 "$([ $kills -ge "$KILLS" ] && echo 1)"
# Kills after a stored checkpoint are made sure of above (every third
# attempt), so some killed runs must have moved the cursor.
expect_eq "some killed runs still moved the cursor" 1 "$([ $progress -ge 3 ] && echo 1)"
expect_eq "check passed after every kill" 0 "$bad_check"
expect_eq "cursor never ahead of stored data" 0 "$ahead"
# The verifier itself catches a cursor ahead of the data.
python3 "$T/gen.py" verify "$T/frags" 2026-11-01T06:50:00.000Z "$T/export" >"$T/verify"; s=$?
expect_eq "verifier rejects a cursor ahead of partial data" "1" "$([ "$(S count)" -lt 1200 ] && echo $s || echo 1)"

# Resume from the cursor once more, undisturbed.
cur=$(S cursor crash)
python3 "$T/gen.py" feed "$T/frags" "$cur" final 0 "$T/mark" | S put 2>"$T/err"; s=$?
expect_eq "final resume exit 0" 0 "$s"
S export >"$T/export"
expect_eq "every trace stored exactly once, with whole-trace totals" "1200 stored, 1200 expected, 0 wrong" \
	"$(python3 "$T/gen.py" final "$T/frags" "$T/export")"
expect_eq "count agrees" 1200 "$(S count)"
expect_status "final check" 0 lg-store --db "$DB" check
expect_eq "cursor at the end of the last window" "2026-11-01T06:50:00.000Z" "$(S cursor crash)"
expect_eq "last run completed" "final completed" "$(S status crash | jq -r '.data.lastSync | "\(.id) \(.status)"')"
