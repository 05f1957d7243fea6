# lg-sync run failing: bad keys (status failed with the reason, cursor
# unchanged), unreachable host, a later stage failing (pipefail), and a
# concurrent second run refused by the lock.
. "$ROOT/tests/lib.sh"
export LG_CONFIG="$T/config.json" LG_DB="$T/db"
unset LANGFUSE_PUBLIC_KEY LANGFUSE_SECRET_KEY LANGFUSE_HOST
SECRET=sk-lf-good-secret-0000-4242
last_sync() { lg-sync status "$1" | jq -rc "$2"; }
config() { # host secret
	jq -n --arg h "$1" --arg k "$2" '{integrations: [{id: "prod", name: "Production", publicKey: "pk-lf-prod",
		secretKey: $k, host: $h, autoSync: true, interval: "5m", lookback: "7d"}]}' >"$LG_CONFIG.new"
	chmod 600 "$LG_CONFIG.new" && mv "$LG_CONFIG.new" "$LG_CONFIG"
}

python3 "$ROOT/tests/server/gen_dataset.py" --traces 30 --seed 31 --out "$T/ds.json" --end 2026-11-27T09:30:00Z --span 3h
start_server --dataset "$T/ds.json" --public-key pk-lf-prod --secret-key "$SECRET" || exit 1
trap 'stop_server' EXIT
config "$SERVER_URL" "$SECRET"
LG_NOW=2026-11-27T10:00:00Z expect_status good-run 0 lg-sync run prod
C1=$(lg-store --db "$LG_DB" cursor prod)
expect_eq good-run-cursor-set 1 "$([ -n "$C1" ] && echo 1)"

# 1. Bad keys: exit 3 (lg-fetch's), its message, status failed with the
#    reason, cursor unchanged, the secret never shown.
config "$SERVER_URL" sk-lf-wrong-secret-9999-abcd
LG_NOW=2026-11-27T11:00:00Z expect_status bad-keys 3 lg-sync run prod
expect_contains bad-keys-stage-message "$T/err" "lg-fetch: "
expect_contains bad-keys-summary "$T/err" "lg-sync: prod: failed (exit 3): lg-fetch: Authentication failed: "
expect_not_contains bad-keys-no-secret "$T/err" "wrong-secret-9999"
expect_eq bad-keys-status failed "$(last_sync prod '.data.lastSync.status')"
ERR=$(last_sync prod '.data.lastSync.error')
case $ERR in lg-fetch:* | *401* | *uth*) pass bad-keys-reason ;; *) fail bad-keys-reason "error [$ERR]" ;; esac
lg-sync status prod >"$T/status.json"
expect_not_contains bad-keys-status-no-secret "$T/status.json" "wrong-secret-9999"
expect_eq bad-keys-cursor "$C1" "$(lg-store --db "$LG_DB" cursor prod)"

# 2. Nothing listening: exit 4 (network), recorded, cursor unchanged.
config http://127.0.0.1:9 "$SECRET"
LG_RETRY_BASE_MS=1 LG_NOW=2026-11-27T11:05:00Z expect_status no-server 4 lg-sync run prod
expect_eq no-server-status failed "$(last_sync prod '.data.lastSync.status')"
expect_eq no-server-cursor "$C1" "$(lg-store --db "$LG_DB" cursor prod)"

# 3. A later stage failing fails the run with its status and message: a copy
#    of lg-sync next to a broken lg-detect (the tools beside lg-sync win).
config "$SERVER_URL" "$SECRET"
mkdir -p "$T/bin"
copy_tool lg-sync "$T/bin"
for t in lg-fetch lg-map lg-policy lg-store; do ln -s "$BIN/$t" "$T/bin/$t"; done
printf '#!/bin/sh\nhead -c 100 >/dev/null\necho "lg-detect: rules: broken on purpose" >&2\nexit 2\n' >"$T/bin/lg-detect"
chmod 755 "$T/bin/lg-detect"
LG_NOW=2026-11-27T11:10:00Z expect_status stage-fails 2 "$T/bin/lg-sync" run prod
expect_contains stage-fails-message "$T/err" "lg-sync: prod: failed (exit 2): lg-detect: rules: broken on purpose"
expect_eq stage-fails-status '{"status":"failed","error":"lg-detect: rules: broken on purpose"}' \
	"$(last_sync prod '.data.lastSync | {status, error}')"
expect_eq stage-fails-cursor "$C1" "$(lg-store --db "$LG_DB" cursor prod)"
# A stage starts clean: no fd of lg-sync's but 0-2 (fd 7, which lg-sync
# inherited open, is not passed on), the stop signals blocked until it sets
# its own handlers, SIGPIPE not ignored.
rm "$T/bin/lg-detect"
printf '#!/bin/sh\n[ -e /proc/$$/fd/7 ] && echo open >"%s/detect.fd7"\nwhile read -r k v; do case $k in Sig[BI]*) echo "$k $v";; esac; done </proc/$$/status >"%s/detect.sig"\nexec "%s/lg-detect" "$@"\n' \
	"$T" "$T" "$BIN" >"$T/bin/lg-detect"
chmod 755 "$T/bin/lg-detect"
LG_NOW=2026-11-27T11:11:00Z "$T/bin/lg-sync" run prod 7<"$T/ds.json" >"$T/out" 2>"$T/err"
expect_eq stage-clean-run 0 "$?"
expect_eq stage-clean-fds "" "$(cat "$T/detect.fd7" 2>/dev/null)"
expect_eq stage-clean-blocked "SigBlk: 0000000000004003" "$(grep SigBlk "$T/detect.sig")"
expect_eq stage-clean-sigpipe 0 "$(( 0x$(sed -n 's/^SigIgn: //p' "$T/detect.sig") & 0x1000 ))"
# A bad line in the middle: the good records are stored, the bad one kept
# verbatim in the stage's quarantine file, the run failed with exit 1.
rm "$T/bin/lg-detect" && ln -s "$BIN/lg-detect" "$T/bin/lg-detect"
rm "$T/bin/lg-map"
printf '#!/bin/sh\n"%s/lg-map" "$@" | sed "3s/^/garbage/"\n' "$BIN" >"$T/bin/lg-map"
chmod 755 "$T/bin/lg-map"
LG_NOW=2026-11-27T11:12:00Z expect_status bad-line 1 "$T/bin/lg-sync" run prod --since 2026-11-27T06:00:00Z --until 2026-11-27T11:00:00Z
Q="$LG_DB/quarantine/prod.lg-detect.ndjson"
expect_contains bad-line-message "$T/err" "lg-sync: prod: failed (exit 1): lg-detect: <stdin>:3: invalid JSON at byte 1: unexpected character (bad lines kept in $Q)"
expect_eq bad-line-quarantine "# <stdin>:3: invalid JSON at byte 1: unexpected character" "$(head -n1 "$Q")"
expect_eq bad-line-quarantine-mode 600 "$(stat -c %a "$Q")"
expect_eq bad-line-only-one-file "prod.lg-detect.ndjson" "$(ls "$LG_DB/quarantine")"
expect_eq bad-line-status '{"status":"failed","itemsFetched":30,"itemsIngested":29}' \
	"$(last_sync prod '.data.lastSync | {status, itemsFetched, itemsIngested}')"
expect_eq bad-line-nothing-lost 30 "$(lg-store --db "$LG_DB" count)"
LG_NOW=2026-11-27T11:15:00Z expect_status recovers 0 lg-sync run prod
expect_eq recovers-status completed "$(last_sync prod '.data.lastSync.status')"
C2=$(lg-store --db "$LG_DB" cursor prod)
if [[ $C2 > $C1 ]]; then pass recovers-cursor; else fail recovers-cursor "[$C2] not after [$C1]"; fi
stop_server

# 4. The lock: while a slow run holds it, status says isActive and a second
#    run is refused (exit 1); afterwards the lock is free again.
start_server --dataset "$T/ds.json" --public-key pk-lf-prod --secret-key "$SECRET" --fault-slow-ms 2500 --fault-slow-every 1 || exit 1
config "$SERVER_URL" "$SECRET"
LG_NOW=2026-11-27T12:00:00Z lg-sync run prod --quiet >"$T/slow.out" 2>"$T/slow.err" &
SLOW=$!
i=0
# Up to 30 s: the run shows isActive once lg-store has its run-start, which a
# loaded machine (CI, parallel builds) may take well over the 5 s once allowed.
until [ "$(last_sync prod .data.isActive)" = true ] || [ $i -ge 600 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq lock-active true "$(last_sync prod .data.isActive)"
LG_NOW=2026-11-27T12:00:00Z expect_status lock-refused 1 lg-sync run prod
expect_eq lock-refused-text "lg-sync: prod: a sync run is already in progress (lock $LG_DB/sync-prod.lock)" "$(cat "$T/err")"
wait "$SLOW"
expect_eq lock-first-run-ok "0 []" "$? [$(cat "$T/slow.err")]"
expect_eq lock-released false "$(last_sync prod .data.isActive)"
expect_eq lock-first-run-recorded completed "$(last_sync prod '.data.lastSync.status')"
