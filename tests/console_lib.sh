# What the console's browser test and its bench share (sourced): Debian's
# chromium, playwright-core from tests/browser, and lg-sync serve on a free
# loopback port with a token of its own.
CHROMIUM=${LG_CHROMIUM:-/usr/bin/chromium}
BROWSER="$ROOT/tests/browser"

# npm ci when node_modules is missing or older than the lock file; npm's
# output goes to LOG.
console_deps() { # LOG
	if [ -f "$BROWSER/node_modules/.package-lock.json" ] &&
		[ ! "$BROWSER/package-lock.json" -nt "$BROWSER/node_modules/.package-lock.json" ]; then
		return 0
	fi
	(cd "$BROWSER" && npm ci --no-audit --no-fund) >"$1" 2>&1
}

# Starts SYNC serve on 127.0.0.1, port 0, with a new token in DIR/token and
# its log in DIR/serve.err; sets SERVE_PID, URL and TOKEN. Fails when it
# has not said where it serves within 10 s (or died).
console_serve() { # SYNC DIR
	( umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$2/token" )
	"$1" serve --listen 127.0.0.1:0 --token-file "$2/token" --console "$ROOT/console" 2>"$2/serve.err" &
	SERVE_PID=$!
	URL=
	for _ in $(seq 200); do
		URL=$(sed -n 's/^lg-sync: serving \(http:[^ ]*\).*/\1/p' "$2/serve.err" | head -n1)
		[ -n "$URL" ] && break
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	TOKEN=$(cat "$2/token")
	[ -n "$URL" ]
}
