# Sourced by tests/e2e/api_*.sh: a real `lg-sync serve` on a free
# loopback port, and curl helpers that keep the status and the body apart.

# api_setup: what every API suite starts from: its config, store and token
# under $T, none of the caller's Langfuse settings or clock, files private to
# their owner (a token file must be), and both servers stopped on exit.
api_setup() {
	export LG_CONFIG="$T/config.json" LG_DB="$T/db" XDG_CONFIG_HOME="$T/xdg"
	unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST LG_NOW LG_CONSOLE_DIR
	umask 077
	trap 'stop_api; stop_server' EXIT
}

# start_api [ARGS...]: lg-sync serve --listen 127.0.0.1:0 ARGS; sets API_PID,
# API (the base URL), TOKEN and H (the Authorization header).
start_api() {
	lg-sync serve --listen 127.0.0.1:0 "$@" >"$T/api.out" 2>"$T/api.err" &
	API_PID=$!
	API=
	for _ in $(seq 300); do
		API=$(grep -o 'serving http://127\.0\.0\.1:[0-9]*' "$T/api.err" 2>/dev/null | head -n1 | sed 's/^serving //')
		[ -n "$API" ] && break
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$API" ] || { fail "api-start" "$(cat "$T/api.err")"; return 1; }
	TOKEN=$(head -n1 "${API_TOKEN_FILE:-$XDG_CONFIG_HOME/langguard/api-token}")
	H="Authorization: Bearer $TOKEN"
}

# stop_api: SIGTERM (SIGKILL after 10 s); the server's exit status in API_RC (97: valgrind found an error).
stop_api() {
	[ -n "${API_PID:-}" ] || return 0
	stop_pid "$API_PID" 100
	API_RC=$?
	API_PID=
}

# req METHOD PATH [CURL ARGS...]: the status in $CODE, the body in $T/body,
# the headers in $T/headers.
req() {
	_m=$1 _p=$2; shift 2
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$_m" "$@" "$API$_p")
}

# areq METHOD PATH [CURL ARGS...]: req with the token.
areq() {
	_m=$1 _p=$2; shift 2
	req "$_m" "$_p" -H "$H" "$@"
}

# expect_error NAME STATUS CODE: the last answer is the one error shape.
expect_error() {
	expect_eq "$1" "$2 {\"success\":false,\"code\":\"$3\",\"message\":true}" \
		"$CODE $(jq -c '{success, code: .error.code, message: (.error.message | type == "string" and length > 0)}' "$T/body" 2>/dev/null)"
}

# body [-r] FILTER: a jq value of the last body, compact
body() { jq -c "$@" "$T/body"; }
