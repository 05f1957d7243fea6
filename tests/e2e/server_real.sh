# The test server's real-server switches (--empty-strings, --legacy-ingested,
# --rootless, --stale-duplicates, --mode v3-preview, --v2-missing-before,
# --legacy-ties, --metadata-full-with-io), each on and off; the checks live
# in tests/server/real_selftest.py.
. "$ROOT/tests/lib.sh"
python3 "$ROOT/tests/server/real_selftest.py"
