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
# gen.py stream CURSOR RUN | verify CURSOR EXPORT | final EXPORT
# 40 windows of 10 minutes, 60 traces each; every 5th trace has a second
# fragment (more spans) in the next window.
import json, random, sys
from datetime import datetime, timedelta, timezone
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
W, PER = 40, 60
def iso(t): return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
def wstart(w): return BASE + timedelta(minutes=10 * w)
def parse(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
def span(tid, k, t, tin, tout):
    return {"id": "%s-s%d" % (tid, k), "parentId": None, "type": "llm", "name": "gen",
            "startTime": iso(t), "endTime": iso(t + timedelta(seconds=1)), "duration": 1000,
            "model": "gpt-4o", "tokens": {"input": tin, "output": tout, "total": tin + tout},
            "cost": 0.001, "level": "DEFAULT"}
def fragments():
    """(window, record) in emission order, and the expected whole totals."""
    rnd = random.Random(7)
    out, whole = [], {}
    for w in range(W):
        for i in range(PER):
            tid = "tr-%02d-%02d" % (w, i)
            t0 = wstart(w) + timedelta(seconds=rnd.randrange(0, 500))
            spans = [span(tid, k, t0 + timedelta(seconds=k), 10 + k, 5) for k in range(3)]
            late = []
            if i % 5 == 0:
                t1 = wstart(w + 1) + timedelta(seconds=rnd.randrange(0, 500))
                late = [span(tid, 3 + k, t1 + timedelta(seconds=k), 100, 50) for k in range(2)]
            whole[tid] = (len(spans) + len(late), sum(s["tokens"]["total"] for s in spans + late))
            out.append((w, record(tid, spans)))
            if late:
                out.append((w + 1, record(tid, late)))
    out.sort(key=lambda p: p[0])
    return out, whole
def record(tid, spans):
    tot = sum(s["tokens"]["total"] for s in spans)
    return {"externalId": tid, "name": "chat", "timestamp": spans[0]["startTime"], "duration": 1000,
            "status": "success", "tags": [], "spans": spans,
            "metadata": {"tokens": {"input": 0, "output": 0, "total": tot}},
            "source": {"system": "langfuse", "integration": "crash"}}
mode = sys.argv[1]
frags, whole = fragments()
if mode == "stream":
    cursor = parse(sys.argv[2]) if sys.argv[2] else None
    run = sys.argv[3]
    # Resume one window before the cursor: the overlap an incremental sync re-reads.
    first = 0 if cursor is None else max(0, int((cursor - BASE).total_seconds() // 600) - 1)
    print(json.dumps({"$lg": "run-start", "run": run, "integration": "crash", "mode": "incremental",
                      "startedAt": "2026-11-27T00:00:00.000Z"}))
    for w in range(first, W + 1):
        for fw, rec in frags:
            if fw == w:
                print(json.dumps(rec))
        print(json.dumps({"$lg": "checkpoint", "run": run, "integration": "crash",
                          "cursor": iso(wstart(w + 1)), "traces": PER, "rows": PER * 3}))
    print(json.dumps({"$lg": "run-end", "run": run, "integration": "crash", "status": "completed",
                      "error": None, "traces": len(frags), "completedAt": "2026-11-27T00:01:00.000Z"}))
    sys.exit(0)
stored = {}
for line in open(sys.argv[-1]):
    r = json.loads(line)
    if r["externalId"] in stored:
        print("duplicate " + r["externalId"]); sys.exit(1)
    stored[r["externalId"]] = r
if mode == "verify":
    cursor = parse(sys.argv[2]) if sys.argv[2] else BASE
    need = {}
    for fw, rec in frags:
        if wstart(fw + 1) <= cursor:
            need.setdefault(rec["externalId"], set()).update(s["id"] for s in rec["spans"])
    for tid, ids in need.items():
        have = {s["id"] for s in stored.get(tid, {}).get("spans", [])}
        if not ids <= have:
            print("cursor %s ahead of data: %s misses %s" % (sys.argv[2], tid, sorted(ids - have)))
            sys.exit(1)
    print("ok %d" % len(need))
else:
    bad = [t for t, (n, tok) in whole.items()
           if t not in stored or len(stored[t]["spans"]) != n or stored[t]["metadata"]["tokens"]["total"] != tok]
    print("%d stored, %d expected, %d wrong" % (len(stored), len(whole), len(bad)))
PY

S() { lg-store --db "$DB" --map-size 512K --batch 37 "$@"; }
python3 "$T/gen.py" stream "" probe >"$T/full"
t0=$(date +%s%N)
S put <"$T/full" 2>/dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rm -rf "$DB"
[ "$ms" -gt 50 ] || ms=50

kills=0 attempt=0 bad_check=0 ahead=0 killed_runs=0
while [ $kills -lt "$KILLS" ] && [ $attempt -lt $((KILLS * 3)) ]; do
	attempt=$((attempt + 1))
	cur=$(S cursor crash 2>/dev/null)
	python3 "$T/gen.py" stream "$cur" "run-$attempt" >"$T/stream"
	S put <"$T/stream" 2>/dev/null &
	pid=$!
	# A random moment within the time a whole put takes.
	sleep "$(awk -v r="$RANDOM" -v ms="$ms" 'BEGIN { printf "%.3f", (r % ms) / 1000 }')"
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		kills=$((kills + 1))
	else
		wait "$pid"
	fi
	S check >"$T/check.out" 2>"$T/check.err" || { bad_check=$((bad_check + 1)); cat "$T/check.err" >&2; }
	cur=$(S cursor crash)
	S export >"$T/export"
	python3 "$T/gen.py" verify "$cur" "$T/export" >"$T/verify" || { ahead=$((ahead + 1)); cat "$T/verify" >&2; }
done
expect_eq "killed with SIGKILL at least $KILLS times" 1 "$([ $kills -ge "$KILLS" ] && echo 1)"
expect_eq "check passed after every kill" 0 "$bad_check"
expect_eq "cursor never ahead of stored data" 0 "$ahead"

# Resume from the cursor once more, undisturbed.
cur=$(S cursor crash)
python3 "$T/gen.py" stream "$cur" final | S put 2>"$T/err"; s=$?
expect_eq "final resume exit 0" 0 "$s"
S export >"$T/export"
expect_eq "every trace stored exactly once, with whole-trace totals" "2400 stored, 2400 expected, 0 wrong" \
	"$(python3 "$T/gen.py" final "$T/export")"
expect_eq "count agrees" 2400 "$(S count)"
expect_status "final check" 0 lg-store --db "$DB" check
expect_eq "cursor at the end of the last window" "2026-11-01T06:50:00.000Z" "$(S cursor crash)"
expect_eq "last run completed" "final completed" "$(S status crash | jq -r '.data.lastSync | "\(.id) \(.status)"')"
