#!/usr/bin/env bash
# bench/matches.sh — latency of the top-10 matches of a listing, through HTTP at fixed arrival
# rates, one command:
#
#     bash bench/matches.sh [N]                       # N generated listings, default 100000
#     DATA_DIR=/path/to/data bash bench/matches.sh    # an existing, imported data folder
#
# What it does, in order (all of it on loopback):
#   1. builds the release binaries (cargo build --release -p zhiqilian -p zhiqilian-bench)
#      and installs oha if it is missing (cargo install oha --locked);
#   2. data: either generates N listings (gen-listings --count N --seed $SEED) and imports
#      them (`zhiqilian import`, database + index) into a scratch folder under $SCRATCH_BASE,
#      or, with DATA_DIR set, uses that folder as it is (it must hold zhiqilian.db and index/
#      already imported and indexed; nothing in it is changed but the admin account below and
#      the sign-in sessions). Import figures are bench/search.sh's business;
#   3. creates a platform admin ($LOGIN, `zhiqilian admin create`; an existing one is kept),
#      starts `zhiqilian serve` on a free 127.0.0.1 port (refusing to when another zhiqilian
#      process already serves the same data folder: the index allows one writer) and signs in
#      (again before every load step: access tokens live at most 900 s);
#   4. picks $ANCHORS listings through the API (bench/anchors.py: one newest-first search per
#      side x kind x community cell, picks shared out in proportion to the cells' sizes — so
#      both sides, all kinds, all communities, in the data's own mix; deterministic for a
#      given data folder). URLs: GET /api/v1/listings/{id}/matches?limit=$LIMIT;
#   5. asks every URL once (all must answer 200: the others are left out and listed, more
#      than 5% of them stops the run), warms up ($WARMUP s at $WARMUP_RATE req/s), measures
#      the server's idle CPU, then the sequential service time of every URL (curl, one
#      request at a time, median of 3 runs each);
#   6. ladder: for each rate in $RATES, oha at that fixed arrival rate with latency correction
#      (-q R --latency-correction, never a closed loop) for $DURATION s against the matches
#      URLs, then the same against GET /healthz (static JSON through the same middleware: the
#      bare reference for server CPU per request). Stops after the first rate whose matches
#      step misses (p99 > $P99_TARGET_MS, any error, or fewer than $MIN_COMPLETION of the
#      scheduled requests done); if the very first rate misses, halves it (down to $MIN_RATE);
#   7. confirmation: $CONFIRM interleaved rounds of {matches at $TARGET_RATE, /healthz at
#      $TARGET_RATE, and matches at its highest held rate if that is another}; medians;
#   8. optionally ($PROFILE=1) `perf record` on the server during one more matches step;
#   9. prints the summary (markdown) and writes it, with every oha JSON, to $OUT_DIR.
#
# The server's RSS (VmRSS, VmHWM) is taken at start, after the warm-up and after the load.
# Load generator and server share the machine: each step shows the CPU used by the server,
# by oha and by everything else ("other": noise from other processes), in cores.
# Everything it starts is stopped on exit (trap); the scratch folder is deleted unless KEEP=1.
#
# Environment knobs (defaults in brackets):
#   DATA_DIR [unset]       use this imported data folder instead of generating N listings
#   SEED [1]               gen-listings seed, and the shuffle of the URL list
#   ANCHORS [500]          listings whose matches are asked for (URLs in the mix)
#   LIMIT [10]             limit= of the matches URLs
#   DURATION [30]          seconds per load step
#   RATES ["50 100 200 300 400"]   the ladder, req/s (/healthz runs at the same rates)
#   MIN_RATE [10]          lowest rate tried when the first rate already misses
#   P99_TARGET_MS [30]     p99 a step must stay under to "hold"
#   MIN_COMPLETION [0.95]  share of scheduled requests that must complete within the step
#   TARGET_RATE [200]      the rate of the latency target, re-measured in the confirmation
#   CONFIRM [3]            confirmation rounds (0 skips them)
#   WARMUP [20]            seconds of matches at $WARMUP_RATE [50] req/s before measuring
#   IDLE [5]               seconds the idle server's CPU is measured after the warm-up
#   CONNECTIONS [50]       oha connections (the most requests in flight)
#   WORKERS [unset]        ZQL_WORKERS for the server (default: CPU count)
#   QUIET_WAIT [60]        before each step, wait up to this many seconds until processes
#                          other than ours use less than $QUIET_CORES cores (0: never wait)
#   QUIET_CORES [0.3]      (another engineer compiling on the same 2 cores is the usual noise)
#   RETRY_NOISY [1]        a ladder step that misses while other processes used more than
#                          $QUIET_CORES cores is run once more; the retry decides, both shown
#   PROFILE [0]            1: perf record the server during a matches step at $PROFILE_RATE
#   PROFILE_RATE [$TARGET_RATE]   PERF_FREQ [499]
#   PERF_CALLGRAPH [unset] e.g. "dwarf" to record call graphs (large perf.data; lower PERF_FREQ)
#   LOGIN [bench@example.com]  PASSWORD [bench-Passw0rd-2026]  the platform admin used
#   SKIP_BUILD [0]         1: use the binaries already built
#   CARGO_TARGET_DIR [target]     where cargo builds (relative to the repository root)
#   OHA [oha on PATH or ~/.cargo/bin/oha]
#   SCRATCH_BASE [${TMPDIR:-/tmp}]  where the scratch folder (generated data) goes
#   KEEP [0]               1: keep the scratch folder
#   OUT_DIR [$SCRATCH_BASE/zql-matches-results-{N|data}-DATE]  summary.md, oha JSON, logs

set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C

# Knobs given in the environment, for the command line in the summary.
ENV_SET=""
for v in DATA_DIR SEED ANCHORS LIMIT DURATION RATES MIN_RATE P99_TARGET_MS MIN_COMPLETION \
  TARGET_RATE CONFIRM WARMUP WARMUP_RATE IDLE CONNECTIONS WORKERS QUIET_WAIT QUIET_CORES \
  RETRY_NOISY PROFILE PROFILE_RATE PERF_FREQ PERF_CALLGRAPH SKIP_BUILD CARGO_TARGET_DIR; do
  [[ -n ${!v:-} ]] && ENV_SET+="$v=$(printf '%q' "${!v}") "
done

usage() { echo "usage: bash bench/matches.sh [N]   or   DATA_DIR=/path bash bench/matches.sh" >&2; exit 2; }
DATA_DIR=${DATA_DIR:-}
if [[ -n $DATA_DIR ]]; then
  (($# == 0)) || usage
  N=""
else
  N=${1:-100000}
  [[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || usage
fi
SEED=${SEED:-1}
ANCHORS=${ANCHORS:-500}
LIMIT=${LIMIT:-10}
DURATION=${DURATION:-30}
RATES=${RATES:-"50 100 200 300 400"}
MIN_RATE=${MIN_RATE:-10}
P99_TARGET_MS=${P99_TARGET_MS:-30}
MIN_COMPLETION=${MIN_COMPLETION:-0.95}
TARGET_RATE=${TARGET_RATE:-200}
CONFIRM=${CONFIRM:-3}
WARMUP=${WARMUP:-20}
WARMUP_RATE=${WARMUP_RATE:-50}
IDLE=${IDLE:-5}
CONNECTIONS=${CONNECTIONS:-50}
QUIET_WAIT=${QUIET_WAIT:-60}
QUIET_CORES=${QUIET_CORES:-0.3}
RETRY_NOISY=${RETRY_NOISY:-1}
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-$TARGET_RATE}
PERF_FREQ=${PERF_FREQ:-499}
PERF_CALLGRAPH=${PERF_CALLGRAPH:-}
LOGIN=${LOGIN:-bench@example.com}
PASSWORD=${PASSWORD:-bench-Passw0rd-2026}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source "$ROOT/bench/lib.sh"
bench_dirs "zql-matches-results-${N:-data}"

SCRATCH=""
SERVER_PID=""
OHA_PID=""
PERF_PID=""

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

# Median (and p90 ...) of numbers on stdin, one a line.
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } i = int(NR * p + 0.5); if (i < 1) i = 1; print v[i] }'; }

login() {
  curl -sf --max-time 10 "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "$(jq -cn --arg l "$LOGIN" --arg p "$PASSWORD" '{login: $l, password: $p}')" | jq -er .access_token
}

# PIDs of zhiqilian processes (other than ours) whose data folder is $1: ZQL_DATA_DIR in their
# environment, or ./data of their working directory when it is unset.
servers_on() {
  local want=$1 p exe dir
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [[ ${exe##*/} = zhiqilian ]] || continue
    dir=$(tr '\0' '\n' <"$p/environ" 2>/dev/null | sed -n 's/^ZQL_DATA_DIR=//p' | tail -n 1) || true
    [[ -z $dir ]] && dir=./data
    [[ $dir = /* ]] || dir="$(readlink "$p/cwd" 2>/dev/null || true)/$dir"
    [[ $(realpath -m "$dir") = "$want" ]] && echo "${p#/proc/}"
  done
  return 0
}

# ladder RATES... -> prints the highest rate at which the matches step held (0 if none).
# /healthz runs right after each matches step, at the same rate.
ladder() {
  local best=0 first=1 row rate
  for rate in "$@"; do
    row=$(step_retry matches "$rate")
    step_retry bare "$rate" >/dev/null
    if [[ $(held_of "$row") = yes ]]; then
      best=$rate
    else
      if [[ $first = 1 ]]; then
        # Nothing held yet: halve until a rate holds or MIN_RATE is passed.
        local r=$((rate / 2))
        while ((r >= MIN_RATE)); do
          row=$(step_retry matches "$r")
          step_retry bare "$r" >/dev/null
          if [[ $(held_of "$row") = yes ]]; then best=$r; break; fi
          r=$((r / 2))
        done
      fi
      break
    fi
    first=0
  done
  echo "$best"
}

# ---------------------------------------------------------------- set-up

prepare_binaries
[[ -x $BIN/zhiqilian ]] || die "no zhiqilian binary in $BIN"
[[ -n $DATA_DIR || -x $BIN/gen-listings ]] || die "no gen-listings binary in $BIN"

OHA=${OHA:-$(command -v oha || true)}
[[ -z $OHA && -x $HOME/.cargo/bin/oha ]] && OHA=$HOME/.cargo/bin/oha
if [[ -z $OHA ]]; then
  log "installing oha (cargo install oha --locked)"
  cargo install oha --locked >&2
  OHA=$HOME/.cargo/bin/oha
fi
"$OHA" --help | grep -q -- '--latency-correction' || die "$OHA has no --latency-correction"
"$OHA" --help | grep -q -- '--urls-from-file' || die "$OHA has no --urls-from-file"

if [[ -n $DATA_DIR ]]; then
  DATA=$(realpath -e "$DATA_DIR") || die "DATA_DIR $DATA_DIR does not exist"
  [[ -s $DATA/zhiqilian.db && -d $DATA/index ]] || die "$DATA holds no zhiqilian.db and index/"
else
  SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-matches.XXXXXX")
  DATA="$SCRATCH/data"
fi
LISTINGS="${SCRATCH:-/nonexistent}/listings.jsonl"
URLS="$OUT_DIR/urls.txt"
ROWS="$OUT_DIR/steps.tsv"
: >"$ROWS"
# Imported listings would be matched in the background for hours: not here.
export ZQL_DATA_DIR="$DATA" ZQL_LOG=warn ZQL_BACKGROUND_JOBS=""
# The whole load comes from one loopback address standing in for many callers: the per-address
# rate limits would turn it into 429s.
export ZQL_RATE_LIMIT_IP_PER_MINUTE=10000000 ZQL_RATE_LIMIT_AUTH_PER_MINUTE=10000000
unset ZQL_DATABASE_URL ZQL_CONFIG ZQL_BIND
[[ -n ${WORKERS:-} ]] && export ZQL_WORKERS=$WORKERS

GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
GIT_DIRTY_FILES=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | awk '{ print $2 }' | paste -sd' ' -)
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
BIN_DATE=$(date -u -r "$BIN/zhiqilian" '+%Y-%m-%d %H:%M UTC')
BIN_SHA=$(sha256sum "$BIN/zhiqilian" | cut -c1-12)

out "## matches.sh $([[ -n $DATA_DIR ]] && echo "DATA_DIR" || echo "N=$N") — $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "- command: \`${ENV_SET}bash bench/matches.sh${N:+ $N}\`"
out "- machine: nproc $(nproc), ${MEM_GIB} GiB RAM, ${CPU_MODEL:-unknown CPU}, $(uname -sr); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
out "- code: $GIT_REV$( ((GIT_DIRTY > 0)) && echo " + uncommitted changes to $GIT_DIRTY tracked files ($GIT_DIRTY_FILES)" ), release profile ($BIN/zhiqilian built $BIN_DATE, sha256 $BIN_SHA…); $("$OHA" --version)"
out "- load: oha -q RATE --latency-correction -z ${DURATION}s -w -c $CONNECTIONS, same $(nproc) cores as the server; a step holds if p99 <= $P99_TARGET_MS ms, no errors and >= $MIN_COMPLETION of the scheduled requests done"

# ---------------------------------------------------------------- data

if [[ -z $DATA_DIR ]]; then
  log "generating $N listings (seed $SEED)"
  "$BIN/gen-listings" --count "$N" --seed "$SEED" --out "$LISTINGS" 2>"$OUT_DIR/gen.log"
  log "import"
  t0=$(now)
  "$BIN/zhiqilian" import "$LISTINGS" >"$OUT_DIR/import.log" 2>"$OUT_DIR/import.err" \
    || die "import failed: $(tail -n 5 "$OUT_DIR/import.err")"
  IMPORT_SECS=$(fsub "$(now)" "$t0")
  grep -q "^$N lines: $N created" "$OUT_DIR/import.log" || die "import did not create $N listings: $(cat "$OUT_DIR/import.log")"
  grep -q '^search index up to date' "$OUT_DIR/import.log" || die "the import did not bring the index up to date"
  rm -f "$LISTINGS"
  DATA_NOTE="generated (gen-listings --count $N --seed $SEED) and imported in ${IMPORT_SECS} s"
else
  DATA_NOTE="existing data folder $DATA"
fi
DB_MIB=$(du -cm "$DATA"/zhiqilian.db* | tail -n 1 | cut -f1)
INDEX_MIB=$(du -sm "$DATA/index" | cut -f1)

# ---------------------------------------------------------------- server

OTHERS=$(servers_on "$DATA" | paste -sd' ' -)
[[ -z $OTHERS ]] || die "zhiqilian process(es) $OTHERS already use $DATA: stop them first (the index allows one writer)"

if echo "$PASSWORD" | "$BIN/zhiqilian" admin create --login "$LOGIN" --password-stdin \
  >"$OUT_DIR/admin.log" 2>&1; then
  ADMIN_NOTE="created"
elif grep -q 'already exists' "$OUT_DIR/admin.log"; then
  ADMIN_NOTE="existing"
else
  die "admin create failed: $(cat "$OUT_DIR/admin.log")"
fi

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
log "starting the server on $BASE ($DATA)"
t0=$(now)
ZQL_BIND="127.0.0.1:$PORT" "$BIN/zhiqilian" serve >"$OUT_DIR/serve.log" 2>&1 &
SERVER_PID=$!
ready=0
for _ in $(seq 1 3000); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "server exited: $(tail -n 20 "$OUT_DIR/serve.log")"
  if curl -sf --max-time 2 "$BASE/healthz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
((ready)) || die "server not ready after 600 s"
START_SECS=$(fsub "$(now)" "$t0")
MEM_IDLE=$(mem_line)
log "server ready in ${START_SECS}s: $MEM_IDLE"
TOKEN=$(login) || die "sign-in as $LOGIN failed ($ADMIN_NOTE account; set LOGIN and PASSWORD for another)"
OPEN_TOTAL=$(curl -sf --max-time 60 -H "authorization: Bearer $TOKEN" \
  "$BASE/api/v1/listings/search?limit=1" | jq -er .total) || die "cannot count the open listings"
log "$OPEN_TOTAL open listings in the index"

# ---------------------------------------------------------------- URLs

log "picking $ANCHORS listings (bench/anchors.py)"
TOKEN="$TOKEN" python3 "$ROOT/bench/anchors.py" "$BASE" --count "$ANCHORS" --seed "$SEED" \
  --limit "$LIMIT" --meta-out "$OUT_DIR/anchors.tsv" >"$URLS" 2>"$OUT_DIR/anchors.log" \
  || die "anchors.py failed: $(tail -n 5 "$OUT_DIR/anchors.log")"
cat "$OUT_DIR/anchors.log" >&2

# Every URL once, sequentially: all must answer 200 (also the first warm-up).
: >"$OUT_DIR/check.tsv"
while IFS= read -r url; do
  code_time=$(curl -s -o "$OUT_DIR/check.body" -w '%{http_code}\t%{time_total}\t%{size_download}' \
    --max-time 60 -H "authorization: Bearer $TOKEN" "$url") || code_time=$'000\t0\t0'
  items=$(jq -r '.items | length' "$OUT_DIR/check.body" 2>/dev/null) || items="-"
  printf '%s\t%s\n' "$code_time" "${items:--}" >>"$OUT_DIR/check.tsv"
done <"$URLS"
rm -f "$OUT_DIR/check.body"
# check-urls.tsv: code, seconds, bytes, items, then the anchor's id key side kind community
# title-length attribute-count, then the URL.
paste "$OUT_DIR/check.tsv" "$OUT_DIR/anchors.tsv" "$URLS" >"$OUT_DIR/check-urls.tsv"
BAD=$(awk -F'\t' '$1 != 200' "$OUT_DIR/check-urls.tsv" | wc -l)
if ((BAD > 0)); then
  ((BAD * 20 <= ANCHORS)) || die "$BAD matches URLs did not answer 200 (see $OUT_DIR/check-urls.tsv)"
  awk -F'\t' '$1 != 200' "$OUT_DIR/check-urls.tsv" >"$OUT_DIR/excluded.tsv"
  awk -F'\t' '$1 == 200' "$OUT_DIR/check-urls.tsv" >"$OUT_DIR/check-urls.ok"
  mv "$OUT_DIR/check-urls.ok" "$OUT_DIR/check-urls.tsv"
  cut -f12 "$OUT_DIR/check-urls.tsv" >"$URLS"
  log "WARNING: $BAD matches URLs did not answer 200 and are left out (see $OUT_DIR/excluded.tsv and serve.log)"
fi
N_URLS=$(wc -l <"$URLS")
((N_URLS > 0)) || die "no matches URL answered 200"
cut -f5-11 "$OUT_DIR/check-urls.tsv" >"$OUT_DIR/anchors.tsv"
ITEMS=$(cut -f4 "$OUT_DIR/check-urls.tsv" | sort -n | awk -v l="$LIMIT" '
  { v[NR] = $1; if ($1 < l) short++; if ($1 == 0) z++ } END {
    printf "matches per response: median %d, min %d; %d of %d responses with fewer than %d, %d with none",
      v[int((NR + 1) / 2)], v[1], short, NR, l, z }')
BYTES=$(cut -f3 "$OUT_DIR/check-urls.tsv" | med)
COLD=$(cut -f2 "$OUT_DIR/check-urls.tsv" | awk '{ print $1 * 1000 }' | sort -n | awk '
  { v[NR] = $1 } END { printf "first request of each URL (curl, after start-up): median %.1f ms, p90 %.1f ms, max %.1f ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }')
log "$ITEMS; response median $BYTES bytes"
log "$COLD"

log "warm-up: ${WARMUP}s of matches at $WARMUP_RATE req/s"
run_step warmup matches "$WARMUP_RATE" "$WARMUP" >/dev/null
MEM_WARM=$(mem_line)

# The idle server's own CPU (timers, the indexer's polling): what every step's CPU includes.
s0=$(proc_ticks "$SERVER_PID"); t0=$(now); sleep "$IDLE"
IDLE_CORES=$(awk -v s="$(fsub "$(proc_ticks "$SERVER_PID")" "$s0")" -v w="$(fsub "$(now)" "$t0")" \
  -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", s / t / w }')
log "idle server: $IDLE_CORES cores"

# Service time of each URL alone: 3 times in a row, one request at a time (no queueing), the
# median of the 3 kept. If more than 1% of the URLs take longer than the target alone, p99
# misses it at any rate.
log "sequential service time of each URL (3 runs each)"
TOKEN=$(login) || die "sign-in failed"
((QUIET_WAIT > 0)) && wait_quiet >/dev/null
: >"$OUT_DIR/service.tsv"
s0=$(proc_ticks "$SERVER_PID"); b0=$(sys_busy_ticks); t0=$(now)
while IFS= read -r url; do
  for _ in 1 2 3; do
    curl -s -o /dev/null -w '%{time_total}\n' --max-time 60 -H "authorization: Bearer $TOKEN" "$url"
  done | sort -n | sed -n 2p | awk '{ printf "%.2f\n", $1 * 1000 }' >>"$OUT_DIR/service.tsv"
done <"$URLS"
# Busy cores of everything but the server meanwhile (curl and this script included).
SEQ_OTHER=$(awk -v b="$(( $(sys_busy_ticks) - b0 ))" -v s="$(fsub "$(proc_ticks "$SERVER_PID")" "$s0")" \
  -v w="$(fsub "$(now)" "$t0")" -v t="$(getconf CLK_TCK)" \
  'BEGIN { o = (b - s) / t / w; printf "%.2f", o < 0 ? 0 : o }')
# service-urls.tsv: ms, id key side kind community title-length attribute-count, URL
paste "$OUT_DIR/service.tsv" "$OUT_DIR/anchors.tsv" "$URLS" >"$OUT_DIR/service-urls.tsv"
SLOW_SHARE=$(awk -F'\t' -v t="$P99_TARGET_MS" '$1 > t { n++ } END { printf "%.1f", 100 * n / NR }' "$OUT_DIR/service-urls.tsv")
SEQ_MED=$(cut -f1 "$OUT_DIR/service-urls.tsv" | med)
SEQ_P90=$(cut -f1 "$OUT_DIR/service-urls.tsv" | pct 0.9)
log "sequential: median $SEQ_MED ms, p90 $SEQ_P90 ms; $SLOW_SHARE% of the URLs take more than $P99_TARGET_MS ms alone; other processes $SEQ_OTHER cores"

# ---------------------------------------------------------------- ladder

log "ladder (matches, then /healthz at the same rate): $RATES"
# shellcheck disable=SC2086
MATCH_MAX=$(ladder $RATES)
log "highest rate held by matches: $MATCH_MAX req/s"

# ---------------------------------------------------------------- confirmation

CONF_PLAN=()
if ((CONFIRM > 0)); then
  CONF_PLAN+=("matches:$TARGET_RATE" "bare:$TARGET_RATE")
  ((MATCH_MAX > 0 && MATCH_MAX != TARGET_RATE)) && CONF_PLAN+=("matches:$MATCH_MAX")
  for round in $(seq 1 "$CONFIRM"); do
    for p in "${CONF_PLAN[@]}"; do
      run_step "confirm$round-${p%%:*}-${p##*:}" "${p%%:*}" "${p##*:}" "$DURATION" >/dev/null
    done
  done
fi
MEM_LOADED=$(mem_line)
HWM=$(mem_field VmHWM)

# ---------------------------------------------------------------- profile

if [[ $PROFILE = 1 ]]; then
  command -v perf >/dev/null || die "PROFILE=1 needs perf"
  log "perf record during a matches step at $PROFILE_RATE req/s"
  pargs=(-F "$PERF_FREQ" -p "$SERVER_PID" -o "$OUT_DIR/perf.data")
  [[ -n $PERF_CALLGRAPH ]] && pargs+=(--call-graph "$PERF_CALLGRAPH")
  perf record "${pargs[@]}" >"$OUT_DIR/perf-record.log" 2>&1 &
  PERF_PID=$!
  sleep 1
  run_step "profile-matches-$PROFILE_RATE" matches "$PROFILE_RATE" "$DURATION" >/dev/null
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
  perf_top() {  # perf report, comment lines and padding dropped
    local n=$1; shift
    perf report -i "$OUT_DIR/perf.data" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' \
      | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//' | head -n "$n" || true
  }
  perf_top 15 --no-children -g none --sort dso >"$OUT_DIR/perf-dso.txt"
  perf_top 80 --no-children -g none --sort symbol >"$OUT_DIR/perf-symbols.txt"
  perf_top 15 --no-children -g none --sort comm >"$OUT_DIR/perf-threads.txt"
  if [[ -n $PERF_CALLGRAPH ]]; then
    perf_top 80 --children --sort symbol -g none >"$OUT_DIR/perf-inclusive.txt"
  fi
fi

# ---------------------------------------------------------------- summary

table() {  # rows of $ROWS whose label matches $1
  out "| endpoint | rate req/s | achieved req/s | done | p50 ms | p99 ms | p99.9 ms | max ms | errors | server cores | oha cores | other cores | server CPU ms/req | held |"
  out "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  # In run order; a retried step shows its rate as "R (retry)".
  awk -F'\t' -v re="$1" '$1 ~ re { printf "| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
    ($2 == "bare" ? "/healthz" : "matches"), $3, ($1 ~ /-retry$/ ? " (retry)" : ""),
    $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 }' "$ROWS" | tee -a "$SUMMARY"
}

out "- data: $DATA_NOTE; $OPEN_TOTAL open listings; database ${DB_MIB} MiB, index ${INDEX_MIB} MiB"
out "- caller: platform admin ($ADMIN_NOTE account $LOGIN), so no visibility filter applies"
out ""
out "### Server"
out ""
out "- start-up until /healthz answers: ${START_SECS} s; idle server after the warm-up: $IDLE_CORES cores"
out "- URLs: $(sed 's/^anchors.py: //' "$OUT_DIR/anchors.log") (bench/anchors.py, seed $SEED); \`GET /api/v1/listings/{id}/matches?limit=$LIMIT\`"
out "- $ITEMS; response median $BYTES bytes"
out "- $COLD"
if ((BAD > 0)); then
  out "- **$BAD of $ANCHORS URLs did not answer 200 and were left out** (status, listing key, side, kind; serve.log has the cause):"
  awk -F'\t' '{ printf "  - HTTP %s: %s (%s %s) `%s`\n", $1, $6, $7, $8, $12 }' "$OUT_DIR/excluded.tsv" | tee -a "$SUMMARY"
fi
out "- memory idle after start: $MEM_IDLE"
out "- memory after warm-up: $MEM_WARM"
out "- memory after all load steps: $MEM_LOADED"
out ""
out "### Service time of each URL alone (sequential, warm; median of 3 runs; curl time_total incl. connect)"
out ""
out "$SLOW_SHARE% of the $N_URLS URLs take more than $P99_TARGET_MS ms even when asked one at a time (no queueing). Other processes (curl and this script included) used $SEQ_OTHER cores meanwhile."
out ""
out "| anchor | URLs | median ms | p90 ms | p99 ms | max ms |"
out "| --- | ---: | ---: | ---: | ---: | ---: |"
for k in all offer request space equipment material logistics workforce service; do
  awk -F'\t' -v k="$k" 'k == "all" || $4 == k || $5 == k { print $1 }' "$OUT_DIR/service-urls.tsv" | sort -n | awk -v k="$k" '
    function at(p,  i) { i = int(NR * p + 0.5); if (i < 1) i = 1; return v[i] }
    { v[NR] = $1 } END { if (!NR) exit
      printf "| %s | %d | %.1f | %.1f | %.1f | %.1f |\n", k, NR, v[int((NR + 1) / 2)], at(0.9), at(0.99), v[NR] }' | tee -a "$SUMMARY"
done
out ""
out "Slowest 5: $(sort -t$'\t' -k1,1nr "$OUT_DIR/service-urls.tsv" | head -n 5 | awk -F'\t' '{ printf "%s%s ms (%s, %s %s, title %s chars)", (NR > 1 ? "; " : ""), $1, $3, $4, $5, $7 }')"
out ""
out "### Ladder (${DURATION} s per step; /healthz right after matches at the same rate)"
out ""
table '^(matches|bare)-'
out ""

# Server CPU per request, matches against /healthz, rate by rate (steps that completed).
CPU_TABLE=$(awk -F'\t' '$1 ~ /^(matches|bare)-/ && $5 >= 0.95 { k = $2 FS $3; s[k] = $14; r[$3] = 1 }
  END { for (x in r) if ((("matches" FS x) in s) && (("bare" FS x) in s) && s["bare" FS x] > 0)
    printf "%d\t%s\t%s\t%.0f\n", x, s["matches" FS x], s["bare" FS x], s["matches" FS x] / s["bare" FS x] }' "$ROWS" | sort -n)
out "### Server CPU per request: matches against /healthz (ladder steps that completed)"
out ""
out "| rate req/s | matches ms/req | /healthz ms/req | ratio |"
out "| ---: | ---: | ---: | ---: |"
[[ -n $CPU_TABLE ]] && awk -F'\t' '{ printf "| %s | %s | %s | %s x |\n", $1, $2, $3, $4 }' <<<"$CPU_TABLE" | tee -a "$SUMMARY"
out ""
out "(The idle server uses $IDLE_CORES cores; at low rates that is a large part of /healthz's CPU per request.)"
out ""

if ((${#CONF_PLAN[@]} > 0)); then
  out "### Confirmation: medians of $CONFIRM interleaved rounds (${DURATION} s each)"
  out ""
  out "| endpoint | rate req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors (sum) | server cores | server CPU ms/req | rounds held |"
  out "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for p in "${CONF_PLAN[@]}"; do
    what=${p%%:*} rate=${p##*:}
    sel=$(awk -F'\t' -v w="$what" -v r="$rate" '$1 ~ /^confirm/ && $2 == w && $3 == r' "$ROWS")
    col() { cut -f"$1" <<<"$sel" | med; }
    out "| $([[ $what = matches ]] && echo matches || echo /healthz) | $rate | $(col 4) | $(col 6) | $(col 7) | $(col 8) | $(col 9) | $(cut -f10 <<<"$sel" | awk '{ s += $1 } END { print s }') | $(col 11) | $(col 14) | $(grep -c $'\tyes$' <<<"$sel" || true)/$CONFIRM |"
  done
  out ""
fi

P99_AT_TARGET=$(awk -F'\t' -v r="$TARGET_RATE" '$1 ~ /^confirm/ && $2 == "matches" && $3 == r { print $7 }' "$ROWS" | med)
[[ $P99_AT_TARGET = - ]] && P99_AT_TARGET=$(awk -F'\t' -v r="$TARGET_RATE" '$1 == "matches-" r { print $7 }' "$ROWS")
[[ -z $P99_AT_TARGET ]] && P99_AT_TARGET="not reached (ladder stopped below $TARGET_RATE)"
CONF_CPU=$(awk -F'\t' -v r="$TARGET_RATE" '$1 ~ /^confirm/ && $2 == "matches" && $3 == r { print $14 }' "$ROWS" | med)
CONF_BARE_CPU=$(awk -F'\t' -v r="$TARGET_RATE" '$1 ~ /^confirm/ && $2 == "bare" && $3 == r { print $14 }' "$ROWS" | med)

verdict() { if awk "BEGIN { exit !($1) }" 2>/dev/null; then echo met; else echo missed; fi; }
out "### Against the target"
out ""
out "| target | measured | |"
out "| --- | --- | --- |"
if [[ $P99_AT_TARGET =~ ^[0-9.]+$ ]]; then
  out "| matches p99 <= $P99_TARGET_MS ms at $TARGET_RATE req/s | $P99_AT_TARGET ms ($( ((CONFIRM > 0)) && echo "median of $CONFIRM confirmation rounds" || echo "ladder step")) | $(verdict "$P99_AT_TARGET <= $P99_TARGET_MS") |"
else
  out "| matches p99 <= $P99_TARGET_MS ms at $TARGET_RATE req/s | $P99_AT_TARGET | missed |"
fi
out "| highest rate held (p99 <= $P99_TARGET_MS ms, no errors) | $MATCH_MAX req/s | |"
out "| sequential service time | median $SEQ_MED ms, p90 $SEQ_P90 ms | |"
if [[ $CONF_CPU != - && $CONF_BARE_CPU != - ]]; then
  out "| server CPU per request at $TARGET_RATE req/s (confirmation medians) | matches $CONF_CPU ms, /healthz $CONF_BARE_CPU ms ($(awk -v a="$CONF_CPU" -v b="$CONF_BARE_CPU" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }') x) | |"
fi
out "| server memory | VmHWM $HWM MiB at the end | |"
out ""
if [[ $PROFILE = 1 && -s $OUT_DIR/perf-symbols.txt ]]; then
  out "### perf: server self time by symbol, matches at $PROFILE_RATE req/s (top 30)"
  out ""
  out '```'
  head -n 30 "$OUT_DIR/perf-symbols.txt" | tee -a "$SUMMARY"
  out '```'
  out ""
  out '```'
  head -n 10 "$OUT_DIR/perf-dso.txt" | tee -a "$SUMMARY"
  head -n 6 "$OUT_DIR/perf-threads.txt" | tee -a "$SUMMARY"
  out '```'
  if [[ -s $OUT_DIR/perf-inclusive.txt ]]; then
    out ""
    out "Inclusive (children) time, top 40:"
    out ""
    out '```'
    head -n 40 "$OUT_DIR/perf-inclusive.txt" | tee -a "$SUMMARY"
    out '```'
  fi
fi
log "done; summary in $SUMMARY"
