#!/usr/bin/env bash
# bench/load.sh — mixed traffic at fixed arrival rates, its highest rate held against a bare
# endpoint measured in the same run, and an emergency burst with recovery, one command:
#
#     bash bench/load.sh [N]                       # N generated listings, default 100000
#     DATA_DIR=/path/to/data bash bench/load.sh    # an existing, imported data folder
#
# What it does, in order (all of it on loopback):
#   1. builds the release binaries (cargo build --release -p zhiqilian -p zhiqilian-bench);
#   2. data: generates N listings (gen-listings --count N --seed $SEED) and imports them
#      (`zhiqilian import`, database + index) into a scratch folder, or, with DATA_DIR set,
#      uses that folder (imported and indexed already). The load adds listings, firms,
#      threads and messages to it (about 5 % of all requests are new listings);
#   3. creates a platform admin, starts `zhiqilian serve` on a free port with
#      ZQL_BACKGROUND_JOBS="" (no background matching: it would spend hours on the bulk
#      import; new listings of the load are not matched in the background either) and the
#      per-address rate limits raised out of the way (all the load comes from 127.0.0.1);
#   4. inputs, all through the API: $IDS listing ids (bench/anchors.py: every side x kind x
#      community cell in proportion to its size; matches are asked for the first $MATCH_IDS),
#      the search mix ($QUERIES URLs, bench/queries.py, each checked to answer 200), and
#      `mixed-load seed`: $FIRMS verified firms in the imported communities, a listing each,
#      and a thread between each firm and the next;
#   5. every step is `mixed-load run` (bench/src/mixed_load.rs): one open-loop schedule at a
#      fixed arrival rate; each request's latency runs from its scheduled send time (no
#      coordinated omission); at most $MAX_OUTSTANDING requests out, a due request beyond
#      that counts as an error ("unsent"). Mixed: search 60 %, listing reads 20 %, matches
#      10 %, new listings 5 %, chat messages 5 % (seeded draw). Bare: GET /healthz (static
#      JSON through the same middleware, no database, no index). A step holds with no error
#      and p99 <= $P99_TARGET_MS ms. Server CPU per request from /proc over the step;
#   6. warm-up ($WARMUP s of the mix at $WARMUP_RATE req/s);
#   7. bare ladder ($BARE_RATES, $BARE_DURATION s each) up to its first miss: the ceiling;
#   8. mixed ladder ($RATES, $DURATION s each) up to its first miss (if the first rate
#      misses, halving down to $MIN_RATE): the found rate;
#   9. confirmation: $CONFIRM interleaved rounds of {mix at the found rate for
#      $CONFIRM_SECS s, /healthz at the ceiling for $BARE_DURATION s}: medians, and the
#      ratio found rate / ceiling;
#  10. emergency burst: the mix at $BURST_FACTOR x the found rate for $BURST_SECS s: 429/503
#      are shed load; reported are other 5xx, how fast the shed answers came, the latency
#      of the admitted requests, and what was not sent;
#  11. recovery: right after the burst, the mix at the found rate for $RECOVERY_SECS s,
#      compared with the ladder step at that rate;
#  12. prints the summary (markdown) and writes it, with every step's JSON, to $OUT_DIR (and
#      the main figures, one per line, to figures.tsv).
#
# Load generator and server share the machine's cores: each step shows the CPU used by the
# server, by the load generator and by everything else ("other": noise from other processes).
# Everything it starts is stopped on exit (trap); the scratch folder is deleted unless KEEP=1.
#
# Environment knobs (defaults in brackets):
#   SHORT [0]              1: a run of a few minutes; other defaults: RATES "100 200 300",
#                          DURATION 10, BARE_RATES "10000 20000 40000", BARE_DURATION 5, CONFIRM 1,
#                          CONFIRM_SECS 10, BURST_SECS 10, RECOVERY_SECS 10, WARMUP 5, IDS 500,
#                          MATCH_IDS 200, QUERIES 100, FIRMS 5 (a knob given still wins)
#   DATA_DIR [unset]       use this imported data folder instead of generating N listings
#   SEED [1]               gen-listings seed, the query mix and the request draws
#   RATES ["100 200 250 300 350 400 500"]  mixed ladder, req/s
#   DURATION [60]          seconds per mixed ladder step
#   MIN_RATE [10]          lowest rate tried when the first rate already misses
#   BARE_RATES ["5000 10000 20000 30000 40000 50000"]  /healthz ladder, req/s
#   BARE_DURATION [15]     seconds per /healthz step
#   P99_TARGET_MS [50]     p99 a step must stay under to hold (and no error at all)
#   CONFIRM [2]            confirmation rounds (0 skips them)   CONFIRM_SECS [30]
#   BURST_FACTOR [10]      burst rate = this x the found rate   BURST_SECS [120]
#   RECOVERY_SECS [30]     the step at the found rate right after the burst
#   WARMUP [15]  WARMUP_RATE [50]
#   MAX_OUTSTANDING [1000] requests out at once (connections) before due ones go unsent
#   TIMEOUT [10]           seconds before a request counts as timed out
#   FIRMS [10]  IDS [2000]  MATCH_IDS [500]  QUERIES [200]
#   MAX_IN_FLIGHT [unset: the server's default]  ZQL_MAX_IN_FLIGHT for the server
#   WORKERS [unset]        ZQL_WORKERS for the server (default: CPU count)
#   QUIET_WAIT [10]        before each step (not the recovery), wait up to this many seconds
#                          until other processes use less than $QUIET_CORES [0.3] cores
#   RETRY_NOISY [1]        a ladder step that misses while other processes used more than
#                          $QUIET_CORES cores is run once more; the retry decides, both shown
#   LOGIN [bench@example.com]  PASSWORD [bench-Passw0rd-2026]  the platform admin used
#   SKIP_BUILD [0]         1: use the binaries already built
#   ZHIQILIAN_BIN [unset]  the zhiqilian binary to measure (default: the one built here); the
#                          other tools still come from CARGO_TARGET_DIR
#   CARGO_TARGET_DIR [target]     where cargo builds (relative to the repository root)
#   SCRATCH_BASE [${TMPDIR:-/tmp}]  where the scratch folder goes   KEEP [0]
#   OUT_DIR [$SCRATCH_BASE/zql-load-results-{N|data}-DATE]  summary.md, step JSON, logs

set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"

ENV_SET=$(knobs_given SHORT DATA_DIR SEED RATES DURATION MIN_RATE BARE_RATES BARE_DURATION \
  P99_TARGET_MS CONFIRM CONFIRM_SECS BURST_FACTOR BURST_SECS RECOVERY_SECS WARMUP WARMUP_RATE \
  MAX_OUTSTANDING TIMEOUT FIRMS IDS MATCH_IDS QUERIES MAX_IN_FLIGHT WORKERS QUIET_WAIT QUIET_CORES \
  RETRY_NOISY SKIP_BUILD CARGO_TARGET_DIR ZHIQILIAN_BIN)

DATA_DIR=${DATA_DIR:-}
N=$(n_or_data_dir "usage: bash bench/load.sh [N]   or   DATA_DIR=/path bash bench/load.sh" "$@")
# The short run: other defaults for the knobs not given.
if [[ ${SHORT:-0} = 1 ]]; then
  : "${RATES:=100 200 300}" "${DURATION:=10}" "${BARE_RATES:=10000 20000 40000}" "${BARE_DURATION:=5}"
  : "${CONFIRM:=1}" "${CONFIRM_SECS:=10}" "${BURST_SECS:=10}" "${RECOVERY_SECS:=10}" "${WARMUP:=5}"
  : "${IDS:=500}" "${MATCH_IDS:=200}" "${QUERIES:=100}" "${FIRMS:=5}"
fi
SEED=${SEED:-1}
RATES=${RATES:-"100 200 250 300 350 400 500"}
DURATION=${DURATION:-60}
MIN_RATE=${MIN_RATE:-10}
BARE_RATES=${BARE_RATES:-"5000 10000 20000 30000 40000 50000"}
BARE_DURATION=${BARE_DURATION:-15}
P99_TARGET_MS=${P99_TARGET_MS:-50}
CONFIRM=${CONFIRM:-2}
CONFIRM_SECS=${CONFIRM_SECS:-30}
BURST_FACTOR=${BURST_FACTOR:-10}
BURST_SECS=${BURST_SECS:-120}
RECOVERY_SECS=${RECOVERY_SECS:-30}
WARMUP=${WARMUP:-15}
WARMUP_RATE=${WARMUP_RATE:-50}
MAX_OUTSTANDING=${MAX_OUTSTANDING:-1000}
TIMEOUT=${TIMEOUT:-10}
FIRMS=${FIRMS:-10}
IDS=${IDS:-2000}
MATCH_IDS=${MATCH_IDS:-500}
QUERIES=${QUERIES:-200}
QUIET_WAIT=${QUIET_WAIT:-10}

# The shared knobs (QUIET_CORES, RETRY_NOISY, LOGIN, PASSWORD, SKIP_BUILD, KEEP, SCRATCH_BASE)
# get their defaults here.
bench_begin "zql-load-results-${N:-data}"

# ---------------------------------------------------------------- helpers

# step LABEL MODE(mixed|bare) RATE SECS [noquiet] -> appends a row to $ROWS, echoes it.
# Row (tab-separated, the columns of lib.sh's run_step so held_of and noisy apply):
#   label mode rate achieved completion p50 p99 p99.9 max errors server_cores loadgen_cores
#   other_cores server_ms_per_req held
step() {
  local label=$1 mode=$2 rate=$3 secs=$4 quiet=${5:-quiet}
  local json="$OUT_DIR/step-$label.json" args=()
  kill -0 "$SERVER_PID" 2>/dev/null || die "server died before step $label"
  [[ $mode = bare ]] && args+=(--bare)
  [[ $quiet = quiet ]] && ((QUIET_WAIT > 0)) && wait_quiet >/dev/null
  "$BIN/mixed-load" run --url "$BASE" --setup "$OUT_DIR/setup.json" --queries "$URLS" \
    --ids "$OUT_DIR/ids.txt" --matches-ids "$MATCH_IDS" --rate "$rate" --duration "$secs" \
    --max-outstanding "$MAX_OUTSTANDING" --timeout "$TIMEOUT" --seed "$SEED" --label "$label" \
    --pid "$SERVER_PID" --p99-target "$P99_TARGET_MS" --out "$json" "${args[@]}" \
    2>>"$OUT_DIR/steps.log" &
  OHA_PID=$!
  echo "$OHA_PID" >"$OUT_DIR/.oha.pid"
  wait "$OHA_PID" || die "mixed-load failed in step $label: $(tail -n 3 "$OUT_DIR/steps.log")"
  OHA_PID=""
  rm -f "$OUT_DIR/.oha.pid"
  local row
  row=$(jq -r '[.label, .mode, .offered_rate, .achieved_ok_per_s,
      (.overall.ok / ([.overall.scheduled, 1] | max) * 100 | floor / 100),
      .overall.latency.p50_ms, .overall.latency.p99_ms, .overall.latency.p999_ms,
      .overall.latency.max_ms, .overall.errors, .cpu.server_cores, .cpu.loadgen_cores,
      .cpu.other_cores, .cpu.server_ms_per_ok, (if .held then "yes" else "no" end)] | @tsv' "$json") \
    || die "cannot read $json"
  printf '%s\n' "$row" >>"$ROWS"
  tail -n 1 "$OUT_DIR/steps.log" >&2
  printf '%s\n' "$row"
}

# The ladders, confirmation and tables of lib.sh run these steps; their rows say so.
STEP_FN=step
STEP_HEADERS[4]="ok req/s"
STEP_HEADERS[12]="load generator cores"

# ---------------------------------------------------------------- set-up

prepare_binaries
for b in gen-listings mixed-load; do
  [[ -x $BIN/$b ]] || die "no $b binary in $BIN"
done

# Every request out is a socket on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited ]] && (($(ulimit -n) < 2 * MAX_OUTSTANDING + 256)); then
  die "open-file limit $(ulimit -n) is too low for MAX_OUTSTANDING=$MAX_OUTSTANDING"
fi

SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-load.XXXXXX")
if [[ -n $DATA_DIR ]]; then
  DATA=$(realpath -e "$DATA_DIR") || die "DATA_DIR $DATA_DIR does not exist"
  [[ -s $DATA/zhiqilian.db && -d $DATA/index ]] || die "$DATA holds no zhiqilian.db and index/"
else
  DATA="$SCRATCH/data"
fi
LISTINGS="$SCRATCH/listings.jsonl"
URLS="$OUT_DIR/urls.txt"
ROWS="$OUT_DIR/steps.tsv"
: >"$ROWS"
: >"$OUT_DIR/steps.log"
server_env  # (every step signs its accounts in: the raised sign-in limit matters here)
[[ -z ${MAX_IN_FLIGHT:-} ]] || export ZQL_MAX_IN_FLIGHT=$MAX_IN_FLIGHT
# Many listings, urgent requests and messages from a few users: raise the
# per-firm and per-user allowances (they have tests of their own).
export ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR=10000000 ZQL_LISTING_LIMIT_PER_USER_PER_HOUR=10000000 \
  ZQL_EMERGENCY_LIMIT_PER_FIRM_PER_DAY=10000000 ZQL_EMERGENCY_LIMIT_PER_USER_PER_DAY=10000000 \
  ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE=10000000 ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE=10000000 \
  ZQL_EVENTS_MAX_STREAMS_PER_USER=100000

run_facts
T_START=$SECONDS

out "## load.sh $([[ -n $DATA_DIR ]] && echo "DATA_DIR" || echo "N=$N") — $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "- command: \`${ENV_SET}bash bench/load.sh${N:+ $N}\`"
out "- machine: $MACHINE"
out "- code: $GIT_REV$( ((GIT_DIRTY > 0)) && echo " + uncommitted changes to $GIT_DIRTY tracked files" ), release profile (zhiqilian sha256 $BIN_SHA…)"
out "- load: mixed-load (bench/src/mixed_load.rs), open loop at fixed arrival rates, latency from each request's scheduled send time, at most $MAX_OUTSTANDING requests out (HTTP/1.1 keep-alive), timeout $TIMEOUT s; same $(nproc) cores as the server. A step holds with no error (any answer but 2xx, a timeout, a request not sent) and p99 <= $P99_TARGET_MS ms"
out "- server: ZQL_BACKGROUND_JOBS=\"\" (no background matching, of the bulk import nor of the listings the load writes); per-address rate limits (rate_limit_ip_per_minute, rate_limit_auth_per_minute) raised to 10,000,000: one loopback address stands in for every caller$([[ -n ${MAX_IN_FLIGHT:-} ]] && echo "; ZQL_MAX_IN_FLIGHT=$MAX_IN_FLIGHT")"

# ---------------------------------------------------------------- data

if [[ -z $DATA_DIR ]]; then
  import_generated
else
  # queries.py draws from the first 20,000 generated listings (a prefix of any larger N).
  "$BIN/gen-listings" --count 20000 --seed "$SEED" --out "$LISTINGS" 2>"$OUT_DIR/gen.log"
  DATA_NOTE="existing data folder $DATA"
fi

# ---------------------------------------------------------------- server

create_admin
start_server 600
TOKEN=$(login) || die "sign-in as $LOGIN failed"
OPEN_TOTAL=$(curl -sf --max-time 60 -H "authorization: Bearer $TOKEN" \
  "$BASE/api/v1/listings/search?limit=1" | jq -er .total) || die "cannot count the open listings"
DB_MIB=$(du -cm "$DATA"/zhiqilian.db* | tail -n 1 | cut -f1)
INDEX_MIB=$(du -sm "$DATA/index" | cut -f1)
ADMISSION="max_in_flight ${MAX_IN_FLIGHT:-unset, so the server default (docs/OPERATIONS.md)}"
log "server ready: $OPEN_TOTAL open listings; $MEM_IDLE"

# ---------------------------------------------------------------- inputs

log "listing ids (bench/anchors.py, $IDS)"
TOKEN="$TOKEN" python3 "$ROOT/bench/anchors.py" "$BASE" --count "$IDS" --seed "$SEED" \
  --meta-out "$OUT_DIR/anchors.tsv" >/dev/null 2>"$OUT_DIR/anchors.log" \
  || die "anchors.py failed: $(tail -n 5 "$OUT_DIR/anchors.log")"
cut -f1 "$OUT_DIR/anchors.tsv" >"$OUT_DIR/ids.txt"

log "search mix (bench/queries.py, $QUERIES)"
python3 "$ROOT/bench/queries.py" "$LISTINGS" "$BASE" --count "$QUERIES" --seed "$SEED" \
  >"$URLS" 2>"$OUT_DIR/queries.log"
# A URL that does not answer 200 would fail every step: it is left out and counted.
: >"$OUT_DIR/urls.ok"
BAD=0
while IFS= read -r url; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "authorization: Bearer $TOKEN" "$url" || echo 000)
  if [[ $code = 200 ]]; then echo "$url" >>"$OUT_DIR/urls.ok"; else BAD=$((BAD + 1)); echo "$code $url" >>"$OUT_DIR/urls.excluded"; fi
done <"$URLS"
((BAD * 20 <= QUERIES)) || die "$BAD search URLs did not answer 200 (see $OUT_DIR/urls.excluded)"
mv "$OUT_DIR/urls.ok" "$URLS"

log "seeding $FIRMS firms, their listings and threads (mixed-load seed)"
"$BIN/mixed-load" seed --url "$BASE" --admin-login "$LOGIN" --admin-password "$PASSWORD" \
  --firms "$FIRMS" --tag "$(date -u +%s)" --out "$OUT_DIR/setup.json" 2>"$OUT_DIR/seed.log" \
  || die "seeding failed: $(tail -n 5 "$OUT_DIR/seed.log")"
cat "$OUT_DIR/seed.log" >&2

log "warm-up: ${WARMUP}s of the mix at $WARMUP_RATE req/s"
step warmup mixed "$WARMUP_RATE" "$WARMUP" >/dev/null
MEM_WARM=$(mem_line)
s0=$(proc_ticks "$SERVER_PID"); t0=$(now); sleep 5
IDLE_CORES=$(awk -v s="$(fsub "$(proc_ticks "$SERVER_PID")" "$s0")" -v w="$(fsub "$(now)" "$t0")" \
  -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", s / t / w }')

# ---------------------------------------------------------------- ladders

log "bare /healthz ladder: $BARE_RATES"
# shellcheck disable=SC2086
BARE_MAX=$(ladder --secs "$BARE_DURATION" bare $BARE_RATES)
log "mixed ladder: $RATES"
# shellcheck disable=SC2086
FOUND=$(ladder --halve mixed $RATES)
log "highest held: mixed $FOUND req/s, /healthz $BARE_MAX req/s"

# ---------------------------------------------------------------- confirmation

if ((CONFIRM > 0 && FOUND > 0 && BARE_MAX > 0)); then
  confirm_rounds "mixed:$FOUND:$CONFIRM_SECS" "bare:$BARE_MAX:$BARE_DURATION"
fi

# ---------------------------------------------------------------- burst and recovery

BASE_RATE=$FOUND
if ((BASE_RATE == 0)); then
  BASE_RATE=$MIN_RATE
  log "no mixed rate held: the burst is $BURST_FACTOR x MIN_RATE"
fi
BURST_RATE=$((BASE_RATE * BURST_FACTOR))
METRICS0=$(curl -sf --max-time 10 "$BASE/metrics" || true)
log "burst: the mix at $BURST_RATE req/s for ${BURST_SECS}s"
step "burst-$BURST_RATE" mixed "$BURST_RATE" "$BURST_SECS" >/dev/null
log "recovery: the mix at $BASE_RATE req/s for ${RECOVERY_SECS}s, right after the burst"
step "recovery-$BASE_RATE" mixed "$BASE_RATE" "$RECOVERY_SECS" noquiet >/dev/null
METRICS1=$(curl -sf --max-time 10 "$BASE/metrics" || true)
MEM_LOADED=$(mem_line)
HWM=$(mem_field VmHWM)
# The server's own count of shed requests, when it keeps one.
shed_count() { awk '/^zql_requests_shed_total / { s += $NF } END { printf "%d", s }' <<<"$1"; }
SHED_SERVER=""
if grep -q '^zql_requests_shed_total ' <<<"$METRICS1"; then
  SHED_SERVER=$(($(shed_count "$METRICS1") - $(shed_count "$METRICS0")))
fi

# ---------------------------------------------------------------- summary

J() { jq -r "$2" "$OUT_DIR/step-$1.json"; }
out "- data: $DATA_NOTE; $OPEN_TOTAL open listings at start; database ${DB_MIB} MiB, index ${INDEX_MIB} MiB"
out "- inputs: $(wc -l <"$OUT_DIR/ids.txt") listing ids (bench/anchors.py; matches for the first $MATCH_IDS), $(wc -l <"$URLS") search URLs (bench/queries.py, seed $SEED$( ((BAD > 0)) && echo "; $BAD left out: not 200")), $(jq '.firms | length' "$OUT_DIR/setup.json") seeded firms and $(jq '.threads | length' "$OUT_DIR/setup.json") threads; reads, search and matches as the platform admin (no visibility filter, as in search.sh and matches.sh), new listings and messages as the seeded firms' users"
out "- admission: $ADMISSION"
out "- server memory: idle $MEM_IDLE; after warm-up $MEM_WARM; at the end $MEM_LOADED; idle CPU after warm-up $IDLE_CORES cores"
out "- run time: $(( (SECONDS - T_START) / 60 )) min $(( (SECONDS - T_START) % 60 )) s"
out ""

out "### Mixed ladder (${DURATION} s per step): search 60 %, reads 20 %, matches 10 %, new listings 5 %, messages 5 %"
out ""
steps_table '^mixed-' 3 4 {6..15}
out ""
out "p50 / p99 ms per route:"
out ""
out "| rate req/s | search | read | matches | write | message | all |"
out "| ---: | --- | --- | --- | --- | --- | --- |"
for f in $(awk -F'\t' '$1 ~ /^mixed-/ { print $1 }' "$ROWS"); do
  J "$f" '"| \(.offered_rate)\(if (.label | test("-retry$")) then " (retry)" else "" end) | " + ([.routes.search, .routes.read, .routes.matches, .routes.write, .routes.message, .overall]
    | map("\(.latency.p50_ms) / \(.latency.p99_ms)" + (if .errors > 0 then " (\(.errors) err)" else "" end)) | join(" | ")) + " |"' | tee -a "$SUMMARY"
done
out ""
out "### Bare endpoint ladder (GET /healthz, ${BARE_DURATION} s per step)"
out ""
steps_table '^bare-' 3 4 {6..15}
out ""

RATIO="n/a" CONF_NOTE=""
if ((FOUND > 0 && BARE_MAX > 0)); then
  RATIO=$(awk -v f="$FOUND" -v b="$BARE_MAX" 'BEGIN { printf "%.4f", f / b }')
fi
if ((CONFIRM > 0 && FOUND > 0 && BARE_MAX > 0)); then
  out "### Confirmation: $CONFIRM interleaved rounds (mix ${CONFIRM_SECS} s at $FOUND req/s, /healthz ${BARE_DURATION} s at $BARE_MAX req/s), medians"
  out ""
  confirm_table "m4 m6 m7 m9 s10 m11 x13 m14" "mixed:$FOUND" "bare:$BARE_MAX"
  out ""
  CPU_MIX=$(confirm_median mixed "$FOUND" 14)
  CPU_BARE=$(confirm_median bare "$BARE_MAX" 14)
  CONF_NOTE="; server CPU per request, mix / bare (confirmation medians): $CPU_MIX / $CPU_BARE ms = $(awk -v a="$CPU_MIX" -v b="$CPU_BARE" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }') x"
fi

B="burst-$BURST_RATE" R="recovery-$BASE_RATE"
out "### Emergency burst: the mix at $BURST_RATE req/s ($BURST_FACTOR x $BASE_RATE) for ${BURST_SECS} s"
out ""
out "| requests | ok (2xx) | shed (429/503) | other answers | 5xx but 503 | timeouts | failed | not sent | shed p50 / p99 / max ms | admitted p50 / p99 / max ms | server cores | load generator cores | other cores |"
out "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"
J "$B" '.overall as $o | $o.by_status as $s | "| \($o.scheduled) | \($o.ok) | \($o.shed.count) | \([$s | to_entries[] | select(.key | test("^(2..|429|503|timeout|failed|unsent)$") | not) | "\(.key): \(.value)"] | join(", ") | if . == "" then "none" else . end) | \($o.server_5xx_not_503) | \($s.timeout // 0) | \($s.failed // 0) | \($s.unsent // 0) | \($o.shed.p50_ms) / \($o.shed.p99_ms) / \($o.shed.max_ms) | \($o.admitted.p50_ms) / \($o.admitted.p99_ms) / \($o.admitted.max_ms) | \(.cpu.server_cores) | \(.cpu.loadgen_cores) | \(.cpu.other_cores) |"' | tee -a "$SUMMARY"
out ""
out "Per route during the burst (admitted = sent and not shed):"
out ""
out "| route | requests | ok | shed | admitted p50 / p99 ms |"
out "| --- | ---: | ---: | ---: | --- |"
J "$B" '.routes | to_entries[] | "| \(.key) | \(.value.scheduled) | \(.value.ok) | \(.value.shed.count) | \(.value.admitted.p50_ms) / \(.value.admitted.p99_ms) |"' | tee -a "$SUMMARY"
out ""
out "Per 10 s of the burst (ok/s, shed/s, p99 ms of all answers): $(J "$B" '[.per_second | _nwise(10) | "\((map(.ok) | add) / length | floor)/\((map(.shed) | add) / length | floor)/\(map(.p99_ms) | max)"] | join("  ")')"
[[ -n $SHED_SERVER ]] && out "" && out "The server counted $SHED_SERVER shed requests (/metrics) over the burst and the recovery."
out ""
out "### Recovery: the mix at $BASE_RATE req/s right after the burst (${RECOVERY_SECS} s) against the steps at that rate before it"
out ""
out "| step | ok req/s | p50 ms | p99 ms | max ms | errors | server CPU ms/req | held |"
out "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
# Every step at that rate before the burst (ladder, retry, confirmation), then the recovery.
BEFORE=$(awk -F'\t' -v r="$BASE_RATE" '$1 ~ /^(mixed-|confirm[0-9]+-mixed-)/ && $3 == r { print $1 }' "$ROWS")
BEFORE_P99=$(awk -F'\t' -v r="$BASE_RATE" '$1 ~ /^(mixed-|confirm[0-9]+-mixed-)/ && $3 == r { print $7 }' "$ROWS" | med)
for l in $BEFORE "$R"; do
  awk -F'\t' -v l="$l" '$1 == l { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $4, $6, $7, $9, $10, $14, $15 }' "$ROWS" | tee -a "$SUMMARY"
done
out ""
out "p99 ms per second of the recovery: $(J "$R" '[.per_second[].p99_ms] | join(" ")')"
out ""

BV() { J "$B" "$1"; }
out "### Against the targets"
out ""
out "| target | measured | |"
out "| --- | --- | --- |"
out "| highest mixed rate held (no errors, p99 <= $P99_TARGET_MS ms) | $FOUND req/s; /healthz held $BARE_MAX req/s in the same run | |"
out "| found rate as a share of the bare ceiling | $RATIO$CONF_NOTE | |"
out "| burst: no 5xx but 503 | $(BV .overall.server_5xx_not_503) | $(verdict "$(BV .overall.server_5xx_not_503) == 0") |"
out "| burst: excess shed with 429/503 within 10 ms | $(BV .overall.shed.count) shed, p99 $(BV .overall.shed.p99_ms) ms, max $(BV .overall.shed.max_ms) ms; not sent $(BV '.overall.by_status.unsent // 0'), timeouts $(BV '.overall.by_status.timeout // 0') | $(verdict "$(BV .overall.shed.count) > 0 && $(BV .overall.shed.p99_ms) <= 10 && $(BV '.overall.by_status.unsent // 0') == 0") |"
out "| burst: admitted requests p99 <= 500 ms | $(BV .overall.admitted.p99_ms) ms | $(verdict "$(BV .overall.admitted.p99_ms) <= 500") |"
# Back to normal: no error, and p99 within the target or no worse than the median p99 of the
# steps at the same rate before the burst (the same noise applies to both).
out "| back to normal by itself (no error; p99 <= $P99_TARGET_MS ms or <= the median p99 at $BASE_RATE req/s before the burst, $BEFORE_P99 ms) | recovery step: p99 $(J "$R" .overall.latency.p99_ms) ms, errors $(J "$R" .overall.errors) | $(verdict "$(J "$R" .overall.errors) == 0 && ($(J "$R" .overall.latency.p99_ms) <= $P99_TARGET_MS || $(J "$R" .overall.latency.p99_ms) <= ${BEFORE_P99/-/0})") |"
out ""
# The run's main figures, one per line, for bench/compare.sh (the steps are in steps.tsv).
[[ -z $DATA_DIR ]] && fig import_s "$IMPORT_SECS"
fig start_s "$START_SECS"
fig idle_cores "$IDLE_CORES"
fig burst_ok "$(BV .overall.ok)"
fig burst_shed "$(BV .overall.shed.count)"
fig burst_shed_p99_ms "$(BV .overall.shed.p99_ms)"
fig burst_admitted_p99_ms "$(BV .overall.admitted.p99_ms)"
fig vmhwm_mib "$HWM"
log "done in $(( (SECONDS - T_START) / 60 )) min; summary in $SUMMARY"
