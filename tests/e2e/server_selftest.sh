#!/bin/sh
# End-to-end self-test of tests/server/langfuse_server.py (+ gen_dataset.py) with curl.
# Env (set by tests/run.sh): ROOT (repo root), BIN (unused here), TMPDIR_T (private temp dir).
# Prints "PASS name" / "FAIL name: reason" lines; exits 1 if anything failed.

ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$ROOT/bin}
if [ -z "${TMPDIR_T:-}" ]; then       # standalone run: sh tests/e2e/server_selftest.sh
    TMPDIR_T=$(mktemp -d "${TMPDIR:-/tmp}/server_selftest.XXXXXX")
    ST_OWN_TMP=1
fi
export ROOT BIN TMPDIR_T
. "$ROOT/tests/lib.sh"
# lib.sh's start_server/stop_server are redefined below (this script needs logs and several servers)
T="$TMPDIR_T/server_selftest"
mkdir -p "$T"
SRV="$ROOT/tests/server/langfuse_server.py"
GEN="$ROOT/tests/server/gen_dataset.py"
AUTH="pk-lf-test:sk-lf-test"
END="2026-08-20T12:00:00.000Z"
FROM="2026-08-20T10:00:00.000Z"     # window [FROM, END) covers the whole 1h dataset
ST_FAILS=0
ST_PIDS=""

st_pass() { echo "PASS $1"; }
st_fail() { echo "FAIL $1: $2"; ST_FAILS=$((ST_FAILS + 1)); }
st_check() { # name, command...  (command's stdout is the failure reason)
    _n=$1; shift
    if _out=$("$@" 2>&1); then st_pass "$_n"; else st_fail "$_n" "$(printf '%s' "$_out" | tr '\n' ' ' | cut -c1-300)"; fi
}

cleanup() {
    for p in $ST_PIDS; do kill "$p" 2>/dev/null; done
    for p in $ST_PIDS; do wait "$p" 2>/dev/null; done
    [ -n "${ST_OWN_TMP:-}" ] && rm -rf "$TMPDIR_T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [server options...]: sets PORT and PID; logs to $T/NAME.log
start_server() {
    _name=$1; shift
    rm -f "$T/$_name.port" "$T/$_name.log"
    python3 -S "$SRV" --port 0 --port-file "$T/$_name.port" --log "$T/$_name.log" "$@" \
        >"$T/$_name.out" 2>"$T/$_name.err" &
    PID=$!
    ST_PIDS="$ST_PIDS $PID"
    _i=0
    while [ ! -s "$T/$_name.port" ] && [ $_i -lt 100 ]; do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1; _i=$((_i + 1))
    done
    PORT=$(cat "$T/$_name.port" 2>/dev/null)
    if [ -z "$PORT" ]; then
        st_fail "start_$_name" "server did not start: $(head -c 300 "$T/$_name.err")"
        return 1
    fi
    BASE="http://127.0.0.1:$PORT"
}
stop_server() {
    stop_pid "$PID"
}

# c OUTFILE [curl args...] -> prints HTTP status; headers in OUTFILE.h
c() {
    _o=$1; shift
    curl -sS --max-time 10 -o "$_o" -D "$_o.h" -w '%{http_code}' "$@" 2>"$_o.err"
}
py() { python3 -S -c "$@"; }

# ---------------------------------------------------------------- datasets
python3 "$GEN" --traces 40 --seed 3 --end "$END" --span 1h --out "$T/ds.json" --labels "$T/labels.ndjson" \
    || { st_fail gen_dataset "generator failed"; exit 1; }
python3 "$GEN" --traces 40 --seed 3 --end "$END" --span 1h --out "$T/ds2.json"
st_check gen_deterministic cmp "$T/ds.json" "$T/ds2.json"
python3 "$GEN" --traces 40 --seed 3 --end "$END" --span 1h --format ndjson --out "$T/traces.ndjson"
st_check gen_ndjson py '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert len(L)==40, len(L)
for t in L:
    for k in ("id","htmlPath","latency","totalCost","observations","scores","input","output"):
        assert k in t, k
    assert t["observations"] and isinstance(t["observations"][0], dict)
' "$T/traces.ndjson"
st_check gen_labels py '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert len(L)==40
assert all("agent" in l and "sensitive" in l for l in L)
' "$T/labels.ndjson"
NOBS=$(py 'import json,sys; print(len(json.load(open(sys.argv[1]))["observations"]))' "$T/ds.json")

# ---------------------------------------------------------------- cloud mode (default)
start_server cloud --dataset "$T/ds.json" || exit 1

s=$(c "$T/h" "$BASE/api/public/health")
st_check health_no_auth py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200" and d=={"status":"OK","version":"4.16.0"}, (sys.argv[1], d)' "$s" "$T/h"

s=$(c "$T/a1" "$BASE/api/public/projects")
st_check auth_missing_401 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="401" and d=={"message":"No authorization header"}, (sys.argv[1], d)' "$s" "$T/a1"
s=$(c "$T/a2" -u pk-lf-test:wrong "$BASE/api/public/v2/observations")
st_check auth_invalid_401 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="401" and d=={"message":"Invalid credentials. Confirm that you'"'"'ve configured the correct host."}, (sys.argv[1], d)' "$s" "$T/a2"

s=$(c "$T/p" -u "$AUTH" "$BASE/api/public/projects")
st_check projects py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200" and d["data"][0]["id"]=="cm0lgtestproject000000001" and "organization" in d["data"][0], d' "$s" "$T/p"

# v2 walk, limit 7, every row exactly once, in order
v2_walk() { # OUTPREFIX extra-curl-args... ; writes OUTPREFIX.rows (JSON [startTime,traceId,id] per row), .pages
    _pfx=$1; shift
    rm -f "$_pfx".page.*; _cur=""; _pages=0
    while :; do
        _pages=$((_pages + 1))
        if [ -n "$_cur" ]; then
            _s=$(c "$_pfx.page.$_pages" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=7" \
                --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END" \
                --data-urlencode "cursor=$_cur" "$@")
        else
            _s=$(c "$_pfx.page.$_pages" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=7" \
                --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END" "$@")
        fi
        [ "$_s" = 200 ] || { echo "status $_s"; return 1; }
        _cur=$(sed -n 's/.*"meta":{"cursor":"\([^"]*\)"}}$/\1/p' "$_pfx.page.$_pages")
        [ -n "$_cur" ] || break
        [ $_pages -lt 500 ] || { echo "too many pages"; return 1; }
    done
    echo "$_pages" >"$_pfx.pages"
    py '
import json,sys
pfx,n=sys.argv[1],int(sys.argv[2])
with open(pfx+".rows","w") as f:
    for i in range(1,n+1):
        d=json.load(open("%s.page.%d"%(pfx,i)))
        assert len(d["data"])<=7, "page over limit"
        assert bool(d["meta"].get("cursor"))==(i<n), "cursor on page %d of %d" % (i, n)
        for r in d["data"]:
            f.write(json.dumps([r["startTime"],r["traceId"],r["id"]])+"\n")' "$_pfx" "$_pages"
}
v2_walk "$T/walk"
st_check v2_paging_exactly_once py '
import json,sys,zlib
rows=[json.loads(l) for l in open(sys.argv[1])]
ds=json.load(open(sys.argv[2]))
want=sorted(o["id"] for o in ds["observations"])
got=[r[2] for r in rows]
assert len(got)==len(set(got)), "duplicates: %d rows, %d unique" % (len(got), len(set(got)))
assert sorted(got)==want, "got %d want %d" % (len(got), len(want))
keys=[(r[0], zlib.crc32(r[1].encode()), r[2]) for r in rows]
assert keys==sorted(keys, reverse=True), "not in (startTime, crc32(traceId), id) DESC order"
assert int(open(sys.argv[3]).read()) > 1
' "$T/walk.rows" "$T/ds.json" "$T/walk.pages"

s=$(c "$T/d" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=5" \
    --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END")
st_check v2_default_fields py '
import json,sys
d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200"
for r in d["data"]:
    for k in ("id","traceId","startTime","endTime","projectId","parentObservationId","type","name","level",
              "statusMessage","version","environment","bookmarked","public","userId","sessionId","isRootObservation"):
        assert k in r, "missing " + k
    for k in ("input","output","metadata","model","usageDetails","costDetails","traceName","tags","createdAt",
              "completionStartTime","promptName","internalModelId"):
        assert k not in r, "unexpected " + k
    for k in ("modelId","inputPrice","outputPrice","totalPrice"):
        assert k in r and r[k] is None, k
' "$s" "$T/d"

s=$(c "$T/dc" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=5" --data-urlencode "fields=core" \
    --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END")
st_check v2_core_only py '
import json,sys
d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200"
for r in d["data"]:
    assert "name" not in r and "userId" not in r and "id" in r and "type" in r, r
' "$s" "$T/dc"

s=$(c "$T/da" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=1000" --data-urlencode "type=GENERATION" \
    --data-urlencode "fields=core,basic,time,io,metadata,model,usage,prompt,metrics,trace_context" \
    --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END")
st_check v2_all_fields_prices_io py '
import json,sys,re
d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200"
assert d["data"], "no generations"
assert "cursor" not in d["meta"] or d["meta"]["cursor"] is None
priced=0
for r in d["data"]:
    for k in ("input","output","metadata","model","internalModelId","modelParameters","usageDetails","costDetails",
              "totalCost","inputUsage","traceName","tags","release","promptName","createdAt","latency"):
        assert k in r, "missing " + k
    for k in ("input","output"):
        assert r[k] is None or isinstance(r[k], str), (k, type(r[k]))
    for k in ("inputPrice","outputPrice","totalPrice"):
        v=r[k]
        if v is not None:
            assert isinstance(v,str) and re.fullmatch(r"\d+(\.\d+)?", v), (k, v)
            priced+=1
assert priced
' "$s" "$T/da"

s=$(c "$T/e1" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=1001")
st_check v2_limit_too_big_400 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="400" and d["message"]=="Invalid request data" and d["error"][0]["code"]=="too_big", d' "$s" "$T/e1"
s=$(c "$T/e2" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "cursor=!!notbase64json")
st_check v2_bad_cursor_400 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="400" and d["error"]=="InvalidRequestError", d' "$s" "$T/e2"
s=$(c "$T/e3" -u "$AUTH" "$BASE/api/public/nope")
st_check unknown_path_404 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="404" and d["error"]=="LangfuseNotFoundError", d' "$s" "$T/e3"

# legacy observations: offset paging
: >"$T/lo.ids"; page=1; ok=1
while :; do
    s=$(c "$T/lo" -G -u "$AUTH" "$BASE/api/public/observations" --data-urlencode "limit=50" --data-urlencode "page=$page")
    [ "$s" = 200 ] || { ok=0; break; }
    more=$(py '
import json,sys
d=json.load(open(sys.argv[1]))
assert "_deprecation" in d
with open(sys.argv[2],"a") as f:
    for r in d["data"]:
        assert isinstance(r.get("usage"),dict) and "calculatedTotalCost" in r
        assert r["inputPrice"] is None or isinstance(r["inputPrice"], (int,float))
        f.write(r["id"]+"\n")
print(1 if d["meta"]["page"] < d["meta"]["totalPages"] else 0)' "$T/lo" "$T/lo.ids") || { ok=0; break; }
    [ "$more" = 1 ] || break
    page=$((page + 1)); [ $page -lt 100 ] || { ok=0; break; }
done
st_check legacy_observations_paging py '
import json,sys
ids=open(sys.argv[1]).read().split()
assert sys.argv[3]=="1", "request failed"
assert len(ids)==len(set(ids))==int(sys.argv[2]), (len(ids), len(set(ids)), sys.argv[2])' "$T/lo.ids" "$NOBS" "$ok"

: >"$T/lt.ids"; page=1; ok=1
while :; do
    s=$(c "$T/lt" -G -u "$AUTH" "$BASE/api/public/traces" --data-urlencode "limit=10" --data-urlencode "page=$page" \
        --data-urlencode "orderBy=timestamp.asc" --data-urlencode "fromTimestamp=$FROM" --data-urlencode "toTimestamp=$END")
    [ "$s" = 200 ] || { ok=0; break; }
    more=$(py '
import json,sys
d=json.load(open(sys.argv[1]))
assert "_deprecation" in d
ts=[t["timestamp"] for t in d["data"]]
assert ts==sorted(ts)
with open(sys.argv[2],"a") as f:
    for t in d["data"]:
        for k in ("htmlPath","latency","totalCost","observations","scores","projectId","externalId","createdAt"):
            assert k in t, k
        assert all(isinstance(x,str) for x in t["observations"])
        f.write(t["id"]+"\n")
print(1 if d["meta"]["page"] < d["meta"]["totalPages"] else 0)' "$T/lt" "$T/lt.ids") || { ok=0; break; }
    [ "$more" = 1 ] || break
    page=$((page + 1)); [ $page -lt 100 ] || { ok=0; break; }
done
st_check legacy_traces_paging py '
import json,sys
ids=open(sys.argv[1]).read().split()
assert sys.argv[2]=="1", "request failed"
assert len(ids)==len(set(ids))==40, len(ids)' "$T/lt.ids" "$ok"

s=$(c "$T/lf" -G -u "$AUTH" "$BASE/api/public/traces" --data-urlencode "limit=3" --data-urlencode "fields=core")
st_check legacy_traces_fields py '
import json,sys
d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200"
for t in d["data"]:
    assert t["observations"]==[] and t["scores"]==[] and t["latency"]==-1 and t["totalCost"]==-1, t
' "$s" "$T/lf"
s=$(c "$T/e4" -G -u "$AUTH" "$BASE/api/public/traces" --data-urlencode "limit=101")
st_check legacy_limit_400 py 'import sys; assert sys.argv[1]=="400", sys.argv[1]' "$s"

TID=$(head -1 "$T/traces.ndjson" | py 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
s=$(c "$T/tf" -u "$AUTH" "$BASE/api/public/traces/$TID")
st_check trace_full_details py '
import json,sys
d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200"
ref=json.loads(open(sys.argv[3]).readline())
d.pop("_deprecation")
assert d==ref, "GET /traces/{id} differs from gen_dataset --format ndjson"
root=[o for o in d["observations"] if o["parentObservationId"] is None][0]
assert root["input"]==d["input"] and root["output"]==d["output"]
' "$s" "$T/tf" "$T/traces.ndjson"
s=$(c "$T/tn" -u "$AUTH" "$BASE/api/public/traces/does-not-exist")
st_check trace_404 py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="404" and d["message"]=="Trace does-not-exist not found within authorized project" and d["error"]=="LangfuseNotFoundError", d' "$s" "$T/tn"

# gzip
curl -sS --max-time 10 --compressed -D "$T/gz.h" -o "$T/gz" -u "$AUTH" "$BASE/api/public/v2/observations?limit=3" 2>/dev/null
st_check gzip py '
import json,sys
h=open(sys.argv[1]).read().lower()
assert "content-encoding: gzip" in h, h
assert len(json.load(open(sys.argv[2]))["data"])==3' "$T/gz.h" "$T/gz"

# log format: one line per request, n sequential
st_check log_format py '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [r["n"] for r in L]==list(range(1,len(L)+1)), "n not sequential"
for r in L:
    for k in ("n","method","path","query","status","bytes","rows"):
        assert k in r, k
assert any(r["status"]==401 for r in L) and any(r["rows"]==7 for r in L)' "$T/cloud.log"

# reload when the dataset file changes (atomic rewrite with one more trace)
python3 "$GEN" --traces 41 --seed 3 --end "$END" --span 1h --out "$T/ds41.json"
py '
import json,sys
d=json.load(open(sys.argv[1])); d41=json.load(open(sys.argv[2]))
known={t["id"] for t in d["traces"]}
extra=[t for t in d41["traces"] if t["id"] not in known]
d["traces"]+=extra
d["observations"]+=[o for o in d41["observations"] if o["traceId"] in {t["id"] for t in extra}]
json.dump(d, open(sys.argv[1]+".new","w"))' "$T/ds.json" "$T/ds41.json"
mv "$T/ds.json.new" "$T/ds.json"
s=$(c "$T/rl" -G -u "$AUTH" "$BASE/api/public/traces" --data-urlencode "limit=1")
st_check reload_on_change py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="200" and d["meta"]["totalItems"]>40, d["meta"]' "$s" "$T/rl"

# SIGTERM stops cleanly
kill -TERM "$PID"
_i=0; while kill -0 "$PID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
if kill -0 "$PID" 2>/dev/null; then st_fail sigterm "still running after 5s"; else
    wait "$PID"; rc=$?; [ $rc = 0 ] && st_pass sigterm || st_fail sigterm "exit status $rc"; fi

# ---------------------------------------------------------------- modes
start_server v4 --dataset "$T/ds.json" --mode v4 || exit 1
s1=$(c "$T/m1" -u "$AUTH" "$BASE/api/public/traces"); s2=$(c "$T/m2" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1")
st_check mode_v4 py 'import json,sys; d=json.load(open(sys.argv[3])); assert sys.argv[1]=="404" and sys.argv[2]=="200" and "events_only" in d["message"], (sys.argv[1:3], d)' "$s1" "$s2" "$T/m1"
stop_server

start_server v3 --dataset "$T/ds.json" --mode v3 || exit 1
s1=$(c "$T/m3" -u "$AUTH" "$BASE/api/public/v2/observations"); s2=$(c "$T/m4" -u "$AUTH" "$BASE/api/public/traces?limit=1")
s3=$(c "$T/m5" "$BASE/api/public/health")
st_check mode_v3 py '
import json,sys
d=json.load(open(sys.argv[4])); t=json.load(open(sys.argv[5])); h=json.load(open(sys.argv[6]))
assert sys.argv[1:4]==["404","200","200"], sys.argv[1:4]
assert d["message"].startswith("The observations v2 API is only available"), d
assert "_deprecation" not in t and h["version"]=="3.225.4"' "$s1" "$s2" "$s3" "$T/m3" "$T/m4" "$T/m5"
stop_server

start_server v3html --dataset "$T/ds.json" --mode v3-html || exit 1
s1=$(c "$T/m6" -u "$AUTH" "$BASE/api/public/v2/observations")
st_check mode_v3_html py '
import sys
h=open(sys.argv[2]+".h").read().lower()
assert sys.argv[1]=="404" and "content-type: text/html" in h, (sys.argv[1], h)
assert open(sys.argv[2]).read().lstrip().startswith("<")' "$s1" "$T/m6"
stop_server

start_server sunset --dataset "$T/ds.json" --mode sunset || exit 1
s1=$(c "$T/m7" -u "$AUTH" "$BASE/api/public/observations"); s2=$(c "$T/m8" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1")
st_check mode_sunset py 'import json,sys; d=json.load(open(sys.argv[3])); assert sys.argv[1]=="410" and sys.argv[2]=="200" and d["message"], (sys.argv[1:3], d)' "$s1" "$s2" "$T/m7"
stop_server

# ---------------------------------------------------------------- faults
start_server f429 --dataset "$T/ds.json" --fault-429-every 2 --retry-after 3 || exit 1
s1=$(c "$T/f1" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1")
s2=$(c "$T/f2" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1")
s3=$(c "$T/f3" -u "$AUTH" "$BASE/api/public/projects")
st_check fault_429_retry_after py '
import json,sys
h=open(sys.argv[4]+".h").read().lower(); d=json.load(open(sys.argv[4]))
assert sys.argv[1:4]==["200","429","200"], sys.argv[1:4]
assert "retry-after: 3" in h and "x-ratelimit-limit:" in h and "x-ratelimit-remaining:" in h and "x-ratelimit-reset:" in h, h
assert d["code"]=="rate_limited" and d["details"]["retryAfterSeconds"]==3, d' "$s1" "$s2" "$s3" "$T/f2"
stop_server

start_server rl --dataset "$T/ds.json" --rate-limit 3/min || exit 1
for i in 1 2 3 4; do s=$(c "$T/rl$i" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1"); printf '%s ' "$s"; done >"$T/rl.codes"
s=$(c "$T/rlp" -u "$AUTH" "$BASE/api/public/projects")
st_check rate_limit_window py '
import sys,re
codes=open(sys.argv[1]).read().split()
h=open(sys.argv[2]).read().lower()
assert codes==["200","200","200","429"], codes
ra=int(re.search(r"retry-after: (\d+)", h).group(1)); assert 1<=ra<=60, ra
assert sys.argv[3]=="200", "projects must not be rate limited"' "$T/rl.codes" "$T/rl4.h" "$s"
stop_server

start_server f5xx --dataset "$T/ds.json" --fault-5xx-every 1 || exit 1
for i in 1 2 3; do s=$(c "$T/x$i" -u "$AUTH" "$BASE/api/public/v2/observations?limit=1"); printf '%s ' "$s"; done >"$T/x.codes"
st_check fault_5xx_rotation py 'import sys; c=open(sys.argv[1]).read().split(); assert c==["500","502","503"], c' "$T/x.codes"
stop_server

start_server f524 --dataset "$T/ds.json" --fault-524-every 1 || exit 1
s=$(c "$T/f524" -u "$AUTH" "$BASE/api/public/traces")
st_check fault_524_html py '
import sys,json
assert sys.argv[1]=="524", sys.argv[1]
b=open(sys.argv[2]).read()
try:
    json.loads(b); raise SystemExit("body is JSON")
except ValueError: pass' "$s" "$T/f524"
stop_server

# one server for: 422 wide window, payload too large, cut body, invalid JSON, slow (k = data request number)
start_server misc --dataset "$T/ds.json" --fault-422-window 3600 --max-body-bytes 2000 --fault-cut-every 5 \
    --fault-invalid-json-every 6 --fault-slow-ms 400 --fault-slow-every 7 || exit 1
s1=$(c "$T/w1" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "fromStartTime=2026-08-20T09:00:00Z" --data-urlencode "toStartTime=$END")
s2=$(c "$T/w2" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=1" --data-urlencode "fields=core" --data-urlencode "fromStartTime=2026-08-20T11:30:00Z" --data-urlencode "toStartTime=$END")
s3=$(c "$T/w3" -G -u "$AUTH" "$BASE/api/public/traces" --data-urlencode "fromTimestamp=2026-08-19T00:00:00Z" --data-urlencode "toTimestamp=$END")
st_check fault_422_wide_window py '
import json,sys
d=json.load(open(sys.argv[4]))
assert sys.argv[1:4]==["422","200","422"], sys.argv[1:4]
assert d["error"]=="Request timed out" and d["message"].startswith("Your query could not be completed"), d' "$s1" "$s2" "$s3" "$T/w1"
s=$(c "$T/big1" -G -u "$AUTH" "$BASE/api/public/v2/observations?limit=50&fields=core,io" --data-urlencode "fromStartTime=2026-08-20T11:30:00Z" --data-urlencode "toStartTime=$END")           # k=4
st_check fault_payload_too_large py 'import json,sys; d=json.load(open(sys.argv[2])); assert sys.argv[1]=="422" and d["error"]=="PayloadTooLargeError", (sys.argv[1], d)' "$s" "$T/big1"
curl -sS --max-time 10 -o "$T/cut" -G -u "$AUTH" "$BASE/api/public/v2/observations?limit=3" --data-urlencode "fromStartTime=2026-08-20T11:30:00Z" --data-urlencode "toStartTime=$END" 2>"$T/cut.err"; rc=$?  # k=5
st_check fault_cut_body py 'import sys; assert sys.argv[1]!="0", "curl succeeded on a cut body"' "$rc"
s=$(c "$T/bad" -G -u "$AUTH" "$BASE/api/public/v2/observations?limit=3" --data-urlencode "fromStartTime=2026-08-20T11:30:00Z" --data-urlencode "toStartTime=$END")                            # k=6
st_check fault_invalid_json py '
import json,sys
assert sys.argv[1]=="200", sys.argv[1]
try:
    json.load(open(sys.argv[2])); raise SystemExit("body parsed")
except ValueError: pass' "$s" "$T/bad"
t=$(curl -sS --max-time 10 -o /dev/null -w '%{time_total}' -G -u "$AUTH" "$BASE/api/public/v2/observations?limit=1&fields=core" --data-urlencode "fromStartTime=2026-08-20T11:30:00Z" --data-urlencode "toStartTime=$END")  # k=7
st_check fault_slow py 'import sys; assert float(sys.argv[1])>=0.35, sys.argv[1]' "$t"
st_check fault_log py '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [(r["status"], r.get("fault")) for r in L]==[(422,"422-window"),(200,None),(422,"422-window"),
    (422,"too-large"),(200,"cut"),(200,"invalid-json"),(200,"slow")], [(r["status"], r.get("fault")) for r in L]' "$T/misc.log"
stop_server

start_server dup --dataset "$T/ds.json" --duplicate-rows 0.3 --seed 1 || exit 1
v2_walk "$T/dupwalk"
st_check duplicate_rows py '
import json,sys
rows=[json.loads(l)[2] for l in open(sys.argv[1])]
ds=json.load(open(sys.argv[2]))
want={o["id"] for o in ds["observations"]}
assert set(rows)==want, "lost rows: %d" % len(want-set(rows))
assert len(rows)>len(set(rows)), "no duplicates produced"' "$T/dupwalk.rows" "$T/ds.json"
stop_server

# late rows: generated with _visibleAfter=5; hidden until the server has served 5 requests
python3 "$GEN" --traces 40 --seed 4 --end "$END" --span 1h --late-fraction 0.3 --late-after 5 --out "$T/late.json"
start_server late --dataset "$T/late.json" || exit 1
s1=$(c "$T/l1" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=1000" --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END")
for i in 2 3 4 5; do c "$T/lh" "$BASE/api/public/health" >/dev/null; done
s2=$(c "$T/l2" -G -u "$AUTH" "$BASE/api/public/v2/observations" --data-urlencode "limit=1000" --data-urlencode "fromStartTime=$FROM" --data-urlencode "toStartTime=$END")
st_check late_rows_appear py '
import json,sys
ds=json.load(open(sys.argv[3]))
n_all=len(ds["observations"]); n_late=sum(1 for o in ds["observations"] if o.get("_visibleAfter"))
a=json.load(open(sys.argv[4]))["data"]; b=json.load(open(sys.argv[5]))["data"]
assert sys.argv[1:3]==["200","200"]
assert n_late>0, "generator marked nothing late"
assert len(a)==n_all-n_late, (len(a), n_all, n_late)
assert len(b)==n_all, (len(b), n_all)
assert not any(k.startswith("_") for r in b for k in r)' "$s1" "$s2" "$T/late.json" "$T/l1" "$T/l2"
stop_server

[ "$ST_FAILS" = 0 ]
