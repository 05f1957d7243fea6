# lg-sync serve against hostile clients (tests/e2e/api_hostile.py, raw
# sockets): slowloris, oversized bodies and headers, bad JSON, path
# traversal in ids and static paths, wrong methods, ragged Authorization,
# more connections than the limit, cut-off requests. After each attack the
# server answers /api/health and a real request; at the end it has not
# leaked descriptors, never printed the token or a secret, and stops clean.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/api_lib.bash"
api_setup
SECRET=sk-lf-hostile-secret-4242
CONN_TIMEOUT=10 MAX_CONNS=256 MAX_BODY=16384   # the limits the API documents

# A store with violations, synced once from the test server.
python3 "$ROOT/tests/server/gen_dataset.py" --traces 30 --seed 7 --out "$T/ds.json" \
	--end 2026-11-27T09:30:00Z --span 2h
start_server --dataset "$T/ds.json" --public-key pk-lf-h --secret-key "$SECRET" || exit 1
echo "$SECRET" | lg-sync add hostile --public-key pk-lf-h --host "$SERVER_URL" >/dev/null 2>"$T/add.err" ||
	{ fail setup-add "$(cat "$T/add.err")"; exit 1; }
LG_NOW=2026-11-27T10:00:00Z lg-sync run hostile --quiet 2>"$T/run.err" || { fail setup-run "$(cat "$T/run.err")"; exit 1; }
lg-store violations --severity critical >"$T/viol" 2>&1
VIOL=$(jq -r 'select(.status == "new") | .id' "$T/viol" | head -n1)
TRACE=$(jq -r --arg v "$VIOL" 'select(.id == $v) | .externalId' "$T/viol")
LAST_RUN=$(lg-sync status hostile | jq -r .data.lastSync.id)
[ -n "$VIOL" ] && [ -n "$TRACE" ] || { fail setup-violation "no new critical violation: $(head -c 300 "$T/viol")"; exit 1; }

# The console dir, and what must never be served: files beside it, a link
# and a dot file inside it, a file of a type the server does not serve.
CANARY="canary-$$-$RANDOM-not-for-clients"
MARK="lg-console-mark-$$"
mkdir -p "$T/www/console/sub"
printf '<!doctype html><title>%s</title>\n' "$MARK" >"$T/www/console/index.html"
echo "$CANARY" >"$T/www/canary.txt"
echo "$CANARY" >"$T/canary.txt"
echo "$CANARY" >"$T/www/console/.hidden.txt"
echo "$CANARY" >"$T/www/console/notes.conf"
echo "$CANARY" >"$T/www/console/sub/x.txt"
ln -s "$T/canary.txt" "$T/www/console/link.txt"

start_api --console "$T/www/console" || exit 1
SPID=$API_PID PORT=${API##*:}
TOKEN_FILE="$XDG_CONFIG_HOME/langguard/api-token"
expect_eq token-file-private 600 "$(stat -c %a "$TOKEN_FILE" 2>/dev/null)"
FDS0=$(ls "/proc/$SPID/fd" | wc -l)

python3 "$ROOT/tests/e2e/api_hostile.py" --port "$PORT" --token-file "$TOKEN_FILE" \
	--integration hostile --last-run "$LAST_RUN" --violation "$VIOL" --trace "$TRACE" \
	--canary "$CANARY" --console-mark "$MARK" --secret "$SECRET" \
	--conn-timeout "$CONN_TIMEOUT" --max-conns "$MAX_CONNS" --max-body "$MAX_BODY" ${HOSTILE_ONLY:+--only "$HOSTILE_ONLY"} \
	2>"$T/client.err"
crc=$?
[ "$crc" -eq 0 ] || fail client-exit "api_hostile.py exited $crc: $(tail -c 400 "$T/client.err")"
cat "$T/client.err" >&2

# Every connection the attacks opened is gone (the client closed them all).
i=0
while [ "$(ls "/proc/$SPID/fd" 2>/dev/null | wc -l)" -gt $((FDS0 + 2)) ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
FDS1=$(ls "/proc/$SPID/fd" 2>/dev/null | wc -l)
if [ "$FDS1" -le $((FDS0 + 2)) ]; then pass no-descriptor-leak; else
	fail no-descriptor-leak "$FDS0 descriptors before the attacks, $FDS1 after"; fi
if kill -0 "$SPID" 2>/dev/null; then pass server-up; else fail server-up "lg-sync serve died: $(tail -c 400 "$T/api.err")"; fi
stop_api
expect_eq serve-exit 0 "$API_RC"
expect_not_contains token-never-printed "$T/api.err" "$TOKEN"
expect_not_contains token-never-printed-stdout "$T/api.out" "$TOKEN"
expect_not_contains secret-never-printed "$T/api.err" "$SECRET"
expect_not_contains canary-never-printed "$T/api.err" "$CANARY"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/api.err"; then
	fail serve-sanitizers "$(grep -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/api.err")"
else pass serve-sanitizers; fi
# The access log has a line per request, without query strings.
expect_contains access-log-lines "$T/api.err" '"GET /api/health" 200'
expect_not_contains access-log-no-query "$T/api.err" 'agent=qqqq'
