# Files lg creates in places others could reach: never through a planted
# symbolic link, 0600 whatever the umask, and never in a store or config
# directory that group or others may write to. lg-sync status says when
# the store cannot be read.
. "$ROOT/tests/lib.sh"
rec='{"externalId":"t1","timestamp":"2026-11-27T10:00:00.000Z","source":{"system":"langfuse","integration":"prod"}}'
DB="$T/db"
echo "$rec" | lg-store --db "$DB" put --summary none || fail setup "put"
echo "precious" >"$T/victim"
chmod 644 "$T/victim"

# ---- backup never writes through a link planted beside FILE ----
# The old name was FILE.tmp.<pid>: exec keeps the shell's pid, so the link
# is planted under the very name lg-store would have used.
bash -c 'ln -s "$1" "$2.tmp.$$"; exec lg-store --db "$3" backup "$2"' _ "$T/victim" "$T/b.mdb" "$DB" 2>"$T/err"
expect_eq "backup: planted link not followed" precious "$(cat "$T/victim")"
expect_eq "backup: the backup is a store" 1 "$(mkdir -p "$T/r" && cp "$T/b.mdb" "$T/r/data.mdb" && lg-store --db "$T/r" count)"
expect_eq "backup: mode 0600" 600 "$(stat -c %a "$T/b.mdb")"
ln -s "$T/victim" "$T/link.mdb"
expect_status "backup: FILE a link: replaced, not followed" 0 lg-store --db "$DB" backup "$T/link.mdb"
expect_eq "backup: the link's target untouched" precious "$(cat "$T/victim")"
expect_eq "backup: FILE is now the backup" "regular file" "$(stat -c %F "$T/link.mdb")"
expect_eq "backup: no temporary left" "" "$(ls "$T" | grep -E '^(b|link|u)\.mdb\.[A-Za-z0-9]{6}$')"
(umask 000 && lg-store --db "$DB" backup "$T/u.mdb")
expect_eq "backup: 0600 under umask 000" 600 "$(stat -c %a "$T/u.mdb")"
# a damaged store is not copied: the copy would pass for a good one
cp -r "$DB" "$T/bad"
python3 -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read(); open(p, "wb").write(b.replace(b"prod", b"prXd"))' "$T/bad/data.mdb"
expect_status "backup: damaged store exit 6" 6 lg-store --db "$T/bad" backup "$T/bad.mdb"
# (the record and its summary hold the integration)
expect_contains "backup: says so" "$T/err" "lg-store: backup: 2 damaged entries: nothing written"
expect_eq "backup: nothing written" "" "$(ls "$T" | grep '^bad\.mdb')"

# ---- quarantine files: 0600 whatever the umask, never through a link ----
printf '%s\nnot json\n' "$rec" >"$T/mixed"
(umask 277 && lg-store --db "$DB" put --quarantine "$T/q1" --summary none <"$T/mixed" 2>/dev/null)
expect_eq "quarantine: 0600 under umask 277" 600 "$(stat -c %a "$T/q1")"
(umask 000 && lg-map --quarantine "$T/q2" <"$T/mixed" >/dev/null 2>&1)
expect_eq "quarantine (lg-map): 0600 under umask 000" 600 "$(stat -c %a "$T/q2")"
echo old >"$T/q3"
chmod 666 "$T/q3"
lg-detect --quarantine "$T/q3" <"$T/mixed" >/dev/null 2>&1
expect_eq "quarantine: an existing file of ours made 0600" 600 "$(stat -c %a "$T/q3")"
ln -s "$T/victim" "$T/q4"
expect_status "quarantine: a link refused (put)" 6 lg-store --db "$DB" put --quarantine "$T/q4" <"$T/mixed"
expect_eq "quarantine: says so" "lg-store: $T/q4: a symbolic link: refused (quarantined lines are never written through a link)" "$(head -n1 "$T/err")"
expect_status "quarantine: a link refused (lg-policy)" 6 lg-policy --quarantine "$T/q4" <"$T/mixed"
expect_eq "quarantine: the link's target untouched" precious "$(cat "$T/victim")"
expect_status "quarantine: /dev/null still works" 1 lg-map --quarantine /dev/null <"$T/mixed"
expect_eq "quarantine: /dev/null left as it was" 666 "$(stat -c %a /dev/null)"

# ---- the store's own files and directory ----
cp -r "$DB" "$T/shared"
chmod 777 "$T/shared"
expect_status "store: a world-writable directory refused" 6 lg-store --db "$T/shared" count
expect_eq "store: says why" "lg-store: db: $T/shared: writable by everyone (mode 0777), who could plant links or swap files there (chmod go-w $T/shared)" "$(cat "$T/err")"
chmod 770 "$T/shared"
expect_status "store: a group-writable directory refused" 6 lg-store --db "$T/shared" put <"$T/mixed"
expect_contains "store: says group" "$T/err" "writable by its group (mode 0770)"
chmod 700 "$T/shared"
expect_status "store: 0700 is fine" 0 lg-store --db "$T/shared" count
mkdir -m 700 "$T/linked"
ln -s "$DB/data.mdb" "$T/linked/data.mdb"
expect_status "store: data.mdb a link refused" 6 lg-store --db "$T/linked" put <"$T/mixed"
expect_eq "store: says so" "lg-store: db: $T/linked/data.mdb: a symbolic link: refused" "$(cat "$T/err")"
rm "$T/linked/data.mdb"
ln -s "$T/victim" "$T/linked/lock.mdb"
expect_status "store: lock.mdb a link refused" 6 lg-store --db "$T/linked" put <"$T/mixed"
expect_eq "store: the lock link's target untouched" precious "$(cat "$T/victim")"

# ---- config: not in a directory others may write to ----
mkdir -m 700 "$T/cfg"
printf '{"integrations":[{"id":"prod","publicKey":"pk-lf-1","secretKeyEnv":"LG_TEST_SK","host":"http://127.0.0.1:9"}]}\n' >"$T/cfg/config.json"
chmod 600 "$T/cfg/config.json"
chmod 775 "$T/cfg"
LG_CONFIG="$T/cfg/config.json" LG_TEST_SK=sk-lf-secret expect_status "config: group-writable directory refused (lg-fetch)" 2 lg-fetch --integration prod --test
expect_contains "config: lg-fetch says why" "$T/err" "$T/cfg/config.json: in a directory others may write to: $T/cfg: writable by its group (mode 0775)"
LG_CONFIG="$T/cfg/config.json" LG_DB="$T/db" expect_status "config: group-writable directory refused (lg-sync)" 2 lg-sync status
expect_contains "config: lg-sync says why" "$T/err" "in a directory others may write to"
chmod 700 "$T/cfg"
chmod 666 "$T/cfg/config.json"
LG_CONFIG="$T/cfg/config.json" LG_TEST_SK=sk-lf-secret expect_status "config: a world-writable file refused" 2 lg-fetch --integration prod --test
expect_contains "config: says so" "$T/err" "writable by group or others"
chmod 600 "$T/cfg/config.json"

# ---- lg-sync: its lock is never a planted link; status of a bad store ----
export LG_CONFIG="$T/cfg/config.json" LG_DB="$T/sdb" LG_TEST_SK=sk-lf-secret
mkdir -m 700 "$LG_DB"
ln -s "$T/victim" "$LG_DB/sync-prod.lock"
expect_status "lg-sync: a lock link refused" 6 lg-sync run prod
expect_contains "lg-sync: says so" "$T/err" "sync-prod.lock: a symbolic link: refused"
expect_eq "lg-sync: the link's target untouched" precious "$(cat "$T/victim")"
rm "$LG_DB/sync-prod.lock"
cp "$DB/data.mdb" "$LG_DB/data.mdb"
truncate -s 8192 "$LG_DB/data.mdb"
expect_status "lg-sync status: unreadable store exit 6" 6 lg-sync status prod
expect_eq "lg-sync status: says unreadable, not lastSync null" 'false|false|null' "$(jq -r '"\(.success)|\(.data.storeReadable)|\(.data.lastSync)"' "$T/out")"
expect_contains "lg-sync status: lg-store's reason" "$T/err" "truncated"
