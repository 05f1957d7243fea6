# Secrets at the trust boundaries: credentials in a host URL, server text
# that echoes them or carries escapes, core dumps, plain http through a
# proxy; and the small config and mapping cases that came with them.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 5 3 "$T/ds.json"
SK=sk-lf-11111111-2222-3333-4444-5555aaaa

# ---- credentials in the host: refused, never repeated ----
for h in "https://pk-lf-test:$SK@cloud.example" "http://$SK@127.0.0.1:1" "HTTP://user:$SK@h/x" "ftp://u:$SK@h"; do
	LANGFUSE_HOST=$h lg-fetch --test >"$T/out" 2>"$T/err"; s=$?
	expect_eq "userinfo $h: exit 2" 2 "$s"
	expect_not_contains "userinfo $h: never echoed" "$T/err" "$SK"
	expect_contains "userinfo $h: says why" "$T/err" "must not hold credentials"
done
expect_status "userinfo in --host: exit 2" 2 lg-fetch --host "https://u:$SK@h" --test
expect_not_contains "userinfo in --host: never echoed" "$T/err" "$SK"
export LG_CONFIG="$T/cfg.json"
umask 077
printf '{"integrations":[{"id":"p","publicKey":"pk-lf-test","secretKey":"%s","host":"https://x:%s@h"}]}\n' "$SK" "$SK" >"$LG_CONFIG"
expect_status "userinfo in the config: exit 2" 2 lg-fetch --list-integrations
expect_not_contains "userinfo in the config: never echoed" "$T/err" "$SK"
expect_status "lg-sync list: exit 0" 0 lg-sync list --json
expect_eq "lg-sync list: host and key masked" "https://***@h sk-lf-…aaaa" "$(jq -r '"\(.host) \(.secretKey)"' "$T/out")"
expect_status "lg-sync add: userinfo refused" 2 lg-sync add q --public-key pk-lf-q --host "https://u:$SK@h" </dev/null
expect_not_contains "lg-sync add: never echoed" "$T/err" "$SK"
unset LG_CONFIG
printf '{"$lg":"run-start","run":"r","integration":"p","host":"https://u:%s@h"}\n{"id":"t1","projectId":"pp","timestamp":"2026-11-26T23:00:00.000Z","observations":[]}\n' "$SK" |
	lg-map >"$T/out" 2>"$T/err"
expect_eq "lg-map: userinfo masked in htmlPath" "https://***@h/project/pp/traces/t1" \
	"$(grep -v '"\$lg"' "$T/out" | jq -r .source.htmlPath)"

# ---- masking keeps Langfuse's prefix ----
LANGFUSE_SECRET_KEY=$SK lg-fetch --list-integrations >"$T/out"
expect_eq "mask: sk-lf- prefix and last 4" "sk-lf-…aaaa" "$(jq -r .secretKey "$T/out")"

# ---- a malformed host is a usage error ----
expect_status "malformed host: exit 2" 2 env LANGFUSE_HOST='http://exa^mple' lg-fetch --test --retries 1
expect_contains "malformed host: said" "$T/err" "host: not a valid URL"

# ---- --secret-key-file completes LANGFUSE_PUBLIC_KEY alone ----
start_server --dataset "$T/ds.json" || exit 1
printf '%s\n' sk-lf-test >"$T/key"
chmod 600 "$T/key"
expect_status "--secret-key-file with only LANGFUSE_PUBLIC_KEY" 0 \
	env -u LANGFUSE_SECRET_KEY LANGFUSE_HOST="$SERVER_URL" lg-fetch --secret-key-file "$T/key" --test
expect_contains "--secret-key-file: connected" "$T/out" "Connection successful"

# ---- plain http: a proxy never sees the keys unless asked ----
PROXY_URL=$SERVER_URL PROXY_PID=$SERVER_PID
start_server --dataset "$T/ds.json" --log "$T/direct.log" || exit 1
expect_status "plain http, proxy set: exit 0" 0 env http_proxy="$PROXY_URL" HTTP_PROXY="$PROXY_URL" LANGFUSE_HOST="$SERVER_URL" lg-fetch --test
expect_eq "plain http: went direct, not through the proxy" yes "$([ -s "$T/direct.log" ] && echo yes || echo no)"
expect_not_contains "plain http: no warning for loopback" "$T/err" "plain http"
: >"$T/direct.log"
expect_status "--proxy-http: exit 0" 0 env http_proxy="$PROXY_URL" LANGFUSE_HOST="$SERVER_URL" lg-fetch --proxy-http --test
expect_eq "--proxy-http: through the proxy" "no" "$([ -s "$T/direct.log" ] && echo yes || echo no)"
# A non-loopback plain-http host, reached only through that loopback proxy.
expect_status "plain http elsewhere: exit 0" 0 env http_proxy="$PROXY_URL" LANGFUSE_HOST=http://lf.example.test lg-fetch --proxy-http --test
expect_eq "plain http elsewhere: warned once" 1 "$(grep -c 'http://lf.example.test is plain http: the keys and the traces cross the network unencrypted' "$T/err")"
stop_server
SERVER_PID=$PROXY_PID stop_server

# ---- server text: escapes, floods and echoed credentials ----
jq '.project.name = "evil\u001b[2J\u001b]0;title\u0007 name \u009b31m end"' "$T/ds.json" >"$T/evil.json"
start_server --dataset "$T/evil.json" || exit 1
fetch --test
expect_eq "project name: control characters gone" "Project: evil [2J ]0;title  name  31m end (cm0lgtestproject000000001)" "$(grep '^Project:' "$T/out")"
stop_server
start_server --dataset "$T/ds.json" --hostile echo-auth || exit 1
fetch --retries 2
expect_eq "echo-auth: exit 5" 5 "$FETCH_STATUS"
b64=$(printf 'pk-lf-test:sk-lf-test' | base64)
expect_not_contains "echo-auth: no secret on stderr" "$T/err" "sk-lf-test"
expect_not_contains "echo-auth: no credential on stderr" "$T/err" "$b64"
expect_not_contains "echo-auth: no secret in run-end" "$T/out" "sk-lf-test"
expect_not_contains "echo-auth: no credential in run-end" "$T/out" "$b64"
expect_eq "echo-auth: no escape on stderr" 0 "$(tr -cd '\033\r' <"$T/err" | wc -c)"
expect_contains "echo-auth: masked" "$T/err" "denied [0m for Basic ***  keys pk-lf-test:***, secret ***"
expect_eq "echo-auth: lines capped" yes "$(awk 'length > 600 { bad = 1 } END { print bad ? "no" : "yes" }' "$T/err")"
stop_server

# ---- no core dump holds the key ----
start_server --dataset "$T/ds.json" --hostile slow-drip || exit 1
LANGFUSE_HOST=$SERVER_URL lg-fetch --since "$SINCE" --until "$END" --max-time 4 --retries 1 >/dev/null 2>&1 &
_f=$!
_i=0
core_limits() { awk '/Max core file size/ { print $5, $6 }' "/proc/$_f/limits" 2>/dev/null; }
# Until main() has run (the sanitizer's start-up alone sets the soft limit).
until [ "$(core_limits)" = "0 0" ] || [ $_i -ge 100 ]; do sleep 0.05; _i=$((_i + 1)); done
expect_eq "core size limit 0 while the key is held" "0 0" "$(core_limits)"
wait $_f
stop_server

# ---- latency 1e999: no absurd duration ----
printf '{"id":"t","timestamp":"2026-11-26T23:00:00.000Z","latency":1e999,"observations":[{"id":"o","traceId":"t","type":"SPAN","startTime":"2026-11-26T23:00:00.000Z","endTime":"2026-11-26T23:00:01.500Z","latency":1e999}]}\n' |
	lg-map >"$T/out" 2>"$T/err"; s=$?
expect_eq "latency 1e999: exit 0" 0 "$s"
expect_eq "latency 1e999: durations from the span times" "1500 1500" "$(jq -r '"\(.duration) \(.spans[0].duration)"' "$T/out")"
