# lg-sync's command line and config file: help, usage errors, add/list/remove,
# secrets never echoed nor in argv, file modes, status without a store, test.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/cfg/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST

expect_status help 0 lg-sync --help
expect_contains help-usage "$T/out" "Usage: lg-sync"
for c in add list remove test run status daemon; do
	expect_contains "help-$c" "$T/out" "  $c "
done
expect_status version 0 lg-sync --version
expect_eq version-text "lg-sync 0.1.0" "$(cat "$T/out")"
expect_status bogus 2 lg-sync --bogus
expect_eq bogus-text "lg-sync: unknown option '--bogus'
Try 'lg-sync --help'" "$(cat "$T/err")"
expect_status bogus-run 2 lg-sync run --bogus
expect_eq bogus-run-text "lg-sync: unknown option '--bogus'" "$(head -n1 "$T/err")"
expect_status no-command 2 lg-sync
expect_status bad-command 2 lg-sync frobnicate
expect_eq bad-command-text "lg-sync: unknown command 'frobnicate'" "$(head -n1 "$T/err")"
expect_status bad-mode 2 lg-sync run --mode sideways
expect_status bad-limit 2 lg-sync run --limit -3
expect_status until-alone 2 lg-sync run --until 2026-11-01T00:00:00Z

# Nothing configured: run, status and test say so (exit 2).
expect_status nothing-run 2 lg-sync run
expect_eq nothing-run-text "lg-sync: no integration configured (lg-sync add, or set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)" "$(cat "$T/err")"
expect_status nothing-status 2 lg-sync status

# add: secret from stdin, written 0600 in a 0700 directory.
printf 'sk-lf-11111111-2222-3333-4444-5555aaaa\n' >"$T/secret.in"
expect_status add-prod 0 lg-sync add prod --name "Production Langfuse" --public-key pk-lf-prod --host https://cloud.langfuse.com/ <"$T/secret.in"
expect_eq add-prod-mode 600 "$(stat -c %a "$LG_CONFIG")"
expect_eq add-dir-mode 700 "$(stat -c %a "$T/cfg")"
expect_eq add-prod-json '{"id":"prod","name":"Production Langfuse","publicKey":"pk-lf-prod","secretKey":"sk-lf-11111111-2222-3333-4444-5555aaaa","host":"https://cloud.langfuse.com","autoSync":true,"interval":"5m","lookback":"7d"}' \
	"$(jq -c '.integrations[0]' "$LG_CONFIG")"
expect_not_contains add-prod-no-echo "$T/err" "5555aaaa"
printf 'sk-lf-from-a-file-9876\n' >"$T/key"
chmod 644 "$T/key"
expect_status add-keyfile-open 2 lg-sync add staging --public-key pk-lf-stg --secret-key-file "$T/key"
expect_eq add-keyfile-open-text "lg-sync: add: $T/key is readable by others (chmod 600 $T/key)" "$(cat "$T/err")"
chmod 600 "$T/key"
expect_status add-staging 0 lg-sync add staging --public-key pk-lf-stg --host http://127.0.0.1:1 --interval 1m --lookback 2d --batch-size 50 --no-auto-sync --secret-key-file "$T/key" </dev/null
expect_eq add-staging-json "{\"id\":\"staging\",\"name\":\"staging\",\"publicKey\":\"pk-lf-stg\",\"secretKeyFile\":\"$T/key\",\"host\":\"http://127.0.0.1:1\",\"autoSync\":false,\"interval\":\"1m\",\"lookback\":\"2d\",\"batchSize\":50}" \
	"$(jq -c '.integrations[1]' "$LG_CONFIG")"
expect_status add-duplicate 2 lg-sync add prod --public-key pk-lf-x <"$T/secret.in"
expect_eq add-duplicate-text "lg-sync: add: integration 'prod' exists (lg-sync remove prod first)" "$(cat "$T/err")"
expect_status add-secret-argv 2 lg-sync add x --public-key pk-lf-x --secret-key sk-lf-nope
expect_status add-no-secret 2 lg-sync add x --public-key pk-lf-x </dev/null
expect_status add-no-scheme 2 lg-sync add x --public-key pk-lf-x --host cloud.langfuse.com <"$T/secret.in"
expect_status add-empty-port 2 lg-sync add x --public-key pk-lf-x --host http://127.0.0.1: <"$T/secret.in"
expect_contains add-empty-port-text "$T/err" "lg-sync: add: --host 'http://127.0.0.1:': port missing after ':'"
expect_status add-bad-interval 2 lg-sync add x --public-key pk-lf-x --interval soon <"$T/secret.in"
expect_status add-bad-id 2 lg-sync add "a b" --public-key pk-lf-x <"$T/secret.in"
expect_status add-no-pk 2 lg-sync add x <"$T/secret.in"
expect_eq add-failures-left-file 2 "$(jq '.integrations | length' "$LG_CONFIG")"

# list: masked like lg_mask_secret; --json is the file with secrets masked.
expect_status list 0 lg-sync list
expect_eq list-table "ID               NAME                     HOST                               AUTO  INTERVAL SECRET
prod             Production Langfuse      https://cloud.langfuse.com         yes   5m       sk-lf-…aaaa
staging          staging                  http://127.0.0.1:1                 no    1m       file:$T/key" "$(cat "$T/out")"
expect_not_contains list-masked "$T/out" "5555aaaa"
expect_status list-json 0 lg-sync list --json
expect_eq list-json-secret '"sk-lf-…aaaa"' "$(head -n1 "$T/out" | jq -c .secretKey)"

# status before any sync: no store needed, schedule from autoSync.
expect_status status-empty 0 lg-sync status
expect_eq status-empty-json '{"success":true,"data":{"integration":"prod","isActive":false,"hasSchedule":true,"lastSync":null,"incomplete":{"pending":0,"gaveUp":0}}}
{"success":true,"data":{"integration":"staging","isActive":false,"hasSchedule":false,"lastSync":null,"incomplete":{"pending":0,"gaveUp":0}}}' "$(cat "$T/out")"
expect_status status-unknown 2 lg-sync status nope
expect_eq status-unknown-text "lg-sync: unknown integration 'nope'" "$(cat "$T/err")"

# A secret-holding config readable by others is refused, like ssh.
chmod 644 "$LG_CONFIG"
expect_status perms-refused 2 lg-sync list
# The wording of common/config.c, the same for every tool that reads the file.
expect_eq perms-refused-text "lg-sync: config: $LG_CONFIG: holds secretKey but is readable by group or others (chmod 600 $LG_CONFIG)" "$(cat "$T/err")"
chmod 600 "$LG_CONFIG"
printf 'not json' >"$T/bad.json"; chmod 600 "$T/bad.json"
expect_status config-not-json 2 lg-sync --config "$T/bad.json" list

# remove keeps the other integration.
expect_status remove 0 lg-sync remove staging
expect_eq remove-left prod "$(jq -r '[.integrations[].id] | join(",")' "$LG_CONFIG")"
expect_status remove-unknown 2 lg-sync remove staging

# No file: the LANGFUSE_* environment is integration "default".
expect_status env-list 0 env LG_CONFIG="$T/none.json" LANGFUSE_PUBLIC_KEY=pk-lf-env LANGFUSE_SECRET_KEY=sk-lf-env-secret-77 LANGFUSE_HOST=http://127.0.0.1:9 lg-sync list --json
expect_eq env-list-json '{"id":"default","name":"LANGFUSE_* environment","publicKey":"pk-lf-env","secretKeyEnv":"LANGFUSE_SECRET_KEY","host":"http://127.0.0.1:9"}' "$(cat "$T/out")"

# test ID runs lg-fetch --test against the configured host.
python3 "$ROOT/tests/server/gen_dataset.py" --traces 3 --seed 1 --out "$T/ds.json" --end 2026-11-27T10:00:00Z --span 1h
start_server --dataset "$T/ds.json" --public-key pk-lf-t --secret-key sk-lf-test-secret-1234 || exit 1
printf 'sk-lf-test-secret-1234\n' | lg-sync add local --public-key pk-lf-t --host "$SERVER_URL" >/dev/null 2>&1
expect_status test-ok 0 lg-sync test local
printf 'sk-lf-wrong-secret-0000\n' | lg-sync add wrong --public-key pk-lf-t --host "$SERVER_URL" >/dev/null 2>&1
expect_status test-bad-keys 3 lg-sync test wrong
expect_not_contains test-bad-keys-masked "$T/err" "sk-lf-wrong-secret-0000"
stop_server
