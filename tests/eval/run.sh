#!/bin/sh
# `make eval`: accuracy of detectors on labelled corpora; each eval_*.sh
# prints its precision/recall and fails when a target is missed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ROOT BIN="$ROOT/bin"
export EVAL_DIR="${EVAL_DIR:-$ROOT/build/eval}"
mkdir -p "$EVAL_DIR"
rc=0
for e in "$ROOT"/tests/eval/eval_*.sh; do
	[ -f "$e" ] || continue
	echo "== $(basename "$e" .sh)"
	bash "$e" || { echo "eval $(basename "$e") failed"; rc=1; }
done
exit $rc
