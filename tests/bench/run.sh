#!/bin/sh
# `make bench`: runs every tests/bench/bench_*.sh; each prints its figures
# (ratios against a peer measured in the same run).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ROOT BIN="$ROOT/bin"
export BENCH_DIR="${BENCH_DIR:-$ROOT/build/bench}"
mkdir -p "$BENCH_DIR"
rc=0
for b in "$ROOT"/tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b") failed"; rc=1; }
done
exit $rc
