# lg-sync serve while every store query is slow (an lg-store that takes
# 12 s, past the server's 10 s bounds on idle connections and on heads):
# more requests at once than it runs store queries (8), so some wait more
# than 10 s for their turn. Each gets its answer: waiting for the server
# is not a client's idleness.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/api_lib.bash"
api_setup
lg-map <"$ROOT/tests/data/trace_full.ndjson" | lg-detect | lg-policy | lg-store put --integration prod 2>"$T/put.err" ||
	{ fail store "$(cat "$T/put.err")"; exit 0; }
lg-store export --limit 5 | jq -c '.externalId' >"$T/want"
expect_eq store-one-trace 1 "$(wc -l <"$T/want")"

# lg-sync runs the tools beside itself: a copy beside the slow lg-store.
mkdir -p "$T/bin"
copy_tool lg-sync "$T/bin"
for t in lg-fetch lg-map lg-detect lg-policy; do ln -s "$BIN/$t" "$T/bin/$t"; done
printf '#!/bin/sh\nsleep 12\nexec "%s/lg-store" "$@"\n' "$BIN" >"$T/bin/lg-store"
chmod 755 "$T/bin/lg-store"
PATH="$T/bin:$PATH" start_api || exit 0

# 12 at once. The same question each time: once one answer is
# in, it is kept, and the requests still waiting get it without a query.
N=12
for i in $(seq $N); do
	curl -s --max-time 150 -o "$T/body.$i" -w '%{http_code}' -H "$H" "$API/api/traces?limit=5" >"$T/code.$i" &
done
wait $(jobs -p | grep -v "^$API_PID\$")
codes="" ids=""
for i in $(seq $N); do
	codes="$codes $(cat "$T/code.$i")"
	ids="$ids $(jq -c '[.data.traces[].externalId]' "$T/body.$i" 2>/dev/null)"
done
expect_eq slow-all-answered "$(printf ' 200%.0s' $(seq $N))" "$codes"
expect_eq slow-all-the-traces "$(printf " $(jq -sc . "$T/want")%.0s" $(seq $N))" "$ids"
stop_api
expect_eq slow-server-exit 0 "$API_RC"
