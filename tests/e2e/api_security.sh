# lg-sync serve's edges (docs/api.md): the token file (created, refused,
# rotated, gone bad), static files of the console (types, headers, no way
# out of the directory), bounded bodies, headers and connections, a store
# it cannot read, start-up refusals, and daemon --listen.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/api_lib.bash"
api_setup
jq -n '{integrations: [{id: "prod", name: "P", publicKey: "pk-lf-x", secretKey: "sk-lf-x-secret",
	host: "http://127.0.0.1:9", autoSync: false}]}' >"$LG_CONFIG"

# The console's files, with what must never be served beside them.
C="$T/console"
mkdir -p "$C/js" "$C/sub.d" "$T/outside"
echo '<!doctype html><title>lg</title>' >"$C/index.html"
echo 'console.log(1)' >"$C/js/app.js"
echo 'body{}' >"$C/style.css"
echo '{"a":1}' >"$C/data.json"
echo 'secret outside' >"$T/outside/secret.html"
echo 'hidden' >"$C/.hidden.html"
echo 'echo hi' >"$C/run.sh"
ln -s "$T/outside/secret.html" "$C/link.html"
ln -s "$T/outside" "$C/out"
export API_TOKEN_FILE="$T/tok/api-token"

# ---- start-up refusals ----
mkdir -p "$T/tok" && chmod 700 "$T/tok"
echo 0123456789abcdef0123 >"$T/tok/api-token"
chmod 644 "$T/tok/api-token"
expect_status "a token file others can read: exit 2" 2 lg-sync serve --listen 127.0.0.1:0 --token-file "$T/tok/api-token"
expect_contains "  and says why" "$T/err" "readable by group or others: refused"
chmod 600 "$T/tok/api-token"
ln -s "$T/tok/api-token" "$T/tok/link"
expect_status "a token file that is a link: exit 2" 2 lg-sync serve --listen 127.0.0.1:0 --token-file "$T/tok/link"
echo short >"$T/tok/short" && chmod 600 "$T/tok/short"
expect_status "a token under 16 characters: exit 2" 2 lg-sync serve --listen 127.0.0.1:0 --token-file "$T/tok/short"
expect_status "bad --listen: exit 2" 2 lg-sync serve --listen 127.0.0.1 --token-file "$T/tok/api-token"
expect_status "--listen on a name: exit 2" 2 lg-sync serve --listen example.com:80 --token-file "$T/tok/api-token"
expect_status "unknown option: exit 2" 2 lg-sync serve --bogus
expect_not_contains "no token in any message" "$T/err" 0123456789abcdef0123

start_api --token-file "$T/tok/api-token" --console "$C" || exit 1
PORT=${API##*:}
expect_status "a port in use: exit 2" 2 lg-sync serve --listen "127.0.0.1:$PORT" --token-file "$T/tok/api-token"
expect_contains "  and says so" "$T/err" "Address already in use"

# ---- static files ----
req GET /
expect_eq "/: index.html" "200 <!doctype html><title>lg</title>" "$CODE $(cat "$T/body")"
expect_contains "/: html type" "$T/headers" "Content-Type: text/html; charset=utf-8"
expect_contains "/: CSP" "$T/headers" "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';"
expect_contains "/: nosniff" "$T/headers" "X-Content-Type-Options: nosniff"
expect_contains "/: no referrer" "$T/headers" "Referrer-Policy: no-referrer"
req GET /console/js/app.js
expect_eq "js file" "200 console.log(1)" "$CODE $(cat "$T/body")"
expect_contains "js type" "$T/headers" "Content-Type: text/javascript; charset=utf-8"
req GET /console/style.css
expect_contains "css type" "$T/headers" "Content-Type: text/css; charset=utf-8"
req GET /console/data.json
expect_contains "json type" "$T/headers" "Content-Type: application/json"
req GET /console/
expect_eq "/console/: index.html" 200 "$CODE"
expect_eq "HEAD: 200, the length, no body" "200 15 0" "$(python3 - "${API##*:}" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"HEAD /console/js/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
length = [l.split(b": ")[1].decode() for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
print(head.split(b" ")[1].decode(), length[0] if length else "-", len(rest))
PY
)"
for p in /console/link.html /console/out/secret.html /console/%2e%2e/outside/secret.html \
	/console/%2E./outside/secret.html /console/..%2foutside/secret.html /console/.hidden.html \
	/console/run.sh /console/sub.d /console/js /console/nothing.html /console/js%5capp.js /elsewhere.html; do
	req GET "$p" --path-as-is
	expect_error "static $p: 404" 404 not_found
	expect_not_contains "static $p: nothing from outside" "$T/body" "secret outside"
done
req GET /console/../outside/secret.html --path-as-is
expect_eq "static ../ raw: not served" 1 "$([ "$CODE" = 404 ] || [ "$CODE" = 400 ]; echo $((1 - $?)))"
expect_not_contains "static ../ raw: nothing from outside" "$T/body" "secret outside"
req POST /console/js/app.js -d x
expect_error "POST on a static file: 405" 405 method_not_allowed
expect_contains "  Allow: GET, HEAD" "$T/headers" "Allow: GET, HEAD"
req GET /vendor/chart.js
expect_eq "chart.js from Debian's libjs-chart.js" "200 $(wc -c <"$(for f in /usr/share/javascript/chart.js/chart.min.js /usr/share/javascript/chart.js/chart.js; do [ -r "$f" ] && echo "$f" && break; done)" | tr -d ' ')" \
	"$CODE $(wc -c <"$T/body" | tr -d ' ')"
expect_contains "chart.js: js type" "$T/headers" "Content-Type: text/javascript; charset=utf-8"

# ---- limits ----
head -c 17000 /dev/zero | tr '\0' a >"$T/big"
areq POST /api/integrations/prod/sync --data-binary @"$T/big"
expect_error "a 17 KB body: 413" 413 body_too_large
areq POST /api/integrations/prod/sync --data-binary @"$T/big" -H "Transfer-Encoding: chunked"
expect_error "a 17 KB chunked body: 413" 413 body_too_large
expect_eq "a header over the connection's memory: 431" "431" \
	"$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
print(s.recv(64).split(b" ")[1].decode())
PY
)"
# 260 idle connections open: the next request is told to come back.
python3 - "$PORT" "$API" "$T/429" <<'PY' &
import socket, subprocess, sys, time
port, api, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(260)]
time.sleep(0.5)
r = subprocess.run(["curl", "-s", "-D", "-", api + "/api/health"], capture_output=True, text=True)
open(out, "w").write(r.stdout)
for s in socks:
    s.close()
PY
wait $!
expect_contains "260 connections open: 429" "$T/429" "HTTP/1.1 429"
expect_contains "  with Retry-After" "$T/429" "Retry-After: 1"
expect_contains "  in the error shape" "$T/429" '"code":"too_many_requests"'
sleep 0.5
req GET /api/health
expect_eq "after they close: 200 again" 200 "$CODE"
# An idle connection is closed after 10 s (slowloris): the server stays up.
python3 - "$PORT" <<'PY' >"$T/idle"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
s.settimeout(20)
t = time.time()
try:
    data = s.recv(100)
except OSError:
    data = b""
print("closed" if not data else "answered", int(time.time() - t) <= 15)
PY
expect_eq "a half-sent request is closed within the idle bound" "closed True" "$(cat "$T/idle")"

# ---- the token: rotation, gone bad ----
areq GET /api/integrations
expect_eq "the token works" 200 "$CODE"
old="$H"
echo "rotated-token-0123456789abcdef" >"$T/tok/new" && chmod 600 "$T/tok/new" && mv "$T/tok/new" "$T/tok/api-token"
areq GET /api/integrations
expect_error "after rotation the old token: 401" 401 unauthorized
req GET /api/integrations -H "Authorization: Bearer rotated-token-0123456789abcdef"
expect_eq "after rotation the new token: 200" 200 "$CODE"
H="Authorization: Bearer rotated-token-0123456789abcdef"
chmod 644 "$T/tok/api-token"
areq GET /api/integrations
expect_error "token file readable by others while serving: 500" 500 token_unavailable
req GET /api/health
expect_eq "  health still answers" 200 "$CODE"
chmod 600 "$T/tok/api-token"
areq GET /api/integrations
expect_eq "token file fixed: 200 again" 200 "$CODE"
expect_not_contains "no token in the log" "$T/api.err" "rotated-token-0123456789abcdef"
stop_api
expect_eq "exit 0 on SIGTERM after all that" 0 "$API_RC"

# ---- a store lg-store cannot read: 500, the server stays up ----
mkdir -p "$T/baddb" && chmod 700 "$T/baddb"
head -c 65536 /dev/urandom >"$T/baddb/data.mdb"
LG_DB="$T/baddb" start_api --token-file "$T/tok/api-token" --console "$C" || exit 1
areq GET /api/traces
expect_error "traces from a damaged store: 500" 500 store_error
expect_not_contains "  no path in the answer" "$T/body" "$T/baddb"
areq GET /api/integrations/prod/sync/status
expect_error "status from a damaged store: 500" 500 store_error
req GET /api/health
expect_eq "  still up" 200 "$CODE"
stop_api
expect_eq "  exit 0" 0 "$API_RC"

# ---- the default token file is created 0600 ----
unset API_TOKEN_FILE
start_api || exit 1
expect_eq "default token file created 0600 in a 0700 directory" "600 700" \
	"$(stat -c %a "$XDG_CONFIG_HOME/langguard/api-token") $(stat -c %a "$XDG_CONFIG_HOME/langguard")"
expect_contains "  and said where, not what" "$T/api.err" "created the API token in $XDG_CONFIG_HOME/langguard/api-token"
expect_not_contains "  the token is not printed" "$T/api.err" "$TOKEN"
stop_api

# ---- daemon --listen: serves while scheduling ----
lg-sync daemon --listen 127.0.0.1:0 >"$T/daemon.out" 2>"$T/api.err" &
API_PID=$!
API=
for _ in $(seq 300); do
	API=$(grep -o 'serving http://127\.0\.0\.1:[0-9]*' "$T/api.err" | head -n1 | sed 's/^serving //')
	[ -n "$API" ] && break
	sleep 0.05
done
areq GET /api/integrations/prod/sync/status
expect_eq "daemon --listen answers status" '200 false' "$CODE $(body .data.hasSchedule)"
kill "$API_PID"
wait "$API_PID"
expect_eq "daemon --listen stops on SIGTERM, exit 0" 0 $?
API_PID=
expect_contains "  and logs it" "$T/daemon.out" "lg-sync daemon: stopped"
expect_status "daemon --token-file without --listen: exit 2" 2 lg-sync daemon --token-file x
