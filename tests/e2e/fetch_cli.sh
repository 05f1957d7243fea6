# lg-fetch's command line: help, usage errors, --test, secrets, output errors,
# and an incremental run that picks up new and late rows.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/e2e/fetch_lib.bash"
gen 60 3 "$T/ds.json"

expect_status "--help" 0 lg-fetch --help
expect_contains "--help text" "$T/out" "Usage: lg-fetch [OPTION]..."
expect_status "--version" 0 lg-fetch --version
expect_eq "--version text" "lg-fetch 0.1.0" "$(cat "$T/out")"
expect_status "unknown option" 2 lg-fetch --bogus
expect_eq "unknown option text" "lg-fetch: unknown option '--bogus'
Try 'lg-fetch --help'" "$(cat "$T/err")"
expect_status "bad --api" 2 lg-fetch --api v9
expect_status "bad --since" 2 lg-fetch --since yesterday
expect_contains "bad --since text" "$T/err" "--since: 'yesterday' is not an ISO 8601 time"
expect_status "--host without scheme" 2 lg-fetch --host cloud.langfuse.com --test
expect_contains "--host without scheme text" "$T/err" "scheme required"
expect_status "no secret option exists" 2 lg-fetch --secret-key sk-lf-x
expect_status "no credentials" 2 env -u LANGFUSE_PUBLIC_KEY -u LANGFUSE_SECRET_KEY lg-fetch --test
expect_contains "no credentials text" "$T/err" "no integration"

start_server --dataset "$T/ds.json" || exit 1
# --test: good keys, bad keys, wrong host
LANGFUSE_HOST="$SERVER_URL/" expect_status "--test ok" 0 lg-fetch --test
expect_eq "--test output" "Connection successful
Project: lg-test-project (cm0lgtestproject000000001)
Host: $SERVER_URL
API: v2 observations" "$(cat "$T/out")"
LANGFUSE_HOST="$SERVER_URL" LANGFUSE_SECRET_KEY=sk-lf-wrong expect_status "--test bad keys" 3 lg-fetch --test
expect_contains "--test bad keys message" "$T/err" "lg-fetch: Authentication failed: Invalid API credentials"
expect_contains "--test bad keys hint prefixes" "$T/err" "hint: the public key starts with pk-lf-, the secret key with sk-lf-"
expect_contains "--test bad keys hint region" "$T/err" "https://us.cloud.langfuse.com"
LANGFUSE_HOST="$SERVER_URL" LANGFUSE_PUBLIC_KEY=wrong expect_status "--test key prefix warning" 3 lg-fetch --test
expect_contains "--test key prefix warning text" "$T/err" "warning: the public key does not start with pk-lf-"
LANGFUSE_HOST="http://127.0.0.1:1" expect_status "--test wrong host" 4 lg-fetch --test --retries 2
expect_contains "--test wrong host names it" "$T/err" "http://127.0.0.1:1"
LANGFUSE_HOST="http://no-such-host.invalid" expect_status "--test unknown host" 4 lg-fetch --test
expect_contains "--test unknown host: curl's words" "$T/err" "no-such-host.invalid"

# a fetch with bad keys: exit 3 and a failed run-end
fetch_bad() { LANGFUSE_SECRET_KEY=sk-lf-wrong fetch; }
fetch_bad
expect_eq "bad keys: exit 3" "3" "$FETCH_STATUS"
expect_eq "bad keys: run-start then failed run-end" "run-start run-end failed 3" \
	"$(jq -r '[."$lg", .status, .exitCode] | map(select(. != null)) | join(" ")' "$T/out" | tr '\n' ' ' | sed 's/ $//')"

# the secret never shows: stdout, stderr (verbose), ps
SECRET=sk-lf-Sup3rSecretValue-77a1
stop_server
start_server --dataset "$T/ds.json" --secret-key "$SECRET" --fault-slow-ms 1500 --fault-slow-every 2 || exit 1
LANGFUSE_SECRET_KEY=$SECRET LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" -v \
	--batch-size 20 >"$T/s.out" 2>"$T/s.err" &
pid=$!
sleep 1
ps -eo args | grep 'lg-fetch' >"$T/ps"
wait $pid
expect_eq "secret run: exit 0" "0" "$?"
expect_eq "secret run: all traces" "60" "$(grep -vc '"\$lg"' "$T/s.out")"
expect_contains "secret run: verbose shows the masked key" "$T/s.err" "secret key sk-lf-…77a1"
expect_contains "secret run: ps saw lg-fetch" "$T/ps" "lg-fetch --since"
for f in s.out s.err ps; do expect_not_contains "secret not in $f" "$T/$f" "Sup3rSecret"; done
# --secret-key-file: refused when group-readable, used when private
printf '%s\n' "$SECRET" >"$T/sk"
chmod 640 "$T/sk"
LANGFUSE_HOST="$SERVER_URL" expect_status "secret file readable by group" 2 lg-fetch --secret-key-file "$T/sk" --test
expect_contains "secret file readable by group text" "$T/err" "readable by group or others (chmod 600"
chmod 600 "$T/sk"
LANGFUSE_HOST="$SERVER_URL" expect_status "secret file" 0 lg-fetch --secret-key-file "$T/sk" --test
stop_server

# config file wins over the environment; --integration picks; errors name file and field
mkdir -p "$XDG_CONFIG_HOME/langguard"
start_server --dataset "$T/ds.json" || exit 1
cat >"$XDG_CONFIG_HOME/langguard/config.json" <<JSON
{"integrations":[{"id":"prod","publicKey":"pk-lf-test","secretKeyEnv":"PROD_SK","host":"$SERVER_URL/"},
 {"id":"other","publicKey":"pk-lf-x","secretKey":"sk-lf-inline-000000","host":"http://127.0.0.1:1"}]}
JSON
chmod 644 "$XDG_CONFIG_HOME/langguard/config.json"
PROD_SK=sk-lf-test expect_status "config with inline secret world-readable" 2 lg-fetch --test -i prod
expect_contains "config permission error names the file" "$T/err" "$XDG_CONFIG_HOME/langguard/config.json: holds secretKey but is readable by group or others"
chmod 600 "$XDG_CONFIG_HOME/langguard/config.json"
PROD_SK=sk-lf-test LANGFUSE_SECRET_KEY=sk-lf-env-wrong expect_status "config wins over env" 0 lg-fetch --test -i prod
expect_status "config: several integrations need -i" 2 lg-fetch --test
expect_status "config: unknown id" 2 lg-fetch --test -i nope
expect_status "config: secretKeyEnv unset" 2 lg-fetch --test -i prod
expect_contains "config: secretKeyEnv unset names the field" "$T/err" "integrations[0].secretKeyEnv: variable PROD_SK is not set"
PROD_SK=x expect_status "--list-integrations" 0 lg-fetch --list-integrations
expect_eq "--list-integrations masks secrets" "prod $SERVER_URL sk-lf-…0000" \
	"$(head -1 "$T/out" | jq -r '[.id, .host] | join(" ")') $(sed -n 2p "$T/out" | jq -r .secretKey)"
# a host with ':' and no port is a configuration error, not port 80
printf '%s\n' '{"integrations":[{"id":"prod","publicKey":"pk-lf-test","secretKey":"sk-lf-test","host":"http://127.0.0.1:"}]}' \
	>"$XDG_CONFIG_HOME/langguard/config.json"
expect_status "config: host with an empty port" 2 lg-fetch --since "$SINCE" --until "$END" -i prod
expect_eq "config: empty port names the file and field" \
	"lg-fetch: $XDG_CONFIG_HOME/langguard/config.json: integrations[0].host: http://127.0.0.1:: port missing after ':'" "$(cat "$T/err")"
expect_eq "config: empty port, nothing on stdout" "" "$(cat "$T/out")"
rm "$XDG_CONFIG_HOME/langguard/config.json"
expect_status "--host with an empty port" 2 lg-fetch --test --host "http://127.0.0.1:/lf"
expect_eq "--host empty port message" "lg-fetch: --host: http://127.0.0.1:/lf: port missing after ':'" "$(head -n1 "$T/err")"

# --progress: a line on stderr rewritten in place (\r), ended by a newline,
# its last state the run's totals; --quiet silences it.
LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" --max-rows 20 --progress >"$T/out" 2>"$T/err"
expect_eq "--progress: exit 0" "0" "$?"
end=$(grep '"run-end"' "$T/out")
final=$(tr '\r' '\n' <"$T/err" | grep -v '^$' | tail -1)
expect_eq "--progress: last state has the run's traces and requests" "yes" \
	"$(case "$final" in *"traces $(jq .traces <<<"$end"), "*"requests $(jq .requests <<<"$end"), "*) echo yes ;; *) echo "no: [$final]" ;; esac)"
expect_eq "--progress: ends with a newline" "yes" "$([ "$(tail -c1 "$T/err" | od -An -c | tr -d ' ')" = '\n' ] && echo yes)"
expect_eq "--progress: rewritten in place" "yes" "$([ "$(tr -cd '\r' <"$T/err" | wc -c)" -ge 2 ] && echo yes)"
LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" --progress --quiet >"$T/out" 2>"$T/err"
expect_eq "--progress --quiet: nothing on stderr" "0 " "$? $(cat "$T/err")"
stop_server

# --rate 120: at most one request per 500 ms, seen from the server. The
# server stamps a request when its thread gets to it, so on a loaded machine
# one gap can look shorter by the delay of the stamp before it; the span
# from the first request to the last cannot, so the mean gap is checked.
start_server --dataset "$T/ds.json" --log "$T/log" || exit 1
LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" --max-rows 20 --batch-size 20 --rate 120 \
	>"$T/out" 2>"$T/err"
expect_eq "--rate: exit 0, all traces" "0 60" "$? $(grep -v '"\$lg"' "$T/out" | jq -r .id | sort -u | wc -l)"
expect_eq "--rate: requests 0.5 s apart on average" "ok" "$(jq -rs '[.[] | select(.path | test("observations|traces")) | .at]
	| if length < 3 then "only \(length) requests" else
	  ((.[-1] - .[0]) / (length - 1)) as $g | if $g >= 0.49 then "ok" else "mean gap \($g)" end end' "$T/log")"
expect_eq "--rate: throttled time reported" "yes" "$(grep '"run-end"' "$T/out" | jq -r 'if .throttledSeconds > 0 then "yes" else "no" end')"
rm -f "$T/log"; stop_server
start_server --dataset "$T/ds.json" || exit 1

# output errors: /dev/full, | head -n1
LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" >/dev/full 2>"$T/err"
expect_eq "/dev/full: exit 6" "6" "$?"
expect_contains "/dev/full: write error" "$T/err" "write error"
rm -f "$T/log"; stop_server
start_server --dataset "$T/ds.json" --log "$T/log" || exit 1
LANGFUSE_HOST="$SERVER_URL" lg-fetch --since "$SINCE" --until "$END" --max-rows 20 2>"$T/err" | head -n1 >"$T/out"
expect_eq "head -n1: exit 0 quietly" "0 " "${PIPESTATUS[0]} $(cat "$T/err")"
expect_eq "head -n1: the run-start line" "run-start" "$(jq -r '."$lg"' "$T/out")"
expect_eq "head -n1: stopped paging early" "yes" "$([ "$(grep -c v2/observations "$T/log")" -lt 6 ] && echo yes)"
stop_server

# incremental: a checkpoint, then new rows and late rows; the next run from
# the cursor, once the late rows are an overlap old, emits them
gen 80 21 "$T/inc.json" --late-fraction 0.2
start_server --dataset "$T/inc.json" --late-after 3 || exit 1
LG_NOW=$END LANGFUSE_HOST="$SERVER_URL" lg-fetch >"$T/run1" 2>"$T/err"
expect_eq "incremental run 1: exit 0" "0" "$?"
cursor=$(grep '"checkpoint"' "$T/run1" | tail -1 | jq -r .cursor)
expect_eq "incremental run 1: cursor at its end" "2026-11-27T00:00:00.000Z" "$cursor"
expect_eq "incremental run 1: late traces missing" "yes" \
	"$([ "$(grep -vc '"\$lg"' "$T/run1")" -lt 80 ] && echo yes)"
python3 "$ROOT/tests/server/gen_dataset.py" --traces 20 --seed 22 --out "$T/new.json" --end 2026-11-27T00:30:00Z --span 25m >/dev/null
jq -s '.[0].traces += .[1].traces | .[0].observations += .[1].observations | .[0]' "$T/inc.json" "$T/new.json" >"$T/all.json.tmp"
mv "$T/all.json.tmp" "$T/inc.json"
sleep 1.1
LG_NOW=2026-11-27T03:10:00Z LANGFUSE_HOST="$SERVER_URL" lg-fetch --cursor "$cursor" --overlap 3h >"$T/run2" 2>"$T/err"
expect_eq "incremental run 2: exit 0, mode incremental" "0 incremental" "$? $(head -1 "$T/run2" | jq -r .mode)"
jq -r '.traces[].id' "$T/inc.json" | sort >"$T/want"
grep -vh '"\$lg"' "$T/run2" | jq -r .id | sort -u >"$T/got"
expect_eq "incremental run 2: every trace incl. new and late" "$(cat "$T/want")" "$(cat "$T/got")"
stop_server
