#!/bin/bash
# `make chaos`: the fault campaign. The project's Langfuse server serves a
# dataset with every fault switch on (429 + Retry-After, 5xx, 524, cut
# bodies, duplicate rows, late rows, slow responses) while lg-sync runs
# again and again and a random stage (lg-fetch, lg-map, lg-detect,
# lg-policy, lg-store or lg-sync itself) is SIGKILLed at a random moment,
# at least CHAOS_KILLS (50) times; once with a full disk (ulimit -f) and
# once with a read-only store. After every run: `lg-store check` clean and
# the stored cursor never ahead of stored data. At the end, after runs
# without kills: every trace of the dataset stored exactly once with its
# observations, tokens and cost. Then a hostile phase: one lg-sync daemon
# runs a well-behaved integration next to one integration per attack of
# tests/server/hostile.py (forged control lines, endless and cycling
# cursors, a huge body, a gzip bomb, Retry-After 0, a slow drip) for
# CHAOS_HOSTILE_S seconds (90): the good one keeps syncing, no cursor moves
# that its own runs did not earn, no stage passes 64 MB of RSS. Last, the
# secret key in no log or output.
# Prints the counts; exit 0 only when nothing was lost.
# Env: BIN (default bin/), CHAOS_KILLS (50), CHAOS_TRACES (600), CHAOS_DIR,
#      CHAOS_HOSTILE_S (90),
#      CHAOS_SEED (random; printed, so a failing campaign can be replayed).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
case $BIN in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
KILLS=${CHAOS_KILLS:-50}
N=${CHAOS_TRACES:-600}
SEED=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
W=${CHAOS_DIR:-$ROOT/build/chaos}
RANDOM=$SEED
rm -rf "$W"
mkdir -p "$W"
export LG_CONFIG="$W/config.json" LG_DB="$W/db"
export PATH="$BIN:$PATH"
CHECK="python3 $ROOT/tests/chaos/check.py"
SECRET="sk-lf-chaos-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
failures=0
problem() { echo "chaos: FAIL: $*"; failures=$((failures + 1)); }
log() { echo "chaos: $*"; }

for t in lg-fetch lg-map lg-detect lg-policy lg-store lg-sync; do
	[ -x "$BIN/$t" ] || { echo "chaos: $BIN/$t not built (make build)"; exit 2; }
done

# ---- the dataset and the faulty server ------------------------------------
END=$(date -u -d '-20 min' +%Y-%m-%dT%H:%M:00.000Z)
python3 "$ROOT/tests/server/gen_dataset.py" --traces "$N" --seed 21 --end "$END" --span 1d \
	--late-fraction 0.06 --out "$W/dataset.json" || exit 2
python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$W/dataset.json" --port 0 --port-file "$W/port" \
	--public-key pk-lf-chaos --secret-key "$SECRET" --mode cloud --log "$W/server.log" --seed 3 \
	--fault-429-every 13 --retry-after 1 --fault-5xx-every 7 --fault-524-every 11 --fault-cut-every 9 \
	--duplicate-rows 0.05 --late-after 80 --fault-slow-ms 120 --fault-slow-every 4 \
	>"$W/server.out" 2>"$W/server.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
[ -s "$W/port" ] || { echo "chaos: server did not start: $(cat "$W/server.err")"; exit 2; }
HOST="http://127.0.0.1:$(cat "$W/port")"
umask 077
printf '%s\n' "$SECRET" >"$W/secret"
lg-sync add prod --name "Chaos" --public-key pk-lf-chaos --host "$HOST" --batch-size 100 \
	--secret-key-file "$W/secret" >"$W/add.out" 2>&1 || { echo "chaos: lg-sync add failed: $(cat "$W/add.out")"; exit 2; }
log "seed $SEED, $N traces, server $HOST, $KILLS kills to do"

# ---- helpers ---------------------------------------------------------------
# Every process of the run's session (lg-sync runs under setsid, so even a
# stage orphaned by a killed lg-sync still counts), one "pid comm" a line.
session_procs() {
	ps -o pid=,comm= -s "$1" 2>/dev/null | awk '{ print $1, $2 }'
}

# Waits for lg-sync (pid $1) and then for every process of its session.
wait_all() {
	local i=0
	wait "$1" 2>/dev/null
	RUN_RC=$?
	while [ $i -lt 600 ]; do
		[ -z "$(session_procs "$1")" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	problem "a stage still runs 60 s after its run ended: $(session_procs "$1" | tr '\n' ' ')"
	for p in $(session_procs "$1" | awk '{ print $1 }'); do kill -9 "$p" 2>/dev/null; done
}

after_run() { # label: the invariants that hold after any run, however it ended
	# A run killed before lg-store ever started leaves no store: nothing to check.
	[ -e "$LG_DB/data.mdb" ] || { checks=$((checks + 1)); return 0; }
	if ! lg-store check >"$W/check.out" 2>&1; then
		problem "$1: lg-store check: $(head -c 300 "$W/check.out")"
	fi
	lg-store export --integration prod >"$W/export.ndjson" 2>"$W/export.err" || problem "$1: export failed: $(cat "$W/export.err")"
	cur=$(lg-store cursor prod 2>/dev/null)
	if ! $CHECK "$W/dataset.json" "$W/export.ndjson" "$cur" --mode cursor >"$W/cursor.out" 2>&1; then
		problem "$1: cursor ahead of data: $(cat "$W/cursor.out")"
		cursor_bad=$((cursor_bad + 1))
	fi
	checks=$((checks + 1))
}

declare -A killed
kills=0 runs=0 misses=0 checks=0 cursor_bad=0 failed_runs=0
stages=(lg-fetch lg-map lg-detect lg-policy lg-store lg-sync)
disk_done=0 ro_done=0

# ---- the campaign ----------------------------------------------------------
attempt=0
while [ $kills -lt "$KILLS" ] && [ $attempt -lt $((KILLS * 4)) ]; do
	attempt=$((attempt + 1))
	mode=incremental
	[ $((attempt % 3)) -eq 0 ] && mode=backfill

	if [ $disk_done -eq 0 ] && [ $kills -ge $((KILLS / 3)) ]; then
		# Full disk: no file may grow beyond 256 KiB (the store's data file
		# must grow for a backfill to land).
		disk_done=1
		(ulimit -f 256; exec lg-sync run prod --mode backfill --quiet) >>"$W/sync.out" 2>"$W/disk.err"
		rc=$?
		runs=$((runs + 1))
		log "full disk (ulimit -f 256): lg-sync exit $rc: $(grep -m1 -iE 'lg-store|space|large|write' "$W/disk.err" | head -c 160)"
		[ $rc -ne 0 ] || log "full disk: the run fit in 256 KiB (nothing to write)"
		cat "$W/disk.err" >>"$W/sync.err"
		after_run "full disk"
		continue
	fi
	if [ $ro_done -eq 0 ] && [ $kills -ge $((2 * KILLS / 3)) ]; then
		# Read-only store: lg-store put as an unprivileged user who may read
		# the store but not write it. Nothing may change.
		ro_done=1
		before=$(lg-store count); bcur=$(lg-store cursor prod)
		chmod -R go+rX "$LG_DB"
		lg-fetch --integration prod --quiet --since "$(date -u -d '-2 day' +%Y-%m-%dT%H:%M:%SZ)" 2>"$W/ro.fetch.err" |
			lg-map | lg-detect | lg-policy 2>/dev/null |
			setpriv --reuid 65534 --regid 65534 --clear-groups "$BIN/lg-store" --db "$LG_DB" put >/dev/null 2>"$W/ro.err"
		rc=${PIPESTATUS[4]}
		chmod -R go-rwx "$LG_DB"
		runs=$((runs + 1))
		log "read-only store: lg-store put exit $rc: $(head -1 "$W/ro.err" | head -c 160)"
		[ "$rc" -eq 6 ] || problem "read-only store: lg-store put exit $rc, want 6"
		after=$(lg-store count); acur=$(lg-store cursor prod)
		[ "$after" = "$before" ] && [ "$acur" = "$bcur" ] ||
			problem "read-only store: the store changed: $before traces, cursor $bcur -> $after traces, cursor $acur"
		cat "$W/ro.err" "$W/ro.fetch.err" >>"$W/sync.err"
		after_run "read-only"
		continue
	fi

	setsid lg-sync run prod --mode "$mode" --quiet >>"$W/sync.out" 2>>"$W/sync.err" &
	spid=$!
	runs=$((runs + 1))
	# A random moment: 0.05 .. 3 s into the run.
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.05 + 2.95 * r / 32767 }')"
	session_procs "$spid" >"$W/procs"
	victim=${stages[RANDOM % ${#stages[@]}]}
	pid=$(awk -v v="$victim" '$2 == v { print $1; exit }' "$W/procs")
	if [ -z "$pid" ]; then
		# That stage is not running (not started yet or already done):
		# any live stage will do.
		read -r pid victim < <(grep -E ' lg-(fetch|map|detect|policy|store|sync)$' "$W/procs" |
			awk -v r=$RANDOM 'BEGIN { srand(r) } { a[NR] = $0 } END { if (NR) print a[int(rand() * NR) + 1] }')
	fi
	if [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
		killed[$victim]=$(( ${killed[$victim]:-0} + 1 ))
	else
		misses=$((misses + 1)) # the run ended before the moment came
	fi
	wait_all "$spid"
	[ "$RUN_RC" -ne 0 ] && failed_runs=$((failed_runs + 1))
	after_run "run $runs (killed ${victim:-nothing})"
	pid="" victim=""
done
[ $kills -ge "$KILLS" ] || problem "only $kills kills landed in $attempt runs"
[ $disk_done -eq 1 ] || problem "the full-disk run did not happen"
[ $ro_done -eq 1 ] || problem "the read-only run did not happen"

# ---- settle: runs without kills until one completes, then a backfill so the
# late rows (visible only after 80 requests, older than the overlap) land.
for mode in incremental backfill; do
	ok=0
	for _ in 1 2 3 4 5; do
		runs=$((runs + 1))
		if lg-sync run prod --mode "$mode" --quiet >>"$W/sync.out" 2>>"$W/sync.err"; then ok=1; break; fi
		failed_runs=$((failed_runs + 1))
	done
	[ $ok -eq 1 ] || problem "no $mode run completed after the campaign: $(tail -2 "$W/sync.err")"
	after_run "settle $mode"
done

lg-store export --integration prod >"$W/export.ndjson" 2>/dev/null
$CHECK "$W/dataset.json" "$W/export.ndjson" "" --mode final >"$W/final.out" 2>&1 || problem "final: $(cat "$W/final.out")"
lost=$(python3 -c "
import json
ids = {json.loads(l)['externalId'] for l in open('$W/export.ndjson') if l.strip()}
print(sum(1 for t in json.load(open('$W/dataset.json'))['traces'] if t['id'] not in ids))")
stored=$(lg-store count --integration prod 2>/dev/null)

# ---- hostile phase -----------------------------------------------------------
# The good integration is called "victim": the forged control lines name it.
HOSTILE_S=${CHAOS_HOSTILE_S:-90}
ATTACKS=(forged-control endless-cursor cycle-cursor huge-body gzip-bomb retry-after-0 slow-drip)
hpids=()
# Traces of their own: the same ids under two integrations would conflict.
python3 "$ROOT/tests/server/gen_dataset.py" --traces 60 --seed 22 --end "$END" --span 1d \
	--out "$W/hostile-dataset.json" >/dev/null || exit 2
start_hostile() { # name extra-args...: a server; its URL in $HURL
	local name=$1 pf="$W/port.$1"
	shift
	python3 "$ROOT/tests/server/langfuse_server.py" --dataset "$W/hostile-dataset.json" --port 0 --port-file "$pf" \
		--public-key pk-lf-chaos --secret-key "$SECRET" "$@" >"$W/server.$name.out" 2>"$W/server.$name.err" &
	hpids+=($!)
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
	HURL="http://127.0.0.1:$(cat "$pf" 2>/dev/null)"
}
start_hostile good --log "$W/server.good.log"
cfg=$(jq --arg h "$HURL" '.integrations |= map(.autoSync = false)
	| .integrations += [{id: "victim", publicKey: "pk-lf-chaos", secretKeyFile: .integrations[0].secretKeyFile,
	                     host: $h, interval: "2s", autoSync: true}]' "$LG_CONFIG")
for a in "${ATTACKS[@]}"; do
	extra=(--hostile "$a")
	[ "$a" = forged-control ] && extra+=(--mode v3)
	[ "$a" = huge-body ] && extra+=(--hostile-bytes $((256 << 20)))
	[ "$a" = gzip-bomb ] && extra+=(--hostile-bytes $((256 << 20)))
	start_hostile "$a" "${extra[@]}"
	cfg=$(jq --arg h "$HURL" --arg id "$a" '.integrations += [{id: $id, publicKey: "pk-lf-chaos",
		secretKeyFile: .integrations[0].secretKeyFile, host: $h, interval: "2s", maxRunTime: "5s", autoSync: true}]' <<<"$cfg")
done
printf '%s\n' "$cfg" >"$LG_CONFIG"
prod_cursor=$(lg-store cursor prod)
setsid lg-sync daemon >"$W/hostile.log" 2>"$W/hostile.err" &
dpid=$!
declare -A rss_max
t_end=$(( $(date +%s) + HOSTILE_S ))
while [ "$(date +%s)" -lt "$t_end" ]; do
	while read -r kb comm; do
		[ "${kb:-0}" -gt "${rss_max[$comm]:-0}" ] && rss_max[$comm]=$kb
	done < <(ps -o rss=,comm= -s "$dpid" 2>/dev/null | grep -E ' lg-(fetch|map|detect|policy|store)$')
	sleep 0.1
done
kill -TERM "$dpid" 2>/dev/null
wait_all "$dpid"
for p in "${hpids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
good_runs=$(grep -c ' victim completed' "$W/hostile.log")
[ "$good_runs" -ge 2 ] || problem "hostile phase: the good integration completed $good_runs runs in ${HOSTILE_S}s: $(tail -5 "$W/hostile.log")"
# Between two runs of the good one: at most every hostile run's bound plus
# its interval and some slack.
gap=$(grep ' victim completed' "$W/hostile.log" | awk '{ cmd = "date -u -d " $1 " +%s"; cmd | getline t; close(cmd);
	if (p && t - p > g) g = t - p; p = t } END { print g + 0 }')
[ "$gap" -le $(( ${#ATTACKS[@]} * 6 + 20 )) ] || problem "hostile phase: $gap s between two runs of the good integration"
vcur=$(lg-store cursor victim)
[ -n "$vcur" ] && [ "$(date -u -d "$vcur" +%s)" -le "$(date -u +%s)" ] ||
	problem "hostile phase: victim's cursor is '$vcur', not one of its own runs"
[ "$(lg-store cursor prod)" = "$prod_cursor" ] || problem "hostile phase: prod's cursor moved without a run: $prod_cursor -> $(lg-store cursor prod)"
moved=""
for a in "${ATTACKS[@]}"; do
	c=$(lg-store cursor "$a")
	[ "$a" = forged-control ] && [ -n "$c" ] && [ "$(date -u -d "$c" +%s)" -le "$(date -u +%s)" ] && continue
	[ -z "$c" ] || moved="$moved $a=$c"
done
[ -z "$moved" ] || problem "hostile phase: cursors of hostile integrations moved:$moved"
rss_line=""
for comm in "${!rss_max[@]}"; do
	rss_line="$rss_line $comm=$(( rss_max[$comm] / 1024 ))MB"
	[ "${rss_max[$comm]}" -le $((64 * 1024)) ] || problem "hostile phase: $comm reached $(( rss_max[$comm] / 1024 )) MB"
done
hostile_outcomes=$(for a in "${ATTACKS[@]}"; do
	printf '%s: %s\n' "$a" "$(grep " $a " "$W/hostile.log" | tail -1 | cut -d' ' -f3- | head -c 150)"; done)

# ---- no secret anywhere but where it belongs -------------------------------
leaks=$(grep -rlF -- "$SECRET" "$W" 2>/dev/null | grep -vE "/(secret|config\.json)$" | grep -v '/dataset.json$' || true)
[ -z "$leaks" ] || problem "the secret key appears in: $leaks"

faults=$(python3 -c "
import json, collections
c = collections.Counter()
dup = 0
for l in open('$W/server.log'):
    r = json.loads(l)
    if r.get('fault'): c[r['fault']] += 1
print(sum(c.values()), ' '.join(f'{k}={v}' for k, v in sorted(c.items())))")
requests=$(wc -l <"$W/server.log")
echo
echo "== chaos summary (seed $SEED)"
printf 'kills:            %d (%s), %d runs ended before their moment\n' "$kills" \
	"$(for s in "${stages[@]}"; do printf '%s=%d ' "$s" "${killed[$s]:-0}"; done | sed 's/ $//')" "$misses"
echo "runs:             $runs ($failed_runs failed, as they should when killed), $requests requests"
echo "faults injected:  $faults; duplicate rows 5%, late rows 6% of traces"
echo "full disk:        $( [ $disk_done -eq 1 ] && echo done || echo missing ), read-only store: $( [ $ro_done -eq 1 ] && echo done || echo missing )"
echo "checks:           $checks after-run checks, lg-store check and cursor-not-ahead; $cursor_bad with the cursor ahead"
echo "final:            $(cat "$W/final.out" | head -1)"
echo "hostile phase:    ${HOSTILE_S}s, the good integration completed $good_runs runs (longest gap ${gap}s); max RSS:$rss_line"
printf '%s\n' "$hostile_outcomes" | sed 's/^/                  /'
echo "secret in logs:   $( [ -z "$leaks" ] && echo none || echo "$leaks" )"
echo "traces lost:      $lost (must be 0); stored $stored of $N"
[ "$failures" -eq 0 ] && [ "$lost" = 0 ] && { echo "chaos: PASS"; exit 0; }
echo "chaos: FAIL ($failures problems)"
exit 1
