# Sourced by every tests/e2e/*.sh. A case is an input, the exact expected
# output and the exact exit status; results are lines "PASS name" or
# "FAIL name: why" on stdout, counted by tests/run.sh.
# Environment from run.sh: ROOT (repo), BIN (binaries), VALGRIND (1: BIN
# holds valgrind wrappers of BIN/../NAME/NAME), TMPDIR_T (private dir).
: "${ROOT:?}" "${BIN:?}" "${TMPDIR_T:?}"
export PATH="$BIN:$PATH"
T="$TMPDIR_T"

# TIME_FACTOR: how far a bound on wall time set for native speed stretches:
# 1, or 6 under valgrind, where each process's start and the leak scan at
# its exit take seconds (a stop that ends five stages and then asks lg-store
# three questions is eight processes' worth of them).
TIME_FACTOR=1
[ "${VALGRIND:-0}" = 1 ] && TIME_FACTOR=6

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1" "want [$(printf '%s' "$2" | head -c 400)] got [$(printf '%s' "$3" | head -c 400)]"; fi
}

# expect_status NAME WANT CMD... : runs CMD (stdout to $T/out, stderr to $T/err)
expect_status() {
	_n=$1 _w=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; _s=$?
	if [ "$_s" -eq "$_w" ]; then pass "$_n"; else
		fail "$_n" "exit $_s, want $_w; stderr: $(head -c 300 "$T/err")"; fi
}

# expect_contains NAME FILE TEXT
expect_contains() {
	if grep -qF -- "$3" "$2"; then pass "$1"; else
		fail "$1" "[$3] not in $2: $(head -c 300 "$2")"; fi
}

# expect_not_contains NAME FILE TEXT
expect_not_contains() {
	if grep -qF -- "$3" "$2"; then fail "$1" "[$3] found in $2"; else pass "$1"; fi
}

# expect_output_errors TOOL INPUT: onto a full disk TOOL exits 6 saying
# "TOOL: write error"; read by `head -n1`, which closes the pipe after one line, it
# gives that line, says nothing and exits 0. INPUT holds several records.
expect_output_errors() {
	"$1" <"$2" >/dev/full 2>"$T/err"; _s=$?
	expect_eq "/dev/full exit 6" 6 "$_s"
	expect_contains "/dev/full says write error" "$T/err" "$1: write error"
	( "$1" <"$2" 2>"$T/err"; echo "$?" >"$T/rc" ) | head -n1 >"$T/first"
	expect_eq "| head -n1 gives one record" 1 "$(wc -l <"$T/first" | tr -d ' ')"
	expect_eq "| head -n1 is quiet" "" "$(cat "$T/err")"
	expect_eq "| head -n1 exit 0" 0 "$(cat "$T/rc")"
}

# copy_tool NAME DIR: a copy of the binary NAME in DIR, which finds the tools
# it runs beside itself (/proc/self/exe) there. Under VALGRIND=1, BIN's NAME
# is run.sh's wrapper of BIN/../NAME/NAME: the binary goes to DIR/.NAME and
# DIR/NAME is that wrapper pointed at it (a tool naming itself after argv[0]
# then says ".NAME").
copy_tool() {
	if [ "${VALGRIND:-0}" != 1 ]; then
		cp "$BIN/$1" "$2/$1"
		return
	fi
	_real="$(dirname "$BIN")/$1/$1"
	cp "$_real" "$2/.$1"
	sed "s|\"$_real\"|\"$2/.$1\"|" "$BIN/$1" >"$2/$1"
	chmod 755 "$2/$1"
}

# jqv FILE FILTER: one jq value, raw
jqv() { jq -r "$2" "$1"; }

# start_server PIDVAR PORTVAR ARGS...: the project's Langfuse server on 127.0.0.1
start_server() {
	_pf="$T/port.$$.$RANDOM"
	rm -f "$_pf"
	python3 "$ROOT/tests/server/langfuse_server.py" --port 0 --port-file "$_pf" "$@" \
		>"$T/server.out" 2>"$T/server.err" &
	SERVER_PID=$!
	_i=0
	while [ ! -s "$_pf" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	SERVER_PORT=$(cat "$_pf" 2>/dev/null)
	[ -n "$SERVER_PORT" ] || { fail "server-start" "$(cat "$T/server.err")"; return 1; }
	SERVER_URL="http://127.0.0.1:$SERVER_PORT"
}
# stop_pid PID [TENTHS]: SIGTERM, then SIGKILL after TENTHS tenths of a
# second (50), so a stuck process never hangs a test; returns its exit status.
stop_pid() {
	kill "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt "${2:-50}" ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# stop_server: stop_pid of the server start_server started.
stop_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	stop_pid "$SERVER_PID"
	SERVER_PID=
}
