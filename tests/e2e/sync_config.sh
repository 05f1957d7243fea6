# lg-sync's config under concurrency and with a bad entry: parallel add and
# remove never lose each other's change (one lock, atomic writes), a
# duplicate id is refused under the lock, and an invalid integration is
# reported and skipped while the others run, list, show status and test.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/cfg/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST LG_NOW

ids() { jq -r '[.integrations[].id] | sort | join(" ")' "$LG_CONFIG"; }
seq_ids() { for i in $(seq "$2" "$3"); do printf '%s%02d ' "$1" "$i"; done | sed 's/ $//'; }

# 1. 20 parallel adds: 20 entries, each once, the file private and valid.
for i in $(seq 1 20); do
	printf 'sk-lf-secret-%02d-abcd\n' "$i" | lg-sync add "$(printf 'int%02d' "$i")" --public-key pk-lf-x \
		--host http://127.0.0.1:9 >"$T/add.$i.out" 2>"$T/add.$i.err" &
done
wait
expect_eq parallel-add-all-there "$(seq_ids int 1 20)" "$(ids)"
expect_eq parallel-add-mode 600 "$(stat -c %a "$LG_CONFIG")"
expect_eq parallel-add-secrets-kept "sk-lf-secret-07-abcd" "$(jq -r '.integrations[] | select(.id == "int07") | .secretKey' "$LG_CONFIG")"
expect_eq parallel-add-no-temp-left "" "$(find "$T/cfg" -name '.config.json.*')"

# 2. 10 removes and 10 adds at once: exactly the expected set.
for i in $(seq 1 10); do
	lg-sync remove "$(printf 'int%02d' "$i")" >/dev/null 2>"$T/rm.$i.err" &
	printf 'sk-lf-new-secret-%02d\n' "$i" | lg-sync add "$(printf 'new%02d' "$i")" --public-key pk-lf-x \
		--host http://127.0.0.1:9 >/dev/null 2>"$T/new.$i.err" &
done
wait
expect_eq parallel-add-remove "$(seq_ids int 11 20) $(seq_ids new 1 10)" "$(ids)"

# 3. The same id added 10 times at once: one wins, nine are refused.
for i in $(seq 1 10); do
	(printf 'sk-lf-dup-secret-0001\n' | lg-sync add dup --public-key pk-lf-x --host http://127.0.0.1:9 \
		>/dev/null 2>"$T/dup.$i.err"; echo $? >"$T/dup.$i.rc") &
done
wait
expect_eq duplicate-one-entry 1 "$(jq '[.integrations[] | select(.id == "dup")] | length' "$LG_CONFIG")"
expect_eq duplicate-one-winner "0 1 2 9" "$(cat "$T"/dup.*.rc | sort | uniq -c | awk '{print $2, $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq duplicate-refusal-text 9 "$(grep -l "lg-sync: add: integration 'dup' exists (lg-sync remove dup first)" "$T"/dup.*.err | wc -l)"

# 4. A bad entry among good ones: reported and skipped, never blocking.
# Two projects (a trace id belongs to one integration in the store).
python3 "$ROOT/tests/server/gen_dataset.py" --traces 5 --seed 3 --out "$T/ds1.json" --end 2026-11-27T09:30:00Z --span 1h
python3 "$ROOT/tests/server/gen_dataset.py" --traces 5 --seed 4 --out "$T/ds2.json" --end 2026-11-27T09:30:00Z --span 1h
start_server --dataset "$T/ds2.json" --public-key pk-lf-g --secret-key sk-lf-good-secret-0001 || exit 1
URL2=$SERVER_URL PID2=$SERVER_PID
start_server --dataset "$T/ds1.json" --public-key pk-lf-g --secret-key sk-lf-good-secret-0001 || exit 1
trap 'stop_server; kill "$PID2" 2>/dev/null' EXIT
umask 077
jq -n --arg h "$SERVER_URL" --arg h2 "$URL2" '{integrations: [
	{id: "good1", publicKey: "pk-lf-g", secretKey: "sk-lf-good-secret-0001", host: $h},
	{id: "bad", publicKey: "pk-lf-g", secretKey: "sk-lf-good-secret-0001", host: "ftp://nowhere"},
	{id: "good2", publicKey: "pk-lf-g", secretKey: "sk-lf-good-secret-0001", host: $h2, batchSize: 10}]}' >"$LG_CONFIG"
BAD_MSG="lg-sync: config: $LG_CONFIG: integrations[1].host: ftp://nowhere: scheme required (http:// or https://) (integration skipped)"
LG_NOW=2026-11-27T10:00:00Z expect_status bad-entry-run 2 lg-sync run
expect_contains bad-entry-run-reported "$T/err" "$BAD_MSG"
expect_contains bad-entry-good1-ran "$T/err" "lg-sync: good1: completed: 5 traces fetched, 5 new"
expect_contains bad-entry-good2-ran "$T/err" "lg-sync: good2: completed: 5 traces fetched, 5 new"
LG_NOW=2026-11-27T10:00:00Z expect_status bad-entry-run-one 0 lg-sync run good2 --quiet
expect_eq bad-entry-run-one-silent "" "$(cat "$T/err" | grep -v '(integration skipped)')"
expect_status bad-entry-run-named 2 lg-sync run bad
expect_contains bad-entry-run-named-text "$T/err" "$BAD_MSG"
expect_status bad-entry-status-good 0 lg-sync status good1
expect_eq bad-entry-status-good-json completed "$(jq -r .data.lastSync.status "$T/out")"
expect_status bad-entry-status-all 2 lg-sync status
expect_eq bad-entry-status-all-ids "good1 good2" "$(jq -r .data.integration "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect_status bad-entry-fetch-good 0 lg-fetch --integration good1 --test
expect_status bad-entry-fetch-bad 2 lg-fetch --integration bad --test
expect_eq bad-entry-fetch-bad-text "lg-fetch: $LG_CONFIG: integrations[1].host: ftp://nowhere: scheme required (http:// or https://)" "$(cat "$T/err")"
expect_status bad-entry-list 0 lg-sync list
expect_eq bad-entry-list-rows "good1 bad good2" "$(awk 'NR > 1 {print $1}' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect_status bad-entry-remove 0 lg-sync remove bad
expect_eq bad-entry-removed "good1 good2" "$(jq -r '[.integrations[].id] | join(" ")' "$LG_CONFIG")"
LG_NOW=2026-11-27T10:05:00Z expect_status bad-entry-gone 0 lg-sync run --quiet
# add refuses what the loader would refuse (a batch size it cannot load).
expect_status add-refuses-unloadable 2 sh -c 'echo sk-lf-x-secret-1234 | lg-sync add big --public-key pk-lf-x --batch-size 5000'
expect_eq add-refuses-unloadable-file "good1 good2" "$(jq -r '[.integrations[].id] | join(" ")' "$LG_CONFIG")"

# 5. The daemon: a bad entry written into the config while it runs is said
# once and skipped; the good integrations go on running every cycle.
jq '.integrations |= map(. + {autoSync: true, interval: "1s"})' "$LG_CONFIG" >"$T/cfg.new" && mv "$T/cfg.new" "$LG_CONFIG"
lg-sync daemon >"$T/daemon.log" 2>"$T/daemon.err" &
DPID=$!
trap 'stop_server; kill "$PID2" 2>/dev/null; kill "$DPID" 2>/dev/null' EXIT
# wait_runs ID N: until the daemon log has N completed runs of ID (180 s at
# most: a run of five stages under valgrind takes seconds)
wait_runs() {
	_i=0
	while [ "$(grep -c " $1 completed: " "$T/daemon.log")" -lt "$2" ] && [ $_i -lt 1800 ]; do sleep 0.1; _i=$((_i + 1)); done
}
wait_runs good1 1
jq '.integrations += [{id: "bad2", publicKey: "pk-lf-g", secretKey: "sk-lf-good-secret-0001",
	host: "http://127.0.0.1:9", batchSize: "many", autoSync: true, interval: "1s"}]' "$LG_CONFIG" >"$T/cfg.new" &&
	mv "$T/cfg.new" "$LG_CONFIG"
before1=$(grep -c ' good1 completed: ' "$T/daemon.log") before2=$(grep -c ' good2 completed: ' "$T/daemon.log")
wait_runs good1 $((before1 + 3))
wait_runs good2 $((before2 + 3))
kill -TERM "$DPID"
wait "$DPID"
expect_eq daemon-bad-entry-exit 0 "$?"
expect_eq daemon-bad-entry-good1-runs 1 "$([ "$(grep -c ' good1 completed: ' "$T/daemon.log")" -ge $((before1 + 3)) ] && echo 1)"
expect_eq daemon-bad-entry-good2-runs 1 "$([ "$(grep -c ' good2 completed: ' "$T/daemon.log")" -ge $((before2 + 3)) ] && echo 1)"
expect_eq daemon-bad-entry-said-once 1 "$(grep -c 'integrations\[2\].batchSize.*(integration skipped)$' "$T/daemon.err")"
expect_not_contains daemon-bad-entry-not-run "$T/daemon.log" " bad2 "
