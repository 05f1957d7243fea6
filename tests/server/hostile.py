"""A hostile Langfuse for the trust-boundary tests (python3 stdlib only).

langfuse_server.py --hostile ATTACK hands every authenticated data request
(v2 observations, legacy traces and observations) to respond() below, which
answers as a malicious or broken server would.  The projects endpoint and
authentication stay those of the normal server, so lg-fetch gets as far as
paging.  Attacks:

  forged-control    legacy /traces pages carry, next to the real traces, an
                    object with "$lg":"checkpoint" for another integration
                    and a cursor in 2099, and a forged run-start (use with
                    --mode v3)
  legacy-repeat     legacy /traces: the first page answered, then that same
                    full page for every later request (use with --mode v3
                    and a page size below the dataset's traces)
  endless-cursor    v2: every page empty, every page a fresh cursor
  cycle-cursor      v2: every page empty, cursors A, B, A, B ...
  huge-body         v2: a 200 response of --hostile-bytes bytes (default
                    64 MiB), streamed, never held whole
  gzip-bomb         v2: a gzip body a few hundred KB long that inflates to
                    --hostile-bytes bytes (default 1 GiB)
  retry-after-0     every data request 429 with Retry-After: 0
  retry-after-past  every data request 429 with a Retry-After date in 1999
  slow-drip         v2: a 1 MB body sent 40 bytes a second
  echo-auth         every data request 500 with an error message holding
                    the Authorization header, ANSI escapes and 10 KB of text
"""

import base64
import gzip
import io
import json
import time
import zlib

ATTACKS = ("forged-control", "legacy-repeat", "endless-cursor", "cycle-cursor", "huge-body", "gzip-bomb",
           "retry-after-0", "retry-after-past", "slow-drip", "echo-auth")

DATA_PATHS = ("/api/public/v2/observations", "/api/public/traces", "/api/public/observations")

_bombs = {}
_first_page = {}


def _send(h, status, body, headers=()):
    h.send_response(status)
    h.send_header("Content-Type", "application/json; charset=utf-8")
    h.send_header("Content-Length", str(len(body)))
    for k, v in headers:
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()


def _bomb(size):
    """gzip of '{"data":[' + size spaces, compressed once per size."""
    if size not in _bombs:
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
            g.write(b'{"data":[')
            chunk = b" " * (1 << 20)
            left = size
            while left > 0:
                g.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
        _bombs[size] = out.getvalue()
    return _bombs[size]


def forged_lines():
    """The objects forged-control slips into a /traces page."""
    return [
        {"$lg": "checkpoint", "run": "forged", "integration": "victim",
         "cursor": "2099-01-01T00:00:00.000Z", "id": "forged-checkpoint",
         "timestamp": "2026-11-26T23:00:00.000Z"},
        {"id": "forged-run-start", "$lg": "run-start", "run": "forged", "integration": "victim",
         "host": "https://attacker.example", "timestamp": "2026-11-26T23:00:01.000Z"},
    ]


def respond(h, st, path, q, route):
    """Answers one authenticated request, or returns False to let the
    normal server answer it.  route() is the normal server's answer as
    (status, body, headers, rows, fault)."""
    attack = st.args.hostile
    if path not in DATA_PATHS:
        return False
    size = st.args.hostile_bytes
    n = st.next_k()
    if attack == "forged-control":
        if path != "/api/public/traces":
            return False
        status, body, headers, rows, fault = route()
        if status == 200 and isinstance(body, dict) and q.get("page", ["1"])[0] == "1":
            body["data"] = forged_lines() + list(body.get("data") or [])
        _send(h, status, json.dumps(body).encode(), headers.items())
        return True
    if attack == "legacy-repeat":
        if path != "/api/public/traces":
            return False
        if "body" not in _first_page:
            status, body, headers, rows, fault = route()
            if status != 200:
                return False
            _first_page["body"] = json.dumps(body).encode()
        _send(h, 200, _first_page["body"])
        return True
    if attack in ("endless-cursor", "cycle-cursor"):
        cur = "c%d" % n if attack == "endless-cursor" else ("A" if n % 2 else "B")
        _send(h, 200, json.dumps({"data": [], "meta": {"cursor": cur}}).encode())
        return True
    if attack == "huge-body":
        size = size or 64 << 20
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        head = b'{"data":[],"pad":"'
        h.wfile.write(head)
        chunk = b"x" * 65536
        left = size - len(head)
        try:
            while left > 0:
                h.wfile.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True
        return True
    if attack == "gzip-bomb":
        body = _bomb(size or 1 << 30)
        _send(h, 200, body, [("Content-Encoding", "gzip")])
        return True
    if attack in ("retry-after-0", "retry-after-past"):
        ra = "0" if attack == "retry-after-0" else "Fri, 31 Dec 1999 23:59:59 GMT"
        _send(h, 429, b'{"message":"Rate limit exceeded"}', [("Retry-After", ra)])
        return True
    if attack == "slow-drip":
        size = 1 << 20
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        try:
            sent = 0
            while sent < size:
                h.wfile.write(b" " * 40)
                h.wfile.flush()
                sent += 40
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True
        return True
    if attack == "echo-auth":
        auth = h.headers.get("Authorization") or ""
        try:
            plain = base64.b64decode(auth.split()[-1]).decode("utf-8", "replace")
        except (ValueError, IndexError):
            plain = ""
        msg = "\x1b[31mdenied\x1b[0m for %s\r\nkeys %s, secret %s " % (
            auth, plain, plain.partition(":")[2]) + "y" * 10000
        _send(h, 500, json.dumps({"message": msg}).encode())
        return True
    return False


def check_attack(name):
    if name not in ATTACKS:
        raise ValueError("unknown attack %r (one of %s)" % (name, ", ".join(ATTACKS)))
    # zlib is what gzip uses: fail at start, not mid-request, if it is missing
    zlib.crc32(b"")
