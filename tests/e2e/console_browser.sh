# console_browser: the web console (console/) in headless Chromium against
# `lg-sync serve` over the demo data: 600 generated traces synced from the
# test server, plus traces whose every field holds markup. The checks
# themselves are in tests/browser/console.mjs: each page loads without a
# console error, shows lg-store's numbers, triage reaches the store, "Sync
# now" runs a sync, hostile input stays text. Screenshots go to
# $LG_SCREENSHOTS (default build/screenshots; docs/screenshots to refresh
# the README's).
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/console_lib.sh"
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP console_browser: no $CHROMIUM (scripts/install-deps installs Debian's chromium)"
	exit 0
fi
console_deps "$T/npm.log" || { fail npm-ci "$(tail -5 "$T/npm.log")"; exit 1; }

unset LG_NOW LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
mkdir -p "$HOME"

# The demo's project, and the hostile traces beside it.
END=$(date -u -d '-5 minutes' +%Y-%m-%dT%H:%M:%SZ)
python3 "$ROOT/tests/server/gen_dataset.py" --traces 600 --seed 2026 --span 2d --end "$END" --out "$T/project.json"
python3 "$BROWSER/xss_traces.py" "$T/project.json" "$END"
start_server --dataset "$T/project.json" --public-key pk-lf-demo --secret-key sk-lf-demo-0000-secret || exit 1
echo sk-lf-demo-0000-secret | lg-sync add demo --name "Demo project" --public-key pk-lf-demo --host "$SERVER_URL" >/dev/null 2>&1
expect_status sync-demo 0 lg-sync run demo
# An integration whose key Langfuse refuses: its failed run and error.
echo sk-lf-wrong-0000-secret | lg-sync add broken --name "Wrong key" --public-key pk-lf-demo --host "$SERVER_URL" >/dev/null 2>&1
expect_status sync-broken-fails 3 lg-sync run broken
expect_eq stored-traces 602 "$(lg-store count)"

# lg-sync serve on a free loopback port with a token of our own.
console_serve lg-sync "$T"; started=$?
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; stop_server' EXIT
if [ $started -ne 0 ]; then fail serve-start "$(head -c 400 "$T/serve.err")"; exit 1; fi
pass serve-start

SHOTS=${LG_SCREENSHOTS:-$ROOT/build/screenshots}
case $SHOTS in /*) ;; *) SHOTS="$ROOT/$SHOTS" ;; esac
LG_URL="$URL" LG_TOKEN="$TOKEN" LG_STORE="$BIN/lg-store" LG_CHROMIUM="$CHROMIUM" \
	LG_SHOTS="$SHOTS" LG_SYNC_ID=demo LG_XSS_ID=xss-trace-1 \
	node "$BROWSER/console.mjs"
for p in agents violations traces trace integrations; do
	if [ -s "$SHOTS/$p.png" ] && [ "$SHOTS/$p.png" -nt "$T/token" ]; then pass "screenshot-$p"
	else fail "screenshot-$p" "$SHOTS/$p.png not written"; fi
done
# The server logged no token and answered every request it logged.
expect_not_contains serve-log-no-token "$T/serve.err" "$(cat "$T/token")"
