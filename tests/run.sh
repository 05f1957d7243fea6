#!/bin/sh
# Runs every unit test binary and every end-to-end script, counts the
# "PASS"/"FAIL" lines and ends with "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR [PATTERN]   (BUILD_DIR holds bin/ and unit/)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build/asan}
PATTERN=${2:-}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"
[ -d "$BUILD/bin" ] || BIN="$ROOT/bin"
# VALGRIND=1: every lg-* and every unit test runs under memcheck through
# build/valgrind/vg. An error makes the program exit 97 and is written to a
# log of the test's own (LG_VALGRIND_LOG), which run_one turns into FAIL
# lines: even a tool whose exit status or stderr the test does not look at.
# A leak is such an error, "possibly lost" too: a block held at the end
# only through a pointer into it is one nothing will free.
# PCRE2's JIT code is opaque to memcheck (false "uninitialised" reports):
# under valgrind the tools match with PCRE2's interpreter (LG_NO_JIT=1).
# lg-sync runs the stages it finds beside itself (/proc/self/exe, which
# under valgrind is the binary, not the wrapper), so each binary NAME is
# build/valgrind/NAME/NAME, beside links to the other tools' wrappers, and
# BIN is build/valgrind/bin, the wrappers: the stages lg-sync spawns run
# under memcheck too. (build/valgrind/NAME is as deep as build/asan/bin:
# lg-sync serve finds console/ the same way.)
VG=""
TIMEOUT=${TEST_TIMEOUT:-600}
if [ "${VALGRIND:-0}" = 1 ]; then
	# Under memcheck every tool is many times slower: a suite of many runs
	# (store_crash) needs more than the usual bound.
	TIMEOUT=${TEST_TIMEOUT:-2400}
	VROOT="$ROOT/build/valgrind"
	VG="$VROOT/vg"
	mkdir -p "$VROOT/bin"
	cat >"$VG.new" <<'EOW'
#!/bin/sh
exec env LG_NO_JIT=1 valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
	${LG_VALGRIND_LOG:+"--log-file=$LG_VALGRIND_LOG/%p"} "$@"
EOW
	chmod +x "$VG.new" && mv -f "$VG.new" "$VG"
	tools=""
	for b in "$BIN"/lg-*; do
		n=$(basename "$b")
		if [ "$(head -c2 "$b")" = "#!" ]; then # scripts run as they are
			cp "$b" "$VROOT/bin/" && continue
		fi
		tools="$tools $n"
		mkdir -p "$VROOT/$n"
		# Replaced, not rewritten: another run may be executing them.
		cp "$b" "$VROOT/$n/$n.new" && mv -f "$VROOT/$n/$n.new" "$VROOT/$n/$n"
		cat >"$VROOT/bin/$n.new" <<EOW
#!/bin/sh
exec "$VG" "$VROOT/$n/$n" "\$@"
EOW
		chmod +x "$VROOT/bin/$n.new" && mv -f "$VROOT/bin/$n.new" "$VROOT/bin/$n"
	done
	for n in $tools; do
		for m in $tools; do
			[ "$m" = "$n" ] || ln -sfn "../bin/$m" "$VROOT/$n/$m"
		done
	done
	BIN="$VROOT/bin"
fi
export ROOT BIN VALGRIND
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98:${UBSAN_OPTIONS:-}"
export LC_ALL=C.UTF-8
# detect and policy write unchanged members as they came: check each such
# record against the whole record printed (common/stream.c).
export LG_SPLICE_CHECK=1
LOG="$ROOT/build/test-log"
mkdir -p "$LOG"
passed=0 failed=0

run_one() { # name cmd...
	name=$1; shift
	out="$LOG/$(echo "$name" | tr '/' '_').log"
	TMPDIR_T=$(mktemp -d "${TMPDIR:-/tmp}/lg-test.XXXXXX")
	export TMPDIR_T
	if [ -n "$VG" ]; then
		LG_VALGRIND_LOG=$(mktemp -d "${TMPDIR:-/tmp}/lg-vglog.XXXXXX")
		export LG_VALGRIND_LOG
	fi
	start=$(date +%s)
	# A hung test must not eat CI's time: each script gets TEST_TIMEOUT seconds.
	timeout -k 10 "$TIMEOUT" "$@" >"$out" 2>"$out.err"
	rc=$?
	[ "$rc" -eq 124 ] && echo "FAIL $name: timed out after ${TIMEOUT}s" >>"$out"
	rm -rf "$TMPDIR_T"
	if [ -n "$VG" ]; then
		: >"$out.valgrind"
		for v in "$LG_VALGRIND_LOG"/*; do
			[ -s "$v" ] || continue
			cat "$v" >>"$out.valgrind"
			echo "FAIL $name: memcheck (pid ${v##*/}, $out.valgrind): $(grep -m1 -v '^==[0-9]*== *$' "$v")" >>"$out"
		done
		rm -rf "$LG_VALGRIND_LOG"
	fi
	p=$(grep -ac '^PASS ' "$out")
	f=$(grep -ac '^FAIL ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited $rc without reporting a failure" >>"$out"
		f=1
	fi
	# A suite that cannot run here (a browser that is not installed) says
	# "SKIP why" and checks nothing; any other silent suite is a failure.
	sk=$(grep -a '^SKIP ' "$out" | head -n1)
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ -z "$sk" ]; then
		echo "FAIL $name: ran no check" >>"$out"
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f))
	printf '%-40s %4d passed %3d failed  %3ss\n' "$name" "$p" "$f" "$(( $(date +%s) - start ))"
	[ -n "$sk" ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && printf '    %s\n' "$sk"
	if [ "$f" -ne 0 ]; then
		grep -a '^FAIL ' "$out" | head -20 | sed 's/^/    /'
		tail -5 "$out.err" | sed 's/^/    stderr: /'
	fi
}

for u in "$BUILD"/unit/*_test; do
	[ -x "$u" ] || continue
	case $(basename "$u") in *$PATTERN*) ;; *) continue ;; esac
	run_one "unit/$(basename "$u")" $VG "$u"
done
for s in "$ROOT"/tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	case $(basename "$s") in *$PATTERN*) ;; *) continue ;; esac
	run_one "e2e/$(basename "$s" .sh)" bash "$s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
