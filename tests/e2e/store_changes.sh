# lg-store changes: the change feed through the CLI. Each record once, in
# the order of its last change, then the "$lg" line with the last sequence;
# merges and acks are changes, unchanged re-puts are not.
. "$ROOT/tests/lib.sh"
DB="$T/db"
export LG_NOW=2026-11-27T12:00:00Z
S() { lg-store --db "$DB" "$@"; }
ids() { jq -r 'select(has("$lg") | not) | .externalId' | tr '\n' ' ' | sed 's/ $//'; }
ctl() { jq -c 'select(has("$lg"))'; }

expect_status "changes without a store: exit 6" 6 S changes
cat >"$T/data" <<'JSON'
{"externalId":"a","timestamp":"2026-11-20T10:00:00.000Z","status":"success","source":{"integration":"prod"},"violations":[{"id":"va","policy":"pii","severity":"high","status":"new"}],"evaluation":{"policies":["pii"]}}
{"externalId":"b","timestamp":"2026-11-19T10:00:00.000Z","status":"success","source":{"integration":"prod"}}
{"externalId":"c","timestamp":"2026-11-21T10:00:00.000Z","status":"error","source":{"integration":"prod"}}
JSON
S put <"$T/data" 2>/dev/null
expect_eq "first feed: write order" "a b c" "$(S changes | ids)"
expect_eq "control line" '{"$lg":"changes","since":0,"last":3,"more":false}' "$(S changes | ctl)"
expect_eq "--limit 2" '{"$lg":"changes","since":0,"last":2,"more":true}' "$(S changes --limit 2 | ctl)"
expect_eq "--since 2" "c" "$(S changes --since 2 | ids)"
expect_eq "nothing after the last" '{"$lg":"changes","since":3,"last":3,"more":false}' "$(S changes --since 3)"
S changes --since 0 >"$T/feed"
S export >"$T/export"
expect_eq "records as stored (export's bytes)" "$(sort "$T/export")" "$(grep -v '"\$lg"' "$T/feed" | sort)"

S put <"$T/data" 2>/dev/null
expect_eq "unchanged re-put: no change" "3" "$(S changes | ctl | jq .last)"
echo '{"externalId":"a","timestamp":"2026-11-20T10:00:00.000Z","name":"renamed","source":{"integration":"prod"}}' | S put 2>/dev/null
expect_eq "merge: a moves to the end, once" "b c a" "$(S changes | ids)"
expect_eq "merge: the current version" "renamed" "$(S changes --since 3 | jq -r 'select(.externalId == "a") | .name')"
S ack va >/dev/null
expect_eq "ack: a change" "a" "$(S changes --since 4 | ids)"
expect_eq "ack: the acknowledged version" "acknowledged" "$(S changes --since 4 | jq -r 'select(.externalId == "a") | .violations[0].status')"
S resolve va >/dev/null
expect_eq "resolve: a change" '{"$lg":"changes","since":5,"last":6,"more":false}' "$(S changes --since 5 | ctl)"
expect_status "check passes with the feed" 0 S check

expect_status "--since -1: usage" 2 S changes --since -1
expect_status "--since x: usage" 2 S changes --since x
expect_status "--limit 0: usage" 2 S changes --limit 0
expect_status "changes takes no operand" 2 S changes 5
