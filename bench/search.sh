#!/usr/bin/env bash
# bench/search.sh — import, reindex and search-latency benchmark of Zhiqilian, one command:
#
#     bash bench/search.sh [N]          # N listings, default 100000
#
# What it does, in order (all of it on loopback, all data in a scratch folder under $TMPDIR):
#   1. builds the release binaries (cargo build --release -p zhiqilian -p zhiqilian-bench)
#      and installs oha if it is missing (cargo install oha --locked);
#   2. generates N listings (gen-listings --count N --seed $SEED);
#   3. times `zhiqilian import` (database + the search index it keeps in step) and then a
#      full `zhiqilian reindex`, separately;
#   4. starts `zhiqilian serve` on a free 127.0.0.1 port, creates a platform admin and signs
#      in (again before every load step: access tokens live at most 900 s);
#   5. builds a query mix ($QUERIES URLs, bench/queries.py), checks every URL answers 200 and
#      warms up;
#   6. search ladder: for each rate in $RATES, oha at that fixed arrival rate with latency
#      correction (-q R --latency-correction, never a closed loop) for $DURATION s; stops after
#      the first rate that misses (p99 > $P99_TARGET_MS, any error, or fewer than
#      $MIN_COMPLETION of the scheduled requests completed). If the very first rate misses,
#      it halves the rate (down to $MIN_RATE) to find one that holds;
#   7. the same ladder against GET /healthz (static JSON through the same middleware, no
#      database, no index) with $BARE_RATES, to find the bare endpoint's ceiling;
#   8. confirmation: $CONFIRM interleaved rounds of {search at $TARGET_RATE, search at its
#      highest held rate, /healthz at its highest held rate}; medians are reported;
#   9. optionally ($PROFILE=1) `perf record` on the server during one more search step;
#  10. prints the summary (markdown tables) and writes it, with every oha JSON, to $OUT_DIR
#      (and the main figures, one per line, to figures.tsv: bench/compare.sh reads them).
#
# Everything it starts is stopped on exit (trap); the scratch folder is deleted unless KEEP=1.
# Load generator and server share the machine: the tables show the CPU used by each (in
# cores) and by everything else ("other", i.e. noise from other processes) during each step.
#
# Environment knobs (defaults in brackets):
#   SEED [1]               gen-listings seed
#   DURATION [30]          seconds per load step (the issue suggests 60; 30 keeps a full run
#                          near half an hour)
#   RATES ["100 200 300 500 750 1000 1500 2000"]       search ladder, req/s
#   BARE_RATES ["1000 2000 5000 10000 15000 20000 30000 40000 50000 70000 100000"]  /healthz
#   MIN_RATE [25]          lowest rate tried when the first search rate already misses
#   P99_TARGET_MS [15]     p99 a step must stay under to "hold" (search and /healthz alike)
#   MIN_COMPLETION [0.95]  share of scheduled requests that must complete within the step
#   TARGET_RATE [500]      the rate of the latency target, re-measured in the confirmation
#   CONFIRM [3]            confirmation rounds (0 skips them)
#   WARMUP [10]            seconds of search at 100 req/s before measuring
#   QUERIES [200]          URLs in the query mix
#   CONNECTIONS [50]       oha connections (the most requests in flight)
#   WORKERS [unset]        ZQL_WORKERS for the server (default: CPU count)
#   QUIET_WAIT [60]        before each step, wait up to this many seconds until processes
#                          other than ours use less than $QUIET_CORES cores (0: never wait)
#   QUIET_CORES [0.3]      (another engineer compiling on the same 2 cores is the usual noise)
#   RETRY_NOISY [1]        a ladder step that misses while other processes used more than
#                          $QUIET_CORES cores is run once more (after the quiet wait); the
#                          retry decides, both rows are shown
#   PROFILE [0]            1: perf record the server during a search step at $PROFILE_RATE
#   PROFILE_RATE [the highest search rate held, or $MIN_RATE]   PERF_FREQ [999]
#   PERF_CALLGRAPH [unset] e.g. "dwarf" to record call graphs (large perf.data; lower PERF_FREQ)
#   SKIP_BUILD [0]         1: use the binaries already built
#   ZHIQILIAN_BIN [unset]  the zhiqilian binary to measure (default: the one built here); the
#                          other tools still come from CARGO_TARGET_DIR
#   CARGO_TARGET_DIR [target]     where cargo builds (relative to the repository root)
#   OHA [oha on PATH or ~/.cargo/bin/oha]
#   SCRATCH_BASE [${TMPDIR:-/tmp}]  where the scratch folder (data set, database, index) goes
#   KEEP [0]               1: keep the scratch folder
#   OUT_DIR [$SCRATCH_BASE/zql-bench-results-N-DATE]  summary.md, oha JSON, logs (kept)

set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"

# Knobs given in the environment, for the command line in the summary.
ENV_SET=$(knobs_given SEED DURATION RATES BARE_RATES MIN_RATE P99_TARGET_MS MIN_COMPLETION \
  TARGET_RATE CONFIRM WARMUP QUERIES CONNECTIONS WORKERS QUIET_WAIT QUIET_CORES RETRY_NOISY \
  PROFILE PROFILE_RATE PERF_FREQ PERF_CALLGRAPH ZHIQILIAN_BIN)

N=${1:-100000}
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || { echo "usage: bash bench/search.sh [N]" >&2; exit 2; }
SEED=${SEED:-1}
DURATION=${DURATION:-30}
RATES=${RATES:-"100 200 300 500 750 1000 1500 2000"}
BARE_RATES=${BARE_RATES:-"1000 2000 5000 10000 15000 20000 30000 40000 50000 70000 100000"}
MIN_RATE=${MIN_RATE:-25}
P99_TARGET_MS=${P99_TARGET_MS:-15}
MIN_COMPLETION=${MIN_COMPLETION:-0.95}
TARGET_RATE=${TARGET_RATE:-500}
CONFIRM=${CONFIRM:-3}
WARMUP=${WARMUP:-10}
QUERIES=${QUERIES:-200}
CONNECTIONS=${CONNECTIONS:-50}
QUIET_WAIT=${QUIET_WAIT:-60}
PROFILE=${PROFILE:-0}
PERF_FREQ=${PERF_FREQ:-999}
PROFILE_RATE=${PROFILE_RATE:-}
PERF_CALLGRAPH=${PERF_CALLGRAPH:-}

# The shared knobs (QUIET_CORES, RETRY_NOISY, LOGIN, PASSWORD, SKIP_BUILD, KEEP, SCRATCH_BASE)
# get their defaults here.
bench_begin "zql-bench-results-$N"

# ---------------------------------------------------------------- set-up

prepare_binaries
[[ -x $BIN/gen-listings ]] || die "no gen-listings binary in $BIN"
find_oha

SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-bench.XXXXXX")
DATA="$SCRATCH/data"
LISTINGS="$SCRATCH/listings.jsonl"
URLS="$OUT_DIR/urls.txt"
ROWS="$OUT_DIR/steps.tsv"
: >"$ROWS"
server_env
run_facts

out "## search.sh N=$N — $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "- command: \`${ENV_SET}bash bench/search.sh $N\`"
out "- machine: $MACHINE"
out "- code: $GIT_REV$( ((GIT_DIRTY > 0)) && echo " + uncommitted changes to $GIT_DIRTY tracked files ($GIT_DIRTY_FILES)" ), release profile${ZHIQILIAN_BIN:+ (server $ZQL_EXE, sha256 $BIN_SHA…)}; $("$OHA" --version)"
out "- load: oha -q RATE --latency-correction -z ${DURATION}s -w -c $CONNECTIONS, same 2 cores as the server; a step holds if p99 <= $P99_TARGET_MS ms, no errors and >= $MIN_COMPLETION of the scheduled requests done"
out ""

# ---------------------------------------------------------------- data, import, reindex

log "generating $N listings (seed $SEED)"
t0=$(now)
"$BIN/gen-listings" --count "$N" --seed "$SEED" --out "$LISTINGS" 2>"$OUT_DIR/gen.log"
GEN_SECS=$(fsub "$(now)" "$t0")
FILE_MIB=$(du -m "$LISTINGS" | cut -f1)

log "import"
t0=$(now)
/usr/bin/time -f '%M' -o "$OUT_DIR/import.maxrss" "$ZQL_EXE" import "$LISTINGS" \
  >"$OUT_DIR/import.log" 2>"$OUT_DIR/import.err" || die "import failed: $(tail -n 5 "$OUT_DIR/import.err")"
IMPORT_SECS=$(fsub "$(now)" "$t0")
grep -q "^$N lines: $N created" "$OUT_DIR/import.log" || die "import did not create $N listings: $(cat "$OUT_DIR/import.log")"
IMPORT_INDEXED=$(grep -c '^search index up to date' "$OUT_DIR/import.log" || true)
cat "$OUT_DIR/import.log" >&2
DB_MIB_IMPORT=$(du -cm "$DATA"/zhiqilian.db* | tail -n 1 | cut -f1)

log "reindex"
t0=$(now)
/usr/bin/time -f '%M' -o "$OUT_DIR/reindex.maxrss" "$ZQL_EXE" reindex \
  >"$OUT_DIR/reindex.log" 2>"$OUT_DIR/reindex.err" || die "reindex failed: $(tail -n 5 "$OUT_DIR/reindex.err")"
REINDEX_SECS=$(fsub "$(now)" "$t0")
cat "$OUT_DIR/reindex.log" >&2
DB_MIB=$(du -cm "$DATA"/zhiqilian.db* | tail -n 1 | cut -f1)
INDEX_MIB=$(du -sm "$DATA/index" | cut -f1)

rate_of() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
out "### Import and index"
out ""
out "| step | wall s | listings/s | peak RSS MiB | note |"
out "| --- | ---: | ---: | ---: | --- |"
out "| gen-listings | $GEN_SECS | $(rate_of "$GEN_SECS") | – | ${FILE_MIB} MiB JSONL |"
out "| \`zhiqilian import\` (database + index) | $IMPORT_SECS | $(rate_of "$IMPORT_SECS") | $(( $(cat "$OUT_DIR/import.maxrss") / 1024 )) | $( ((IMPORT_INDEXED > 0)) && echo "index kept in step by the import" || echo "index NOT updated by the import" ); database ${DB_MIB_IMPORT} MiB |"
out "| \`zhiqilian reindex\` (full rebuild) | $REINDEX_SECS | $(rate_of "$REINDEX_SECS") | $(( $(cat "$OUT_DIR/reindex.maxrss") / 1024 )) | index ${INDEX_MIB} MiB |"
out "| import + reindex | $(fsub "$(awk -v a="$IMPORT_SECS" -v b="$REINDEX_SECS" 'BEGIN { print a + b }')" 0) | $(rate_of "$(awk -v a="$IMPORT_SECS" -v b="$REINDEX_SECS" 'BEGIN { print a + b }')") | – | |"
out ""

# ---------------------------------------------------------------- server

create_admin
start_server 120

python3 "$ROOT/bench/queries.py" "$LISTINGS" "$BASE" --count "$QUERIES" --seed "$SEED" \
  --kinds-out "$OUT_DIR/url-kinds.txt" >"$URLS" 2>"$OUT_DIR/queries.log"
cat "$OUT_DIR/queries.log" >&2

# Every URL once, sequentially: all must answer 200 (also the first warm-up).
TOKEN=$(login) || die "sign-in failed"
: >"$OUT_DIR/check.tsv"
while IFS= read -r url; do
  curl -s -o "$OUT_DIR/check.body" -w '%{http_code}\t%{time_total}\t' --max-time 30 \
    -H "authorization: Bearer $TOKEN" "$url" >>"$OUT_DIR/check.tsv" || true
  jq -r '.total // "-"' "$OUT_DIR/check.body" 2>/dev/null >>"$OUT_DIR/check.tsv" || echo "-" >>"$OUT_DIR/check.tsv"
done <"$URLS"
rm -f "$OUT_DIR/check.body"
# A URL that does not answer 200 would fail every step: it is left out of the mix and listed
# in the summary (more than 5% of them means the mix or the server is broken: stop).
paste "$OUT_DIR/check.tsv" "$URLS" >"$OUT_DIR/check-urls.tsv"
BAD=$(awk -F'\t' '$1 != 200' "$OUT_DIR/check-urls.tsv" | wc -l)
if ((BAD > 0)); then
  ((BAD * 20 <= QUERIES)) || die "$BAD query URLs did not answer 200 (see $OUT_DIR/check-urls.tsv)"
  awk -F'\t' '$1 != 200 { print $1 "\t" $4 }' "$OUT_DIR/check-urls.tsv" >"$OUT_DIR/excluded.tsv"
  paste "$OUT_DIR/check.tsv" "$OUT_DIR/url-kinds.txt" | awk -F'\t' '$1 == 200 { print $4 }' \
    >"$OUT_DIR/url-kinds.ok" && mv "$OUT_DIR/url-kinds.ok" "$OUT_DIR/url-kinds.txt"
  awk -F'\t' '$1 == 200 { print $4 }' "$OUT_DIR/check-urls.tsv" >"$URLS"
  awk -F'\t' '$1 == 200' "$OUT_DIR/check.tsv" >"$OUT_DIR/check.ok" && mv "$OUT_DIR/check.ok" "$OUT_DIR/check.tsv"
  log "WARNING: $BAD query URLs did not answer 200 and are left out (see $OUT_DIR/excluded.tsv and serve.log)"
fi
CHECK=$(awk -F'\t' '{ print $3 "\t" $2 * 1000 }' "$OUT_DIR/check.tsv" | sort -n | awk -F'\t' '
  { t[NR] = $1; if ($1 == 0) z++ } END {
    printf "hits per query (total): median %d, p90 %d, max %d; %d of %d with no hit",
      t[int(NR / 2) + 1], t[int(NR * 0.9) + 1], t[NR], z, NR }')
SEQ_MS=$(awk -F'\t' '{ print $2 * 1000 }' "$OUT_DIR/check.tsv" | sort -n | awk '
  { v[NR] = $1 } END { printf "sequential single-request latency (curl, cold): median %.1f ms, p90 %.1f ms, max %.1f ms", v[int(NR / 2) + 1], v[int(NR * 0.9) + 1], v[NR] }')
log "$CHECK"
log "$SEQ_MS"

log "warm-up: ${WARMUP}s of search at 100 req/s"
run_step warmup search 100 "$WARMUP" >/dev/null
MEM_WARM=$(mem_line)

# Service time of each query alone: every URL 3 times in a row, one at a time (no queueing),
# the median of the 3 kept. What no arrival rate can get under: if more than 1% of the mix
# takes longer than the target alone, p99 misses it at any rate.
log "sequential service time of each query (3 runs each)"
TOKEN=$(login) || die "sign-in failed"
: >"$OUT_DIR/service.tsv"
while IFS= read -r url; do
  for _ in 1 2 3; do
    curl -s -o /dev/null -w '%{time_total}\n' --max-time 30 -H "authorization: Bearer $TOKEN" "$url"
  done | sort -n | sed -n 2p | awk '{ printf "%.2f\n", $1 * 1000 }' >>"$OUT_DIR/service.tsv"
done <"$URLS"
paste "$OUT_DIR/service.tsv" "$OUT_DIR/url-kinds.txt" "$URLS" >"$OUT_DIR/service-urls.tsv"
SLOW_SHARE=$(awk -F'\t' -v t="$P99_TARGET_MS" '$1 > t { n++ } END { printf "%.1f", 100 * n / NR }' "$OUT_DIR/service-urls.tsv")
log "$SLOW_SHARE% of the queries take more than $P99_TARGET_MS ms alone"

# ---------------------------------------------------------------- ladders

log "search ladder: $RATES"
# shellcheck disable=SC2086
SEARCH_MAX=$(ladder --halve search $RATES)
log "bare /healthz ladder: $BARE_RATES"
# shellcheck disable=SC2086
BARE_MAX=$(ladder bare $BARE_RATES)
log "highest held: search $SEARCH_MAX req/s, /healthz $BARE_MAX req/s"

# ---------------------------------------------------------------- confirmation

CONF_PLAN=()
if ((CONFIRM > 0)); then
  CONF_PLAN+=("search:$TARGET_RATE")
  ((SEARCH_MAX > 0 && SEARCH_MAX != TARGET_RATE)) && CONF_PLAN+=("search:$SEARCH_MAX")
  ((BARE_MAX > 0)) && CONF_PLAN+=("bare:$BARE_MAX")
  confirm_rounds "${CONF_PLAN[@]}"
fi
MEM_LOADED=$(mem_line)
HWM=$(mem_field VmHWM)

# ---------------------------------------------------------------- profile

if [[ $PROFILE = 1 ]]; then
  if [[ -z $PROFILE_RATE ]]; then
    PROFILE_RATE=$MIN_RATE
    ((SEARCH_MAX > 0)) && PROFILE_RATE=$SEARCH_MAX
  fi
  profile_step search "$PROFILE_RATE"
fi

# ---------------------------------------------------------------- summary

out "### Server"
out ""
out "- start-up until /healthz answers: ${START_SECS} s; database ${DB_MIB} MiB, index ${INDEX_MIB} MiB"
out "- query mix: $(sed 's/^queries.py: //' "$OUT_DIR/queries.log") (bench/queries.py, seed $SEED; token of a platform admin, so no visibility filter)"
out "- $CHECK"
out "- $SEQ_MS"
if ((BAD > 0)); then
  out "- **$BAD of $QUERIES query URLs did not answer 200 and were left out of the mix** (status and decoded query; the server log has the cause):"
  python3 -c 'import sys, urllib.parse
for line in open(sys.argv[1], encoding="utf-8"):
    code, url = line.rstrip("\n").split("\t", 1)
    print("  - HTTP %s: `%s`" % (code, urllib.parse.unquote(url.split("?", 1)[1])))' "$OUT_DIR/excluded.tsv" | tee -a "$SUMMARY"
  grep -m 1 'panicked' -A 1 "$OUT_DIR/serve.log" | sed 's/\x1b\[[0-9;]*m//g; s/^/  /' | tee -a "$SUMMARY" || true
fi
out "- memory idle after start: $MEM_IDLE"
out "- memory after warm-up: $MEM_WARM"
out "- memory after all load steps: $MEM_LOADED"
out ""
out "### Service time of each query alone (sequential, warm; median of 3 runs; curl time_total incl. connect)"
out ""
out "$SLOW_SHARE% of the $(wc -l <"$URLS") queries take more than $P99_TARGET_MS ms even with nothing else running."
out ""
out "| query type | queries | median ms | p90 ms | max ms |"
out "| --- | ---: | ---: | ---: | ---: |"
for k in all short title fragment quoted browse; do
  awk -F'\t' -v k="$k" 'k == "all" || $2 == k { print $1 }' "$OUT_DIR/service-urls.tsv" | sort -n | awk -v k="$k" '
    { v[NR] = $1 } END { if (!NR) exit; i = int(NR * 0.9 + 0.5); if (i < 1) i = 1
      printf "| %s | %d | %.1f | %.1f | %.1f |\n", k, NR, v[int((NR + 1) / 2)], v[i], v[NR] }' | tee -a "$SUMMARY"
done
out ""
out "Slowest 10:"
out ""
sort -t$'\t' -k1,1nr "$OUT_DIR/service-urls.tsv" | sed -n 1,10p | python3 -c 'import sys, urllib.parse
for line in sys.stdin:
    ms, kind, url = line.rstrip("\n").split("\t", 2)
    print("- %s ms (%s): `%s`" % (ms, kind, urllib.parse.unquote(url.split("?", 1)[1])))' | tee -a "$SUMMARY"
out ""
out "### Search ladder (GET /api/v1/listings/search, ${DURATION} s per step)"
out ""
steps_table '^search-'
out ""
out "### Bare endpoint ladder (GET /healthz, ${DURATION} s per step)"
out ""
steps_table '^bare-'
out ""

if ((${#CONF_PLAN[@]} > 0)); then
  out "### Confirmation: medians of $CONFIRM interleaved rounds (${DURATION} s each)"
  out ""
  confirm_table "m4 m6 m7 m8 s10 m14" "${CONF_PLAN[@]}"
  out ""
fi

RATIO="n/a"
((SEARCH_MAX > 0)) && RATIO=$(awk -v b="$BARE_MAX" -v s="$SEARCH_MAX" 'BEGIN { printf "%.1f", b / s }')
# If /healthz held even the last rate of its ladder, its ceiling was not found.
BARE_NOTE=""
LAST_BARE=${BARE_RATES##* }
((BARE_MAX > 0 && BARE_MAX == LAST_BARE)) && BARE_NOTE=" — held the last rate of BARE_RATES, so its ceiling is higher and the ratio a lower bound"
CPU_RATIO=$(awk -F'\t' '$1 ~ /^(search|bare)-/ && $5 >= 0.95 { n[$2]++; s[$2] += $14 }
  END { if (n["search"] && n["bare"] && s["bare"] > 0) printf "%.0f", (s["search"] / n["search"]) / (s["bare"] / n["bare"]); else print "n/a" }' "$ROWS")
P99_AT_TARGET=$(target_p99 search)

IMPORT_RATE=$(rate_of "$IMPORT_SECS")
out "### Against the targets (set for N = 1,000,000 on this 2-core machine)"
out ""
out "| target | measured | |"
out "| --- | --- | --- |"
if [[ $P99_AT_TARGET =~ ^[0-9.]+$ ]]; then
  out "| search p99 <= $P99_TARGET_MS ms at $TARGET_RATE req/s | $P99_AT_TARGET ms (median of confirmation rounds) | $(verdict "$P99_AT_TARGET <= $P99_TARGET_MS") |"
else
  out "| search p99 <= $P99_TARGET_MS ms at $TARGET_RATE req/s | $P99_AT_TARGET | missed |"
fi
out "| highest search rate held (p99 <= $P99_TARGET_MS ms, no errors) | $SEARCH_MAX req/s (/healthz: $BARE_MAX req/s$BARE_NOTE) | |"
if [[ $RATIO = n/a ]]; then
  out "| max search throughput within 15x of the bare endpoint | no search rate held | missed |"
else
  out "| max search throughput within 15x of the bare endpoint | /healthz / search = $RATIO x (server CPU per request: search / healthz = ${CPU_RATIO} x) | $(verdict "$RATIO <= 15") |"
fi
out "| import >= 10,000 listings/s end to end (database + index) | $IMPORT_RATE listings/s$( ((IMPORT_INDEXED > 0)) || echo ' (index not updated!)') | $(verdict "$IMPORT_RATE >= 10000 && $IMPORT_INDEXED > 0") |"
out "| full reindex <= 2 min | $REINDEX_SECS s | $(verdict "$REINDEX_SECS <= 120") |"
out "| RSS <= 600 MiB while serving | peak (VmHWM) $HWM MiB | $(verdict "$HWM <= 600") |"
out ""
if [[ $PROFILE = 1 ]]; then
  perf_summary "search at $PROFILE_RATE req/s" 25
fi
# The run's main figures, one per line, for bench/compare.sh.
fig import_s "$IMPORT_SECS"
fig import_peak_rss_mib "$(($(cat "$OUT_DIR/import.maxrss") / 1024))"
fig reindex_s "$REINDEX_SECS"
fig reindex_peak_rss_mib "$(($(cat "$OUT_DIR/reindex.maxrss") / 1024))"
fig start_s "$START_SECS"
fig service_median_ms "$(cut -f1 "$OUT_DIR/service-urls.tsv" | med)"
fig service_p90_ms "$(cut -f1 "$OUT_DIR/service-urls.tsv" | pct 0.9)"
fig vmhwm_mib "$HWM"
log "done; summary in $SUMMARY"
