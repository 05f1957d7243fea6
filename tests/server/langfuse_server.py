#!/usr/bin/env python3
"""Langfuse-compatible HTTP test server (python3 standard library only).

Serves a dataset file (see README.md) through the Langfuse public API:
  /api/public/health, /api/public/projects, /api/public/v2/observations,
  /api/public/traces, /api/public/traces/{id}, /api/public/observations
with exact wire shapes, several deployment modes (cloud, v4, v3, v3-html,
sunset, v3-preview), deterministic fault injection and opt-in real-server
behaviours.  Run with --help for options.

The module is importable (gen_dataset.py reuses trace_full_details()); importing
it has no side effects.
"""

import argparse
import base64
import binascii
import bisect
import calendar
import gzip
import hashlib
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import zlib
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

VERSION_V4 = "4.16.0"
VERSION_V3 = "3.225.4"

DEPRECATION_TRACES = {
    "message": "On Langfuse Cloud, Langfuse v3 is deprecated and this endpoint will be removed on "
               "November 16, 2026. In Langfuse v4, read span and trace data via GET "
               "/api/public/v2/observations?fromStartTime=<from>&toStartTime=<to>.",
    "replacement": "GET /api/public/v2/observations?fromStartTime=<from>&toStartTime=<to>",
    "docsUrl": "https://langfuse.com/docs/api-and-data-platform/features/observations-api",
    "sunsetAt": "2026-11-16",
}
DEPRECATION_OBSERVATIONS = {
    "message": "On Langfuse Cloud, Langfuse v3 is deprecated and this endpoint will be removed on "
               "November 16, 2026. Use GET /api/public/v2/observations?fromStartTime=<from>"
               "&toStartTime=<to> instead.",
    "replacement": "GET /api/public/v2/observations?fromStartTime=<from>&toStartTime=<to>",
    "docsUrl": "https://langfuse.com/docs/api-and-data-platform/features/observations-api",
    "sunsetAt": "2026-11-16",
}

MSG_NO_AUTH = {"message": "No authorization header"}
MSG_BAD_CREDS = {"message": "Invalid credentials. Confirm that you've configured the correct host."}
MSG_EVENTS_ONLY = {"message": "This endpoint is not available on deployments running in Langfuse v4 "
                              "events_only mode. Learn more about Langfuse v4 at: https://langfuse.com/docs/v4"}
MSG_V2_DISABLED = {"message": "The observations v2 API is only available in a Langfuse v4 write mode. "
                              "Learn more at: https://langfuse.com/docs/v4",
                   "error": "LangfuseNotFoundError"}
MSG_SUNSET = {"message": "This endpoint was removed on November 16, 2026 (Langfuse v3 read APIs sunset). "
                         "Read span and trace data via GET /api/public/v2/observations?fromStartTime=<from>"
                         "&toStartTime=<to>.",
              "error": "GoneError",
              "replacement": "GET /api/public/v2/observations?fromStartTime=<from>&toStartTime=<to>",
              "docsUrl": "https://langfuse.com/docs/api-and-data-platform/features/observations-api",
              "sunsetAt": "2026-11-16"}
MSG_422_TIMEOUT = {
    "message": "Your query could not be completed. Please narrow your request by adding more specific "
               "filters (e.g., a shorter date range).\nThis legacy endpoint can be slow. Please migrate to "
               "the high-performance Observations API v2 at /api/public/v2/observations.\nThis applies to "
               "Langfuse Cloud only until v4 is released in OSS.\nDocs: "
               "https://langfuse.com/docs/api-and-data-platform/features/observations-api",
    "error": "Request timed out"}
MSG_422_TOO_LARGE = {"message": "Response payload is too large", "error": "PayloadTooLargeError"}
MSG_500 = {"message": "Internal Server Error", "error": "An unknown error occurred"}
MSG_503 = {"message": "Service Unavailable"}

HTML_404 = (b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"/><title>404: This page could not be found"
            b"</title></head><body><div id=\"__next\"><div style=\"font-family:system-ui;height:100vh;"
            b"text-align:center;display:flex;flex-direction:column;align-items:center;justify-content:center"
            b"\"><h1>404</h1><h2>This page could not be found.</h2></div></div></body></html>")
HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
            b"</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n")
HTML_524 = (b"<!DOCTYPE html>\n<!--[if lt IE 7]> <html class=\"no-js ie6 oldie\" lang=\"en-US\"> <![endif]-->\n"
            b"<html lang=\"en-US\"><head><title>cloud.langfuse.com | 524: A timeout occurred</title>"
            b"<meta charset=\"UTF-8\" /></head><body><div id=\"cf-wrapper\"><div id=\"cf-error-details\">"
            b"<h1><span class=\"cf-error-type\">Error</span> <span class=\"cf-error-code\">524</span></h1>"
            b"<h2 class=\"cf-subheadline\">A timeout occurred</h2><p>The origin web server timed out "
            b"responding to this request.</p><p>Cloudflare Ray ID: <strong>8b1f2c3d4e5f6a7b</strong></p>"
            b"</div></div></body></html>\n")

V2_GROUPS = ("core", "basic", "time", "io", "metadata", "model", "usage", "prompt", "metrics", "trace_context")
TRACE_GROUPS = ("core", "io", "scores", "observations", "metrics")
OBS_TYPES = ("SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR",
             "EMBEDDING", "GUARDRAIL")
LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")


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
    ud = r.get("usageDetails")
    if isinstance(ud, dict) and ud:
        ud = {k: (0 if "output" in k else v) for k, v in ud.items()}
        if "total" in ud:
            ud["total"] = sum(v for k, v in ud.items() if k != "total" and isinstance(v, (int, float)))
        r["usageDetails"] = ud
    cd = r.get("costDetails")
    if isinstance(cd, dict) and cd:
        cd = {k: (0 if "output" in k else v) for k, v in cd.items()}
        if "total" in cd:
            cd["total"] = sum(v for k, v in cd.items() if k != "total" and isinstance(v, (int, float)))
        r["costDetails"] = cd
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


def trace_metrics(obs_list):
    """(latency seconds, totalCost USD) over the given observations."""
    if not obs_list:
        return 0, 0
    starts = [parse_iso_ms(o["startTime"]) if "_st" not in o else o["_st"] for o in obs_list]
    ends = []
    for o, s in zip(obs_list, starts):
        e = o.get("endTime")
        ends.append(parse_iso_ms(e) if e else s)
    latency = round((max(ends) - min(starts)) / 1000.0, 3)
    cost = 0.0
    for o in obs_list:
        c = o.get("calculatedTotalCost")
        if c is None:
            c = (o.get("costDetails") or {}).get("total")
        cost += float(c or 0)
    return latency, round(cost, 12)


def trace_base(t, project_id, groups=TRACE_GROUPS):
    d = {"id": t["id"], "timestamp": t["timestamp"], "name": t.get("name")}
    if "io" in groups:
        d["input"] = t.get("input")
        d["output"] = t.get("output")
    d["sessionId"] = t.get("sessionId")
    d["release"] = t.get("release")
    d["version"] = t.get("version")
    d["userId"] = t.get("userId")
    if "io" in groups:
        d["metadata"] = t.get("metadata")
    d["tags"] = t.get("tags") or []
    d["public"] = bool(t.get("public", False))
    d["environment"] = t.get("environment") or "default"
    d["externalId"] = None
    d["bookmarked"] = bool(t.get("bookmarked", False))
    d["projectId"] = project_id
    d["createdAt"] = t.get("createdAt") or t["timestamp"]
    d["updatedAt"] = t.get("updatedAt") or d["createdAt"]
    return d


def trace_with_details(t, obs_list, scores, project_id, groups=TRACE_GROUPS):
    d = trace_base(t, project_id, groups)
    d["htmlPath"] = "/project/%s/traces/%s" % (project_id, t["id"])
    if "metrics" in groups:
        d["latency"], d["totalCost"] = trace_metrics(obs_list)
    else:
        d["latency"], d["totalCost"] = -1, -1
    d["observations"] = [o["id"] for o in obs_list] if "observations" in groups else []
    d["scores"] = [s["id"] for s in scores] if "scores" in groups else []
    return d


def obs_full_v1(o):
    """ObservationsView as in GET /traces/{id}: unmatched prices are 0, not null."""
    d = public_obs(o)
    for k in ("inputPrice", "outputPrice", "totalPrice"):
        if d.get(k) is None:
            d[k] = 0
    return d


def trace_full_details(t, obs_list, scores, project_id, groups=TRACE_GROUPS):
    """TraceWithFullDetails (GET /api/public/traces/{id}). obs_list in display order."""
    d = trace_base(t, project_id, groups)
    d["scores"] = [dict(s) for s in scores] if "scores" in groups else []
    if "metrics" in groups:
        d["latency"], d["totalCost"] = trace_metrics(obs_list)
    else:
        d["latency"], d["totalCost"] = -1, -1
    d["observations"] = [obs_full_v1(o) for o in obs_list] if "observations" in groups else []
    d["htmlPath"] = "/project/%s/traces/%s" % (project_id, t["id"])
    lat, cost = d.pop("latency"), d.pop("totalCost")
    # key order as the real server: ..., scores, latency, observations, htmlPath, totalCost
    out = {}
    for k, v in d.items():
        if k == "observations":
            out["latency"] = lat
        out[k] = v
    out["totalCost"] = cost
    return out


def render_v2(o, t, groups, expand, project_id):
    d = {"id": o["id"], "traceId": o.get("traceId"), "startTime": o["startTime"], "endTime": o.get("endTime"),
         "projectId": o.get("projectId") or project_id, "parentObservationId": o.get("parentObservationId"),
         "type": o.get("type")}
    t = t or {}
    if "basic" in groups:
        d["name"] = o.get("name")
        d["level"] = o.get("level") or "DEFAULT"
        d["statusMessage"] = o.get("statusMessage") if o.get("statusMessage") is not None else ""
        d["version"] = o.get("version") if o.get("version") is not None else ""
        d["environment"] = o.get("environment") or t.get("environment") or "default"
        d["bookmarked"] = bool(t.get("bookmarked", False))
        d["public"] = bool(t.get("public", False))
        d["userId"] = t.get("userId")
        d["sessionId"] = t.get("sessionId")
        d["isRootObservation"] = o.get("parentObservationId") is None
    if "time" in groups:
        d["completionStartTime"] = o.get("completionStartTime")
        d["createdAt"] = o.get("createdAt")
        d["updatedAt"] = o.get("updatedAt")
    if "io" in groups:
        d["input"] = raw_io(o.get("input"))
        d["output"] = raw_io(o.get("output"))
    if "metadata" in groups:
        md = o.get("metadata")
        if isinstance(md, dict):
            md = {k: (v[:200] if isinstance(v, str) and len(v) > 200 and k not in expand else v)
                  for k, v in md.items()}
        d["metadata"] = md if md is not None else {}
    if "model" in groups:
        d["model"] = o.get("model")
        d["internalModelId"] = o.get("modelId")
        d["modelParameters"] = o.get("modelParameters")
    if "usage" in groups:
        d["usageDetails"] = o.get("usageDetails") or {}
        d["inputUsage"] = o.get("promptTokens") or 0
        d["outputUsage"] = o.get("completionTokens") or 0
        d["totalUsage"] = o.get("totalTokens") or 0
        d["costDetails"] = o.get("costDetails") or {}
        d["inputCost"] = o.get("calculatedInputCost")
        d["outputCost"] = o.get("calculatedOutputCost")
        d["totalCost"] = o.get("calculatedTotalCost")
        d["usagePricingTierId"] = o.get("usagePricingTierId")
        d["usagePricingTierName"] = o.get("usagePricingTierName")
    if "prompt" in groups:
        d["promptId"] = o.get("promptId")
        d["promptName"] = o.get("promptName")
        d["promptVersion"] = o.get("promptVersion")
    if "trace_context" in groups:
        d["traceName"] = t.get("name")
        d["tags"] = t.get("tags") or []
        d["release"] = t.get("release")
    # metrics: always present in practice (computed from core fields)
    d["latency"] = o.get("latency")
    d["timeToFirstToken"] = o.get("timeToFirstToken")
    m = "model" in groups
    d["modelId"] = o.get("modelId") if m else None
    d["inputPrice"] = decimal_string(o.get("inputPrice")) if m else None
    d["outputPrice"] = decimal_string(o.get("outputPrice")) if m else None
    d["totalPrice"] = decimal_string(o.get("totalPrice")) if m else None
    return d


def score_v3(s, groups, project_id):
    """A dataset score (v1 shape) as /api/public/v3/scores renders it: one polymorphic value."""
    dt = s.get("dataType") or "NUMERIC"
    if dt == "BOOLEAN":
        value = bool(s.get("value"))
    elif dt in ("CATEGORICAL", "TEXT", "CORRECTION"):
        value = s.get("stringValue") if s.get("stringValue") is not None else str(s.get("value"))
    else:
        value = s.get("value")
    d = {"id": s["id"], "projectId": s.get("projectId") or project_id, "name": s.get("name"),
         "source": s.get("source") or "API", "timestamp": s["timestamp"],
         "environment": s.get("environment") or "default", "createdAt": s.get("createdAt") or s["timestamp"],
         "updatedAt": s.get("updatedAt") or s["timestamp"], "dataType": dt, "value": value}
    if "details" in groups:
        d["comment"] = s.get("comment")
        d["configId"] = s.get("configId")
        d["metadata"] = s.get("metadata") or {}
    if "annotation" in groups:
        d["authorUserId"] = s.get("authorUserId")
        d["queueId"] = s.get("queueId")
    if "subject" in groups:
        if s.get("observationId"):
            d["subject"] = {"kind": "observation", "id": s["observationId"], "traceId": s.get("traceId")}
        elif s.get("traceId"):
            d["subject"] = {"kind": "trace", "id": s["traceId"]}
        elif s.get("sessionId"):
            d["subject"] = {"kind": "session", "id": s["sessionId"]}
    return d


# --------------------------------------------------------------------------- request errors

class ApiError(Exception):
    def __init__(self, status, body, headers=None, fault=None):
        Exception.__init__(self, status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.fault = fault


def zod_error(path, code, message, **extra):
    issue = {}
    issue.update(extra)
    issue.update({"code": code, "path": [path], "message": message})
    return ApiError(400, {"message": "Invalid request data", "error": [issue]})


# The v2 `filter` parameter: a JSON array of the events table's filters
# (langfuse packages/shared/src/interfaces/filters.ts, eventsTableSingleFilter;
# columns by uiTableId or uiTableName from tableMappings/mapEventsTable.ts).
# Modelled: the trace id column with "any of" (stringOptions) or "=" (string),
# what lg-fetch asks for; a column the real server does not know is its 400,
# any other filter a 400 naming what this server does not model.
V2_FILTER_TRACE_COLUMNS = ("traceId", "Trace ID")


def v2_filter(raw):
    """The trace ids a v2 filter parameter asks for, or None without one."""
    if raw is None:
        return None
    try:
        f = json.loads(raw)
    except ValueError:
        raise zod_error("filter", "custom", "Invalid JSON in filter parameter")
    if not isinstance(f, list) or not all(isinstance(x, dict) for x in f):
        raise zod_error("filter", "invalid_type", "Invalid input: expected array")
    ids = None
    for x in f:
        col, typ, op, val = x.get("column"), x.get("type"), x.get("operator"), x.get("value")
        if not isinstance(col, str) or typ not in ("string", "stringOptions", "datetime", "number", "null",
                                                      "boolean", "arrayOptions", "stringObject",
                                                      "numberObject", "booleanObject", "categoryOptions",
                                                      "positionInTrace"):
            raise zod_error("filter", "invalid_union", "Invalid input")
        if col not in V2_FILTER_TRACE_COLUMNS:
            if col in V2_EVENTS_COLUMNS:
                raise ApiError(400, {"message": "the test server does not model a v2 filter on %s" % col,
                                     "error": "InvalidRequestError"})
            raise ApiError(400, {"message": "Column %s does not match a UI / CH table mapping." % col,
                                 "error": "InvalidRequestError"})
        if typ == "stringOptions" and op == "any of" and isinstance(val, list) and val \
                and all(isinstance(v, str) for v in val):
            want = set(val)
        elif typ == "string" and op == "=" and isinstance(val, str):
            want = {val}
        else:
            raise ApiError(400, {"message": "the test server does not model the v2 filter %s %s on %s"
                                 % (typ, op, col), "error": "InvalidRequestError"})
        ids = want if ids is None else ids & want
    return None if ids is None else sorted(ids)


# uiTableId and uiTableName of the events table's columns the real server filters on.
V2_EVENTS_COLUMNS = set("""environment ingestionApiKey ingestionSdkName ingestionSdkVersion ingestionSource
type id name startTime endTime timeToFirstToken latency tokensPerSecond inputCost outputCost totalCost
level statusMessage model providedModelName modelId inputTokens outputTokens totalTokens tokens metadata
evaluatorId ruleId version release promptName promptVersion input output sessionId traceName userId
traceTags tags""".split()) | {"Environment", "Type", "ID", "Name", "Start Time", "End Time", "Level",
                              "Model", "Metadata", "Version", "Release", "Input", "Output", "Session ID",
                              "Trace Name", "User ID", "Tags"}


def q_one(q, name):
    v = q.get(name)
    if not v:
        return None
    return v[-1]


def q_int(q, name, default, lo, hi):
    v = q_one(q, name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        try:
            f = float(v)
        except ValueError:
            raise zod_error(name, "invalid_type", "Invalid input: expected number, received NaN",
                            expected="number", received="NaN")
        if f != int(f):
            raise zod_error(name, "invalid_type", "Invalid input: expected int, received number",
                            expected="int", received="number")
        n = int(f)
    if n < lo:
        raise zod_error(name, "too_small", "Too small: expected number to be >=%d" % lo,
                        origin="number", minimum=lo, inclusive=True)
    if hi is not None and n > hi:
        raise zod_error(name, "too_big", "Too big: expected number to be <=%d" % hi,
                        origin="number", maximum=hi, inclusive=True)
    return n


def q_time(q, name):
    v = q_one(q, name)
    if v is None or v == "":
        return None
    try:
        return parse_iso_ms(v)
    except ValueError:
        raise zod_error(name, "invalid_format", "Invalid ISO datetime", format="datetime", origin="string")


def q_list(q, name):
    out = []
    for v in q.get(name) or []:
        out.extend(x for x in v.split(",") if x != "") if name in ("fields", "expandMetadata") else out.append(v)
    return out


# --------------------------------------------------------------------------- server state

class RateLimiter:
    """Fixed window; the first request starts the window."""

    def __init__(self, points, window_s=60.0):
        self.points = points
        self.window = window_s
        self.start = None
        self.used = 0
        self.lock = threading.Lock()

    def consume(self):
        """-> None if allowed, else (retry_after_s, remaining(neg ok), reset_epoch)."""
        with self.lock:
            now = time.time()
            if self.start is None or now >= self.start + self.window:
                self.start = now
                self.used = 0
            self.used += 1
            if self.used <= self.points:
                return None
            reset = self.start + self.window
            return max(1, int(math.ceil(reset - now))), self.points - self.used, reset


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.load_lock = threading.Lock()
        self.n = 0           # every request
        self.k = 0           # authenticated data requests (fault counter)
        self.log_f = open(args.log, "a", encoding="utf-8") if args.log else None
        self.log_lock = threading.Lock()
        self.ds = None
        self.limiter = RateLimiter(parse_rate(args.rate_limit)) if args.rate_limit else None
        self.limiter_legacy = (RateLimiter(parse_rate(args.rate_limit_legacy))
                               if args.rate_limit_legacy else None)
        self.timing = Timing(args)
        self.load(initial=True)

    def load(self, initial=False):
        a = self.args
        try:
            st = os.stat(a.dataset)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            if initial:
                raise
            return self.ds
        ds = self.ds
        if ds is not None and ds.stamp == stamp:
            return ds
        with self.load_lock:
            ds = self.ds
            if ds is not None and ds.stamp == stamp:
                return ds
            try:
                new = Dataset(a.dataset, late_after=a.late_after, late_fraction=a.late_fraction, seed=a.seed,
                              timing=self.timing)
                real_server_view(new, a)
                if self.timing.active:
                    timing_for_view(new)
            except (ValueError, KeyError, OSError) as e:
                if initial:
                    raise
                sys.stderr.write("langfuse_server: reload of %s failed (%s); keeping old data\n" % (a.dataset, e))
                return self.ds
            self.ds = new
            if a.verbose:
                sys.stderr.write("langfuse_server: loaded %d traces, %d observations\n"
                                 % (len(new.traces), len(new.obs)))
            return new

    def next_n(self):
        with self.lock:
            self.n += 1
            return self.n

    def next_k(self):
        with self.lock:
            self.k += 1
            return self.k

    def log(self, rec):
        if not self.log_f:
            return
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.log_lock:
            self.log_f.write(line)
            self.log_f.flush()


def parse_rate(s):
    m = re.match(r"^\s*(\d+)\s*(?:/\s*(min|m|minute|s|sec|second|h|hour))?\s*$", s)
    if not m:
        raise argparse.ArgumentTypeError("rate must look like 30/min")
    n = int(m.group(1))
    return n if m.group(2) in (None, "min", "m", "minute") else n  # only per-minute windows are modelled


def every(k, n):
    return bool(n) and n > 0 and k % n == 0


# --------------------------------------------------------------------------- endpoint logic

class Api:
    def __init__(self, state):
        self.st = state

    # ---- v2 observations
    def v2_observations(self, q, n, ds):
        a = self.st.args
        if (q_one(q, "parseIoAsJson") or "").lower() == "true":
            raise ApiError(400, {"message": "parseIoAsJson=true is no longer supported. Parse the input and "
                                            "output fields as JSON on the client.",
                                 "error": "InvalidRequestError"})
        limit = q_int(q, "limit", 50, 0, 1000)
        frm = q_time(q, "fromStartTime")
        to = q_time(q, "toStartTime")
        self.check_window(frm, to)
        groups = set(["core"])
        fl = q_list(q, "fields")
        groups.update(g.strip() for g in (fl or ["basic"]) if g.strip() in V2_GROUPS)
        if not fl:
            groups.add("basic")
        expand = set(x.strip() for x in q_list(q, "expandMetadata"))
        cur = q_one(q, "cursor")
        ckey = None
        if cur:
            try:
                pad = "=" * (-len(cur) % 4)
                c = json.loads(base64.b64decode(cur + pad, validate=False).decode("utf-8"))
                ckey = (parse_iso_ms(c["lastStartTimeTo"]), trace_hash(c["lastTraceId"]), str(c["lastId"]))
            except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
                raise ApiError(400, {"message": "Invalid cursor format", "error": "InvalidRequestError"})
        f_trace = q_one(q, "traceId")
        f_traces = None if a.v2_no_filter else v2_filter(q_one(q, "filter"))
        if f_traces is not None:
            f_trace = None      # an advanced filter on a column wins over its simple parameter
        f_type = q_one(q, "type")
        f_name = q_one(q, "name")
        f_user = q_one(q, "userId")
        f_sess = q_one(q, "sessionId")
        f_level = q_one(q, "level")
        f_version = q_one(q, "version")
        f_env = set(q.get("environment") or [])
        f_parent = q.get("parentObservationId")
        f_parent = None if f_parent is None else f_parent[-1]
        f_root = q_one(q, "isRootObservation")
        if f_type is not None and f_type not in OBS_TYPES:
            raise zod_error("type", "invalid_value", "Invalid option: expected one of %s"
                            % "|".join('"%s"' % x for x in OBS_TYPES), values=list(OBS_TYPES))
        if f_level is not None and f_level not in LEVELS:
            raise zod_error("level", "invalid_value", "Invalid option: expected one of %s"
                            % "|".join('"%s"' % x for x in LEVELS), values=list(LEVELS))
        tb = ds.trace_by_id

        def match(o):
            if not visible(o, n):
                return False
            if v2_hidden(a, o):
                return False
            if f_type is not None and o.get("type") != f_type:
                return False
            if f_name is not None and o.get("name") != f_name:
                return False
            if f_level is not None and (o.get("level") or "DEFAULT") != f_level:
                return False
            if f_version is not None and (o.get("version") or "") != f_version:
                return False
            if f_env and (o.get("environment") or "default") not in f_env:
                return False
            if f_parent is not None and (o.get("parentObservationId") or "") != f_parent:
                return False
            if f_root is not None and ((o.get("parentObservationId") is None) != (f_root.lower() == "true")):
                return False
            if f_user is not None or f_sess is not None:
                t = tb.get(o.get("traceId")) or {}
                if f_user is not None and t.get("userId") != f_user:
                    return False
                if f_sess is not None and t.get("sessionId") != f_sess:
                    return False
            return True

        want = limit + 1
        out = []
        if f_trace is not None or f_traces is not None:
            ids = f_traces if f_traces is not None else [f_trace]
            cand = [o for t in set(ids) for o in ds.v2_by_trace.get(t, [])]
            cand.sort(key=lambda o: (o["_st"], o["_h"], o["id"]), reverse=True)
            for o in cand:
                key = (o["_st"], o["_h"], o["id"])
                if to is not None and o["_st"] >= to:
                    continue
                if frm is not None and o["_st"] < frm:
                    continue
                if ckey is not None and not key < ckey:
                    continue
                if match(o):
                    out.append(o)
                    if len(out) >= want:
                        break
        else:
            hi = len(ds.v2_keys) if to is None else bisect.bisect_left(ds.v2_start_keys, to)
            if ckey is not None:
                hi = min(hi, bisect.bisect_left(ds.v2_keys, ckey))
            lo = 0 if frm is None else bisect.bisect_left(ds.v2_start_keys, frm)
            rows = ds.v2_obs
            i = hi - 1
            while i >= lo and len(out) < want:
                o = rows[i]
                if match(o):
                    out.append(o)
                i -= 1
        # page assembly (with optional duplicate rows)
        entries = []
        distinct = []
        unpaired = False
        P = a.duplicate_rows
        for o in out[:limit]:
            if len(entries) >= limit:
                break
            entries.append(o)
            distinct.append(o)
            if P > 0 and frac_hash(a.seed, "dup", o["id"]) < P:
                if len(entries) < limit:
                    entries.append(o)
                else:
                    unpaired = True
        more = len(out) > len(distinct)
        last = distinct[-1] if distinct else None
        if unpaired and len(distinct) > 1:
            last = distinct[-2]       # the last row comes again on the next page
            more = True
        if more and last is not None and len(out) > len(distinct) and out[len(distinct)]["id"] == last["id"]:
            # Copies of one row share its key: the real server's strict cursor would drop the
            # copies past the page end.  Point the cursor before them so they all come again.
            earlier = [o for o in distinct if o["id"] != last["id"]]
            if earlier:
                last = earlier[-1]
        meta = {}
        if more and last is not None:
            c = {"lastStartTimeTo": iso_ms(last["_st"]), "lastTraceId": last.get("traceId"), "lastId": last["id"]}
            meta["cursor"] = base64.b64encode(jdump(c).encode("utf-8")).decode("ascii")
        pid = ds.project_id
        cache = {}
        data = []
        for o in entries:
            r = cache.get(id(o))
            if r is None:
                r = real_v2_row(render_v2(o, tb.get(o.get("traceId")), groups, expand, pid), o, groups, a)
                cache[id(o)] = r
            data.append(r)
        return {"data": data, "meta": meta}, len(data)

    def check_window(self, frm, to):
        w = self.st.args.fault_422_window
        if w is None:
            return
        if frm is None:
            raise ApiError(422, MSG_422_TIMEOUT, fault="422-window")
        if to is None:
            to = request_now_ms()
        if to - frm > w * 1000:
            raise ApiError(422, MSG_422_TIMEOUT, fault="422-window")

    # ---- scores v3
    def scores_v3(self, q, ds):
        """GET /api/public/v3/scores: timestamp DESC, id DESC; cursor = base64url of
        {"v":1,"lastTimestamp","lastId"}; limit 1..100 (default 50); fromTimestamp >=, toTimestamp <;
        fields core (default), details, subject, annotation; traceId (comma-separated, any of)."""
        limit = q_int(q, "limit", 50, 1, 100)
        frm = q_time(q, "fromTimestamp")
        to = q_time(q, "toTimestamp")
        groups = set(q_list(q, "fields") or ["core"]) | {"core"}
        trace_ids = set(x for v in (q.get("traceId") or []) for x in v.split(",") if x)
        ckey = None
        cur = q_one(q, "cursor")
        if cur:
            try:
                c = json.loads(base64.urlsafe_b64decode(cur + "=" * (-len(cur) % 4)).decode("utf-8"))
                ckey = (parse_iso_ms(c["lastTimestamp"]), str(c["lastId"]))
            except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
                raise ApiError(400, {"message": "Invalid cursor format", "error": "InvalidRequestError"})
        out = []
        for s in reversed(ds.scores_v3):
            key = (parse_iso_ms(s["timestamp"]), s["id"])
            if (frm is not None and key[0] < frm) or (to is not None and key[0] >= to):
                continue
            if ckey is not None and not key < ckey:
                continue
            if trace_ids and s.get("traceId") not in trace_ids:
                continue
            out.append(s)
            if len(out) > limit:
                break
        page = out[:limit]
        meta = {"limit": limit}
        if len(out) > limit:
            last = page[-1]
            c = jdump({"v": 1, "lastTimestamp": last["timestamp"], "lastId": last["id"]}).encode("utf-8")
            meta["cursor"] = base64.urlsafe_b64encode(c).decode("ascii").rstrip("=")
        return {"data": [score_v3(s, groups, ds.project_id) for s in page], "meta": meta}, len(page)

    # ---- legacy traces
    def traces_list(self, q, n, ds):
        page = q_int(q, "page", 1, 1, None)
        limit = q_int(q, "limit", 50, 1, 100)
        frm = q_time(q, "fromTimestamp")
        to = q_time(q, "toTimestamp")
        self.check_window(frm, to)
        order = q_one(q, "orderBy") or "timestamp.desc"
        m = re.match(r"^(id|timestamp|name|userId|release|version|public|bookmarked|sessionId)\.(asc|desc)$",
                     order)
        if not m:
            raise ApiError(400, {"message": "Invalid orderBy parameter: %s" % order,
                                 "error": "InvalidRequestError"})
        ofield, odir = m.group(1), m.group(2)
        fl = q_list(q, "fields")
        groups = set(g for g in fl if g in TRACE_GROUPS) | {"core"} if fl else set(TRACE_GROUPS)
        f_user = q_one(q, "userId")
        f_name = q_one(q, "name")
        f_sess = q_one(q, "sessionId")
        f_version = q_one(q, "version")
        f_release = q_one(q, "release")
        f_tags = q.get("tags") or []
        f_env = set(q.get("environment") or [])
        lo = 0 if frm is None else bisect.bisect_left(ds.trace_ts, frm)
        hi = len(ds.traces) if to is None else bisect.bisect_left(ds.trace_ts, to)
        sel = []
        for t in ds.traces[lo:hi]:
            if not visible(t, n):
                continue
            if f_user is not None and t.get("userId") != f_user:
                continue
            if f_name is not None and t.get("name") != f_name:
                continue
            if f_sess is not None and t.get("sessionId") != f_sess:
                continue
            if f_version is not None and t.get("version") != f_version:
                continue
            if f_release is not None and t.get("release") != f_release:
                continue
            if f_tags and not all(x in (t.get("tags") or []) for x in f_tags):
                continue
            if f_env and (t.get("environment") or "default") not in f_env:
                continue
            sel.append(t)
        if ofield == "timestamp":
            if odir == "desc":
                sel.reverse()
            if self.st.args.legacy_ties:
                sel = shuffle_ties(sel, lambda t: t["_ts"], n, self.st.args.seed)
        else:
            def sk(t):
                v = t.get(ofield)
                return (v is not None, v if v is not None else "")
            sel.sort(key=sk, reverse=(odir == "desc"))
        total = len(sel)
        chunk = sel[(page - 1) * limit: page * limit]
        data = []
        for t in chunk:
            ol = [o for o in ds.obs_by_trace.get(t["id"], []) if visible(o, n)]
            data.append(trace_with_details(t, ol, ds.scores_by_trace.get(t["id"], []), ds.project_id, groups))
        body = {"data": data, "meta": {"page": page, "limit": limit, "totalItems": total,
                                       "totalPages": int(math.ceil(total / float(limit)))}}
        if self.st.args.mode == "cloud":
            body["_deprecation"] = DEPRECATION_TRACES
        return body, len(data)

    def trace_get(self, q, n, ds, trace_id):
        t = ds.trace_by_id.get(trace_id)
        if t is None or not visible(t, n):
            body = {"message": "Trace %s not found within authorized project" % trace_id,
                    "error": "LangfuseNotFoundError"}
            if self.st.args.mode == "cloud":
                body["_deprecation"] = DEPRECATION_TRACES
            raise ApiError(404, body)
        fl = q_list(q, "fields")
        groups = set(g for g in fl if g in TRACE_GROUPS) | {"core"} if fl else set(TRACE_GROUPS)
        ol = [o for o in ds.obs_by_trace.get(t["id"], []) if visible(o, n)]
        body = trace_full_details(t, ol, ds.scores_by_trace.get(t["id"], []), ds.project_id, groups)
        if self.st.args.mode == "cloud":
            body["_deprecation"] = DEPRECATION_TRACES
        return body, 1

    # ---- legacy observations
    def observations_list(self, q, n, ds):
        page = q_int(q, "page", 1, 1, None)
        limit = q_int(q, "limit", 50, 1, 100)
        frm = q_time(q, "fromStartTime")
        to = q_time(q, "toStartTime")
        self.check_window(frm, to)
        f_trace = q_one(q, "traceId")
        f_type = q_one(q, "type")
        f_name = q_one(q, "name")
        f_user = q_one(q, "userId")
        f_level = q_one(q, "level")
        f_version = q_one(q, "version")
        f_parent = q_one(q, "parentObservationId")
        f_env = set(q.get("environment") or [])
        tb = ds.trace_by_id
        filtered = any(x is not None for x in (f_type, f_name, f_user, f_level, f_version, f_parent)) or f_env

        def match(o):
            if not visible(o, n):
                return False
            if f_type is not None and o.get("type") != f_type:
                return False
            if f_name is not None and o.get("name") != f_name:
                return False
            if f_level is not None and (o.get("level") or "DEFAULT") != f_level:
                return False
            if f_version is not None and o.get("version") != f_version:
                return False
            if f_parent is not None and o.get("parentObservationId") != f_parent:
                return False
            if f_env and (o.get("environment") or "default") not in f_env:
                return False
            if f_user is not None and (tb.get(o.get("traceId")) or {}).get("userId") != f_user:
                return False
            return True

        off = (page - 1) * limit
        if f_trace is not None:
            sel = [o for o in ds.obs_by_trace.get(f_trace, [])
                   if (frm is None or o["_st"] >= frm) and (to is None or o["_st"] < to) and match(o)]
            sel.sort(key=lambda o: (o["_st"], o["_h"], o["id"]), reverse=True)
            if self.st.args.legacy_ties:
                sel = shuffle_ties(sel, lambda o: o["_st"], n, self.st.args.seed)
            total = len(sel)
            chunk = sel[off:off + limit]
        else:
            hi = len(ds.keys) if to is None else bisect.bisect_left(ds.start_keys, to)
            lo = 0 if frm is None else bisect.bisect_left(ds.start_keys, frm)
            if not filtered and not ds.has_late and not self.st.args.legacy_ties:
                total = max(0, hi - lo)
                a = max(lo, hi - off - limit)
                b = max(lo, hi - off)
                chunk = ds.obs[a:b][::-1]
            else:
                sel = [o for o in ds.obs[lo:hi] if match(o)]
                total = len(sel)
                sel.reverse()
                if self.st.args.legacy_ties:
                    sel = shuffle_ties(sel, lambda o: o["_st"], n, self.st.args.seed)
                chunk = sel[off:off + limit]
        body = {"data": [public_obs(o) for o in chunk],
                "meta": {"page": page, "limit": limit, "totalItems": total,
                         "totalPages": int(math.ceil(total / float(limit)))}}
        if self.st.args.mode == "cloud":
            body["_deprecation"] = DEPRECATION_OBSERVATIONS
        return body, len(chunk)


# --------------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "langfuse-test-server"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_POST(self):
        self.handle_any("POST")

    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST

    def handle_any(self, method):
        st = self.server.state
        if st.args.hostile and self.hostile(st, method):
            return
        n = st.next_n()
        set_request_clock(st)
        t0 = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        u = urlsplit(self.path)
        path = unquote(u.path)
        if len(path) > 1:
            path = path.rstrip("/")
        q = parse_qs(u.query, keep_blank_values=True)
        rec = {"n": n, "at": round(t0, 4), "method": method, "path": path,
               "query": {k: (v[0] if len(v) == 1 else v) for k, v in q.items()}}
        if st.timing.clock_file:
            rec["clock"] = iso_ms(request_now_ms())   # the server's now, for tests of timing
        try:
            status, body, headers, rows, fault = self.route(st, method, path, q, n)
        except ApiError as e:
            status, body, headers, rows, fault = e.status, e.body, e.headers, 0, e.fault
        except Exception as e:  # never let a bug kill the connection silently
            import traceback
            traceback.print_exc()
            status, body, headers, rows, fault = 500, {"message": "Internal Server Error",
                                                      "error": "%s: %s" % (type(e).__name__, e)}, {}, 0, None
        if isinstance(body, (dict, list)):
            payload = jdump(body).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        else:
            payload = body
            ctype = headers.pop("Content-Type", "text/html; charset=utf-8")
        if status == 200 and st.args.max_body_bytes and path != "/api/public/projects" \
                and rows and len(payload) > st.args.max_body_bytes:
            status, payload, rows, fault = 422, jdump(MSG_422_TOO_LARGE).encode(), 0, "too-large"
            ctype = "application/json; charset=utf-8"
        # faults that act on the bytes of a successful response
        cut = False
        if status == 200 and fault in ("cut", "invalid-json"):
            if fault == "invalid-json":
                payload = payload[:max(1, len(payload) // 2)]
                if payload[-1:] in (b"}", b"]"):
                    payload = payload[:-1]
            else:
                cut = True
        elif fault in ("cut", "invalid-json"):
            fault = None
        encoding = None
        ae = self.headers.get("Accept-Encoding") or ""
        if "gzip" in ae.lower() and len(payload) > 0:
            payload = gzip.compress(payload, compresslevel=5)
            encoding = "gzip"
        full_len = len(payload)
        send = payload[:full_len // 2] if cut else payload
        rec.update({"status": status, "bytes": len(send), "rows": rows})
        if fault:
            rec["fault"] = fault
        rec["ms"] = int((time.time() - t0) * 1000)
        st.log(rec)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(full_len))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
            for k, v in headers.items():
                self.send_header(k, v)
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(send)
            self.wfile.flush()
            if cut:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def hostile(self, st, method):
        """--hostile: tests/server/hostile.py answers authenticated data requests."""
        import hostile
        u = urlsplit(self.path)
        path = unquote(u.path).rstrip("/")
        q = parse_qs(u.query, keep_blank_values=True)
        try:
            self.check_auth(st)
        except ApiError:
            return False
        return hostile.respond(self, st, path, q, lambda: self.route(st, method, path, q, st.next_n()))

    def check_auth(self, st):
        h = self.headers.get("Authorization")
        if not h:
            raise ApiError(401, MSG_NO_AUTH)
        parts = h.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "basic":
            raise ApiError(401, MSG_BAD_CREDS)
        try:
            dec = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApiError(401, MSG_BAD_CREDS)
        pk, _, sk = dec.partition(":")
        if pk != st.args.public_key or sk != st.args.secret_key:
            raise ApiError(401, MSG_BAD_CREDS)

    def route(self, st, method, path, q, n):
        a = st.args
        v3 = a.mode in ("v3", "v3-html", "v3-preview")
        if path == "/api/public/health":
            return 200, {"status": "OK", "version": VERSION_V3 if v3 else VERSION_V4}, {}, 0, None
        if path == "/api/public/v2/observations" and a.mode == "v3-html":
            return 404, HTML_404, {"Content-Type": "text/html; charset=utf-8"}, 0, None
        kind = None
        trace_id = None
        if path == "/api/public/projects":
            kind = "projects"
        elif path == "/api/public/v2/observations":
            kind = "v2"
        elif path == "/api/public/traces":
            kind = "traces"
        elif path.startswith("/api/public/traces/") and path.count("/") == 4:
            kind = "trace"
            trace_id = path[len("/api/public/traces/"):]
        elif path == "/api/public/observations":
            kind = "observations"
        elif path == "/api/public/v3/scores":
            kind = "scores"
        if kind is None:
            if path.startswith("/api/public/"):
                self.check_auth(st)
            raise ApiError(404, {"message": "Route %s not found" % path, "error": "LangfuseNotFoundError"})
        self.check_auth(st)
        if method not in ("GET", "HEAD"):
            raise ApiError(405, {"message": "Method %s not allowed" % method, "error": "MethodNotAllowedError"})
        ds = st.load()
        if kind == "projects":
            return 200, {"data": [ds.project]}, {}, 1, None
        legacy = kind not in ("v2", "scores")
        # ---- faults (data requests only), in precedence order
        k = st.next_k()
        lim = st.limiter_legacy if (legacy and st.limiter_legacy) else st.limiter
        if lim is not None:
            r = lim.consume()
            if r is not None:
                retry, remaining, reset = r
                raise self.rate_limited(path, legacy, retry, lim.points, remaining, reset, "ratelimit")
        if every(k, a.fault_429_every):
            ra = a.retry_after
            raise self.rate_limited(path, legacy, ra, 30 if not legacy else 15, 0, time.time() + ra, "429")
        if every(k, a.fault_5xx_every):
            code = (500, 502, 503)[(k // a.fault_5xx_every - 1) % 3]
            if code == 500:
                raise ApiError(500, MSG_500, fault="5xx")
            if code == 502:
                raise ApiError(502, HTML_502, {"Content-Type": "text/html"}, fault="5xx")
            raise ApiError(503, MSG_503, fault="5xx")
        if every(k, a.fault_524_every):
            raise ApiError(524, HTML_524, {"Content-Type": "text/html; charset=UTF-8"}, fault="524")
        fault = None
        if a.fault_slow_ms and every(k, a.fault_slow_every):
            time.sleep(a.fault_slow_ms / 1000.0)
            fault = "slow"
        if every(k, a.fault_cut_every):
            fault = "cut"
        elif every(k, a.fault_invalid_json_every):
            fault = "invalid-json"
        # ---- deployment mode
        if legacy and a.mode == "v4":
            raise ApiError(404, MSG_EVENTS_ONLY)
        if legacy and a.mode == "sunset":
            raise ApiError(410, MSG_SUNSET)
        if kind == "scores" and v3:
            raise ApiError(404, {"message": "Route %s not found" % path, "error": "LangfuseNotFoundError"})
        if kind == "v2" and v3 and a.mode != "v3-preview":
            raise ApiError(404, MSG_V2_DISABLED)
        api = Api(st)
        try:
            if kind == "v2":
                body, rows = api.v2_observations(q, n, ds)
            elif kind == "scores":
                body, rows = api.scores_v3(q, ds)
            elif kind == "traces":
                body, rows = api.traces_list(q, n, ds)
            elif kind == "trace":
                body, rows = api.trace_get(q, n, ds, trace_id)
            else:
                body, rows = api.observations_list(q, n, ds)
        except ApiError as e:
            if fault == "slow" and e.fault is None:
                e.fault = "slow"
            raise
        return 200, body, {}, rows, fault

    def rate_limited(self, path, legacy, retry, limit, remaining, reset, fault):
        if legacy:
            msg = ("Rate limit exceeded for GET %s. Use GET /api/public/v2/observations?fromStartTime=<from>"
                   "&toStartTime=<to> for high-volume reads." % path)
        else:
            msg = "Rate limit exceeded"
        body = {"message": msg, "code": "rate_limited",
                "details": {"retryAfterSeconds": int(retry), "limit": limit, "remaining": max(0, remaining),
                            "resetAt": iso_ms(int(reset * 1000))}}
        headers = {"Retry-After": str(int(retry)), "X-RateLimit-Limit": str(limit),
                   "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": js_date_string(reset)}
        return ApiError(429, body, headers, fault=fault)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def build_parser():
    p = argparse.ArgumentParser(description="Langfuse-compatible test server (stdlib only).")
    p.add_argument("--dataset", required=True, help="dataset JSON file (see README.md)")
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--port-file", help="write the port number here once listening")
    p.add_argument("--public-key", default="pk-lf-test")
    p.add_argument("--secret-key", default="sk-lf-test")
    p.add_argument("--mode", choices=("cloud", "v4", "v3", "v3-html", "v3-preview", "sunset"), default="cloud")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--seed", type=int, default=0, help="seed for duplicate rows / late fraction")
    p.add_argument("--verbose", action="store_true", help="diagnostics on stderr")
    p.add_argument("--fault-429-every", type=int, default=0, metavar="N")
    p.add_argument("--retry-after", type=int, default=1, metavar="S")
    p.add_argument("--rate-limit", metavar="N/min", help="fixed-window limiter for data requests")
    p.add_argument("--rate-limit-legacy", metavar="N/min",
                   help="separate limiter for the legacy endpoints (default: share --rate-limit)")
    p.add_argument("--fault-5xx-every", type=int, default=0, metavar="N")
    p.add_argument("--fault-524-every", type=int, default=0, metavar="N")
    p.add_argument("--fault-422-window", type=float, default=None, metavar="SECONDS")
    p.add_argument("--fault-cut-every", type=int, default=0, metavar="N")
    p.add_argument("--fault-slow-ms", type=int, default=0, metavar="MS")
    p.add_argument("--fault-slow-every", type=int, default=1, metavar="N")
    p.add_argument("--fault-invalid-json-every", type=int, default=0, metavar="N")
    p.add_argument("--duplicate-rows", type=float, default=0.0, metavar="P")
    p.add_argument("--late-after", type=int, default=None, metavar="N")
    p.add_argument("--late-fraction", type=float, default=0.0, metavar="F")
    p.add_argument("--max-body-bytes", type=int, default=0, metavar="B")
    # real-server behaviours (see README.md, "Real-server switches")
    p.add_argument("--empty-strings", action="store_true", help='v2: "" for unset string fields')
    p.add_argument("--legacy-ingested", type=float, default=0.0, metavar="F",
                   help="v2: fraction of traces with a synthetic t-<traceId> root and copied metadata")
    p.add_argument("--rootless", type=float, default=0.0, metavar="F",
                   help="v2: fraction of traces whose root observation never arrives")
    p.add_argument("--stale-duplicates", type=float, default=0.0, metavar="P",
                   help="v2: fraction of rows that also come as an older copy (no end, no output)")
    p.add_argument("--v2-no-filter", action="store_true",
                   help="v2 ignores the filter parameter (a server from before it: its query schema "
                        "drops parameters it does not know)")
    p.add_argument("--v2-missing-before", metavar="ISO",
                   help="v2: rows that start before ISO are not there yet (backfill in progress)")
    p.add_argument("--legacy-ties", action="store_true",
                   help="legacy: order by timestamp only; ties in a different order per request")
    p.add_argument("--metadata-full-with-io", action="store_true",
                   help="v2: metadata not truncated when the io group is requested")
    # lateness in time (see README.md, "Server clock and lateness in time")
    p.add_argument("--clock-file", metavar="F", help="the server's now: an ISO time read from F on every request")
    p.add_argument("--late-minutes", type=float, default=0.0, metavar="M",
                   help="rows of late traces become visible up to M minutes after their start")
    p.add_argument("--late-share", type=float, default=1.0, metavar="F", help="fraction of traces that are late")
    p.add_argument("--long-roots", type=float, default=0.0, metavar="F",
                   help="fraction of traces whose root runs long and is visible only at its end")
    p.add_argument("--long-root-max", default="5h", metavar="DUR", help="longest such root (default 5h)")
    p.add_argument("--hostile", metavar="ATTACK", help="answer as a hostile server (tests/server/hostile.py)")
    p.add_argument("--hostile-bytes", type=int, default=0, metavar="B", help="body size of huge-body, gzip-bomb")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.rate_limit:
        parse_rate(args.rate_limit)
    if args.rate_limit_legacy:
        parse_rate(args.rate_limit_legacy)
    if not (0.0 <= args.late_share <= 1.0) or not (0.0 <= args.long_roots <= 1.0) or args.late_minutes < 0:
        sys.stderr.write("langfuse_server: --late-share/--long-roots must be in [0,1], --late-minutes >= 0\n")
        return 2
    try:
        parse_duration_ms(args.long_root_max)
    except ValueError as e:
        sys.stderr.write("langfuse_server: --long-root-max: %s\n" % e)
        return 2
    if not (0.0 <= args.duplicate_rows <= 1.0) or not (0.0 <= args.late_fraction <= 1.0):
        sys.stderr.write("langfuse_server: --duplicate-rows/--late-fraction must be in [0,1]\n")
        return 2
    if not all(0.0 <= x <= 1.0 for x in (args.legacy_ingested, args.rootless, args.stale_duplicates)):
        sys.stderr.write("langfuse_server: --legacy-ingested/--rootless/--stale-duplicates must be in [0,1]\n")
        return 2
    args.v2_missing_before_ms = None
    if args.v2_missing_before:
        try:
            args.v2_missing_before_ms = parse_iso_ms(args.v2_missing_before)
        except ValueError:
            sys.stderr.write("langfuse_server: --v2-missing-before: invalid datetime\n")
            return 2
    if args.hostile:
        import hostile
        try:
            hostile.check_attack(args.hostile)
        except ValueError as e:
            sys.stderr.write("langfuse_server: --hostile: %s\n" % e)
            return 2
    try:
        state = State(args)
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("langfuse_server: cannot load dataset %s: %s\n" % (args.dataset, e))
        return 2
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = state
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    if args.verbose:
        sys.stderr.write("langfuse_server: listening on 127.0.0.1:%d mode=%s\n" % (port, args.mode))
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    while not stop.is_set():
        stop.wait(0.05)
    srv.shutdown()
    srv.server_close()
    if state.log_f:
        state.log_f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
