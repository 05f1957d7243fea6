#!/usr/bin/env python3
"""Self-test of langfuse_server.py's real-server switches (stdlib only).

Each switch is checked on, and its default (off) is checked to keep the old behaviour.
Run by tests/e2e/server_real.sh; standalone: python3 tests/server/real_selftest.py.
Prints "PASS name" / "FAIL name: why"; exits 1 if anything failed.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRV = os.path.join(HERE, "langfuse_server.py")
GEN = os.path.join(HERE, "gen_dataset.py")
END = "2026-08-20T12:00:00.000Z"
FROM = "2026-08-20T10:00:00.000Z"
AUTH = "Basic " + base64.b64encode(b"pk-lf-test:sk-lf-test").decode()
ALL = "core,basic,time,io,metadata,model,usage,prompt,trace_context"
FAILS = 0


def check(name, ok, why=""):
    global FAILS
    if ok:
        print("PASS %s" % name)
    else:
        FAILS += 1
        print("FAIL %s: %s" % (name, str(why)[:400]))
    sys.stdout.flush()


class Server:
    def __init__(self, tmp, dataset, *args):
        self.pf = os.path.join(tmp, "port.%d" % time.monotonic_ns())
        self.err = open(os.path.join(tmp, "server.err"), "ab")
        self.p = subprocess.Popen([sys.executable, SRV, "--dataset", dataset, "--port", "0",
                                   "--port-file", self.pf] + list(args),
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(200):
            if os.path.exists(self.pf) or self.p.poll() is not None:
                break
            time.sleep(0.05)
        with open(self.pf) as f:
            self.base = "http://127.0.0.1:%d" % int(f.read())

    def get(self, path, **q):
        url = self.base + path + ("?" + urllib.parse.urlencode(q, doseq=True) if q else "")
        req = urllib.request.Request(url, headers={"Authorization": AUTH})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, dict(r.headers), json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read().decode() or "null")

    def v2_all(self, limit=1000, **q):
        """Every v2 page of [FROM, END): the rows in order."""
        rows, cursor = [], None
        while True:
            args = dict(limit=limit, fromStartTime=FROM, toStartTime=END, fields=ALL)
            args.update(q)
            if cursor:
                args["cursor"] = cursor
            st, _, body = self.get("/api/public/v2/observations", **args)
            if st != 200:
                raise RuntimeError("v2 status %d: %s" % (st, body))
            rows.extend(body["data"])
            cursor = body["meta"].get("cursor")
            if not cursor:
                return rows

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.err.close()


def make_dataset(tmp):
    """A generated dataset plus the cases the generator never makes: unset strings, an unnamed
    observation, trace metadata a child overrides, a long metadata value."""
    path = os.path.join(tmp, "ds.json")
    subprocess.check_call([sys.executable, GEN, "--traces", "40", "--seed", "5", "--end", END,
                           "--span", "1h", "--out", path])
    with open(path) as f:
        ds = json.load(f)
    t0 = ds["traces"][0]
    t0.update(name=None, userId=None, sessionId=None, release=None, version="7.1")
    t0["metadata"] = {"team": "search", "shared": "from-trace", "long": "x" * 300}
    for o in ds["observations"]:
        if o["traceId"] == t0["id"]:
            o["metadata"] = {"shared": "from-obs"}
            if o.get("parentObservationId") is None:
                o["metadata"]["long"] = "y" * 300
            o.update(promptId=None, promptName=None, model=None, modelId=None, version=None,
                     modelParameters=None)
            if o.get("parentObservationId") is not None:
                o["name"] = None
    with open(path, "w") as f:
        json.dump(ds, f)
    return path, ds


def test_defaults(tmp, path, ds):
    s = Server(tmp, path)
    try:
        rows = s.v2_all()
        t0 = ds["traces"][0]["id"]
        r0 = [r for r in rows if r["traceId"] == t0]
        check("default: every dataset row once, no synthetic row",
              sorted(r["id"] for r in rows) == sorted(o["id"] for o in ds["observations"]))
        check("default: unset strings are null",
              all(r["userId"] is None and r["sessionId"] is None and r["release"] is None
                  and r["promptName"] is None and r["model"] is None for r in r0), r0[:1])
        root = [r for r in r0 if r["parentObservationId"] is None][0]
        check("default: metadata cut at 200 characters even with io",
              len(root["metadata"].get("long", "")) == 200, root["metadata"])
        st, h, _ = s.get("/api/public/v2/observations", limit=1, fromStartTime=FROM, toStartTime=END)
        check("200 carries no X-RateLimit headers",
              st == 200 and not [k for k in h if k.lower().startswith("x-ratelimit")], h)
    finally:
        s.stop()
    s = Server(tmp, path, "--fault-429-every", "1")
    try:
        st, h, _ = s.get("/api/public/v2/observations", limit=1, fromStartTime=FROM, toStartTime=END)
        check("429 carries Retry-After and X-RateLimit-Remaining",
              st == 429 and "Retry-After" in h and "X-RateLimit-Remaining" in h, (st, h))
    finally:
        s.stop()


def test_empty_strings(tmp, path, ds):
    s = Server(tmp, path, "--empty-strings")
    try:
        rows = s.v2_all()
        t0 = ds["traces"][0]["id"]
        r0 = [r for r in rows if r["traceId"] == t0]
        want = {"userId": "", "sessionId": "", "release": "", "promptId": "", "promptName": "",
                "model": "", "internalModelId": ""}
        bad = [r for r in r0 if any(r[k] != v for k, v in want.items())]
        check('empty-strings: unset userId/sessionId/release/prompt/model are ""', r0 and not bad, bad[:1])
        check("empty-strings: traceName stays null", all(r["traceName"] is None for r in r0))
        check("empty-strings: modelId stays null", all(r["modelId"] is None for r in r0))
        unnamed = [r for r in r0 if r["parentObservationId"] is not None]
        check('empty-strings: unnamed observation name is ""', unnamed and all(r["name"] == "" for r in unnamed))
        set_rows = [r for r in rows if r["traceId"] != t0 and r.get("model")]
        check("empty-strings: set values untouched", set_rows and all(r["modelId"] for r in set_rows))
        st, _, body = s.get("/api/public/traces/" + t0)
        check("empty-strings: legacy keeps null", st == 200 and body["userId"] is None and body["release"] is None)
    finally:
        s.stop()


def test_legacy_ingested(tmp, path, ds):
    s = Server(tmp, path, "--legacy-ingested", "1")
    try:
        rows = s.v2_all()
        traces = {t["id"]: t for t in ds["traces"]}
        syn = {r["traceId"]: r for r in rows if r["id"] == "t-" + r["traceId"]}
        check("legacy-ingested: one t-<traceId> row per trace", sorted(syn) == sorted(traces),
              (len(syn), len(traces)))
        bad = []
        for tid, r in syn.items():
            t = traces[tid]
            want = (r["type"], r["parentObservationId"], r["endTime"], r["isRootObservation"], r["startTime"],
                    r["name"], r["modelParameters"])
            io_in = json.loads(r["input"]) if isinstance(t["input"], (dict, list)) else r["input"]
            if want != ("SPAN", None, None, True, t["timestamp"], t["name"] if t["name"] is not None else None, {}) \
                    or io_in != t["input"]:
                bad.append(r)
        check("legacy-ingested: root is a SPAN at the trace timestamp, no end, with the trace's data",
              not bad, bad[:1])
        real = [r for r in rows if not r["id"].startswith("t-")]
        check("legacy-ingested: every real row is there once",
              sorted(r["id"] for r in real) == sorted(o["id"] for o in ds["observations"]))
        tops = [o["id"] for o in ds["observations"] if o["parentObservationId"] is None]
        byid = {r["id"]: r for r in real}
        check("legacy-ingested: top-level rows re-parented to t-<traceId>",
              all(byid[i]["parentObservationId"] == "t-" + byid[i]["traceId"] for i in tops)
              and all(not r["isRootObservation"] for r in real))
        t0 = ds["traces"][0]
        r0 = [r for r in real if r["traceId"] == t0["id"]]
        check("legacy-ingested: version inherited, modelParameters {}",
              all(r["version"] == "7.1" and r["modelParameters"] == {} for r in r0), r0[:1])
        check("legacy-ingested: trace metadata copied, observation keys win",
              all(r["metadata"].get("team") == "search" and r["metadata"].get("shared") == "from-obs" for r in r0),
              [r["metadata"] for r in r0][:2])
        st, _, body = s.get("/api/public/observations", limit=100, traceId=t0["id"])
        check("legacy-ingested: legacy observations unchanged",
              st == 200 and all(not o["id"].startswith("t-") and "team" not in (o["metadata"] or {})
                                for o in body["data"]))
    finally:
        s.stop()


def test_rootless(tmp, path, ds):
    s = Server(tmp, path, "--rootless", "0.5", "--legacy-ingested", "0.5")
    try:
        rows = s.v2_all()
        by = {}
        for r in rows:
            by.setdefault(r["traceId"], []).append(r)
        roots = {tid: [r for r in lst if r["parentObservationId"] is None] for tid, lst in by.items()}
        none = [tid for tid, rs in roots.items() if not rs]
        check("rootless: some traces have no root", 0 < len(none) < len(ds["traces"]), len(none))
        want = sum(1 for o in ds["observations"] if o["traceId"] in none and o["parentObservationId"] is not None)
        check("rootless: their other rows still come", sum(len(by[t]) for t in none) == want)
        check("rootless: never legacy-ingested",
              not [r for t in none for r in by[t] if r["parentObservationId"] == "t-" + t])
    finally:
        s.stop()


def test_stale(tmp, path, ds):
    s = Server(tmp, path, "--stale-duplicates", "0.5")
    try:
        rows = s.v2_all()
        pages = s.v2_all(limit=7)
        ids = {}
        for i, r in enumerate(rows):
            ids.setdefault(r["id"], []).append((i, r))
        twice = {k: v for k, v in ids.items() if len(v) == 2}
        check("stale: some rows come twice", len(twice) > 10, len(twice))
        stale_first = stale_last = 0
        bad = []
        for k, v in twice.items():
            (_, a), (_, b) = v
            stale, good = (a, b) if a["endTime"] is None else (b, a)
            if not (stale["endTime"] is None and stale["output"] is None and good["endTime"] is not None):
                bad.append(k)
            elif good["usageDetails"].get("output") and stale["usageDetails"].get("output") != 0:
                bad.append(k)
            if stale is a:
                stale_first += 1
            else:
                stale_last += 1
        check("stale: the older copy lacks end time and output, its usage is older", not bad, bad[:3])
        check("stale: the older copy comes before or after", stale_first and stale_last,
              (stale_first, stale_last))
        complete = {r["id"] for r in pages if r["endTime"] is not None}
        want = {o["id"] for o in ds["observations"] if o["endTime"] is not None}
        check("stale: paging by 7 loses no complete copy", want <= complete, len(want - complete))
    finally:
        s.stop()


def test_v2_modes(tmp, path, ds):
    s = Server(tmp, path, "--mode", "v3-preview")
    try:
        st, _, body = s.get("/api/public/v2/observations", limit=10, fromStartTime=FROM, toStartTime=END)
        check("v3-preview: v2 answers 200 with nothing", st == 200 and body == {"data": [], "meta": {}}, body)
        st, _, body = s.get("/api/public/traces", limit=10, fromTimestamp=FROM, toTimestamp=END)
        check("v3-preview: legacy holds the data", st == 200 and body["meta"]["totalItems"] == len(ds["traces"]))
        st, _, body = s.get("/api/public/health")
        check("v3-preview: reports v3", body.get("version", "").startswith("3."), body)
    finally:
        s.stop()
    cut = "2026-08-20T11:30:00.000Z"
    s = Server(tmp, path, "--mode", "v4", "--v2-missing-before", cut)
    try:
        rows = s.v2_all()
        want = sorted(o["id"] for o in ds["observations"] if o["startTime"] >= cut)
        check("v2-missing-before: only the backfilled part", sorted(r["id"] for r in rows) == want
              and 0 < len(want) < len(ds["observations"]), (len(rows), len(want)))
        st, _, _ = s.get("/api/public/traces", limit=10)
        check("v2-missing-before with v4: legacy 404", st == 404, st)
    finally:
        s.stop()


def test_legacy_ties(tmp):
    path = os.path.join(tmp, "ties.json")
    subprocess.check_call([sys.executable, GEN, "--traces", "250", "--seed", "9", "--end", END,
                           "--span", "1h", "--obs-max", "2", "--out", path])
    with open(path) as f:
        ds = json.load(f)
    for t in ds["traces"]:                 # every trace in one millisecond
        t["timestamp"] = "2026-08-20T11:00:00.000Z"
    for o in ds["observations"]:
        o["startTime"] = "2026-08-20T11:00:00.000Z"
    with open(path, "w") as f:
        json.dump(ds, f)

    def walk(s, path_, key, **q):
        got = []
        for page in (1, 2, 3, 4, 5, 6):
            st, _, body = s.get(path_, page=page, limit=100, fromTimestamp=FROM, toTimestamp=END,
                                fromStartTime=FROM, toStartTime=END, **q)
            got.extend(x["id"] for x in body["data"])
        return got

    for args, tied in (([], False), (["--legacy-ties"], True)):
        s = Server(tmp, path, *args)
        try:
            tr = walk(s, "/api/public/traces", "id", orderBy="timestamp.asc", fields="core")
            ob = walk(s, "/api/public/observations", "id")
            name = "legacy-ties" if tied else "default ties"
            lost_t = len(ds["traces"]) - len(set(tr))
            lost_o = len(ds["observations"]) - len(set(ob))
            if tied:
                check("%s: offset paging over a tied millisecond skips traces" % name, lost_t > 0, lost_t)
                check("%s: and observations" % name, lost_o > 0, lost_o)
                a = s.get("/api/public/traces", page=1, limit=100, orderBy="timestamp.asc")[2]["data"]
                b = s.get("/api/public/traces", page=1, limit=100, orderBy="timestamp.asc")[2]["data"]
                check("%s: the same page twice differs" % name, [x["id"] for x in a] != [x["id"] for x in b])
            else:
                check("%s: offset paging is complete (ties broken by id)" % name, lost_t == 0 and lost_o == 0,
                      (lost_t, lost_o))
        finally:
            s.stop()


def test_metadata_full(tmp, path, ds):
    s = Server(tmp, path, "--metadata-full-with-io")
    try:
        t0 = ds["traces"][0]["id"]
        with_io = [r for r in s.v2_all() if r["traceId"] == t0]
        without = [r for r in s.v2_all(fields="core,basic,metadata") if r["traceId"] == t0]
        check("metadata-full-with-io: untruncated with io",
              with_io and all(len(r["metadata"].get("long", "")) in (0, 300) for r in with_io)
              and any(len(r["metadata"].get("long", "")) == 300 for r in with_io))
        check("metadata-full-with-io: still cut without io",
              any(len(r["metadata"].get("long", "")) == 200 for r in without)
              and all(len(r["metadata"].get("long", "")) in (0, 200) for r in without))
    finally:
        s.stop()


def test_scores(tmp, path, ds):
    for mode, want_status in (("cloud", 200), ("v3", 404)):
        s = Server(tmp, path, "--mode", mode)
        try:
            got, cursor, status, pages = [], None, None, 0
            while True:
                q = dict(limit=5, fromTimestamp=FROM, toTimestamp="2026-08-20T13:00:00.000Z", fields="core,subject")
                if cursor:
                    q["cursor"] = cursor
                status, _, body = s.get("/api/public/v3/scores", **q)
                if status != 200:
                    break
                pages += 1
                got.extend(body["data"])
                cursor = body["meta"].get("cursor")
                if not cursor:
                    break
            if mode == "v3":
                check("scores v3: 404 on a v3 server", status == want_status, status)
                continue
            want = sorted(((x["timestamp"], x["id"]) for x in ds["scores"]), reverse=True)
            check("scores v3: cursor pages give every score once, newest first",
                  [(x["timestamp"], x["id"]) for x in got] == want and pages > 1, (len(got), len(want), pages))
            check("scores v3: subject names the trace",
                  all(x["subject"] == {"kind": "trace", "id": y["traceId"]}
                      for x, y in zip(got, sorted(ds["scores"], key=lambda z: (z["timestamp"], z["id"]), reverse=True))))
        finally:
            s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="real_selftest.", dir=os.environ.get("TMPDIR_T") or None)
    try:
        path, ds = make_dataset(tmp)
        test_defaults(tmp, path, ds)
        test_empty_strings(tmp, path, ds)
        test_legacy_ingested(tmp, path, ds)
        test_rootless(tmp, path, ds)
        test_stale(tmp, path, ds)
        test_v2_modes(tmp, path, ds)
        test_legacy_ties(tmp)
        test_metadata_full(tmp, path, ds)
        test_scores(tmp, path, ds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
