"""The test server's data: time helpers, the dataset file, the server's clock and the
late/long-running timing switches, and the opt-in real-server view of the v2 rows.
Importing it has no side effects."""

import calendar
import hashlib
import json
import os
import re
import threading
import time
import zlib
from decimal import Decimal

# --------------------------------------------------------------------------- time helpers

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$")


def parse_iso_ms(s):
    """ISO 8601 -> integer ms since the epoch (UTC). Raises ValueError."""
    m = _ISO_RE.match(s.strip())
    if not m:
        raise ValueError("invalid datetime: %r" % s)
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), 0, 0, 0))
    ms = int((frac or "0")[:3].ljust(3, "0"))
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        t = tz[1:].replace(":", "")
        secs -= sign * (int(t[:2]) * 3600 + int(t[2:]) * 60)
    return secs * 1000 + ms


def iso_ms(ms):
    """integer ms -> '2025-06-05T15:45:52.971Z'."""
    s, r = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % r


def js_date_string(epoch_s):
    return time.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", time.gmtime(epoch_s))


def trace_hash(trace_id):
    """32-bit unsigned hash used as the 2nd v2 sort key (Langfuse uses xxHash32; we use CRC-32)."""
    return zlib.crc32((trace_id or "").encode("utf-8")) & 0xFFFFFFFF


def frac_hash(seed, *parts):
    """Deterministic float in [0,1) from a seed and strings."""
    h = hashlib.sha256(("%s|" % seed + "|".join(str(p) for p in parts)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def decimal_string(x):
    """0.0000025 -> "0.0000025" (never exponent notation)."""
    if x is None:
        return None
    if isinstance(x, str):
        return x
    s = format(Decimal(repr(float(x))), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def jdump(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def raw_io(v):
    """v2 io group: a string stays the string, other values are JSON-encoded, null stays null."""
    if v is None or isinstance(v, str):
        return v
    return jdump(v)


# --------------------------------------------------------------------------- dataset

class Dataset:
    """In-memory, pre-indexed dataset."""

    def __init__(self, path, late_after=None, late_fraction=0.0, seed=0, timing=None):
        with open(path, "rb") as f:
            raw = json.loads(f.read().decode("utf-8"))
        st = os.stat(path)
        self.stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        self.project = raw.get("project") or {
            "id": "proj-test", "name": "test", "organization": {"id": "org-test", "name": "Test Org"},
            "metadata": {}}
        self.project_id = self.project.get("id")
        self.traces = []
        self.trace_by_id = {}
        for t in raw.get("traces") or []:
            for k in [k for k in t if k.startswith("_")]:
                del t[k]
            t["_ts"] = parse_iso_ms(t["timestamp"])
            self.traces.append(t)
            self.trace_by_id[t["id"]] = t
        late_traces = set()
        if late_fraction and late_fraction > 0:
            for t in self.traces:
                if frac_hash(seed, "late", t["id"]) < late_fraction:
                    late_traces.add(t["id"])
        self.obs = []
        self.obs_by_trace = {}
        self.has_late = False
        for i, o in enumerate(raw.get("observations") or []):
            va = int(o.get("_visibleAfter") or 0)
            for k in [k for k in o if k.startswith("_")]:
                del o[k]
            if va and late_after is not None:
                va = late_after
            if o.get("traceId") in late_traces:
                va = late_after if late_after is not None else 10
            o["_va"] = va
            if va:
                self.has_late = True
            o["_st"] = parse_iso_ms(o["startTime"])
            o["_h"] = trace_hash(o.get("traceId"))
            o["_ord"] = i
            self.obs.append(o)
            self.obs_by_trace.setdefault(o.get("traceId"), []).append(o)
        # v2 order index: ascending tuple list, walked backwards for DESC.
        self.obs.sort(key=lambda o: (o["_st"], o["_h"], o["id"]))
        self.keys = [(o["_st"], o["_h"], o["id"]) for o in self.obs]
        self.start_keys = [o["_st"] for o in self.obs]
        for lst in self.obs_by_trace.values():
            lst.sort(key=lambda o: (o["_st"], o.get("parentObservationId") is not None, o["_ord"]))
        # trace visibility = the earliest any of its observations becomes visible
        for t in self.traces:
            lst = self.obs_by_trace.get(t["id"]) or []
            t["_va"] = min((o["_va"] for o in lst), default=0)
        if timing is not None and timing.active:
            apply_timing(self, timing, seed)
        self.traces.sort(key=lambda t: (t["_ts"], t["id"]))
        self.trace_ts = [t["_ts"] for t in self.traces]
        self.scores_by_trace = {}
        for s in raw.get("scores") or []:
            for k in [k for k in s if k.startswith("_")]:
                del s[k]
            self.scores_by_trace.setdefault(s.get("traceId"), []).append(s)
        self.scores_v3 = sorted(raw.get("scores") or [], key=lambda s: (parse_iso_ms(s["timestamp"]), s["id"]))


def visible(row, n):
    va = row.get("_va") or 0
    if va and n <= va:
        return False
    vt = row.get("_vt")
    return vt is None or vt <= request_now_ms()


# --------------------------------------------------------------------------- server clock and timing

_REQUEST = threading.local()


class Timing:
    """The time switches: --clock-file, --late-minutes/--late-share, --long-roots/--long-root-max."""

    def __init__(self, args):
        self.clock_file = args.clock_file
        self.late_ms = int(args.late_minutes * 60000) if args.late_minutes else 0
        self.late_share = args.late_share
        self.long_roots = args.long_roots
        self.long_root_max_ms = parse_duration_ms(args.long_root_max)
        self.active = bool(self.clock_file or self.late_ms or self.long_roots)


def parse_duration_ms(s):
    m = re.match(r"^(\d+)(ms|s|m|h|d)?$", s or "")
    if not m:
        raise ValueError("not a duration: %r (e.g. 5h, 90m)" % s)
    unit = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[m.group(2) or "s"]
    return int(m.group(1)) * unit


def clock_now_ms(timing):
    """The server's now: the time in --clock-file (read on every request), else the real time."""
    if timing is not None and timing.clock_file:
        try:
            with open(timing.clock_file, encoding="utf-8") as f:
                text = f.read().strip()
            if text:
                return parse_iso_ms(text)
        except (OSError, ValueError):
            pass
    return int(time.time() * 1000)


def set_request_clock(st):
    _REQUEST.now = clock_now_ms(st.timing)


def request_now_ms():
    now = getattr(_REQUEST, "now", None)
    return now if now is not None else int(time.time() * 1000)


def apply_timing(ds, timing, seed):
    """Gives every observation "_vt", the server time from which it is visible: its start (nothing is
    visible before it happened), later for late traces (--late-minutes: half of them entirely that late,
    the other half row by row anywhere up to it), and for a long-running root (--long-roots) its end
    time, which moves up to --long-root-max after its start: OTel exports a span when it ends. A trace
    is visible (legacy /traces) from its first visible observation."""
    for o in ds.obs:
        tid = o.get("traceId")
        vt = o["_st"]
        if timing.late_ms and frac_hash(seed, "late-share", tid) < timing.late_share:
            if frac_hash(seed, "late-whole", tid) < 0.5:
                vt += timing.late_ms
            else:
                vt += int(timing.late_ms * frac_hash(seed, "late-row", o["id"]))
        if (timing.long_roots and o.get("parentObservationId") is None
                and frac_hash(seed, "long-root", tid) < timing.long_roots):
            run = int(timing.long_root_max_ms * (0.1 + 0.9 * frac_hash(seed, "long-root-len", tid)))
            end = parse_iso_ms(o["endTime"]) if o.get("endTime") else o["_st"]
            end = max(end, o["_st"] + run)
            o["endTime"] = iso_ms(end)
            o["latency"] = round((end - o["_st"]) / 1000.0, 3)
            vt = max(vt, end)
        o["_vt"] = vt
    ds.has_late = True
    for t in ds.traces:
        lst = ds.obs_by_trace.get(t["id"]) or []
        t["_vt"] = min((o["_vt"] for o in lst), default=t["_ts"])


def timing_for_view(ds):
    """Rows the real-server view made (a synthetic root) are visible with their trace's first row."""
    for o in ds.v2_obs:
        if "_vt" not in o:
            t = ds.trace_by_id.get(o.get("traceId")) or {}
            o["_vt"] = t.get("_vt", o["_st"])


def public_obs(o):
    return {k: v for k, v in o.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- real-server behaviours
#
# Opt-in switches (all off by default) that make the v2 rows look like the ones the real
# Langfuse v4 server builds from its ClickHouse events tables.  The legacy endpoints keep the
# dataset as it is (they read the v3 traces/observations tables, where none of this happens).
# real_server_view() builds a separate row index for v2; the other helpers shape single
# rows and pages.

def real_view_active(a):
    return bool(a.legacy_ingested or a.rootless or a.stale_duplicates)


def legacy_ingested_trace(a, tid):
    """Chosen by hash; rootless traces are never legacy-ingested (their trace data never arrives)."""
    return (not rootless_trace(a, tid) and a.legacy_ingested > 0
            and frac_hash(a.seed, "legacy", tid) < a.legacy_ingested)


def rootless_trace(a, tid):
    return a.rootless > 0 and frac_hash(a.seed, "rootless", tid) < a.rootless


def synthetic_root(t, lst):
    """The SPAN the legacy-ingestion propagation writes for a trace: id t-<traceId>, start = trace
    timestamp, no end, the trace's name/input/output/metadata/version, modelParameters {}."""
    return {"id": "t-" + t["id"], "traceId": t["id"], "type": "SPAN", "name": t.get("name"),
            "startTime": t["timestamp"], "endTime": None, "completionStartTime": None,
            "parentObservationId": None, "input": t.get("input"), "output": t.get("output"),
            "metadata": t.get("metadata"), "version": t.get("version"), "level": "DEFAULT",
            "statusMessage": None, "model": None, "modelId": None, "modelParameters": {},
            "environment": t.get("environment") or "default", "latency": None, "timeToFirstToken": None,
            "createdAt": t.get("createdAt") or t["timestamp"], "updatedAt": t.get("updatedAt") or t["timestamp"],
            "_st": t["_ts"], "_h": trace_hash(t["id"]), "_ord": -1,
            "_va": min((o.get("_va") or 0 for o in lst), default=0)}


def propagated(o, t):
    """An observation as the propagation job rewrites it: a top-level one hangs under t-<traceId>;
    version and modelParameters default to the trace's / {}; trace metadata is appended to the
    observation's (observation keys win: mapConcat(obs.metadata, t.metadata))."""
    r = dict(o)
    if r.get("parentObservationId") is None:
        r["parentObservationId"] = "t-" + t["id"]
    if r.get("version") is None:
        r["version"] = t.get("version")
    if r.get("modelParameters") is None:
        r["modelParameters"] = {}
    tmd = t.get("metadata")
    if isinstance(tmd, dict) and tmd:
        md = dict(r.get("metadata") or {}) if isinstance(r.get("metadata"), dict) else {}
        for k, v in tmd.items():
            md.setdefault(k, v)
        r["metadata"] = md
    return r


def stale_copy(o):
    """An older, unmerged copy of a row: no end time, no output, usage as it was mid-stream."""
    r = dict(o)
    r["endTime"] = None
    r["output"] = None
    r["latency"] = None
    if r.get("completionTokens"):
        r["completionTokens"] = 0
        r["totalTokens"] = r.get("promptTokens") or 0
    for key in ("usageDetails", "costDetails"):
        det = r.get(key)
        if isinstance(det, dict) and det:
            det = {k: (0 if "output" in k else v) for k, v in det.items()}
            if "total" in det:
                det["total"] = sum(v for k, v in det.items() if k != "total" and isinstance(v, (int, float)))
            r[key] = det
    if r.get("calculatedOutputCost"):
        r["calculatedTotalCost"] = (r.get("calculatedTotalCost") or 0) - r["calculatedOutputCost"]
        r["calculatedOutputCost"] = 0
    r["updatedAt"] = r.get("createdAt") or r.get("updatedAt")
    return r


def has_stale_copy(a, o):
    return (a.stale_duplicates > 0 and (o.get("endTime") or o.get("output") is not None)
            and frac_hash(a.seed, "stale", o["id"]) < a.stale_duplicates)


def real_server_view(ds, a):
    """Sets ds.v2_obs / v2_keys / v2_start_keys / v2_by_trace: the rows v2 serves.  Without any
    switch they are the dataset's own lists.  Copies of one row share its (start, hash, id) key;
    a 4th key element orders them (stale copy before or after the complete one, by hash)."""
    ds.v2_obs, ds.v2_keys, ds.v2_start_keys, ds.v2_by_trace = ds.obs, ds.keys, ds.start_keys, ds.obs_by_trace
    if not real_view_active(a):
        return
    rows = []
    for t in ds.traces:
        lst = ds.obs_by_trace.get(t["id"]) or []
        if rootless_trace(a, t["id"]):
            lst = [o for o in lst if o.get("parentObservationId") is not None]
        elif legacy_ingested_trace(a, t["id"]):
            lst = [synthetic_root(t, lst)] + [propagated(o, t) for o in lst]
        rows.extend(lst)
    seen = set(ds.trace_by_id)
    rows.extend(o for o in ds.obs if o.get("traceId") not in seen)   # orphans stay as they are
    view = []
    for o in rows:
        if has_stale_copy(a, o):
            first = frac_hash(a.seed, "stale-order", o["id"]) < 0.5
            view.append((o, 0 if first else 1))
            view.append((stale_copy(o), 1 if first else 0))
        else:
            view.append((o, 0))
    # walked backwards for DESC: the larger 4th element comes first
    view.sort(key=lambda x: (x[0]["_st"], x[0]["_h"], x[0]["id"], x[1]))
    ds.v2_obs = [o for o, _ in view]
    ds.v2_keys = [(o["_st"], o["_h"], o["id"], r) for o, r in view]
    ds.v2_start_keys = [o["_st"] for o in ds.v2_obs]
    by = {}
    for o in ds.v2_obs:
        by.setdefault(o.get("traceId"), []).append(o)
    ds.v2_by_trace = by


def real_v2_row(d, o, groups, a):
    """Empty strings where the events tables hold non-null String columns (only traceName stays
    null); untruncated metadata when io is requested (it comes from events_full)."""
    if a.empty_strings:
        for k in ("userId", "sessionId", "release", "promptId", "promptName", "model", "name"):
            if k in d and d[k] is None:
                d[k] = ""
        if "internalModelId" in d and d["internalModelId"] is None:
            d["internalModelId"] = ""
    if a.metadata_full_with_io and "io" in groups and "metadata" in groups:
        md = o.get("metadata")
        d["metadata"] = md if md is not None else {}
    return d


def v2_hidden(a, o):
    """--mode v3-preview serves v2 from an events table nothing writes; --v2-missing-before hides
    the history a v4 backfill has not reached yet."""
    if a.mode == "v3-preview":
        return True
    return a.v2_missing_before_ms is not None and o["_st"] < a.v2_missing_before_ms


def shuffle_ties(rows, key, n, seed):
    """Legacy ORDER BY has no tie-breaker: rows sharing a timestamp come in an order that may
    change from one request to the next (here: a permutation per request number n)."""
    out = []
    i = 0
    while i < len(rows):
        j = i + 1
        while j < len(rows) and key(rows[j]) == key(rows[i]):
            j += 1
        grp = rows[i:j]
        if len(grp) > 1:
            grp = sorted(grp, key=lambda r: frac_hash(seed, "tie", n, r["id"]))
        out.extend(grp)
        i = j
    return out
