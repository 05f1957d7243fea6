# lg-store's index of incomplete traces: put adds a trace lg-map marked
# incomplete, a merge that makes it whole removes it; "incomplete --due"
# claims the ones due for a re-fetch and gives up after the horizon;
# status counts both.
. "$ROOT/tests/lib.sh"
DB="$T/db"
S() { lg-store --db "$DB" "$@"; }
cat >"$T/frag.json" <<'J'
{"id":"t1","timestamp":"2026-11-27T10:00:00.000Z","name":"x","observations":[{"id":"a","traceId":"t1","parentObservationId":"r","type":"SPAN","startTime":"2026-11-27T10:00:01.000Z","endTime":"2026-11-27T10:00:02.000Z"}]}
{"id":"t2","timestamp":"2026-11-27T10:00:00.000Z","name":"y","observations":[{"id":"b","traceId":"t2","parentObservationId":null,"type":"SPAN","startTime":"2026-11-27T10:00:01.000Z","endTime":"2026-11-27T10:00:02.000Z"}]}
{"id":"t3","timestamp":"2026-11-27T10:01:00.000Z","name":"z","observations":[{"id":"c","traceId":"t3","parentObservationId":"q","type":"SPAN","startTime":"2026-11-27T10:01:01.000Z","endTime":null}]}
J
cat >"$T/root.json" <<'J'
{"id":"t1","timestamp":"2026-11-27T10:00:00.000Z","name":"x","output":"done","observations":[{"id":"r","traceId":"t1","parentObservationId":null,"type":"SPAN","startTime":"2026-11-27T10:00:00.000Z","endTime":"2026-11-27T10:00:09.000Z"}]}
J
expect_status no-store-empty 0 S incomplete
expect_eq no-store-output "" "$(cat "$T/out")"
export LG_NOW=2026-11-27T10:05:00Z
lg-map --integration prod <"$T/frag.json" >"$T/m.json"
expect_eq map-marks '["t1",["no-root","orphan-spans"]] ["t2",null] ["t3",["no-root","orphan-spans","open-spans"]]' \
	"$(jq -c '[.externalId, .incomplete]' "$T/m.json" | tr '\n' ' ' | sed 's/ $//')"
S put <"$T/m.json" 2>/dev/null
expect_status list 0 S incomplete
expect_eq list-lines '{"integration":"prod","externalId":"t1","since":"2026-11-27T10:00:00.000Z","firstSeen":"2026-11-27T10:05:00.000Z","tries":0,"lastTry":null,"gaveUp":false,"reasons":["no-root","orphan-spans"]}
{"integration":"prod","externalId":"t3","since":"2026-11-27T10:01:00.000Z","firstSeen":"2026-11-27T10:05:00.000Z","tries":0,"lastTry":null,"gaveUp":false,"reasons":["no-root","orphan-spans","open-spans"]}' "$(cat "$T/out")"
expect_eq list-limit 1 "$(S incomplete prod --limit 1 | wc -l)"
expect_eq list-other-integration "" "$(S incomplete staging)"
expect_eq status-count '{"pending":2,"gaveUp":0}' "$(S status prod | jq -c .data.incomplete)"
# due: first 5 minutes after first seen (the trace's age then, at least 5m)
expect_eq due-not-yet "" "$(S incomplete prod --due)"
# --settle: none that started less than that ago (11 and 10 minutes here)
expect_eq due-settle-not-yet "" "$(LG_NOW=2026-11-27T10:11:00Z S incomplete prod --due --settle 11m30s)"
expect_eq due-after-wait "t1 t3" "$(LG_NOW=2026-11-27T10:11:00Z S incomplete prod --due | tr '\n' ' ' | sed 's/ $//')"
expect_eq due-claimed "1 2026-11-27T10:11:00.000Z" "$(S incomplete prod --limit 1 | jq -r '"\(.tries) \(.lastTry)"')"
expect_eq due-limit "t1" "$(LG_NOW=2026-11-27T10:30:00Z S incomplete prod --due --limit 1)"
# a merge that brings the root makes t1 whole: out of the index
lg-map --integration prod <"$T/root.json" | S put 2>/dev/null
expect_eq whole-removed "t3" "$(S incomplete | jq -r .externalId)"
expect_eq whole-record "null done" "$(S get t1 | jq -r '"\(.incomplete) \(.output)"')"
# past the horizon: given up, still stored and listed, counted apart
expect_eq horizon-gives-up "" "$(LG_NOW=2026-11-27T12:00:00Z S incomplete prod --due --horizon 1h)"
expect_eq gave-up-listed "t3 true" "$(S incomplete | jq -r '"\(.externalId) \(.gaveUp)"')"
expect_eq gave-up-status '{"pending":0,"gaveUp":1}' "$(S status prod | jq -c .data.incomplete)"
expect_eq gave-up-still-stored t3 "$(S get t3 | jq -r .externalId)"
expect_eq gave-up-not-due "" "$(LG_NOW=2026-11-28T12:00:00Z S incomplete prod --due)"
expect_status check-ok 0 S check
expect_status bad-limit 2 S incomplete --limit 0
expect_status bad-horizon 2 S incomplete --due --horizon soon
expect_status bad-settle 2 S incomplete --due --settle later
expect_status full-disk 6 sh -c "lg-store --db '$DB' incomplete >/dev/full"
