#!/usr/bin/env python3
"""Hostile clients against a running `lg-sync serve` (python3 stdlib, raw sockets).

Every attack prints "PASS name" or "FAIL name: why" lines (tests/lib.sh's
convention), and after every attack the server must still answer
GET /api/health, the integrations and a stored trace correctly. The
attacks that wait out the server's timeouts (slowloris, cut-off requests)
run alongside the quick ones; the connection flood runs last, alone.

Usage: api_hostile.py --port P --token-file F --integration ID --last-run RUN
                      --violation ID --trace ID --canary TEXT --console-mark TEXT
                      [--secret TEXT]... --conn-timeout S --max-conns N
                      --max-body B [--only NAME[,NAME]]
(tests/e2e/api_hostile.sh sets it all up.)
"""

import argparse
import json
import select
import socket
import sys
import threading
import time

A = None          # parsed arguments
TOKEN = ""
SECRETS = []      # strings that must never appear in a response


OUT = threading.Lock()   # attacks run in threads: one whole line at a time


def say_pass(name):
    with OUT:
        print("PASS %s" % name, flush=True)


def say_fail(name, why):
    with OUT:
        print("FAIL %s: %s" % (name, str(why)[:400].replace("\n", "\\n")), flush=True)


def check(name, ok, why=""):
    if ok:
        say_pass(name)
    else:
        say_fail(name, why)
    return ok


# ---------------------------------------------------------------- raw HTTP

def connect(timeout=5.0):
    s = socket.create_connection(("127.0.0.1", A.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Resp:
    def __init__(self):
        self.status = None      # int, or None when the server sent no status line
        self.headers = {}       # lower-case name -> last value
        self.body = b""
        self.raw = b""
        self.closed = False     # the server closed (or reset) the connection
        self.reset = False
        self.elapsed = 0.0

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return "status=%s body=%r" % (self.status, self.body[:200])


def _parse_head(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ValueError("bad status line %r" % lines[0][:100])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return int(parts[1]), hdrs, end + 4


def _dechunk(data):
    """Returns the body if the chunked data is complete, else None."""
    out, i = b"", 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return None
        size = int(data[i:j].split(b";")[0] or b"0", 16)
        if size == 0:
            return out if data.find(b"\r\n", j + 2) >= 0 else None
        if len(data) < j + 2 + size + 2:
            return None
        out += data[j + 2:j + 2 + size]
        i = j + 2 + size + 2


def read_response(s, deadline, head_only_method=False):
    """Reads one response (or what arrives before close/deadline)."""
    r = Resp()
    start = time.monotonic()
    buf = b""
    head = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            r.closed = r.reset = True
            break
        if not chunk:
            r.closed = True
            break
        buf += chunk
        if head is None:
            head = _parse_head(buf)
        if head is not None and 100 <= head[0] < 200:
            buf, head = buf[head[2]:], None     # an interim answer (100 Continue): the real one follows
            head = _parse_head(buf)
        if head is not None:
            status, hdrs, off = head
            if head_only_method or status in (204, 304):
                break
            if "content-length" in hdrs and len(buf) - off >= int(hdrs["content-length"]):
                break
            if hdrs.get("transfer-encoding", "").lower() == "chunked" and _dechunk(buf[off:]) is not None:
                break
    r.raw = buf
    r.elapsed = time.monotonic() - start
    if head is None:
        try:
            head = _parse_head(buf + b"\r\n\r\n") if buf.startswith(b"HTTP/") else None
        except ValueError:
            head = None
    if head is not None:
        r.status, r.headers, off = head
        body = buf[off:]
        if r.headers.get("transfer-encoding", "").lower() == "chunked":
            body = _dechunk(body) or body
        elif "content-length" in r.headers:
            body = body[:int(r.headers["content-length"])]
        r.body = body
    return r


def exchange(raw, timeout=5.0, method=None):
    """Sends raw bytes on a fresh connection and reads one response."""
    s = connect(timeout)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_response(s, time.monotonic() + timeout, head_only_method=(method == "HEAD"))
    finally:
        s.close()


def build(method, path, headers=None, body=None, token=None, version="HTTP/1.1"):
    h = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1:%d" % A.port, "Connection: close"]
    if token is not None:
        h.append("Authorization: Bearer %s" % token)
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        h.append("Content-Type: application/json")
        h.append("Content-Length: %d" % len(body))
    for x in headers or []:
        h.append(x)
    raw = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")
    return raw + (body or b"")


def req(method, path, token=None, body=None, headers=None, timeout=5.0):
    return exchange(build(method, path, headers, body, token), timeout, method)


def leaks(r):
    """The secrets (the token, the integration's Langfuse secret) any response carries."""
    return [x for x in SECRETS if x and x.encode() in r.raw]


# The error shape every API error has: {"success": false, "error": {"code", "message"}}.
def error_shape(r):
    j = r.json()
    if not isinstance(j, dict) or j.get("success") is not False:
        return "not {success:false}: %r" % r.body[:200]
    e = j.get("error")
    if not isinstance(e, dict) or not isinstance(e.get("code"), str) or not isinstance(e.get("message"), str) \
            or not e["code"] or not e["message"]:
        return "no error.code/message strings: %r" % r.body[:200]
    if "application/json" not in r.headers.get("content-type", ""):
        return "content-type %r" % r.headers.get("content-type")
    return None


def expect_error(name, r, statuses, allow_close=False):
    """r is an API error with one of statuses and the error shape, leaking nothing."""
    if isinstance(statuses, int):
        statuses = (statuses,)
    if r.status is None:
        return check(name, allow_close and r.closed, "no response (%r)" % r)
    if r.status not in statuses:
        return check(name, False, "status %s, want %s: %r" % (r.status, statuses, r.body[:200]))
    bad = error_shape(r)
    if bad:
        return check(name, False, "%d: %s" % (r.status, bad))
    lk = leaks(r)
    return check(name, not lk, "response carries a secret")


# --------------------------------------------------------------- liveness

def alive(after):
    """After an attack: health answers and a real authenticated request works."""
    name = "alive-after-%s" % after
    try:
        h = req("GET", "/api/health", timeout=5)
        j = h.json()
        if h.status != 200 or not isinstance(j, dict):
            return check(name, False, "health: %r" % h)
        r = req("GET", "/api/integrations", token=TOKEN, timeout=10)
        j = r.json()
        if r.status != 200 or not isinstance(j, dict) or j.get("success") is not True:
            return check(name, False, "integrations: %r" % r)
        ids = [x.get("id") for x in j.get("data") or [] if isinstance(x, dict)]
        if A.integration not in ids:
            return check(name, False, "integration %s missing from %r" % (A.integration, ids))
        if leaks(r):
            return check(name, False, "GET /api/integrations carries a secret")
        r = req("GET", "/api/traces/%s" % A.trace, token=TOKEN, timeout=10)
        j = r.json()
        if r.status != 200 or not isinstance(j, dict) or (j.get("data") or {}).get("externalId") != A.trace:
            return check(name, False, "GET /api/traces/%s: %r" % (A.trace, r))
        return check(name, True)
    except OSError as e:
        return check(name, False, "%s: %s" % (type(e).__name__, e))


def legit_loop(stop, results, path="/api/health", token=None, period=0.1):
    """A well-behaved client during an attack: (ok, seconds) per request."""
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            r = req("GET", path, token=token, timeout=4)
            results.append((r.status == 200, time.monotonic() - t0))
        except OSError:
            results.append((False, time.monotonic() - t0))
        stop.wait(period)


def violation_status():
    """The status of the test's violation, read through the API."""
    r = req("GET", "/api/policies/violations/by-trace/%s" % A.trace, token=TOKEN, timeout=10)
    j = r.json()
    if isinstance(j, dict):
        for v in j.get("violations") or []:
            if isinstance(v, dict) and v.get("id") == A.violation:
                return v.get("status")
    return "unreadable: %r" % r


def served_meanwhile(name, results, slow=2.0):
    bad = [x for x in results if not x[0]]
    worst = max((x[1] for x in results), default=0.0)
    return check(name, len(results) >= 3 and not bad and worst < slow,
                 "%d requests, %d failed, slowest %.2fs" % (len(results), len(bad), worst))


def wait_closed(s, limit):
    """Seconds until the server closes s (EOF or reset), or None after limit.
    Anything the server sends first (a 408, say) is read and ignored."""
    t0 = time.monotonic()
    while True:
        left = limit - (time.monotonic() - t0)
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return None
        try:
            if not s.recv(65536):
                return time.monotonic() - t0
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0


# ---------------------------------------------------------------- attacks

def attack_slowloris():
    """Partial headers, then silence: closed by the connection timeout while
    other clients are served; and headers dribbled a byte at a time, each
    byte inside the idle timeout: closed too, the request never answered."""
    tmo = A.conn_timeout
    stop, res = threading.Event(), []
    th = threading.Thread(target=legit_loop, args=(stop, res))
    th.start()
    idle = []
    for _ in range(5):
        s = connect()
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        idle.append(s)
    drib = connect()
    drib_stop = threading.Event()
    head = b"GET /api/integrations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN.encode() + \
        b"\r\nX-Pad: " + b"x" * 100000
    drib_sent = [0, None]   # bytes sent, seconds until the server closed

    def dribble():
        t0 = time.monotonic()
        gap = max(0.2, tmo / 4.0)
        for i in range(len(head)):
            if drib_stop.is_set():
                return
            try:
                drib.send(head[i:i + 1])
                drib_sent[0] += 1
            except OSError:
                drib_sent[1] = time.monotonic() - t0
                return
            r, _, _ = select.select([drib], [], [], gap)
            if r:
                try:
                    data = drib.recv(65536)
                except OSError:
                    data = b""
                if not data or data.startswith(b"HTTP/"):
                    drib_sent[1] = time.monotonic() - t0
                    if data.startswith(b"HTTP/1.1 200"):
                        drib_sent.append("answered 200")
                    return
    dt = threading.Thread(target=dribble)
    t_start = time.monotonic()
    dt.start()
    closed = [wait_closed(s, tmo + 3) for s in idle]
    check("slowloris-idle-closed", all(c is not None for c in closed),
          "idle partial requests still open after %.1fs (timeout %ss): %r" % (tmo + 3, tmo, closed))
    # A total deadline for a request's head: the idle timer alone never fires
    # on a client that sends a byte before it expires.
    dt.join(max(0.0, tmo + 5 - (time.monotonic() - t_start)))
    drib_stop.set()
    dt.join()
    check("slowloris-dribble-closed", drib_sent[1] is not None and len(drib_sent) == 2,
          "a request head dribbled a byte every %.2fs still open after %.1fs (%d bytes sent): no deadline for "
          "the whole request head" % (max(0.2, tmo / 4.0), tmo + 5, drib_sent[0]) if drib_sent[1] is None else
          "dribbled request answered: %r" % drib_sent[2:])
    stop.set()
    th.join()
    served_meanwhile("slowloris-others-served", res)
    for s in idle + [drib]:
        s.close()
    alive("slowloris")


def attack_body():
    """Bodies over the limit: 413 before the body is read, by Content-Length
    and by chunks; the server never waits for the rest."""
    path = "/api/policies/violations/%s" % A.violation
    big = A.max_body * 64 + 1
    s = connect()
    head = build("PATCH", path, token=TOKEN,
                 headers=["Content-Type: application/json", "Content-Length: %d" % big])
    s.sendall(head + b'{"status":"acknowledged","notes":"' + b"x" * 1000)
    r = read_response(s, time.monotonic() + 5)
    s.close()
    expect_error("body-content-length-413", r, 413)
    check("body-content-length-not-read", r.status is not None and r.elapsed < 3,
          "no answer before the body was sent (%.1fs)" % r.elapsed)

    # just over the limit, all of it sent
    body = b'{"status":"acknowledged","notes":"' + b"y" * (A.max_body + 1) + b'"}'
    r = req("PATCH", path, token=TOKEN, body=body, timeout=10)
    expect_error("body-just-over-413", r, 413, allow_close=False)

    # chunked, never ending: 413 (or a close) once past the limit
    s = connect()
    s.sendall(build("PATCH", path, token=TOKEN, headers=["Content-Type: application/json",
                                                         "Transfer-Encoding: chunked"]))
    # (the kernel's buffers on loopback take a few MB the server never
    # reads; a server that reads the whole body takes all 64 MB)
    cap = 64 << 20
    sent, t0, got = 0, time.monotonic(), None
    chunk = b"%x\r\n%s\r\n" % (16384, b"z" * 16384)
    try:
        while sent < cap and time.monotonic() - t0 < 8:
            s.sendall(chunk)
            sent += 16384
            rd, _, _ = select.select([s], [], [], 0)
            if rd:
                break
    except OSError:
        pass
    got = read_response(s, time.monotonic() + 5)
    s.close()
    # (libmicrohttpd takes no answer before a body's end: a 413, or the
    # connection closed at once, not after the idle timeout)
    check("body-chunked-stopped", (got.status == 413 and not error_shape(got)) or
          (got.status is None and got.closed and time.monotonic() - t0 < A.conn_timeout),
          "endless chunked body: %r after %d bytes, %.1fs" % (got, sent, time.monotonic() - t0))
    check("body-chunked-bounded", sent < cap // 2,
          "the client could send %d bytes of a body limited to %d" % (sent, A.max_body))
    # just over the limit in chunks, then the end: 413 too
    body = b'{"notes":"' + b"c" * A.max_body + b'"}'
    raw = build("PATCH", path, token=TOKEN, headers=["Content-Type: application/json", "Transfer-Encoding: chunked"])
    raw += b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4000]), body[i:i + 4000]) for i in range(0, len(body), 4000))
    expect_error("body-chunked-just-over-413", exchange(raw + b"0\r\n\r\n", timeout=10), 413, allow_close=True)

    # Expect: 100-continue with a too large length: no 100, a 413
    s = connect()
    s.sendall(build("PATCH", path, token=TOKEN, headers=["Content-Type: application/json",
                                                         "Content-Length: %d" % big, "Expect: 100-continue"]))
    r = read_response(s, time.monotonic() + 5)
    s.close()
    expect_error("body-expect-continue-413", r, 413)

    st = violation_status()
    check("body-nothing-applied", st == "new", "violation %s status %r after refused bodies" % (A.violation, st))
    alive("body")


def attack_headers():
    """One huge header, a flood of headers, a huge request line: refused
    with a 4xx (or closed), the memory bounded, nothing answered 200."""
    cases = [
        ("header-one-huge", build("GET", "/api/health", headers=["X-Big: " + "h" * 200000])),
        ("header-flood", build("GET", "/api/health", headers=["X-H%d: %s" % (i, "v" * 40) for i in range(5000)])),
        ("header-huge-url", build("GET", "/api/traces/" + "u" * 200000, token=TOKEN)),
        ("header-huge-query", build("GET", "/api/traces?agent=" + "q" * 200000, token=TOKEN)),
    ]
    for name, raw in cases:
        try:
            r = exchange(raw, timeout=8)
        except OSError as e:
            say_fail(name, "%s" % e)
            continue
        ok = (r.status is not None and 400 <= r.status < 500) or (r.status is None and r.closed)
        check(name, ok and r.status != 200, "%r" % r)
    # a flood that never ends: the server must stop reading and close
    s = connect()
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
    sent, t0 = 0, time.monotonic()
    line = b"X-Flood: " + b"f" * 1000 + b"\r\n"
    try:
        while time.monotonic() - t0 < 8 and sent < 64 << 20:
            s.sendall(line)
            sent += len(line)
    except OSError:
        pass
    r = read_response(s, time.monotonic() + 3)
    s.close()
    check("header-endless-cut", sent < 64 << 20 and (r.status is None or 400 <= r.status < 500),
          "server accepted %d header bytes (%r)" % (sent, r))
    alive("headers")


def attack_json():
    """Bad bodies: 400 with the error shape, nothing changed, no run started."""
    vpath = "/api/policies/violations/%s" % A.violation
    spath = "/api/integrations/%s/sync" % A.integration
    bad = [
        ("json-truncated", "PATCH", vpath, b'{"status": "acknowledged"'),
        ("json-not-object", "PATCH", vpath, b'["acknowledged"]'),
        ("json-null", "PATCH", vpath, b"null"),
        ("json-empty", "PATCH", vpath, b""),
        ("json-status-type", "PATCH", vpath, b'{"status": 5}'),
        ("json-status-unknown", "PATCH", vpath, b'{"status": "deleted"}'),
        ("json-notes-type", "PATCH", vpath, b'{"status": "acknowledged", "notes": {"a": 1}}'),
        ("json-invalid-utf8", "PATCH", vpath, b'{"status": "acknowledged", "notes": "\xff\xfe"}'),
        ("json-nul", "PATCH", vpath, b'{"status": "acknowledged", "notes": "a\x00b"}'),
        ("json-deep", "PATCH", vpath, b"[" * 8000 + b"]" * 8000),  # 16,000 bytes: under the body bound
        ("json-trailing", "PATCH", vpath, b'{"status": "acknowledged"} {"status": "resolved"}'),
        ("json-toggle-type", "POST", "/api/policies/pii/toggle", b'{"enabled": "yes"}'),
        ("json-toggle-missing", "POST", "/api/policies/pii/toggle", b'{}'),
        ("json-sync-mode", "POST", spath, b'{"mode": "sideways"}'),
        ("json-sync-limit", "POST", spath, b'{"mode": "incremental", "limit": -1}'),
        ("json-sync-limit-huge", "POST", spath, b'{"limit": 1e400}'),
        ("json-sync-garbage", "POST", spath, b'\x00\x01\x02garbage'),
        ("json-notes-long", "PATCH", vpath, b'{"status": "acknowledged", "notes": "' + b"n" * 5000 + b'"}'),
    ]
    for name, method, path, body in bad:
        r = req(method, path, token=TOKEN, body=body, timeout=10)
        expect_error(name, r, 400)
    # nothing was applied: the violation is still new, no run was started
    r = req("GET", "/api/integrations/%s/sync/status" % A.integration, token=TOKEN, timeout=10)
    j = r.json() or {}
    d = j.get("data") or {}
    last = (d.get("lastSync") or {}).get("id")
    check("json-violation-unchanged", violation_status() == "new",
          "violation %s is %r after refused bodies" % (A.violation, violation_status()))
    check("json-no-run-started", r.status == 200 and d.get("isActive") is False and last == A.last_run,
          "status after bad sync bodies: %r (want lastSync.id %s)" % (r, A.last_run))
    alive("json")


def attack_traversal():
    """Path traversal in ids and static paths: 400/404 and never a byte of
    a file outside the console directory."""
    canary = A.canary.encode()
    paths = [
        "/console/../canary.txt", "/console/../../canary.txt", "/../canary.txt", "/console/%2e%2e/canary.txt",
        "/console/%2e%2e%2fcanary.txt", "/console/..%2fcanary.txt", "/console/%2E%2E/%2E%2E/canary.txt",
        "/console/....//canary.txt", "/console/..\\canary.txt", "/console/%5c..%5ccanary.txt",
        "/console/index.html%00.png", "/console/%00", "/console/..%00/canary.txt",
        "/console/%c0%ae%c0%ae/canary.txt", "/console//../canary.txt", "/console/./../canary.txt",
        "/console/" + "../" * 40 + "etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/vendor/../canary.txt",
        "/vendor/..%2f..%2fcanary.txt", "/vendor/chart.js/../../canary.txt",
        "/console/" + "a" * 5000, "/console/" + "%2e" * 3000,
        # an encoded slash inside one segment: "sub/../../canary.txt" is one
        # name that does not start with a dot
        "/console/sub%2f..%2f..%2fcanary.txt", "/console/sub%2F..%2F..%2F..%2Fcanary.txt",
        "/console/sub/x.txt%2f..%2f..%2f..%2fcanary.txt", "/console/a%2f%2e%2e%2f%2e%2e%2fcanary.txt",
        "/console/sub%5c..%5c..%5ccanary.txt",
    ]
    for i, p in enumerate(paths):
        r = req("GET", p, timeout=5)
        name = "traversal-static-%02d" % i
        if canary in r.raw:
            say_fail(name, "%s served the canary outside the console dir" % p)
        elif r.status not in (400, 403, 404):
            say_fail(name, "%s: %r" % (p, r))
        elif b"root:" in r.raw:
            say_fail(name, "%s served /etc/passwd" % p)
        else:
            say_pass(name)
    ids = [
        "..", "%2e%2e", "..%2f..%2fcanary.txt", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "a%00b", "%00",
        "a%2fb", "x" * 5000, "%ff%fe", "a%0d%0aX-Injected:%20yes", "%25", "a%20b",
    ]
    for i, x in enumerate(ids):
        for j, tmpl in enumerate(("/api/traces/%s", "/api/integrations/%s/sync/status",
                                  "/api/policies/violations/by-trace/%s", "/api/integrations/%s/runs")):
            r = req("GET", tmpl % x, token=TOKEN, timeout=10)
            name = "traversal-id-%02d-%d" % (i, j)
            if canary in r.raw or b"root:" in r.raw:
                say_fail(name, "%s leaked a file" % (tmpl % x)[:100])
            elif "x-injected" in r.headers:
                say_fail(name, "%s: header injection" % (tmpl % x)[:100])
            else:
                expect_error(name, r, (400, 404))
    # the same ids in the write endpoints: refused, nothing started
    for i, x in enumerate(("..", "%2e%2e%2f", "a%00b", "x" * 5000)):
        r = req("POST", "/api/integrations/%s/sync" % x, token=TOKEN, body=b'{"mode":"incremental"}', timeout=10)
        expect_error("traversal-sync-id-%d" % i, r, (400, 404))
        r = req("PATCH", "/api/policies/violations/%s" % x, token=TOKEN, body=b'{"status":"resolved"}', timeout=10)
        expect_error("traversal-violation-id-%d" % i, r, (400, 404))
    # inside the console dir: a symbolic link to the canary, a dot file
    for name, p in (("traversal-symlink", "/console/link.txt"), ("traversal-dotfile", "/console/.hidden.txt"),
                    ("traversal-dir", "/console/sub"), ("traversal-unknown-type", "/console/notes.conf")):
        r = req("GET", p, timeout=5)
        check(name, r.status == 404 and canary not in r.raw, "%s: %r" % (p, r))
    # the console itself is served (the checks above are not vacuous)
    r = req("GET", "/console/index.html", timeout=5)
    check("static-served", r.status == 200 and A.console_mark.encode() in r.body, "%r" % r)
    csp = r.headers.get("content-security-policy", "")
    check("static-csp", "default-src" in csp and "'unsafe-inline'" not in csp.split("script-src")[-1].split(";")[0],
          "Content-Security-Policy %r" % csp)
    alive("traversal")


def attack_methods():
    """Wrong methods: 405 with Allow and the error shape."""
    cases = [
        ("DELETE", "/api/health", "GET"), ("POST", "/api/health", "GET"),
        ("PUT", "/api/traces", "GET"), ("DELETE", "/api/traces", "GET"),
        ("POST", "/api/traces/%s" % A.trace, "GET"), ("GET", "/api/integrations/%s/sync" % A.integration, "POST"),
        ("PUT", "/api/integrations/%s/sync/status" % A.integration, "GET"),
        ("DELETE", "/api/policies/violations/%s" % A.violation, "PATCH"),
        ("GET", "/api/policies/pii/toggle", "POST"), ("PATCH", "/api/stats", "GET"),
        ("POST", "/api/integrations/%s/runs" % A.integration, "GET"),
        ("POST", "/api/integrations", "GET"), ("BREW", "/api/health", "GET"),
    ]
    for i, (m, p, allow) in enumerate(cases):
        body = b"{}" if m in ("POST", "PUT", "PATCH") else None
        r = req(m, p, token=TOKEN, body=body, timeout=10)
        name = "method-%02d-%s" % (i, m.lower())
        if expect_error(name, r, 405):
            al = [x.strip() for x in r.headers.get("allow", "").split(",")]
            check(name + "-allow", allow in al and m not in al, "%s %s: Allow %r" % (m, p, r.headers.get("allow")))
    # TRACE never echoes the request (and its token) back
    r = req("TRACE", "/api/health", token=TOKEN, timeout=5)
    check("method-trace-no-echo", r.status in (400, 405, 501) and not leaks(r), "%r" % r)
    alive("methods")


def attack_auth():
    """Missing, wrong and ragged Authorization: 401, one body for all."""
    t = TOKEN
    variants = [
        ("auth-missing", []), ("auth-empty", ["Authorization:"]), ("auth-bearer-only", ["Authorization: Bearer"]),
        ("auth-bearer-space", ["Authorization: Bearer "]), ("auth-wrong", ["Authorization: Bearer nope"]),
        ("auth-prefix", ["Authorization: Bearer " + t[:-1]]), ("auth-longer", ["Authorization: Bearer " + t + "x"]),
        ("auth-first-char", ["Authorization: Bearer " + ("A" if t[0] != "A" else "B") + t[1:]]),
        ("auth-basic", ["Authorization: Basic " + t]), ("auth-no-scheme", ["Authorization: " + t]),
        ("auth-huge", ["Authorization: Bearer " + "t" * 6000]), ("auth-nul", ["Authorization: Bearer " + t[:4] + "\x00" + t[4:]]),
        ("auth-token-param", []),
    ]
    bodies = {}
    for name, hdrs in variants:
        path = "/api/integrations"
        if name == "auth-token-param":
            path += "?token=" + t + "&access_token=" + t
        raw = build("GET", path, headers=hdrs)
        r = exchange(raw, timeout=5)
        if name == "auth-nul" and r.status == 400:
            # libmicrohttpd refuses a NUL in a header itself (its own body)
            check(name, not leaks(r), "the 400 carries the token")
            continue
        if expect_error(name, r, 401):
            bodies.setdefault(r.body, []).append(name)
            www = r.headers.get("www-authenticate", "")
            if not www.lower().startswith("bearer"):
                say_fail(name + "-www-authenticate", "WWW-Authenticate %r" % www)
    check("auth-one-body", len(bodies) == 1, "different 401 bodies: %r" % list(bodies.keys())[:4])
    # every protected endpoint refuses without the token; health needs none
    for i, (m, p) in enumerate([("GET", "/api/traces"), ("GET", "/api/traces/%s" % A.trace), ("GET", "/api/stats?by=agent"),
                                ("GET", "/api/integrations/%s/sync/status" % A.integration),
                                ("GET", "/api/integrations/%s/runs" % A.integration),
                                ("POST", "/api/integrations/%s/sync" % A.integration),
                                ("GET", "/api/policies/violations"),
                                ("GET", "/api/policies/violations/by-trace/%s" % A.trace),
                                ("PATCH", "/api/policies/violations/%s" % A.violation),
                                ("POST", "/api/policies/pii/toggle"), ("GET", "/api/nope")]):
        body = b'{"status":"resolved","enabled":false,"mode":"incremental"}' if m != "GET" else None
        r = req(m, p, token="wrong-" + t[:6], body=body, timeout=5)
        expect_error("auth-required-%02d" % i, r, 401)
    # a correct token in a lower-case scheme or with extra spaces is either
    # accepted or refused, never a crash; the exact token is accepted.
    r = req("GET", "/api/integrations", token=t, timeout=5)
    check("auth-right-token", r.status == 200, "%r" % r)
    r = exchange(build("GET", "/api/integrations", headers=["Authorization: Bearer " + t,
                                                           "Authorization: Bearer wrong"]), timeout=5)
    check("auth-two-headers", r.status in (200, 400, 401) and not leaks(r), "%r" % r)
    alive("auth")


def attack_connections():
    """More connections than the server's limit, each with a whole request:
    answered, refused with 429 (the error shape, Retry-After) or closed,
    none left hanging; then idle ones over the limit; once they go, the
    server serves again at once."""
    n = A.max_conns + A.max_conns // 2
    socks, refused = [], 0
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", A.port), timeout=2))
        except OSError:
            refused += 1
    for s in socks:
        try:
            s.sendall(build("GET", "/api/integrations", token=TOKEN))
        except OSError:
            pass
    answered = limited = closed = other = 0
    deadline = time.monotonic() + A.conn_timeout + 6
    pending = list(socks)
    bufs = {s: b"" for s in socks}
    bad429 = None
    while pending and time.monotonic() < deadline:
        rd, _, _ = select.select(pending, [], [], 0.5)
        for s in rd:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if d:
                bufs[s] += d
                continue
            pending.remove(s)
            head = bufs[s][:12]
            if head in (b"HTTP/1.1 200", b"HTTP/1.0 200"):
                answered += 1
            elif head in (b"HTTP/1.1 429", b"HTTP/1.0 429"):
                limited += 1
                if bad429 is None:
                    s_ = Resp()
                    try:
                        s_.status, s_.headers, off = _parse_head(bufs[s])
                        s_.body, s_.raw = bufs[s][off:], bufs[s]
                        why = error_shape(s_) or (None if s_.headers.get("retry-after") else "no Retry-After")
                    except (ValueError, TypeError):
                        why = "unparsable 429"
                    bad429 = why or ""
            elif not bufs[s]:
                closed += 1
            else:
                other += 1
    hung = len(pending)
    for s in socks:
        s.close()
    summary = "%d connections: %d answered 200, %d 429, %d closed, %d other, %d hung, %d refused at connect" % (
        n, answered, limited, closed, other, hung, refused)
    check("conns-none-hung", hung == 0 and other == 0, summary)
    # (how many get 200 rather than 429 depends on how fast the first
    # ones close: all connect before any sends; some must be served)
    check("conns-some-served", answered >= 10, summary)
    check("conns-429-shape", not bad429, "429 answer: %s" % bad429)
    print("# " + summary, file=sys.stderr)
    # idle connections past the answered limit: a request is refused with
    # 429 (the error shape, Retry-After); past the accepted limit too: no
    # wrong answer (closed, or queued until a slot frees); served again as
    # soon as they go
    idle = []

    def open_idle(k):
        for _ in range(k):
            try:
                idle.append(socket.create_connection(("127.0.0.1", A.port), timeout=2))
            except OSError:
                return
    open_idle(A.max_conns + 30)
    time.sleep(0.5)
    r = req("GET", "/api/health", timeout=3)
    why = error_shape(r) if r.status == 429 else "status %s" % r.status
    if r.status == 429 and not r.headers.get("retry-after"):
        why = "no Retry-After"
    check("conns-429-when-full", r.status == 429 and not why,
          "a request with %d idle connections open: %r %s" % (len(idle), r, why or ""))
    open_idle(A.max_conns // 2)
    time.sleep(0.5)
    # (no answer within 3 s is a request queued until a slot frees)
    r = req("GET", "/api/health", timeout=3)
    why = error_shape(r) if r.status == 429 else None
    check("conns-over-accepted-limit", (r.status == 429 and not why) or r.status is None,
          "a request while %d idle connections are open: %r %s" % (len(idle), r, why or ""))
    print("# a request with %d idle connections open: %s after %.1fs" % (
        len(idle), r.status or ("closed" if r.closed else "no answer"), r.elapsed), file=sys.stderr)
    for s in idle:
        s.close()
    t0 = time.monotonic()
    ok = False
    while time.monotonic() - t0 < 3 and not ok:
        try:
            ok = req("GET", "/api/health", timeout=2).status == 200
        except OSError:
            time.sleep(0.1)
    check("conns-served-after", ok, "no health answer 3s after the idle connections closed")
    alive("connections")


def attack_cutoff():
    """Requests cut off half way, resets and a client that leaves before the
    answer: nothing applied, nothing hangs, the server stays up."""
    vpath = "/api/policies/violations/%s" % A.violation
    s = connect()
    s.sendall(b"GET /api/heal")
    s.close()
    s = connect()
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()          # RST
    # a reader that vanishes in the middle of a large answer
    for _ in range(20):
        s = connect()
        s.sendall(build("GET", "/api/traces?limit=1000", token=TOKEN))
        s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    # pipelined requests on one connection: both answered in order or the
    # second ignored; never a crash
    s = connect()
    one = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(one + one.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n"))
    r = read_response(s, time.monotonic() + 5)
    s.close()
    check("cutoff-pipelined", r.status == 200, "%r" % r)
    # HTTP/0.9-style and garbage request lines (at once: some wait for the
    # idle timeout): an error or a close, never a hang
    garbage = (b"GET /api/health\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
               b"GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n", b"\r\n\r\n\r\n\r\n", b"GET  HTTP/1.1\r\n\r\n",
               b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
               b"POST /api/policies/pii/toggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               # a body shorter than its Content-Length, then the client's half-close
               build("PATCH", vpath, token=TOKEN, headers=["Content-Type: application/json",
                                                           "Content-Length: 85"]) + b'{"status":"resolved","notes":"cut"}')
    got = [None] * len(garbage)

    def one(i):
        try:
            s = connect()
            s.sendall(garbage[i])
            s.shutdown(socket.SHUT_WR)
            got[i] = read_response(s, time.monotonic() + A.conn_timeout + 4)
            s.close()
        except OSError as e:
            got[i] = e
    ths = [threading.Thread(target=one, args=(i,)) for i in range(len(garbage))]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for i, r in enumerate(got):
        check("cutoff-garbage-%d" % i, isinstance(r, Resp) and
              ((r.status is not None and (r.status >= 400 or (i == 0 and r.status == 200))) or
               (r.status is None and r.closed)), "%r: %r" % (garbage[i][:60], r))
    st = violation_status()
    check("cutoff-nothing-applied", st == "new", "violation %s is %r after a cut-off PATCH" % (A.violation, st))
    alive("cutoff")


ATTACKS = [("slowloris", attack_slowloris), ("body", attack_body), ("headers", attack_headers),
           ("json", attack_json), ("traversal", attack_traversal), ("methods", attack_methods),
           ("auth", attack_auth), ("connections", attack_connections), ("cutoff", attack_cutoff)]


def main():
    global A, TOKEN, SECRETS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--integration", required=True, help="an integration id in the config")
    p.add_argument("--last-run", required=True, help="its last run id (no run may start)")
    p.add_argument("--violation", required=True, help="a violation id in status new")
    p.add_argument("--trace", required=True, help="that violation's trace externalId")
    p.add_argument("--canary", required=True, help="the text of canary.txt beside the console dir")
    p.add_argument("--console-mark", required=True, help="text in the console's index.html")
    p.add_argument("--secret", action="append", default=[], help="text no response may carry")
    p.add_argument("--conn-timeout", type=float, required=True, help="the server's per-connection timeout (s)")
    p.add_argument("--max-conns", type=int, required=True, help="the server's connection limit")
    p.add_argument("--max-body", type=int, required=True, help="the server's body limit (bytes)")
    p.add_argument("--only", help="comma-separated attack names")
    A = p.parse_args()
    with open(A.token_file) as f:
        TOKEN = f.read().strip()
    SECRETS = [TOKEN] + A.secret
    only = set(A.only.split(",")) if A.only else None

    def run(name, fn):
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # an attack that broke the client is a failure, not a crash
            say_fail(name, "client error %s: %s" % (type(e).__name__, e))
            alive(name)
        print("# %s %.1fs" % (name, time.monotonic() - t0), file=sys.stderr, flush=True)
    # The attacks that wait for the server's timeout run in the background
    # while the quick ones go on (slowloris's well-behaved client is then
    # served during those too); the connection flood comes last, alone.
    bg = []
    for name, fn in ATTACKS:
        if only and name not in only:
            continue
        if name in ("slowloris", "cutoff"):
            bg.append(threading.Thread(target=run, args=(name, fn)))
            bg[-1].start()
        elif name != "connections":
            run(name, fn)
    for t in bg:
        t.join()
    if not only or "connections" in only:
        run("connections", attack_connections)


if __name__ == "__main__":
    main()
