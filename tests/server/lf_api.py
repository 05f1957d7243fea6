"""The test server's endpoint logic: query parsing and validation as the real server
does it (zod-style 400s), and the answers of v2 observations, v3 scores, legacy
traces and observations. No HTTP here: langfuse_server.py routes to it."""

import base64
import binascii
import bisect
import json
import math
import re

from lf_data import (frac_hash, iso_ms, jdump, parse_iso_ms, public_obs, real_v2_row, request_now_ms,
                     shuffle_ties, trace_hash, v2_hidden, visible)
from lf_render import TRACE_GROUPS, render_v2, score_v3, trace_full_details, trace_with_details

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

MSG_422_TIMEOUT = {
    "message": "Your query could not be completed. Please narrow your request by adding more specific "
               "filters (e.g., a shorter date range).\nThis legacy endpoint can be slow. Please migrate to "
               "the high-performance Observations API v2 at /api/public/v2/observations.\nThis applies to "
               "Langfuse Cloud only until v4 is released in OSS.\nDocs: "
               "https://langfuse.com/docs/api-and-data-platform/features/observations-api",
    "error": "Request timed out"}

V2_GROUPS = ("core", "basic", "time", "io", "metadata", "model", "usage", "prompt", "metrics", "trace_context")

OBS_TYPES = ("SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR",
             "EMBEDDING", "GUARDRAIL")
LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")



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
