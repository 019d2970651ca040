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
#   9. prints the summary (markdown) and writes it, with every oha JSON, to $OUT_DIR (and the
#      main figures, one per line, to figures.tsv).
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
#   ZHIQILIAN_BIN [unset]  the zhiqilian binary to measure (default: the one built here); the
#                          other tools still come from CARGO_TARGET_DIR
#   CARGO_TARGET_DIR [target]     where cargo builds (relative to the repository root)
#   OHA [oha on PATH or ~/.cargo/bin/oha]
#   SCRATCH_BASE [${TMPDIR:-/tmp}]  where the scratch folder (generated data) goes
#   KEEP [0]               1: keep the scratch folder
#   OUT_DIR [$SCRATCH_BASE/zql-matches-results-{N|data}-DATE]  summary.md, oha JSON, logs

set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"

# Knobs given in the environment, for the command line in the summary.
ENV_SET=$(knobs_given DATA_DIR SEED ANCHORS LIMIT DURATION RATES MIN_RATE P99_TARGET_MS \
  MIN_COMPLETION TARGET_RATE CONFIRM WARMUP WARMUP_RATE IDLE CONNECTIONS WORKERS QUIET_WAIT \
  QUIET_CORES RETRY_NOISY PROFILE PROFILE_RATE PERF_FREQ PERF_CALLGRAPH SKIP_BUILD CARGO_TARGET_DIR \
  ZHIQILIAN_BIN)

DATA_DIR=${DATA_DIR:-}
N=$(n_or_data_dir "usage: bash bench/matches.sh [N]   or   DATA_DIR=/path bash bench/matches.sh" "$@")
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
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-$TARGET_RATE}
PERF_FREQ=${PERF_FREQ:-499}
PERF_CALLGRAPH=${PERF_CALLGRAPH:-}

# The shared knobs (QUIET_CORES, RETRY_NOISY, LOGIN, PASSWORD, SKIP_BUILD, KEEP, SCRATCH_BASE)
# get their defaults here.
bench_begin "zql-matches-results-${N:-data}"

# ---------------------------------------------------------------- helpers

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

# ---------------------------------------------------------------- set-up

prepare_binaries
[[ -n $DATA_DIR || -x $BIN/gen-listings ]] || die "no gen-listings binary in $BIN"
find_oha

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
server_env
run_facts
BIN_DATE=$(date -u -r "$ZQL_EXE" '+%Y-%m-%d %H:%M UTC')

out "## matches.sh $([[ -n $DATA_DIR ]] && echo "DATA_DIR" || echo "N=$N") — $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "- command: \`${ENV_SET}bash bench/matches.sh${N:+ $N}\`"
out "- machine: $MACHINE"
out "- code: $GIT_REV$( ((GIT_DIRTY > 0)) && echo " + uncommitted changes to $GIT_DIRTY tracked files ($GIT_DIRTY_FILES)" ), release profile ($ZQL_EXE built $BIN_DATE, sha256 $BIN_SHA…); $("$OHA" --version)"
out "- load: oha -q RATE --latency-correction -z ${DURATION}s -w -c $CONNECTIONS, same $(nproc) cores as the server; a step holds if p99 <= $P99_TARGET_MS ms, no errors and >= $MIN_COMPLETION of the scheduled requests done"

# ---------------------------------------------------------------- data

if [[ -z $DATA_DIR ]]; then
  import_generated
  rm -f "$LISTINGS"
else
  DATA_NOTE="existing data folder $DATA"
fi
DB_MIB=$(du -cm "$DATA"/zhiqilian.db* | tail -n 1 | cut -f1)
INDEX_MIB=$(du -sm "$DATA/index" | cut -f1)

# ---------------------------------------------------------------- server

OTHERS=$(servers_on "$DATA" | paste -sd' ' -)
[[ -z $OTHERS ]] || die "zhiqilian process(es) $OTHERS already use $DATA: stop them first (the index allows one writer)"

create_admin
start_server 600
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
MATCH_MAX=$(ladder --halve --with bare matches $RATES)
log "highest rate held by matches: $MATCH_MAX req/s"

# ---------------------------------------------------------------- confirmation

CONF_PLAN=()
if ((CONFIRM > 0)); then
  CONF_PLAN+=("matches:$TARGET_RATE" "bare:$TARGET_RATE")
  ((MATCH_MAX > 0 && MATCH_MAX != TARGET_RATE)) && CONF_PLAN+=("matches:$MATCH_MAX")
  confirm_rounds "${CONF_PLAN[@]}"
fi
MEM_LOADED=$(mem_line)
HWM=$(mem_field VmHWM)

# ---------------------------------------------------------------- profile

if [[ $PROFILE = 1 ]]; then
  profile_step matches "$PROFILE_RATE"
fi

# ---------------------------------------------------------------- summary

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
steps_table '^(matches|bare)-' {2..15}
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
  confirm_table "m4 m6 m7 m8 m9 s10 m11 m14" "${CONF_PLAN[@]}"
  out ""
fi

P99_AT_TARGET=$(target_p99 matches)
CONF_CPU=$(confirm_median matches "$TARGET_RATE" 14)
CONF_BARE_CPU=$(confirm_median bare "$TARGET_RATE" 14)

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
if [[ $PROFILE = 1 ]]; then
  perf_summary "matches at $PROFILE_RATE req/s" 30
fi
# The run's main figures, one per line, for bench/compare.sh.
[[ -z $DATA_DIR ]] && fig import_s "$IMPORT_SECS"
fig start_s "$START_SECS"
fig idle_cores "$IDLE_CORES"
fig service_median_ms "$SEQ_MED"
fig service_p90_ms "$SEQ_P90"
fig vmhwm_mib "$HWM"
log "done; summary in $SUMMARY"
