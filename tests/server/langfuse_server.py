#!/usr/bin/env python3
"""Langfuse-compatible HTTP test server (python3 standard library only).

Serves a dataset file (see README.md) through the Langfuse public API:
  /api/public/health, /api/public/projects, /api/public/v2/observations,
  /api/public/traces, /api/public/traces/{id}, /api/public/observations
with exact wire shapes, several deployment modes (cloud, v4, v3, v3-html,
sunset, v3-preview), deterministic fault injection and opt-in real-server
behaviours.  Run with --help for options.

This file is the HTTP side (routing, auth, faults, modes, options); beside it
lf_data.py (dataset, clock, real-server view), lf_render.py (wire shapes) and
lf_api.py (endpoint logic). Importing any of them has no side effects.
"""

import argparse
import base64
import binascii
import gzip
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from lf_data import (Dataset, Timing, iso_ms, jdump, js_date_string, parse_duration_ms, parse_iso_ms,
                     real_server_view, request_now_ms, set_request_clock, timing_for_view)  # noqa: E402
from lf_api import Api, ApiError  # noqa: E402

VERSION_V4 = "4.16.0"
VERSION_V3 = "3.225.4"

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
